//! The flow interpreter: one call's way through a flow, as a state machine without I/O.
//!
//! A [`Call`] is driven by its owner, in production a task that holds the call's media and
//! timers, in tests a script with a virtual clock. The owner reports what happened with
//! `handle_*(now, ...)` and then drains [`Call::poll_action`] for what to do, and asks
//! [`Call::poll_timeout`] when to call [`Call::handle_timeout`] next. The call keeps its own
//! state: where it is in the flow, the digits collected so far, its variables and how often
//! each menu has been retried.
//!
//! **Invariant:** nothing here reads a clock or does I/O. Time is the `now` of each input,
//! and whether a business-hours schedule is open is asked of the [`Schedules`] the owner gives
//! the call, with that `now`.
//!
//! Inputs that do not fit the call's state (a digit during an HTTP lookup, a timeout before
//! its deadline, a late HTTP answer after the timeout) are ignored, so that the owner need not
//! filter races between its timers and the caller.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use sb_config::{Priority, Proficiency, TenantConfig};

use crate::model::{Digit, Flow, NodeIx, NodeKind, VarName};
use crate::template::percent_encode;

pub use sb_time::Timestamp;

/// Answers whether a business-hours schedule is open at a given time.
///
/// A tenant's configuration answers from its schedules (an unknown id is closed, and `now`
/// counts from the Unix epoch); tests and dry runs pass a closure.
pub trait Schedules {
    fn is_open(&self, schedule: &str, now: Timestamp) -> bool;
}

impl<F: Fn(&str, Timestamp) -> bool> Schedules for F {
    fn is_open(&self, schedule: &str, now: Timestamp) -> bool {
        self(schedule, now)
    }
}

impl Schedules for TenantConfig {
    fn is_open(&self, schedule: &str, now: Timestamp) -> bool {
        let Some(ix) = self.hours_ix(schedule) else { return false };
        let at = i64::try_from(now.as_millis()).ok().and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok());
        at.is_some_and(|at| self.hours(ix).is_open(at))
    }
}

/// What the owner knows about the call before the flow starts; templates can use these as
/// `{caller}` and `{dialed}`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallInfo {
    /// The caller's number, as the owner received it.
    pub caller: String,
    /// The number the caller dialled.
    pub dialed: String,
}

/// Something the owner must do, or (for [`Action::Note`]) something to record.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Play an audio file to the caller and report its end with
    /// [`Call::handle_play_finished`]. Digits may interrupt the prompt of a menu, gather,
    /// callback offer or survey.
    Play { file: String },
    /// Stop the file that is playing, because the caller pressed a digit. No end of
    /// playback is to be reported for it.
    StopPlayback,
    /// Fetch `url` with a GET request and report the answer's pairs, or an error, with
    /// [`Call::handle_http_result`]. The call gives up by itself after `timeout`.
    HttpRequest { url: String, timeout: Duration },
    /// Hand the call to the queue; report a refusal with [`Call::handle_enqueue_failed`] and
    /// the end of the agent's part with [`Call::handle_agent_finished`].
    Enqueue {
        queue: String,
        priority: Option<Priority>,
        skills: Vec<(String, Proficiency)>,
        /// The flow's variables, in the order they were first set.
        attributes: Vec<(String, String)>,
    },
    /// The caller accepted a call back from the queue; schedule it.
    RequestCallback { queue: String, attributes: Vec<(String, String)> },
    /// Play the prompt and record a message of at most `max_length`; report the end with
    /// [`Call::handle_recording_finished`].
    RecordVoicemail { prompt: String, max_length: Duration, attributes: Vec<(String, String)> },
    /// The caller answered a survey question; store the score.
    SurveyAnswer { name: String, score: u8, scale: u8 },
    /// Hang up the call. No further input is expected.
    Hangup,
    /// Nothing to do: a record of the call's way through the flow, for logs and reports.
    Note(Event),
}

/// What happened in the flow, for the call's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The call reached a node.
    Entered {
        node: NodeIx,
    },
    HoursChecked {
        schedule: String,
        open: bool,
    },
    VariableSet {
        name: String,
        value: String,
    },
    /// No digit came in time, or too few for a gather.
    NoInput {
        node: NodeIx,
    },
    /// A digit that the node has no use for.
    NoMatch {
        node: NodeIx,
        digit: char,
    },
    /// The menu failed once more than its retries allow; the call goes to its fallback.
    RetriesExhausted {
        node: NodeIx,
    },
    HttpFailed {
        error: String,
    },
    EnqueueFailed {
        reason: String,
    },
    Ended {
        by: EndedBy,
    },
}

/// Who ended a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndedBy {
    /// A hangup node, or the end of the flow after the queue.
    Flow,
    Caller,
}

/// What a call waits for, so that an owner without its own bookkeeping (a dry run) knows
/// which input comes next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Awaiting {
    /// [`Call::start`].
    Start,
    /// The end of a playback; digits are welcome too if it is a prompt.
    Playback,
    /// Digits, or the timeout.
    Digits,
    HttpResult,
    Recording,
    /// A refusal from the queue or the end of the agent's part.
    Queue,
    /// Nothing: the call has ended.
    Nothing,
}

/// Where the call is in the flow.
#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    NotStarted,
    Playing(NodeIx),
    /// A menu, gather, callback offer or survey: its prompt plays, then digits come in.
    Prompting {
        node: NodeIx,
        playing: bool,
        digits: String,
        /// When waiting for a digit ends; none while the prompt plays.
        deadline: Option<Timestamp>,
    },
    Http {
        node: NodeIx,
        deadline: Timestamp,
    },
    Recording(NodeIx),
    Queued(NodeIx),
    Ended,
}

/// One call's run through a flow.
pub struct Call {
    flow: Arc<Flow>,
    info: CallInfo,
    schedules: Arc<dyn Schedules + Send + Sync>,
    state: State,
    /// The variables the flow set, in the order they were first set.
    variables: Vec<(String, String)>,
    /// Failed attempts per menu node since the menu last succeeded or fell back, to bound
    /// its retries.
    failures: Vec<u8>,
    actions: VecDeque<Action>,
}

impl fmt::Debug for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call")
            .field("flow", &self.flow.id)
            .field("info", &self.info)
            .field("state", &self.state)
            .field("variables", &self.variables)
            .finish_non_exhaustive()
    }
}

impl Call {
    /// A call that has not started yet.
    pub fn new(flow: Arc<Flow>, info: CallInfo, schedules: Arc<dyn Schedules + Send + Sync>) -> Call {
        let failures = vec![0; flow.nodes.len()];
        Call {
            flow,
            info,
            schedules,
            state: State::NotStarted,
            variables: Vec::new(),
            failures,
            actions: VecDeque::new(),
        }
    }

    pub fn flow(&self) -> &Flow {
        &self.flow
    }

    /// The variables the flow has set so far, in the order they were first set.
    pub fn variables(&self) -> &[(String, String)] {
        &self.variables
    }

    /// The node the call is at, if it has started and not ended.
    pub fn node(&self) -> Option<NodeIx> {
        match &self.state {
            State::Playing(node)
            | State::Prompting { node, .. }
            | State::Http { node, .. }
            | State::Recording(node)
            | State::Queued(node) => Some(*node),
            State::NotStarted | State::Ended => None,
        }
    }

    pub fn awaiting(&self) -> Awaiting {
        match &self.state {
            State::NotStarted => Awaiting::Start,
            State::Playing(_) | State::Prompting { playing: true, .. } => Awaiting::Playback,
            State::Prompting { .. } => Awaiting::Digits,
            State::Http { .. } => Awaiting::HttpResult,
            State::Recording(_) => Awaiting::Recording,
            State::Queued(_) => Awaiting::Queue,
            State::Ended => Awaiting::Nothing,
        }
    }

    /// The next thing to do, in order.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// When [`Call::handle_timeout`] is due, if the call waits for a digit or an HTTP answer.
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        match &self.state {
            State::Prompting { deadline, .. } => *deadline,
            State::Http { deadline, .. } => Some(*deadline),
            _ => None,
        }
    }

    /// The call is answered: the flow begins at its start node. Ignored after the start.
    pub fn start(&mut self, now: Timestamp) {
        if self.state == State::NotStarted {
            self.go(now, self.flow.start);
        }
    }

    /// The caller pressed a key; anything but `0`-`9`, `*` and `#` is ignored.
    pub fn handle_digit(&mut self, now: Timestamp, digit: char) {
        let State::Prompting { node, playing, digits, deadline } = &mut self.state else { return };
        let Some(digit) = Digit::new(digit) else { return };
        let node = *node;
        if std::mem::replace(playing, false) {
            self.actions.push_back(Action::StopPlayback);
        }
        let flow = Arc::clone(&self.flow);
        match &flow.node(node).kind {
            NodeKind::Menu { options, .. } => match options.iter().find(|(d, _)| *d == digit) {
                Some((_, target)) => {
                    self.failures[node.index()] = 0;
                    self.go(now, *target);
                }
                None => self.menu_failed(now, node, Event::NoMatch { node, digit: digit.as_char() }),
            },
            NodeKind::Gather { min_digits, max_digits, terminator, timeout, .. } => {
                if Some(digit) == *terminator {
                    let enough = digits.len() >= usize::from(*min_digits);
                    self.gather_ended(now, node, enough);
                } else {
                    digits.push(digit.as_char());
                    if digits.len() >= usize::from(*max_digits) {
                        self.gather_ended(now, node, true);
                    } else {
                        *deadline = Some(now.after(*timeout));
                    }
                }
            }
            NodeKind::CallbackOffer { accept_digit, queue, accepted, declined, .. } => {
                if digit == *accept_digit {
                    let attributes = self.variables.clone();
                    self.actions.push_back(Action::RequestCallback { queue: queue.clone(), attributes });
                    self.go(now, *accepted);
                } else {
                    self.note(Event::NoMatch { node, digit: digit.as_char() });
                    self.go(now, *declined);
                }
            }
            NodeKind::Survey { scale, into, next, .. } => {
                let score = digit.as_char().to_digit(10).and_then(|d| u8::try_from(d).ok());
                match score.filter(|s| (1..=*scale).contains(s)) {
                    Some(score) => {
                        self.set_variable(into.as_str(), score.to_string());
                        let answer = Action::SurveyAnswer { name: into.to_string(), score, scale: *scale };
                        self.actions.push_back(answer);
                    }
                    None => self.note(Event::NoMatch { node, digit: digit.as_char() }),
                }
                self.go(now, *next);
            }
            _ => {}
        }
    }

    /// A timer fired; ignored unless the deadline from [`Call::poll_timeout`] has come.
    pub fn handle_timeout(&mut self, now: Timestamp) {
        let flow = Arc::clone(&self.flow);
        match self.state {
            State::Prompting { node, ref digits, deadline: Some(deadline), .. } if now >= deadline => {
                match &flow.node(node).kind {
                    NodeKind::Menu { .. } => self.menu_failed(now, node, Event::NoInput { node }),
                    NodeKind::Gather { min_digits, .. } => {
                        let enough = digits.len() >= usize::from(*min_digits);
                        self.gather_ended(now, node, enough);
                    }
                    NodeKind::CallbackOffer { declined, .. } => {
                        self.note(Event::NoInput { node });
                        self.go(now, *declined);
                    }
                    NodeKind::Survey { next, .. } => {
                        self.note(Event::NoInput { node });
                        self.go(now, *next);
                    }
                    _ => {}
                }
            }
            State::Http { node, deadline } if now >= deadline => {
                if let NodeKind::Http { timeout, on_error, .. } = &flow.node(node).kind {
                    let error = format!("no answer within {}", sb_config::format_duration(*timeout));
                    self.note(Event::HttpFailed { error });
                    self.go(now, *on_error);
                }
            }
            _ => {}
        }
    }

    /// The file from the last [`Action::Play`] has played to its end.
    pub fn handle_play_finished(&mut self, now: Timestamp) {
        let flow = Arc::clone(&self.flow);
        match &mut self.state {
            State::Playing(node) => {
                if let NodeKind::Play { next, .. } = flow.node(*node).kind {
                    self.go(now, next);
                }
            }
            State::Prompting { node, playing: playing @ true, deadline, .. } => {
                *playing = false;
                *deadline = Some(now.after(input_timeout(&flow.node(*node).kind)));
            }
            _ => {}
        }
    }

    /// The answer to the last [`Action::HttpRequest`]: its pairs, or what went wrong.
    pub fn handle_http_result(&mut self, now: Timestamp, result: Result<Vec<(String, String)>, String>) {
        let State::Http { node, .. } = self.state else { return };
        let flow = Arc::clone(&self.flow);
        let NodeKind::Http { into, next, on_error, .. } = &flow.node(node).kind else { return };
        match result {
            Ok(pairs) => {
                if let Some(into) = into {
                    for (key, value) in pairs {
                        self.set_variable(&format!("{into}.{key}"), value);
                    }
                }
                self.go(now, *next);
            }
            Err(error) => {
                self.note(Event::HttpFailed { error });
                self.go(now, *on_error);
            }
        }
    }

    /// The voicemail from the last [`Action::RecordVoicemail`] is recorded.
    pub fn handle_recording_finished(&mut self, now: Timestamp) {
        let State::Recording(node) = self.state else { return };
        if let NodeKind::Voicemail { next, .. } = self.flow.node(node).kind {
            self.go(now, next);
        }
    }

    /// The queue refused the call from the last [`Action::Enqueue`].
    pub fn handle_enqueue_failed(&mut self, now: Timestamp, reason: String) {
        let State::Queued(node) = self.state else { return };
        self.note(Event::EnqueueFailed { reason });
        match self.flow.node(node).kind {
            NodeKind::Queue { next_on_failure: Some(next), .. } => self.go(now, next),
            _ => self.end(EndedBy::Flow),
        }
    }

    /// The agent's part of a queued call is over; the flow goes on at the queue's
    /// `after_call` node, or hangs up.
    pub fn handle_agent_finished(&mut self, now: Timestamp) {
        let State::Queued(node) = self.state else { return };
        match self.flow.node(node).kind {
            NodeKind::Queue { after_call: Some(next), .. } => self.go(now, next),
            _ => self.end(EndedBy::Flow),
        }
    }

    /// The caller hung up. No [`Action::Hangup`] follows: the call is gone.
    pub fn handle_hangup(&mut self, _now: Timestamp) {
        if self.state != State::Ended {
            self.state = State::Ended;
            self.note(Event::Ended { by: EndedBy::Caller });
        }
    }

    /// Moves the call to `node` and runs it until it waits for something. `set` and
    /// `business_hours` nodes run at once; the parser guarantees that they form no loop.
    fn go(&mut self, now: Timestamp, mut node: NodeIx) {
        let flow = Arc::clone(&self.flow);
        loop {
            self.note(Event::Entered { node });
            match &flow.node(node).kind {
                NodeKind::Play { file, .. } => {
                    self.actions.push_back(Action::Play { file: file.clone() });
                    self.state = State::Playing(node);
                    return;
                }
                NodeKind::Menu { prompt, .. }
                | NodeKind::Gather { prompt, .. }
                | NodeKind::CallbackOffer { prompt, .. }
                | NodeKind::Survey { prompt, .. } => {
                    self.actions.push_back(Action::Play { file: prompt.clone() });
                    self.state = State::Prompting { node, playing: true, digits: String::new(), deadline: None };
                    return;
                }
                NodeKind::BusinessHours { schedule, open, closed } => {
                    let is_open = self.schedules.is_open(schedule, now);
                    self.note(Event::HoursChecked { schedule: schedule.clone(), open: is_open });
                    node = if is_open { *open } else { *closed };
                }
                NodeKind::Set { values, next } => {
                    for (name, template) in values {
                        let value = template.render(|name| self.lookup(name), str::to_owned);
                        self.set_variable(name.as_str(), value);
                    }
                    node = *next;
                }
                NodeKind::Http { url, timeout, .. } => {
                    let url = url.render(|name| self.lookup(name), percent_encode);
                    self.actions.push_back(Action::HttpRequest { url, timeout: *timeout });
                    self.state = State::Http { node, deadline: now.after(*timeout) };
                    return;
                }
                NodeKind::Queue { queue, priority, skills, .. } => {
                    self.actions.push_back(Action::Enqueue {
                        queue: queue.clone(),
                        priority: *priority,
                        skills: skills.clone(),
                        attributes: self.variables.clone(),
                    });
                    self.state = State::Queued(node);
                    return;
                }
                NodeKind::Voicemail { prompt, max_length, .. } => {
                    self.actions.push_back(Action::RecordVoicemail {
                        prompt: prompt.clone(),
                        max_length: *max_length,
                        attributes: self.variables.clone(),
                    });
                    self.state = State::Recording(node);
                    return;
                }
                NodeKind::Hangup => {
                    self.end(EndedBy::Flow);
                    return;
                }
            }
        }
    }

    /// A menu got no digit or a wrong one: retry it, or fall back once retries are used up.
    fn menu_failed(&mut self, now: Timestamp, node: NodeIx, event: Event) {
        let flow = Arc::clone(&self.flow);
        let NodeKind::Menu { retries, no_input, no_match, fallback, .. } = &flow.node(node).kind else { return };
        let retry = if matches!(event, Event::NoInput { .. }) { *no_input } else { *no_match };
        self.note(event);
        let failures = &mut self.failures[node.index()];
        *failures = failures.saturating_add(1);
        if *failures > *retries {
            *failures = 0;
            self.note(Event::RetriesExhausted { node });
            self.go(now, *fallback);
        } else {
            self.go(now, retry.unwrap_or(node));
        }
    }

    /// A gather's input is complete; with `enough` digits they are stored.
    fn gather_ended(&mut self, now: Timestamp, node: NodeIx, enough: bool) {
        let flow = Arc::clone(&self.flow);
        let NodeKind::Gather { into, next, no_input, .. } = &flow.node(node).kind else { return };
        let State::Prompting { digits, .. } = &mut self.state else { return };
        let digits = std::mem::take(digits);
        if enough {
            self.set_variable(into.as_str(), digits);
            self.go(now, *next);
        } else {
            self.note(Event::NoInput { node });
            self.go(now, *no_input);
        }
    }

    fn end(&mut self, by: EndedBy) {
        if by == EndedBy::Flow {
            self.actions.push_back(Action::Hangup);
        }
        self.state = State::Ended;
        self.note(Event::Ended { by });
    }

    fn note(&mut self, event: Event) {
        self.actions.push_back(Action::Note(event));
    }

    fn lookup(&self, name: &str) -> Option<&str> {
        match name {
            "caller" => Some(&self.info.caller),
            "dialed" => Some(&self.info.dialed),
            _ => self.variables.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str()),
        }
    }

    fn set_variable(&mut self, name: &str, value: String) {
        debug_assert!(!VarName::BUILT_IN.contains(&name), "the parser keeps built-in variables read-only");
        self.note(Event::VariableSet { name: name.to_owned(), value: value.clone() });
        match self.variables.iter_mut().find(|(n, _)| n == name) {
            Some((_, old)) => *old = value,
            None => self.variables.push((name.to_owned(), value)),
        }
    }
}

/// How long a node that waits for digits waits for each one.
fn input_timeout(kind: &NodeKind) -> Duration {
    match kind {
        NodeKind::Menu { timeout, .. }
        | NodeKind::Gather { timeout, .. }
        | NodeKind::CallbackOffer { timeout, .. }
        | NodeKind::Survey { timeout, .. } => *timeout,
        _ => Duration::ZERO,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        let t = Timestamp::from_millis(1_500);
        assert_eq!(t.to_string(), "1.500");
        assert_eq!(format!("{:>7}", Timestamp::ZERO), "  0.000");
        assert_eq!(t.after(Duration::from_secs(2)).as_millis(), 3_500);
        assert_eq!(t.since(Timestamp::from_millis(500)), Duration::from_secs(1));
        assert_eq!(Timestamp::ZERO.since(t), Duration::ZERO);
        assert_eq!(Timestamp::from_millis(u64::MAX).after(Duration::from_secs(1)).as_millis(), u64::MAX);
    }

    #[test]
    fn a_tenant_configuration_answers_for_its_schedules() {
        let path = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/demo.yaml"));
        let config = sb_config::load(path).expect("the demo tenant loads");
        let at = |date: jiff::civil::Date, hour: i8| {
            let zoned = date.at(hour, 0, 0, 0).in_tz("Europe/Berlin").expect("a valid local time");
            Timestamp::from_millis(u64::try_from(zoned.timestamp().as_millisecond()).expect("after 1970"))
        };
        let monday = jiff::civil::date(2026, 3, 2);
        let sunday = jiff::civil::date(2026, 3, 1);
        assert!(config.is_open("office", at(monday, 10)));
        assert!(!config.is_open("office", at(monday, 19)));
        assert!(!config.is_open("office", at(sunday, 10)));
        assert!(config.is_open("extended", at(sunday, 10)));
        assert!(!config.is_open("no-such-schedule", at(monday, 10)));
    }

    #[test]
    fn the_call_reports_where_it_is() {
        let text = "flow: f\nversion: 1\nstart: tag\nnodes:\n  \
                    tag: {set: {who: \"{caller} to {dialed}\"}, next: hello}\n  \
                    hello: {play: hello.wav, next: end}\n  end: {hangup: true}\n";
        let (flow, _) = crate::parse("f.yaml", text, &crate::KnownNames::default()).expect("a valid flow");
        let flow = Arc::new(flow);
        let info = CallInfo { caller: "+1".to_owned(), dialed: "+2".to_owned() };
        let mut call = Call::new(Arc::clone(&flow), info, Arc::new(|_: &str, _: Timestamp| true));
        assert_eq!((call.awaiting(), call.node()), (Awaiting::Start, None));
        call.start(Timestamp::ZERO);
        assert_eq!((call.awaiting(), call.node()), (Awaiting::Playback, flow.node_ix("hello")));
        assert_eq!(call.variables(), [("who".to_owned(), "+1 to +2".to_owned())]);
        let actions: Vec<Action> = std::iter::from_fn(|| call.poll_action()).collect();
        assert_eq!(actions.len(), 4, "{actions:?}");
        call.start(Timestamp::ZERO);
        assert_eq!(call.poll_action(), None, "a second start is ignored");
        call.handle_play_finished(Timestamp::from_millis(800));
        assert_eq!((call.awaiting(), call.node()), (Awaiting::Nothing, None));
        assert_eq!(call.poll_action(), Some(Action::Note(Event::Entered { node: flow.node_ix("end").expect("end") })));
        assert_eq!(call.poll_action(), Some(Action::Hangup));
        assert_eq!(call.poll_action(), Some(Action::Note(Event::Ended { by: EndedBy::Flow })));
        assert_eq!(call.poll_action(), None);
        assert!(format!("{call:?}").starts_with("Call { flow: Slug(\"f\")"));
    }
}
