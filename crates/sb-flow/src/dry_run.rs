//! Dry runs: a simulated call through a flow, as a readable transcript.
//!
//! A dry run shows a flow's author (later through the command line) what a caller who presses some
//! keys would hear and where the call would end up. The simulation drives a real [`Call`]
//! under a virtual clock that starts at zero:
//!
//! - every prompt and file plays to its end at once;
//! - whenever the call waits for a digit, the caller presses the next of the given digits;
//!   when they have none left, the call's timeout passes;
//! - every business-hours schedule is open, or every one is closed;
//! - HTTP lookups fail with "no HTTP in a dry run" (so the transcript shows the error branch);
//! - a voicemail is recorded at once;
//! - a queued call ends the run, unless its queue node has an `after_call` branch: then the
//!   agent finishes at once and the run goes on there.
//!
//! Each line of the transcript is `time node: what happened`.

use std::fmt::Write as _;
use std::sync::Arc;

use sb_config::format_duration;

use crate::call::{Action, Awaiting, Call, CallInfo, EndedBy, Event, Timestamp};
use crate::model::{Flow, NodeIx, NodeKind, enqueue_details};

/// Whether the business-hours schedules count as open during a dry run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hours {
    Open,
    Closed,
}

/// The most inputs a dry run gives a call before it gives up; a flow that keeps the call
/// busy without the caller (a hold loop) would otherwise run forever.
const MAX_STEPS: usize = 500;

/// The error a dry run answers every HTTP lookup with.
pub const DRY_RUN_HTTP_ERROR: &str = "no HTTP in a dry run";

/// Simulates a call through `flow` (see the module documentation) and returns the transcript.
pub fn run_text(flow: &Flow, digits: &[char], hours: Hours) -> String {
    let open = hours == Hours::Open;
    let info = CallInfo { caller: "+15550100".to_owned(), dialed: "+15550199".to_owned() };
    let mut call = Call::new(Arc::new(flow.clone()), info, Arc::new(move |_: &str, _: Timestamp| open));
    let mut out = Transcript { flow, now: Timestamp::ZERO, node: None, text: String::new(), announced: None };
    let mut digits = digits.iter().copied();
    for _ in 0..MAX_STEPS {
        let now = out.now;
        match call.awaiting() {
            Awaiting::Start => call.start(now),
            Awaiting::Playback => call.handle_play_finished(now),
            Awaiting::Digits => {
                out.announce_wait(&call);
                match digits.next() {
                    Some(digit) => {
                        out.line(&format!("caller presses {digit}"));
                        call.handle_digit(now, digit);
                    }
                    None => {
                        out.now = call.poll_timeout().unwrap_or(now);
                        call.handle_timeout(out.now);
                    }
                }
            }
            Awaiting::HttpResult => call.handle_http_result(now, Err(DRY_RUN_HTTP_ERROR.to_owned())),
            Awaiting::Recording => {
                out.line("the caller's message is recorded");
                call.handle_recording_finished(now);
            }
            Awaiting::Queue => {
                let after_call = call.node().map(|ix| &flow.node(ix).kind);
                if let Some(NodeKind::Queue { after_call: Some(_), .. }) = after_call {
                    out.line("the agent finishes the call");
                    call.handle_agent_finished(now);
                } else {
                    out.line("the call waits for an agent; the dry run ends here");
                    break;
                }
            }
            Awaiting::Nothing => break,
        }
        while let Some(action) = call.poll_action() {
            out.action(&action);
        }
    }
    if call.awaiting() != Awaiting::Nothing && call.awaiting() != Awaiting::Queue {
        out.line(&format!("the dry run stops after {MAX_STEPS} steps: the flow goes on without end"));
    }
    let unused: Vec<String> = digits.map(String::from).collect();
    if !unused.is_empty() {
        out.line(&format!("digits not used: {}", unused.join(" ")));
    }
    out.text
}

struct Transcript<'f> {
    flow: &'f Flow,
    now: Timestamp,
    /// The node the call is at, which each line names.
    node: Option<NodeIx>,
    text: String,
    /// The node visit whose wait for digits was already described, so that a gather's
    /// digits do not repeat it.
    announced: Option<NodeIx>,
}

impl Transcript<'_> {
    fn line(&mut self, what: &str) {
        let node = self.node.map_or("-", |ix| self.flow.node(ix).id.as_str());
        writeln!(self.text, "{:>7} {node}: {what}", self.now).expect("writing to a string");
    }

    /// Describes what the call waits for, once per visit of a node.
    fn announce_wait(&mut self, call: &Call) {
        let Some(ix) = call.node() else { return };
        if self.announced == Some(ix) {
            return;
        }
        self.announced = Some(ix);
        let wait = call.poll_timeout().map(|t| format_duration(t.since(self.now))).unwrap_or_default();
        let what = match &self.flow.node(ix).kind {
            NodeKind::Gather { min_digits, max_digits, terminator, .. } => {
                let count = if min_digits == max_digits {
                    format!("{max_digits} digits")
                } else {
                    format!("{min_digits} to {max_digits} digits")
                };
                match terminator {
                    Some(t) => format!("waiting for {count}, {t} ends ({wait} each)"),
                    None => format!("waiting for {count} ({wait} each)"),
                }
            }
            NodeKind::CallbackOffer { accept_digit, .. } => {
                format!("waiting for a digit, {accept_digit} accepts ({wait})")
            }
            NodeKind::Survey { scale, .. } => format!("waiting for a score from 1 to {scale} ({wait})"),
            _ => format!("waiting for a digit ({wait})"),
        };
        self.line(&what);
    }

    fn action(&mut self, action: &Action) {
        let text = match action {
            Action::Note(Event::Entered { node }) => {
                self.node = Some(*node);
                self.announced = None;
                return;
            }
            Action::Play { file } => format!("play {file}"),
            Action::StopPlayback => "stop playback".to_owned(),
            Action::HttpRequest { url, timeout } => format!("GET {url} (timeout {})", format_duration(*timeout)),
            Action::Enqueue { queue, priority, skills, attributes } => {
                format!("transfer to queue {queue}{}{}", enqueue_details(*priority, skills), with(attributes))
            }
            Action::RequestCallback { queue, attributes } => {
                format!("call back requested from queue {queue}{}", with(attributes))
            }
            Action::RecordVoicemail { prompt, max_length, attributes } => format!(
                "record a voicemail after {prompt} (at most {}){}",
                format_duration(*max_length),
                with(attributes)
            ),
            Action::SurveyAnswer { name, score, scale } => format!("survey answer {name}: {score} of {scale}"),
            Action::Hangup => "hang up".to_owned(),
            Action::Note(event) => match event {
                Event::Entered { .. } => return,
                Event::HoursChecked { schedule, open } => {
                    format!("business hours {schedule}: {}", if *open { "open" } else { "closed" })
                }
                Event::VariableSet { name, value } => format!("set {name} = {value:?}"),
                Event::NoInput { node } => match self.flow.node(*node).kind {
                    NodeKind::Gather { .. } => "not enough digits".to_owned(),
                    NodeKind::CallbackOffer { .. } => "no answer: declined".to_owned(),
                    NodeKind::Survey { .. } => "no answer: no score".to_owned(),
                    _ => "no input".to_owned(),
                },
                Event::NoMatch { node, digit } => match self.flow.node(*node).kind {
                    NodeKind::CallbackOffer { .. } => format!("declined with {digit}"),
                    NodeKind::Survey { .. } => format!("{digit} is not on the scale: no score"),
                    _ => format!("no option for {digit}"),
                },
                Event::RetriesExhausted { .. } => "retries used up; going to the fallback".to_owned(),
                Event::HttpFailed { error } => format!("lookup failed: {error}"),
                Event::EnqueueFailed { reason } => format!("the queue refused the call: {reason}"),
                Event::Ended { by: EndedBy::Flow } => "call ended".to_owned(),
                Event::Ended { by: EndedBy::Caller } => "the caller hung up".to_owned(),
            },
        };
        self.line(&text);
    }
}

/// ` with a=1, b=2` for a list of attributes, or nothing.
fn with(attributes: &[(String, String)]) -> String {
    if attributes.is_empty() {
        return String::new();
    }
    let list: Vec<String> = attributes.iter().map(|(name, value)| format!("{name}={value:?}")).collect();
    format!(" with {}", list.join(", "))
}
