//! Contact flows: what a voice call goes through before it reaches a queue.
//!
//! A contact flow (an IVR) is a YAML file of named nodes: prompts, menus, digit input,
//! business-hours checks, variables, HTTP lookups, the transfer to a queue, callback offers,
//! voicemail, surveys and hangups (the format is documented in `docs/flows.md`). This crate
//! turns such a file into a [`Flow`], or into a [`Report`] that lists every problem at once
//! with file, line, column and node path, ready to print for the flow's author. It then runs
//! calls through a flow with [`Call`], a state machine without I/O, and simulates one as a
//! readable transcript with [`run_text`].
//!
//! Loading reuses the configuration crate's machinery: its positioned YAML tree, its
//! diagnostics and its duration syntax. The `decode` module checks each node on its own;
//! `graph` checks the flow as a whole (unreachable nodes, loops without a way out).
//!
//! **Invariant:** a [`Flow`] only exists for a file with no errors, so the interpreter can
//! follow any branch without checking it: every branch names a node, every node is reachable,
//! and the nodes that run without waiting (`set`, `business_hours`) form no loop.
//!
//! **Invariant:** the interpreter does no I/O and never reads the clock; time is an input.

mod call;
mod decode;
mod dry_run;
mod graph;
mod model;
mod template;

use std::path::Path;

pub use call::{Action, Awaiting, Call, CallInfo, EndedBy, Event, Schedules, Timestamp};
pub use decode::KnownNames;
pub use dry_run::{DRY_RUN_HTTP_ERROR, Hours, run_text};
pub use model::{Digit, Flow, Node, NodeIx, NodeKind, VarName};
pub use sb_config::{Diagnostic, Report, Severity};
pub use template::Template;

use sb_config::Sink;

/// A flow file that could not be loaded; the report says why, line by line.
#[derive(Debug, Clone, thiserror::Error)]
#[error("invalid contact flow\n{report}")]
pub struct FlowError {
    pub report: Report,
}

/// Parses the flow `text`, checking names outside the flow against `known`; `file_name` is
/// only used in diagnostics.
///
/// On success the report holds the warnings, if any. On failure it holds at least one error
/// (and whatever warnings were found).
pub fn parse(file_name: &str, text: &str, known: &KnownNames) -> Result<(Flow, Report), Report> {
    let mut sink = Sink::new(file_name);
    let flow = parse_into(&mut sink, text, known);
    let report = sink.into_report();
    match flow {
        Some(flow) if !report.has_errors() => Ok((flow, report)),
        _ => Err(report),
    }
}

/// Reads and parses the file at `path`, for checking a flow file from the command line.
///
/// A file that cannot be read, or is not UTF-8, is reported like any other problem. The file
/// name in diagnostics is `path` as given.
pub fn check_file(path: &Path, known: &KnownNames) -> Result<(Flow, Report), Report> {
    let (file_name, text) = sb_config::read_file(path)?;
    parse(&file_name, &text, known)
}

/// Loads the flow at `path`, discarding warnings; use [`check_file`] to see them.
pub fn load(path: &Path, known: &KnownNames) -> Result<Flow, FlowError> {
    check_file(path, known).map(|(flow, _warnings)| flow).map_err(|report| FlowError { report })
}

fn parse_into(sink: &mut Sink, text: &str, known: &KnownNames) -> Option<Flow> {
    keypad_keys(sink, text);
    let parsed = sb_config::yaml::parse(text);
    for error in &parsed.errors {
        sink.error(error.pos, &error.path, error.message.clone());
    }
    if parsed.broken {
        return None;
    }
    let raw = decode::decode(parsed.root.as_ref(), known, sink);
    graph::check(&raw, sink);
    if sink.error_count() > 0 {
        return None;
    }
    let nodes = raw.nodes.into_iter().map(|n| Some(Node { id: n.id, kind: n.kind? })).collect::<Option<Vec<_>>>()?;
    Some(Flow { id: raw.id?, version: raw.version?, start: raw.start?.value, nodes })
}

/// Reports `*` and `#` written as unquoted keys, which YAML reads as an alias (a syntax
/// error) and as a comment (an option silently lost).
fn keypad_keys(sink: &mut Sink, text: &str) {
    for (n, line) in text.lines().enumerate() {
        let chars: Vec<char> = line.chars().collect();
        for (i, &c) in chars.iter().enumerate() {
            if c != '*' && c != '#' {
                continue;
            }
            // The key starts a line or follows "{" or ",", and ":" comes next.
            let before = chars[..i].iter().rev().find(|c| !c.is_whitespace());
            let after = chars[i + 1..].iter().find(|c| !c.is_whitespace());
            if !matches!(before, None | Some('{' | ',')) || after != Some(&':') {
                continue;
            }
            let pos = sb_config::yaml::Pos {
                line: u32::try_from(n + 1).unwrap_or(u32::MAX),
                column: u32::try_from(i + 1).unwrap_or(u32::MAX),
            };
            let message = if c == '*' {
                "an unquoted * starts a YAML alias; quote the key: \"*\": node"
            } else {
                "an unquoted # starts a YAML comment, so this option is lost; quote the key: \"#\": node"
            };
            sink.error(pos, "", message);
            if c == '#' {
                // Nothing after a comment sign is on the line.
                break;
            }
        }
    }
}
