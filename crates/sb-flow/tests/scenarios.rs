//! Scenario tests of the interpreter: a flow and a script of inputs in
//! `test_data/scenarios/*.txt`, the call's actions out, compared with a snapshot.
//!
//! A scenario file is a flow in YAML, a line `---`, and the script, one input a line (times
//! in seconds; a line starting with `#`, or the rest of a line from ` # `, is a comment):
//!
//! ```text
//! open office                  # schedules that are open (all others are closed)
//! caller +4930123              # the caller's number (default +15550100)
//! at 0 start
//! at 0 played                  # the playback ended
//! at 1 digits 12#              # keys pressed one after another, at the same time
//! at 6 timeout
//! at 7 http ok name=Ann tier=gold | http error connection refused
//! at 8 recorded | refused queue full | agent done | hangup
//! ```
//!
//! The snapshot repeats each input and lists what the call did, then what it waits for.

use std::fmt::Write as _;
use std::sync::Arc;

use sb_flow::{Action, Call, CallInfo, Event, Flow, KnownNames, Timestamp};

fn run(text: &str) -> String {
    let (flow_text, script) = text.split_once("\n---\n").expect("a scenario has a flow, a line ---, and a script");
    let flow = match sb_flow::parse("scenario.yaml", flow_text, &KnownNames::default()) {
        Ok((flow, report)) => {
            assert!(report.is_empty(), "the scenario's flow draws warnings:\n{report}");
            Arc::new(flow)
        }
        Err(report) => panic!("the scenario's flow does not load:\n{report}"),
    };
    let mut open: Vec<String> = Vec::new();
    let mut info = CallInfo { caller: "+15550100".to_owned(), dialed: "+15550199".to_owned() };
    let mut call: Option<Call> = None;
    let mut out = String::new();
    for (n, raw) in script.lines().enumerate() {
        let line = n + 1;
        let text = strip_comment(raw);
        if text.is_empty() {
            continue;
        }
        let words: Vec<&str> = text.split_whitespace().collect();
        match words[0] {
            "open" => open.extend(words[1..].iter().map(|w| w.to_string())),
            "caller" => info.caller = words[1..].join(" "),
            "at" => {
                let call = call.get_or_insert_with(|| {
                    let open = open.clone();
                    let schedules = move |id: &str, _: Timestamp| open.iter().any(|o| o == id);
                    Call::new(Arc::clone(&flow), info.clone(), Arc::new(schedules))
                });
                let seconds: f64 = words[1].parse().unwrap_or_else(|_| panic!("line {line}: bad time {:?}", words[1]));
                let now = Timestamp::from_millis((seconds * 1000.0).round() as u64);
                writeln!(out, "{text}").unwrap();
                let rest = &words[2..];
                match rest {
                    ["start"] => call.start(now),
                    ["played"] => call.handle_play_finished(now),
                    ["digits", keys] => {
                        for key in keys.chars() {
                            call.handle_digit(now, key);
                        }
                    }
                    ["timeout"] => call.handle_timeout(now),
                    ["http", "ok", pairs @ ..] => {
                        let pairs = pairs
                            .iter()
                            .map(|p| {
                                let (k, v) = p.split_once('=').expect("http ok takes key=value pairs");
                                (k.to_owned(), v.to_owned())
                            })
                            .collect();
                        call.handle_http_result(now, Ok(pairs));
                    }
                    ["http", "error", error @ ..] => call.handle_http_result(now, Err(error.join(" "))),
                    ["recorded"] => call.handle_recording_finished(now),
                    ["refused", reason @ ..] => call.handle_enqueue_failed(now, reason.join(" ")),
                    ["agent", "done"] => call.handle_agent_finished(now),
                    ["hangup"] => call.handle_hangup(now),
                    _ => panic!("line {line}: unknown input {text:?}"),
                }
                while let Some(action) = call.poll_action() {
                    writeln!(out, "    {}", describe(&flow, &action)).unwrap();
                }
                let waiting = match call.poll_timeout() {
                    Some(t) => format!("{:?} until {t}", call.awaiting()),
                    None => format!("{:?}", call.awaiting()),
                };
                writeln!(out, "    ... {waiting}").unwrap();
            }
            other => panic!("line {line}: unknown directive {other:?}"),
        }
    }
    if let Some(call) = &call
        && !call.variables().is_empty()
    {
        writeln!(out, "variables: {}", pairs(call.variables())).unwrap();
    }
    out
}

/// The line without its comment: a line starting with `#`, or from ` # ` on, so that
/// `digits 12#` keeps its key.
fn strip_comment(line: &str) -> &str {
    if line.trim_start().starts_with('#') {
        return "";
    }
    match line.find(" # ") {
        Some(i) => line[..i].trim(),
        None => line.trim(),
    }
}

fn pairs(list: &[(String, String)]) -> String {
    let items: Vec<String> = list.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
    format!("[{}]", items.join(", "))
}

fn describe(flow: &Flow, action: &Action) -> String {
    let id = |ix: &sb_flow::NodeIx| flow.node(*ix).id.as_str();
    match action {
        Action::Play { file } => format!("play {file}"),
        Action::StopPlayback => "stop playback".to_owned(),
        Action::HttpRequest { url, timeout } => format!("http GET {url} timeout {timeout:?}"),
        Action::Enqueue { queue, priority, skills, attributes } => {
            let skills: Vec<String> = skills.iter().map(|(s, l)| format!("{s}:{l}")).collect();
            format!(
                "enqueue {queue} priority {:?} skills [{}] attributes {}",
                priority.map(|p| p.get()),
                skills.join(","),
                pairs(attributes)
            )
        }
        Action::RequestCallback { queue, attributes } => format!("request callback {queue} {}", pairs(attributes)),
        Action::RecordVoicemail { prompt, max_length, attributes } => {
            format!("record voicemail {prompt} max {max_length:?} {}", pairs(attributes))
        }
        Action::SurveyAnswer { name, score, scale } => format!("survey answer {name} {score}/{scale}"),
        Action::Hangup => "hang up".to_owned(),
        Action::Note(event) => match event {
            Event::Entered { node } => format!("> {}", id(node)),
            Event::HoursChecked { schedule, open } => format!("note hours {schedule} open={open}"),
            Event::VariableSet { name, value } => format!("note set {name}={value:?}"),
            Event::NoInput { node } => format!("note no input at {}", id(node)),
            Event::NoMatch { node, digit } => format!("note no match for {digit} at {}", id(node)),
            Event::RetriesExhausted { node } => format!("note retries exhausted at {}", id(node)),
            Event::HttpFailed { error } => format!("note http failed: {error}"),
            Event::EnqueueFailed { reason } => format!("note enqueue failed: {reason}"),
            Event::Ended { by } => format!("note ended by {by:?}"),
        },
    }
}

#[test]
fn scenarios() {
    insta::glob!("../test_data/scenarios", "*.txt", |path| {
        let text = std::fs::read_to_string(path).unwrap();
        insta::assert_snapshot!(run(&text));
    });
}
