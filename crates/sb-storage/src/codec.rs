//! How log records and table values are written in the database: the JSON payload of each
//! [`LogEvent`], the columns that index it, and the text forms of states and presences.
//!
//! The payload is self-describing (it carries its `kind`) and is written through private
//! DTOs, so the public types stay free of serde and the stored format changes only when
//! this file does. Stored payloads must stay readable: `test_data/payloads.jsonl` holds one
//! of each kind, and the tests check that they still encode and decode the same way.

use serde::{Deserialize, Serialize};

use crate::{InteractionRecord, InteractionState, LogEvent, PresenceRecord};

/// A skill requirement: the skill's id and the minimum proficiency.
#[derive(Debug, Serialize, Deserialize)]
struct RequirementDto {
    skill: String,
    level: u8,
}

/// A free-form attribute.
#[derive(Debug, Serialize, Deserialize)]
struct AttributeDto {
    name: String,
    value: String,
}

/// A [`LogEvent`] as stored in the `payload` column.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum EventDto {
    Created {
        interaction: u64,
        channel: String,
        queue: String,
        priority: u8,
        requirements: Vec<RequirementDto>,
        attributes: Vec<AttributeDto>,
        created_at_ms: i64,
    },
    StepReached {
        interaction: u64,
        step: u8,
    },
    Offered {
        interaction: u64,
        agent: String,
        expires_at_ms: i64,
    },
    Accepted {
        interaction: u64,
        agent: String,
    },
    Rejected {
        interaction: u64,
        agent: String,
    },
    OfferTimedOut {
        interaction: u64,
        agent: String,
    },
    OfferCancelled {
        interaction: u64,
        agent: String,
        reason: String,
    },
    Abandoned {
        interaction: u64,
        waited_ms: i64,
    },
    Completed {
        interaction: u64,
        agent: String,
        #[serde(default)]
        wrap_up_until_ms: Option<i64>,
    },
    WrapUpEnded {
        interaction: u64,
        agent: String,
    },
    AgentState {
        agent: String,
        activity: String,
        presence: String,
        #[serde(default)]
        reason: Option<String>,
    },
    Lost {
        interaction: u64,
        reason: String,
    },
    Message {
        interaction: u64,
        sender: String,
        #[serde(default)]
        author: Option<String>,
        text: String,
    },
    Disposition {
        interaction: u64,
        agent: String,
        #[serde(default)]
        code: Option<String>,
        #[serde(default)]
        notes: String,
    },
    Survey {
        interaction: u64,
        score: u8,
    },
    AgentSkills {
        agent: String,
        skills: Vec<RequirementDto>,
    },
    Transferred {
        interaction: u64,
        from: String,
        #[serde(default)]
        to_queue: Option<String>,
        #[serde(default)]
        to_agent: Option<String>,
    },
}

/// The name of the event's kind, as in the `kind` column and the payload's `kind` field.
pub(crate) fn kind(event: &LogEvent) -> &'static str {
    match event {
        LogEvent::Created(_) => "created",
        LogEvent::StepReached { .. } => "step_reached",
        LogEvent::Offered { .. } => "offered",
        LogEvent::Accepted { .. } => "accepted",
        LogEvent::Rejected { .. } => "rejected",
        LogEvent::OfferTimedOut { .. } => "offer_timed_out",
        LogEvent::OfferCancelled { .. } => "offer_cancelled",
        LogEvent::Abandoned { .. } => "abandoned",
        LogEvent::Completed { .. } => "completed",
        LogEvent::WrapUpEnded { .. } => "wrap_up_ended",
        LogEvent::AgentState { .. } => "agent_state",
        LogEvent::Lost { .. } => "lost",
        LogEvent::Message { .. } => "message",
        LogEvent::Disposition { .. } => "disposition",
        LogEvent::Survey { .. } => "survey",
        LogEvent::Transferred { .. } => "transferred",
        LogEvent::AgentSkills { .. } => "agent_skills",
    }
}

/// The interaction an event is about, for the `interaction` column.
pub(crate) fn interaction_of(event: &LogEvent) -> Option<u64> {
    match event {
        LogEvent::Created(record) => Some(record.id),
        LogEvent::StepReached { interaction, .. }
        | LogEvent::Offered { interaction, .. }
        | LogEvent::Accepted { interaction, .. }
        | LogEvent::Rejected { interaction, .. }
        | LogEvent::OfferTimedOut { interaction, .. }
        | LogEvent::OfferCancelled { interaction, .. }
        | LogEvent::Abandoned { interaction, .. }
        | LogEvent::Completed { interaction, .. }
        | LogEvent::WrapUpEnded { interaction, .. }
        | LogEvent::Lost { interaction, .. }
        | LogEvent::Message { interaction, .. }
        | LogEvent::Disposition { interaction, .. }
        | LogEvent::Survey { interaction, .. }
        | LogEvent::Transferred { interaction, .. } => Some(*interaction),
        LogEvent::AgentState { .. } | LogEvent::AgentSkills { .. } => None,
    }
}

/// The agent an event is about, for the `agent` column.
pub(crate) fn agent_of(event: &LogEvent) -> Option<&str> {
    match event {
        LogEvent::Offered { agent, .. }
        | LogEvent::Accepted { agent, .. }
        | LogEvent::Rejected { agent, .. }
        | LogEvent::OfferTimedOut { agent, .. }
        | LogEvent::OfferCancelled { agent, .. }
        | LogEvent::Completed { agent, .. }
        | LogEvent::WrapUpEnded { agent, .. }
        | LogEvent::Disposition { agent, .. }
        | LogEvent::Transferred { from: agent, .. }
        | LogEvent::AgentSkills { agent, .. }
        | LogEvent::AgentState { agent, .. } => Some(agent),
        LogEvent::Message { sender, author, .. } if sender == "agent" => author.as_deref(),
        LogEvent::Created(_)
        | LogEvent::StepReached { .. }
        | LogEvent::Abandoned { .. }
        | LogEvent::Lost { .. }
        | LogEvent::Message { .. }
        | LogEvent::Survey { .. } => None,
    }
}

fn requirements_to_dto(requirements: &[(String, u8)]) -> Vec<RequirementDto> {
    requirements.iter().map(|(skill, level)| RequirementDto { skill: skill.clone(), level: *level }).collect()
}

fn requirements_from_dto(requirements: Vec<RequirementDto>) -> Vec<(String, u8)> {
    requirements.into_iter().map(|r| (r.skill, r.level)).collect()
}

fn attributes_to_dto(attributes: &[(String, String)]) -> Vec<AttributeDto> {
    attributes.iter().map(|(name, value)| AttributeDto { name: name.clone(), value: value.clone() }).collect()
}

fn attributes_from_dto(attributes: Vec<AttributeDto>) -> Vec<(String, String)> {
    attributes.into_iter().map(|a| (a.name, a.value)).collect()
}

fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("the DTOs have string keys and no fallible serializers")
}

/// The JSON payload of an event.
pub(crate) fn encode(event: &LogEvent) -> String {
    let dto = match event.clone() {
        LogEvent::Created(r) => EventDto::Created {
            interaction: r.id,
            channel: r.channel,
            queue: r.queue,
            priority: r.priority,
            requirements: requirements_to_dto(&r.requirements),
            attributes: attributes_to_dto(&r.attributes),
            created_at_ms: r.created_at_ms,
        },
        LogEvent::StepReached { interaction, step } => EventDto::StepReached { interaction, step },
        LogEvent::Offered { interaction, agent, expires_at_ms } => {
            EventDto::Offered { interaction, agent, expires_at_ms }
        }
        LogEvent::Accepted { interaction, agent } => EventDto::Accepted { interaction, agent },
        LogEvent::Rejected { interaction, agent } => EventDto::Rejected { interaction, agent },
        LogEvent::OfferTimedOut { interaction, agent } => EventDto::OfferTimedOut { interaction, agent },
        LogEvent::OfferCancelled { interaction, agent, reason } => {
            EventDto::OfferCancelled { interaction, agent, reason }
        }
        LogEvent::Abandoned { interaction, waited_ms } => EventDto::Abandoned { interaction, waited_ms },
        LogEvent::Completed { interaction, agent, wrap_up_until_ms } => {
            EventDto::Completed { interaction, agent, wrap_up_until_ms }
        }
        LogEvent::WrapUpEnded { interaction, agent } => EventDto::WrapUpEnded { interaction, agent },
        LogEvent::AgentState { agent, activity, presence } => {
            let (presence, reason) = presence_columns(&presence);
            EventDto::AgentState { agent, activity, presence: presence.to_string(), reason: reason.map(str::to_string) }
        }
        LogEvent::Lost { interaction, reason } => EventDto::Lost { interaction, reason },
        LogEvent::Message { interaction, sender, author, text } => {
            EventDto::Message { interaction, sender, author, text }
        }
        LogEvent::Disposition { interaction, agent, code, notes } => {
            EventDto::Disposition { interaction, agent, code, notes }
        }
        LogEvent::Survey { interaction, score } => EventDto::Survey { interaction, score },
        LogEvent::Transferred { interaction, from, to_queue, to_agent } => {
            EventDto::Transferred { interaction, from, to_queue, to_agent }
        }
        LogEvent::AgentSkills { agent, skills } => {
            EventDto::AgentSkills { agent, skills: requirements_to_dto(&skills) }
        }
    };
    to_json(&dto)
}

/// Reads a payload back; `kind` is the `kind` column, which must agree with the payload.
pub(crate) fn decode(kind_column: &str, payload: &str) -> Result<LogEvent, String> {
    let dto: EventDto = serde_json::from_str(payload).map_err(|e| format!("unreadable payload: {e}"))?;
    let event = match dto {
        EventDto::Created { interaction, channel, queue, priority, requirements, attributes, created_at_ms } => {
            LogEvent::Created(InteractionRecord {
                id: interaction,
                channel,
                queue,
                priority,
                requirements: requirements_from_dto(requirements),
                attributes: attributes_from_dto(attributes),
                created_at_ms,
            })
        }
        EventDto::StepReached { interaction, step } => LogEvent::StepReached { interaction, step },
        EventDto::Offered { interaction, agent, expires_at_ms } => {
            LogEvent::Offered { interaction, agent, expires_at_ms }
        }
        EventDto::Accepted { interaction, agent } => LogEvent::Accepted { interaction, agent },
        EventDto::Rejected { interaction, agent } => LogEvent::Rejected { interaction, agent },
        EventDto::OfferTimedOut { interaction, agent } => LogEvent::OfferTimedOut { interaction, agent },
        EventDto::OfferCancelled { interaction, agent, reason } => {
            LogEvent::OfferCancelled { interaction, agent, reason }
        }
        EventDto::Abandoned { interaction, waited_ms } => LogEvent::Abandoned { interaction, waited_ms },
        EventDto::Completed { interaction, agent, wrap_up_until_ms } => {
            LogEvent::Completed { interaction, agent, wrap_up_until_ms }
        }
        EventDto::WrapUpEnded { interaction, agent } => LogEvent::WrapUpEnded { interaction, agent },
        EventDto::AgentState { agent, activity, presence, reason } => {
            LogEvent::AgentState { agent, activity, presence: presence_from_columns(&presence, reason)? }
        }
        EventDto::Lost { interaction, reason } => LogEvent::Lost { interaction, reason },
        EventDto::Message { interaction, sender, author, text } => {
            LogEvent::Message { interaction, sender, author, text }
        }
        EventDto::Disposition { interaction, agent, code, notes } => {
            LogEvent::Disposition { interaction, agent, code, notes }
        }
        EventDto::Survey { interaction, score } => LogEvent::Survey { interaction, score },
        EventDto::Transferred { interaction, from, to_queue, to_agent } => {
            LogEvent::Transferred { interaction, from, to_queue, to_agent }
        }
        EventDto::AgentSkills { agent, skills } => {
            LogEvent::AgentSkills { agent, skills: requirements_from_dto(skills) }
        }
    };
    if kind(&event) != kind_column {
        return Err(format!("the kind column says {kind_column:?} but the payload is {:?}", kind(&event)));
    }
    Ok(event)
}

/// The `requirements` column.
pub(crate) fn encode_requirements(requirements: &[(String, u8)]) -> String {
    to_json(&requirements_to_dto(requirements))
}

pub(crate) fn decode_requirements(json: &str) -> Result<Vec<(String, u8)>, String> {
    serde_json::from_str(json).map(requirements_from_dto).map_err(|e| format!("unreadable requirements: {e}"))
}

/// The `attributes` column.
pub(crate) fn encode_attributes(attributes: &[(String, String)]) -> String {
    to_json(&attributes_to_dto(attributes))
}

pub(crate) fn decode_attributes(json: &str) -> Result<Vec<(String, String)>, String> {
    serde_json::from_str(json).map(attributes_from_dto).map_err(|e| format!("unreadable attributes: {e}"))
}

/// The `presence` and `reason` columns (and payload fields) of a presence.
pub(crate) fn presence_columns(presence: &PresenceRecord) -> (&'static str, Option<&str>) {
    match presence {
        PresenceRecord::Offline => ("offline", None),
        PresenceRecord::Available => ("available", None),
        PresenceRecord::NotReady(reason) => ("not_ready", Some(reason)),
    }
}

pub(crate) fn presence_from_columns(presence: &str, reason: Option<String>) -> Result<PresenceRecord, String> {
    match (presence, reason) {
        ("offline", None) => Ok(PresenceRecord::Offline),
        ("available", None) => Ok(PresenceRecord::Available),
        ("not_ready", Some(reason)) => Ok(PresenceRecord::NotReady(reason)),
        (presence, reason) => Err(format!("presence {presence:?} with reason {reason:?} is not a presence")),
    }
}

pub(crate) fn state_from_name(name: &str) -> Result<InteractionState, String> {
    Ok(match name {
        "waiting" => InteractionState::Waiting,
        "offered" => InteractionState::Offered,
        "connected" => InteractionState::Connected,
        "wrap_up" => InteractionState::WrapUp,
        "completed" => InteractionState::Completed,
        "abandoned" => InteractionState::Abandoned,
        "lost" => InteractionState::Lost,
        other => return Err(format!("{other:?} is not an interaction state")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One event of each kind (and each presence), in the order of `payloads.jsonl`.
    fn samples() -> Vec<LogEvent> {
        vec![
            LogEvent::Created(InteractionRecord {
                id: 7,
                channel: "chat".into(),
                queue: "billing".into(),
                priority: 5,
                requirements: vec![("french".into(), 3), ("billing".into(), 1)],
                attributes: vec![("name".into(), "Ann \"Q\" Lee".into()), ("crm".into(), "C-1".into())],
                created_at_ms: 1_700_000_000_000,
            }),
            LogEvent::StepReached { interaction: 7, step: 2 },
            LogEvent::Offered { interaction: 7, agent: "alice".into(), expires_at_ms: 1_700_000_015_000 },
            LogEvent::Accepted { interaction: 7, agent: "alice".into() },
            LogEvent::Rejected { interaction: 7, agent: "bob".into() },
            LogEvent::OfferTimedOut { interaction: 7, agent: "carol".into() },
            LogEvent::OfferCancelled { interaction: 7, agent: "dave".into(), reason: "customer_left".into() },
            LogEvent::Abandoned { interaction: 8, waited_ms: 42_000 },
            LogEvent::Completed { interaction: 7, agent: "alice".into(), wrap_up_until_ms: Some(1_700_000_090_000) },
            LogEvent::Completed { interaction: 9, agent: "bob".into(), wrap_up_until_ms: None },
            LogEvent::WrapUpEnded { interaction: 7, agent: "alice".into() },
            LogEvent::AgentState {
                agent: "alice".into(),
                activity: "busy".into(),
                presence: PresenceRecord::Available,
            },
            LogEvent::AgentState { agent: "bob".into(), activity: "offline".into(), presence: PresenceRecord::Offline },
            LogEvent::AgentState {
                agent: "carol".into(),
                activity: "not_ready".into(),
                presence: PresenceRecord::NotReady("lunch".into()),
            },
            LogEvent::Lost { interaction: 10, reason: "a call cannot survive a restart of the server".into() },
            LogEvent::Message {
                interaction: 7,
                sender: "customer".into(),
                author: None,
                text: "Hello \"there\"".into(),
            },
            LogEvent::Message {
                interaction: 7,
                sender: "agent".into(),
                author: Some("alice".into()),
                text: "Hi, how can I help?".into(),
            },
            LogEvent::Disposition {
                interaction: 7,
                agent: "alice".into(),
                code: Some("resolved".into()),
                notes: "refund sent".into(),
            },
            LogEvent::Survey { interaction: 7, score: 5 },
            LogEvent::Transferred {
                interaction: 7,
                from: "alice".into(),
                to_queue: Some("sales".into()),
                to_agent: None,
            },
            LogEvent::AgentSkills { agent: "bob".into(), skills: vec![("billing".into(), 4), ("french".into(), 2)] },
        ]
    }

    #[test]
    fn stored_payloads_keep_their_format() {
        let fixture = include_str!("../test_data/payloads.jsonl");
        let lines: Vec<&str> = fixture.lines().filter(|l| !l.trim().is_empty()).collect();
        let samples = samples();
        assert_eq!(lines.len(), samples.len(), "one fixture line per sample");
        for (line, event) in lines.iter().zip(&samples) {
            assert_eq!(encode(event), *line, "encoding of {event:?}");
            assert_eq!(decode(kind(event), line).as_ref(), Ok(event), "decoding of {line}");
        }
    }

    #[test]
    fn every_kind_is_sampled() {
        let mut kinds: Vec<&str> = samples().iter().map(kind).collect();
        kinds.sort();
        kinds.dedup();
        assert_eq!(kinds.len(), 17);
    }

    #[test]
    fn a_payload_of_another_kind_is_refused() {
        let payload = encode(&LogEvent::Accepted { interaction: 1, agent: "a".into() });
        let err = decode("rejected", &payload).unwrap_err();
        assert!(err.contains("\"rejected\"") && err.contains("\"accepted\""), "{err}");
    }

    #[test]
    fn unreadable_payloads_are_errors() {
        for (kind, payload) in [
            ("created", "not json"),
            ("step_reached", r#"{"kind":"step_reached","interaction":1,"step":300}"#),
            ("teleported", r#"{"kind":"teleported","interaction":1}"#),
            ("agent_state", r#"{"kind":"agent_state","agent":"a","activity":"x","presence":"not_ready"}"#),
            ("agent_state", r#"{"kind":"agent_state","agent":"a","activity":"x","presence":"asleep"}"#),
        ] {
            assert!(decode(kind, payload).is_err(), "{payload} should not decode");
        }
    }

    #[test]
    fn column_forms_round_trip() {
        let requirements = vec![("french".to_string(), 3), ("billing".to_string(), 10)];
        assert_eq!(decode_requirements(&encode_requirements(&requirements)), Ok(requirements));
        assert_eq!(decode_requirements("[]"), Ok(vec![]));
        let attributes = vec![("b".to_string(), "2".to_string()), ("a".to_string(), "1".to_string())];
        assert_eq!(decode_attributes(&encode_attributes(&attributes)), Ok(attributes));
        for state in [
            InteractionState::Waiting,
            InteractionState::Offered,
            InteractionState::Connected,
            InteractionState::WrapUp,
            InteractionState::Completed,
            InteractionState::Abandoned,
            InteractionState::Lost,
        ] {
            assert_eq!(state_from_name(state.name()), Ok(state));
        }
        assert!(state_from_name("done").is_err());
        for presence in [PresenceRecord::Offline, PresenceRecord::Available, PresenceRecord::NotReady("x".into())] {
            let (name, reason) = presence_columns(&presence);
            assert_eq!(presence_from_columns(name, reason.map(str::to_string)), Ok(presence));
        }
        assert!(presence_from_columns("available", Some("x".into())).is_err());
    }
}
