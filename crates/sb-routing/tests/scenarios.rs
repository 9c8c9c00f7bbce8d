//! Scenario tests: a script of events in `test_data/scenarios/*.txt`, the engine's event
//! trace out, compared with a snapshot.
//!
//! Script lines (times in seconds, names instead of numeric ids):
//!
//! ```text
//! # a comment
//! skills billing spanish
//! queue billing channels=chat,voice skills=billing:2 priority=5 strategy=longest_idle
//!       timeout=20 wrap=0 aht=300
//!   step after=30 require=billing:1 drop=spanish overflow_queues=general overflow_skills=sales:3
//! agent alice queues=billing skills=billing:3 capacity=voice:1,chat:3
//! at 0 available alice | notready alice 1 | offline alice
//! at 1 enqueue c1 chat billing priority=7 needs=spanish:3
//! at 2 accept c1 alice | reject c1 alice | complete c1 alice | endwrap c1 alice | abandon c1
//! at 3 ewt c1 | tick
//! ```

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::Duration;

use sb_routing::*;

#[derive(Default)]
struct Names {
    skills: Vec<String>,
    queues: Vec<String>,
    agents: Vec<String>,
    interactions: Vec<String>,
}

fn find(list: &[String], name: &str, what: &str, line: usize) -> usize {
    list.iter().position(|n| n == name).unwrap_or_else(|| panic!("line {line}: unknown {what} {name:?}"))
}

fn secs(s: &str, line: usize) -> Duration {
    Duration::from_secs_f64(s.parse().unwrap_or_else(|_| panic!("line {line}: bad number of seconds {s:?}")))
}

fn skill_levels(names: &Names, list: &str, line: usize) -> Vec<(SkillId, Level)> {
    list.split(',')
        .filter(|s| !s.is_empty())
        .map(|item| {
            let (skill, level) = item.split_once(':').unwrap_or_else(|| panic!("line {line}: want skill:level"));
            let level = Level::new(level.parse().unwrap()).unwrap_or_else(|| panic!("line {line}: bad level"));
            (SkillId(find(&names.skills, skill, "skill", line) as u16), level)
        })
        .collect()
}

fn options(words: &[&str]) -> HashMap<String, String> {
    words
        .iter()
        .map(|w| {
            let (k, v) = w.split_once('=').unwrap_or_else(|| panic!("expected key=value, got {w:?}"));
            (k.to_string(), v.to_string())
        })
        .collect()
}

fn run(script: &str) -> String {
    let mut names = Names::default();
    let mut queues: Vec<QueueSetup> = Vec::new();
    let mut agents: Vec<AgentSetup> = Vec::new();
    let mut engine: Option<Engine> = None;
    let mut out = String::new();
    for (n, raw) in script.lines().enumerate() {
        let line = n + 1;
        let text = raw.split('#').next().unwrap().trim();
        if text.is_empty() {
            continue;
        }
        let words: Vec<&str> = text.split_whitespace().collect();
        match words[0] {
            "skills" => names.skills = words[1..].iter().map(|s| s.to_string()).collect(),
            "queue" => {
                names.queues.push(words[1].to_string());
                let o = options(&words[2..]);
                let get = |k: &str, d: &str| o.get(k).cloned().unwrap_or_else(|| d.to_string());
                queues.push(QueueSetup {
                    channels: get("channels", "voice,chat,email,sms")
                        .split(',')
                        .map(|c| Channel::from_name(c).expect("channel"))
                        .collect(),
                    priority: Priority::new(get("priority", "5").parse().unwrap()).unwrap(),
                    strategy: match get("strategy", "longest_idle").as_str() {
                        "longest_idle" => Strategy::LongestIdle,
                        "most_skilled" => Strategy::MostSkilled,
                        "round_robin" => Strategy::RoundRobin,
                        "least_occupied" => Strategy::LeastOccupied,
                        other => panic!("line {line}: unknown strategy {other}"),
                    },
                    skills: skill_levels(&names, &get("skills", ""), line),
                    offer_timeout: secs(&get("timeout", "20"), line),
                    wrap_up: secs(&get("wrap", "0"), line),
                    expected_handle_time: secs(&get("aht", "300"), line),
                    steps: Vec::new(),
                });
            }
            "step" => {
                let o = options(&words[1..]);
                let mut step = StepSetup { after: secs(&o["after"], line), ..StepSetup::default() };
                for (k, v) in &o {
                    match k.as_str() {
                        "after" => {}
                        "require" => step.require = skill_levels(&names, v, line),
                        "drop" => {
                            step.drop =
                                v.split(',').map(|s| SkillId(find(&names.skills, s, "skill", line) as u16)).collect()
                        }
                        "overflow_queues" => {
                            step.overflow_queues =
                                v.split(',').map(|q| QueueId(find(&names.queues, q, "queue", line) as u16)).collect()
                        }
                        "overflow_skills" => step.overflow_skills = skill_levels(&names, v, line),
                        other => panic!("line {line}: unknown step option {other}"),
                    }
                }
                queues.last_mut().expect("a step follows a queue").steps.push(step);
            }
            "agent" => {
                names.agents.push(words[1].to_string());
                let o = options(&words[2..]);
                let mut max = [1, 3, 2, 4];
                if let Some(cap) = o.get("capacity") {
                    max = [0; 4];
                    for item in cap.split(',') {
                        let (c, m) = item.split_once(':').unwrap();
                        max[Channel::from_name(c).unwrap().index()] = m.parse().unwrap();
                    }
                }
                agents.push(AgentSetup {
                    skills: skill_levels(&names, o.get("skills").map_or("", |s| s), line),
                    queues: o
                        .get("queues")
                        .map_or("", |s| s)
                        .split(',')
                        .filter(|s| !s.is_empty())
                        .map(|q| QueueId(find(&names.queues, q, "queue", line) as u16))
                        .collect(),
                    max_per_channel: max,
                    auto_accept: o.get("auto").is_some_and(|v| v == "yes"),
                });
            }
            "at" => {
                let engine = engine.get_or_insert_with(|| {
                    Engine::new(RoutingSetup {
                        skill_count: names.skills.len() as u16,
                        channel_costs: [100, 33, 50, 25],
                        missed_reason: ReasonId(0),
                        queues: queues.clone(),
                        agents: agents.clone(),
                    })
                    .expect("valid setup")
                });
                let now = Timestamp::from_millis(secs(words[1], line).as_millis() as u64);
                let agent = |i: usize| AgentId(find(&names.agents, words[i], "agent", line) as u32);
                let interaction = |names: &Names, i: usize| {
                    InteractionId(find(&names.interactions, words[i], "interaction", line) as u64 + 1)
                };
                let command = match words[2] {
                    "available" => Some(Command::SetPresence { agent: agent(3), presence: Presence::Available }),
                    "offline" => Some(Command::SetPresence { agent: agent(3), presence: Presence::Offline }),
                    "notready" => Some(Command::SetPresence {
                        agent: agent(3),
                        presence: Presence::NotReady(ReasonId(words[4].parse().unwrap())),
                    }),
                    "enqueue" => {
                        if !names.interactions.iter().any(|n| n == words[3]) {
                            names.interactions.push(words[3].to_string());
                        }
                        let o = options(&words[6..]);
                        Some(Command::Enqueue(NewInteraction {
                            id: interaction(&names, 3),
                            channel: Channel::from_name(words[4]).expect("channel"),
                            queue: QueueId(find(&names.queues, words[5], "queue", line) as u16),
                            priority: o.get("priority").map(|p| Priority::new(p.parse().unwrap()).unwrap()),
                            requirements: skill_levels(&names, o.get("needs").map_or("", |s| s), line),
                        }))
                    }
                    "accept" => Some(Command::Accept { interaction: interaction(&names, 3), agent: agent(4) }),
                    "reject" => Some(Command::Reject { interaction: interaction(&names, 3), agent: agent(4) }),
                    "complete" => Some(Command::Complete { interaction: interaction(&names, 3), agent: agent(4) }),
                    "endwrap" => Some(Command::EndWrapUp { interaction: interaction(&names, 3), agent: agent(4) }),
                    // at T skills AGENT skill:level,...
                    "skills" => Some(Command::SetSkills {
                        agent: agent(3),
                        skills: skill_levels(&names, words.get(4).copied().unwrap_or(""), line),
                    }),
                    // at T transfer ID FROM queue Q | agent A
                    "transfer" => Some(Command::Transfer {
                        interaction: interaction(&names, 3),
                        agent: agent(4),
                        to: match words[5] {
                            "queue" => {
                                TransferTarget::Queue(QueueId(find(&names.queues, words[6], "queue", line) as u16))
                            }
                            _ => TransferTarget::Agent(agent(6)),
                        },
                    }),
                    "abandon" => Some(Command::Abandon { interaction: interaction(&names, 3) }),
                    "tick" => {
                        engine.handle_timeout(now);
                        None
                    }
                    "ewt" => {
                        engine.handle_timeout(now);
                        let id = interaction(&names, 3);
                        let ewt = engine.estimated_wait(id);
                        writeln!(out, "{now:>8} {} estimated wait {ewt:?}", words[3]).unwrap();
                        None
                    }
                    other => panic!("line {line}: unknown command {other}"),
                };
                if let Some(command) = command
                    && let Err(e) = engine.handle(now, command)
                {
                    writeln!(out, "{now:>8} refused: {e}").unwrap();
                }
                while let Some(record) = engine.poll_event() {
                    writeln!(out, "{:>8} {}", record.at, describe(&names, &record.event)).unwrap();
                }
            }
            other => panic!("line {line}: unknown directive {other}"),
        }
    }
    out
}

fn describe(names: &Names, event: &Event) -> String {
    let i = |id: &InteractionId| names.interactions[id.0 as usize - 1].as_str();
    let a = |id: &AgentId| names.agents[id.index()].as_str();
    let q = |id: &QueueId| names.queues[id.index()].as_str();
    match event {
        Event::Queued { interaction, queue, channel, priority } => {
            format!("{} queued in {} ({channel}, priority {})", i(interaction), q(queue), priority.get())
        }
        Event::StepReached { interaction, step } => {
            format!("{} reached step {step}", i(interaction))
        }
        Event::Offered { interaction, agent, expires_at } => {
            format!("{} offered to {} until {expires_at}", i(interaction), a(agent))
        }
        Event::Accepted { interaction, agent } => {
            format!("{} accepted by {}", i(interaction), a(agent))
        }
        Event::Rejected { interaction, agent } => {
            format!("{} rejected by {}", i(interaction), a(agent))
        }
        Event::OfferTimedOut { interaction, agent } => {
            format!("{} offer to {} timed out", i(interaction), a(agent))
        }
        Event::OfferCancelled { interaction, agent, reason } => {
            format!("{} offer to {} cancelled: {reason:?}", i(interaction), a(agent))
        }
        Event::Abandoned { interaction, queue, waited } => {
            format!("{} abandoned {} after {waited:?}", i(interaction), q(queue))
        }
        Event::Completed { interaction, agent, wrap_up_until } => match wrap_up_until {
            Some(t) => format!("{} completed by {}, wrap-up until {t}", i(interaction), a(agent)),
            None => format!("{} completed by {}", i(interaction), a(agent)),
        },
        Event::WrapUpEnded { interaction, agent } => {
            format!("{} wrap-up ended for {}", i(interaction), a(agent))
        }
        Event::SkillsChanged { agent } => format!("{} has new skills", a(agent)),
        Event::Transferred { interaction, from, to } => match to {
            TransferTarget::Queue(queue) => {
                format!("{} transferred by {} to queue {}", i(interaction), a(from), q(queue))
            }
            TransferTarget::Agent(agent) => format!("{} transferred by {} to {}", i(interaction), a(from), a(agent)),
        },
        Event::AgentStateChanged { agent, state, presence } => match (state, presence) {
            (AgentActivity::Busy | AgentActivity::WrapUp, Presence::Available) | (_, Presence::Offline) => {
                format!("{} is {state:?}", a(agent))
            }
            (AgentActivity::NotReady(_) | AgentActivity::Available, _) => format!("{} is {state:?}", a(agent)),
            _ => format!("{} is {state:?}, then {presence:?}", a(agent)),
        },
    }
}

#[test]
fn scenarios() {
    insta::glob!("../test_data/scenarios", "*.txt", |path| {
        let script = std::fs::read_to_string(path).unwrap();
        insta::assert_snapshot!(run(&script));
    });
}
