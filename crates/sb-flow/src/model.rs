//! The typed, validated contact flow.
//!
//! A [`Flow`] only comes out of [`crate::parse`] (or [`crate::check_file`] and
//! [`crate::load`]), so holding one proves the file was valid: every branch is a [`NodeIx`]
//! into the flow's own node list, digits are keys of a phone's keypad, every node can be
//! reached from the start and every loop has a way out. The types are plain data with public
//! fields for reading; [`Flow`] and [`Node`] are `#[non_exhaustive]` so that no other crate can
//! build one by hand. Nothing here knows YAML.

use std::fmt;
use std::time::Duration;

use sb_config::{Priority, Proficiency, Slug, format_duration};

use crate::template::Template;

/// A node of a flow: an index into [`Flow::nodes`]; only the parser creates one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeIx(u16);

impl NodeIx {
    /// The position in [`Flow::nodes`] this index points into.
    pub fn index(self) -> usize {
        usize::from(self.0)
    }

    /// The index of position `index`; the parser caps the number of nodes so that it fits.
    pub(crate) fn from_index(index: usize) -> NodeIx {
        NodeIx(u16::try_from(index).expect("the number of nodes is checked while parsing"))
    }
}

/// A key of a phone's keypad: `0` to `9`, `*` or `#`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Digit(char);

impl Digit {
    /// The digit `c`, if it is a keypad key.
    pub fn new(c: char) -> Option<Digit> {
        matches!(c, '0'..='9' | '*' | '#').then_some(Digit(c))
    }

    /// The digit written as `text`, which must be exactly one keypad key.
    pub fn parse(text: &str) -> Option<Digit> {
        let mut chars = text.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => Digit::new(c),
            _ => None,
        }
    }

    pub fn as_char(self) -> char {
        self.0
    }
}

impl fmt::Display for Digit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The name of a call variable: a lowercase letter, then lowercase letters, digits and `_`,
/// at most 63 characters in all.
///
/// Variables are set by `set`, `gather`, `http` and `survey` nodes, used in templates as
/// `{name}`, and passed to the queue as the call's attributes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VarName(String);

impl VarName {
    /// The longest name, in characters.
    pub const MAX_LEN: usize = 63;

    /// The variables every call has without being set: the caller's number and the number
    /// dialled, as the driver gives them in [`crate::CallInfo`].
    pub const BUILT_IN: [&'static str; 2] = ["caller", "dialed"];

    /// Checks `text` and wraps it; the error says what is wrong.
    pub fn parse(text: &str) -> Result<VarName, String> {
        let mut chars = text.chars();
        let well_formed = chars.next().is_some_and(|c| c.is_ascii_lowercase())
            && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !well_formed {
            return Err(format!(
                "invalid variable name {text:?}: a variable name starts with a lowercase letter \
                 and holds only lowercase letters, digits and '_'"
            ));
        }
        if text.len() > VarName::MAX_LEN {
            return Err(format!(
                "invalid variable name {text:?}: a variable name has at most {} characters",
                VarName::MAX_LEN
            ));
        }
        Ok(VarName(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for VarName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A valid contact flow.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Flow {
    pub id: Slug,
    /// Increases with every published change, so that a call's record can name the version
    /// it went through.
    pub version: u32,
    pub start: NodeIx,
    /// The nodes in file order.
    pub nodes: Vec<Node>,
}

impl Flow {
    pub fn node(&self, ix: NodeIx) -> &Node {
        &self.nodes[ix.index()]
    }

    /// The node with id `id`.
    pub fn node_ix(&self, id: &str) -> Option<NodeIx> {
        self.nodes.iter().position(|n| n.id == id).map(NodeIx::from_index)
    }

    /// The audio files the flow plays, each once, in file order: what a driver loads
    /// before the first call.
    pub fn prompts(&self) -> Vec<&str> {
        let mut files: Vec<&str> = Vec::new();
        for node in &self.nodes {
            let file = match &node.kind {
                NodeKind::Play { file, .. } => file,
                NodeKind::Menu { prompt, .. }
                | NodeKind::Gather { prompt, .. }
                | NodeKind::CallbackOffer { prompt, .. }
                | NodeKind::Voicemail { prompt, .. }
                | NodeKind::Survey { prompt, .. } => prompt,
                NodeKind::BusinessHours { .. }
                | NodeKind::Set { .. }
                | NodeKind::Http { .. }
                | NodeKind::Queue { .. }
                | NodeKind::Hangup => continue,
            };
            if !files.contains(&file.as_str()) {
                files.push(file);
            }
        }
        files
    }
}

/// Prints the flow as an outline, one node a line with its branches, in file order.
impl fmt::Display for Flow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "flow {} version {}, start {}", self.id, self.version, self.node(self.start).id)?;
        for node in &self.nodes {
            write!(f, "\n{}: {}", node.id, node.kind)?;
            let branches = node.kind.branches();
            if !branches.is_empty() {
                let list: Vec<String> =
                    branches.iter().map(|(name, ix)| format!("{name} -> {}", self.node(*ix).id)).collect();
                write!(f, "; {}", list.join(", "))?;
            }
        }
        Ok(())
    }
}

/// One step of a flow.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Node {
    /// The id the file gives the node: lowercase letters, digits, `_` and `-`.
    pub id: String,
    pub kind: NodeKind,
}

/// What a node does, and where the call goes next.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    /// Plays an audio file to its end.
    Play { file: String, next: NodeIx },
    /// Plays a prompt and branches on one digit. A timeout is a "no input", a digit without
    /// an option a "no match"; either one retries the menu (through `no_input` or `no_match`
    /// when given, else by playing the menu again) until `retries` retries are used up, and
    /// then goes to `fallback`.
    Menu {
        prompt: String,
        timeout: Duration,
        retries: u8,
        options: Vec<(Digit, NodeIx)>,
        no_input: Option<NodeIx>,
        no_match: Option<NodeIx>,
        fallback: NodeIx,
    },
    /// Plays a prompt and collects `min_digits` to `max_digits` digits into a variable. Input
    /// ends at `max_digits`, at the terminator, or when `timeout` passes without a digit; too
    /// few digits go to `no_input`.
    Gather {
        prompt: String,
        min_digits: u8,
        max_digits: u8,
        terminator: Option<Digit>,
        timeout: Duration,
        into: VarName,
        next: NodeIx,
        no_input: NodeIx,
    },
    /// Branches on whether a business-hours schedule of the tenant is open.
    BusinessHours { schedule: String, open: NodeIx, closed: NodeIx },
    /// Sets variables; the values are templates.
    Set { values: Vec<(VarName, Template)>, next: NodeIx },
    /// Asks a web service, with variables in the URL; the answer's pairs become variables
    /// `into.key`. An error or timeout goes to `on_error`.
    Http { url: Template, timeout: Duration, into: Option<VarName>, next: NodeIx, on_error: NodeIx },
    /// Hands the call to a queue; the flow's variables go along as attributes. The flow goes
    /// on at `next_on_failure` if the queue refuses the call, and at `after_call` once the
    /// agent has finished (for a post-call survey); without them, the call ends there.
    Queue {
        queue: String,
        priority: Option<Priority>,
        skills: Vec<(String, Proficiency)>,
        next_on_failure: Option<NodeIx>,
        after_call: Option<NodeIx>,
    },
    /// Offers a call back from `queue` instead of waiting; `accept_digit` accepts, any other
    /// digit or a timeout declines.
    CallbackOffer {
        prompt: String,
        accept_digit: Digit,
        timeout: Duration,
        queue: String,
        accepted: NodeIx,
        declined: NodeIx,
    },
    /// Plays a prompt and records a message of at most `max_length`.
    Voicemail { prompt: String, max_length: Duration, next: NodeIx },
    /// Asks for a score from 1 to `scale` (one digit) and stores it in a variable; no answer
    /// or a digit out of range goes on without a score.
    Survey { prompt: String, scale: u8, timeout: Duration, into: VarName, next: NodeIx },
    /// Ends the call.
    Hangup,
}

impl NodeKind {
    /// The node's branches in a fixed order, each with the name the file gives it (menu
    /// options are named by their digit).
    pub fn branches(&self) -> Vec<(String, NodeIx)> {
        let named = |list: &[(&str, Option<NodeIx>)]| {
            list.iter().filter_map(|(name, ix)| Some(((*name).to_owned(), (*ix)?))).collect()
        };
        match self {
            NodeKind::Play { next, .. } | NodeKind::Set { next, .. } => named(&[("next", Some(*next))]),
            NodeKind::Menu { options, no_input, no_match, fallback, .. } => {
                let mut list: Vec<(String, NodeIx)> = options.iter().map(|(d, ix)| (d.to_string(), *ix)).collect();
                list.extend(named(&[("no_input", *no_input), ("no_match", *no_match), ("fallback", Some(*fallback))]));
                list
            }
            NodeKind::Gather { next, no_input, .. } => named(&[("next", Some(*next)), ("no_input", Some(*no_input))]),
            NodeKind::BusinessHours { open, closed, .. } => named(&[("open", Some(*open)), ("closed", Some(*closed))]),
            NodeKind::Http { next, on_error, .. } => named(&[("next", Some(*next)), ("on_error", Some(*on_error))]),
            NodeKind::Queue { next_on_failure, after_call, .. } => {
                named(&[("next_on_failure", *next_on_failure), ("after_call", *after_call)])
            }
            NodeKind::CallbackOffer { accepted, declined, .. } => {
                named(&[("accepted", Some(*accepted)), ("declined", Some(*declined))])
            }
            NodeKind::Voicemail { next, .. } | NodeKind::Survey { next, .. } => named(&[("next", Some(*next))]),
            NodeKind::Hangup => Vec::new(),
        }
    }
}

/// A short description of what the node does, without its branches.
impl fmt::Display for NodeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = |d: &Duration| format_duration(*d);
        match self {
            NodeKind::Play { file, .. } => write!(f, "play {file}"),
            NodeKind::Menu { prompt, timeout, retries, .. } => {
                write!(f, "menu {prompt} (timeout {}, retries {retries})", d(timeout))
            }
            NodeKind::Gather { prompt, min_digits, max_digits, terminator, timeout, into, .. } => {
                write!(
                    f,
                    "gather {min_digits}-{max_digits} digits into {into} after {prompt} (timeout {}",
                    d(timeout)
                )?;
                if let Some(t) = terminator {
                    write!(f, ", terminator {t}")?;
                }
                f.write_str(")")
            }
            NodeKind::BusinessHours { schedule, .. } => write!(f, "business hours {schedule}"),
            NodeKind::Set { values, .. } => {
                let list: Vec<String> = values.iter().map(|(name, value)| format!("{name} = {value:?}")).collect();
                write!(f, "set {}", list.join(", "))
            }
            NodeKind::Http { url, timeout, into, .. } => {
                write!(f, "http {url} (timeout {})", d(timeout))?;
                if let Some(into) = into {
                    write!(f, " into {into}")?;
                }
                Ok(())
            }
            NodeKind::Queue { queue, priority, skills, .. } => {
                write!(f, "queue {queue}")?;
                write!(f, "{}", enqueue_details(*priority, skills))
            }
            NodeKind::CallbackOffer { prompt, accept_digit, timeout, queue, .. } => {
                write!(f, "callback offer from {queue} after {prompt} (accept {accept_digit}, timeout {})", d(timeout))
            }
            NodeKind::Voicemail { prompt, max_length, .. } => {
                write!(f, "voicemail after {prompt} (at most {})", d(max_length))
            }
            NodeKind::Survey { prompt, scale, timeout, into, .. } => {
                write!(f, "survey 1-{scale} into {into} after {prompt} (timeout {})", d(timeout))
            }
            NodeKind::Hangup => f.write_str("hang up"),
        }
    }
}

/// ` (priority 7, skills german:2)`, or an empty string when there is nothing to say.
pub(crate) fn enqueue_details(priority: Option<Priority>, skills: &[(String, Proficiency)]) -> String {
    let mut parts = Vec::new();
    if let Some(p) = priority {
        parts.push(format!("priority {}", p.get()));
    }
    if !skills.is_empty() {
        let list: Vec<String> = skills.iter().map(|(skill, level)| format!("{skill}:{level}")).collect();
        parts.push(format!("skills {}", list.join(",")));
    }
    if parts.is_empty() { String::new() } else { format!(" ({})", parts.join(", ")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_are_keypad_keys() {
        let cases = [("0", Some('0')), ("9", Some('9')), ("*", Some('*')), ("#", Some('#'))];
        for (text, expect) in cases {
            assert_eq!(Digit::parse(text).map(Digit::as_char), expect, "{text:?}");
        }
        for text in ["", "10", "a", "A", "+", " 1", "١"] {
            assert_eq!(Digit::parse(text), None, "{text:?}");
        }
    }

    #[test]
    fn variable_names() {
        for good in ["account", "a", "crm_id", "x2"] {
            assert_eq!(VarName::parse(good).map(|v| v.to_string()), Ok(good.to_owned()));
        }
        for bad in ["", "Account", "2x", "_x", "a-b", "a.b", "a b", &"x".repeat(64)] {
            assert!(VarName::parse(bad).is_err(), "{bad:?}");
        }
    }
}
