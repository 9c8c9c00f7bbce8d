//! Asterisk `queue_log`: the calls' stays in queues, for the baseline and the replay.
//!
//! Each line is `time|callid|queue|agent|event|data1|data2|...`, `time` in seconds since the
//! epoch (a fraction is read too). A call's events are gathered by call id and put in time
//! order before they are read, so lines out of order are fine. Each ENTERQUEUE starts a stay
//! ([`LegacyContact`]); CONNECT answers it (data1 is the hold time), COMPLETEAGENT,
//! COMPLETECALLER and the TRANSFER events end it (data2 is the talk time), ABANDON ends it
//! unanswered (data3 the wait), EXITWITHTIMEOUT, EXITEMPTY and EXITWITHKEY send it on. DID
//! gives the number dialled. RINGNOANSWER (data1 in milliseconds) and the agents' and system's
//! events (call id `NONE`) are not stays and are counted only.
//!
//! A stay that never ends in the log (an orphan ENTERQUEUE) is reported and left out; so is
//! an event of a call that never entered a queue.

use std::collections::{BTreeMap, HashMap};

use crate::history::{LegacyContact, Outcome as Ended};
use crate::report::{Outcome, Report};
use crate::slug_of;

/// One event of a call.
#[derive(Debug, Clone)]
struct Event {
    at_ms: i64,
    line: usize,
    queue: String,
    agent: String,
    kind: String,
    data: Vec<String>,
}

/// A queue_log being read, line by line.
#[derive(Debug, Default)]
pub struct QueueLog {
    file: String,
    calls: HashMap<String, Vec<Event>>,
    /// Lines read, and lines that were agents' or the system's events.
    pub lines: u64,
    pub other_events: u64,
    /// RINGNOANSWER events: offers an agent let ring out.
    pub unanswered_rings: u64,
    unknown: BTreeMap<String, usize>,
}

impl QueueLog {
    pub fn new(file: &str) -> QueueLog {
        QueueLog { file: file.to_owned(), ..QueueLog::default() }
    }

    /// Takes line `number` (1-based).
    pub fn push(&mut self, number: usize, line: &str, report: &mut Report) {
        self.lines += 1;
        let line = line.trim_end_matches(['\r', '\n']);
        if line.trim().is_empty() {
            return;
        }
        let at = Some((self.file.as_str(), number));
        let fields: Vec<&str> = line.split('|').collect();
        if fields.len() < 5 {
            let detail = format!("expected time|callid|queue|agent|event|data..., found {} fields", fields.len());
            report.add("line", Outcome::Rejected, detail, at);
            return;
        }
        let Some(at_ms) = parse_time(fields[0]) else {
            report.add("line", Outcome::Rejected, format!("the time {:?} is not seconds since 1970", fields[0]), at);
            return;
        };
        let (call, queue, agent, kind) = (fields[1], fields[2], fields[3], fields[4].to_ascii_uppercase());
        if call == "NONE" || call.is_empty() {
            self.other_events += 1;
            return;
        }
        match kind.as_str() {
            "RINGNOANSWER" | "RINGCANCELED" => {
                self.unanswered_rings += 1;
                return;
            }
            "ENTERQUEUE" | "CONNECT" | "COMPLETEAGENT" | "COMPLETECALLER" | "ABANDON" | "EXITWITHTIMEOUT"
            | "EXITEMPTY" | "EXITWITHKEY" | "TRANSFER" | "BLINDTRANSFER" | "ATTENDEDTRANSFER" | "DID" => {}
            "INFO"
            | "SYSCOMPAT"
            | "ADDMEMBER"
            | "REMOVEMEMBER"
            | "PAUSE"
            | "UNPAUSE"
            | "PAUSEALL"
            | "UNPAUSEALL"
            | "AGENTLOGIN"
            | "AGENTLOGOFF"
            | "AGENTCALLBACKLOGIN"
            | "AGENTCALLBACKLOGOFF"
            | "AGENTDUMP"
            | "QUEUESTART"
            | "CONFIGRELOAD"
            | "PENALTY" => {
                self.other_events += 1;
                return;
            }
            _ => {
                *self.unknown.entry(kind).or_default() += 1;
                return;
            }
        }
        let event = Event {
            at_ms,
            line: number,
            queue: queue.to_owned(),
            agent: agent.to_owned(),
            kind,
            data: fields[5..].iter().map(|s| (*s).to_owned()).collect(),
        };
        self.calls.entry(call.to_owned()).or_default().push(event);
    }

    /// The stays read, in arrival order.
    pub fn finish(self, report: &mut Report) -> Vec<LegacyContact> {
        for (kind, count) in &self.unknown {
            report.add(
                &format!("event {kind}"),
                Outcome::NotTranslated,
                format!("unknown event, {count} lines ignored"),
                None,
            );
        }
        let file = self.file;
        let mut contacts = Vec::new();
        let mut calls: Vec<(String, Vec<Event>)> = self.calls.into_iter().collect();
        calls.sort_by(|a, b| a.0.cmp(&b.0));
        for (call, mut events) in calls {
            events.sort_by_key(|e| (e.at_ms, e.line));
            stays(&file, &call, &events, report, &mut contacts);
        }
        contacts.sort_by(|a, b| a.arrived_ms.cmp(&b.arrived_ms).then(a.id.cmp(&b.id)));
        contacts
    }
}

/// The stays of one call, from its events in time order.
fn stays(file: &str, call: &str, events: &[Event], report: &mut Report, out: &mut Vec<LegacyContact>) {
    let mut dnis: Option<String> = None;
    let mut open: Option<(LegacyContact, usize)> = None;
    let mut count = 0;
    let seconds =
        |data: &[String], i: usize| data.get(i).and_then(|v| v.trim().parse::<f64>().ok()).map(|s| (s * 1000.0) as i64);
    for e in events {
        let at = Some((file, e.line));
        if e.kind == "DID" {
            dnis = e.data.first().filter(|d| !d.is_empty()).cloned();
            continue;
        }
        if e.kind == "ENTERQUEUE" {
            if let Some((stay, line)) = open.take() {
                report_orphan(report, file, call, &stay.queue, line);
            }
            count += 1;
            let caller = e.data.get(1).map(|c| c.trim().to_owned()).filter(|c| !c.is_empty() && c != "unknown");
            let contact = LegacyContact {
                id: format!("{call}#{count}"),
                queue: slug_of(&e.queue),
                caller,
                dnis: dnis.clone(),
                arrived_ms: e.at_ms,
                wait_ms: Some(0),
                talk_ms: None,
                agent: None,
                outcome: Ended::Exited,
            };
            open = Some((contact, e.line));
            continue;
        }
        let Some((stay, _)) = open.as_mut() else {
            report.add(
                &format!("call {call}"),
                Outcome::Rejected,
                format!("{} without an ENTERQUEUE before it", e.kind),
                at,
            );
            continue;
        };
        match e.kind.as_str() {
            "CONNECT" => {
                stay.wait_ms = Some(seconds(&e.data, 0).unwrap_or(e.at_ms - stay.arrived_ms).max(0));
                stay.agent = Some(e.agent.clone()).filter(|a| !a.is_empty() && a != "NONE");
                stay.outcome = Ended::Answered;
            }
            "COMPLETEAGENT" | "COMPLETECALLER" | "TRANSFER" | "BLINDTRANSFER" | "ATTENDEDTRANSFER" => {
                if stay.outcome != Ended::Answered {
                    report.add(
                        &format!("call {call}"),
                        Outcome::Rejected,
                        format!("{} before any CONNECT", e.kind),
                        at,
                    );
                    continue;
                }
                // COMPLETE*: holdtime|calltime; TRANSFER: extension|context|holdtime|calltime.
                let talk_index = if e.kind.starts_with("COMPLETE") { 1 } else { 3 };
                let talk = seconds(&e.data, talk_index)
                    .unwrap_or(e.at_ms - stay.arrived_ms - stay.wait_ms.unwrap_or(0))
                    .max(0);
                stay.talk_ms = Some(talk);
                if let Some((stay, _)) = open.take() {
                    out.push(stay);
                }
            }
            "ABANDON" | "EXITWITHTIMEOUT" | "EXITEMPTY" | "EXITWITHKEY" => {
                let wait_index = if e.kind == "EXITWITHKEY" { 3 } else { 2 };
                stay.wait_ms = Some(seconds(&e.data, wait_index).unwrap_or(e.at_ms - stay.arrived_ms).max(0));
                stay.outcome = if e.kind == "ABANDON" { Ended::Abandoned } else { Ended::Exited };
                if let Some((stay, _)) = open.take() {
                    out.push(stay);
                }
            }
            _ => {}
        }
    }
    if let Some((stay, line)) = open {
        report_orphan(report, file, call, &stay.queue, line);
    }
}

fn report_orphan(report: &mut Report, file: &str, call: &str, queue: &str, line: usize) {
    let detail = format!("entered queue {queue} and never left it in the log; left out");
    report.add(&format!("call {call}"), Outcome::NotTranslated, detail, Some((file, line)));
}

/// Seconds since the epoch, with an optional fraction, as milliseconds.
fn parse_time(text: &str) -> Option<i64> {
    let (whole, fraction) = text.trim().split_once('.').unwrap_or((text.trim(), ""));
    let seconds: i64 = whole.parse().ok().filter(|s| *s > 0)?;
    let millis = if fraction.is_empty() {
        0
    } else {
        let digits: String = fraction.chars().chain("000".chars()).take(3).collect();
        digits.parse::<i64>().ok()?
    };
    Some(seconds * 1000 + millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_with_and_without_fractions() {
        assert_eq!(parse_time("1366720340"), Some(1_366_720_340_000));
        assert_eq!(parse_time("1366720340.5"), Some(1_366_720_340_500));
        assert_eq!(parse_time("soon"), None);
        assert_eq!(parse_time("-5"), None);
    }
}
