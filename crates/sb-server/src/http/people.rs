//! Queues and agents: live figures, the waiting order, agents' states and presence.

use axum::Json;
use axum::extract::Path;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::http::StatusCode;
use sb_routing::{Command, Presence};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ApiError, Caller, ErrorBody, ask, seconds};
use crate::auth::Role;
use crate::dispatcher::{Request, activity_name};

/// An agent's chosen presence.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PresenceDto {
    /// `available`, `not_ready` (with a reason) or `offline`.
    #[schema(pattern = "^(available|not_ready|offline)$")]
    presence: String,
    /// A reason code of the tenant; required with `not_ready` and refused with the others.
    reason: Option<String>,
}

/// Live figures of a queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueueDto {
    queue: String,
    /// The queue's display name.
    name: String,
    waiting: u32,
    /// Member agents logged in and not on a break.
    staffed: u32,
    longest_wait_seconds: Option<f64>,
    estimated_wait_seconds: Option<f64>,
    /// Member agents by activity.
    agents_available: u32,
    agents_busy: u32,
    agents_wrap_up: u32,
    agents_not_ready: u32,
    today: QueueTodayDto,
    /// The tenant's longest-wait alert threshold, and whether the queue is above it.
    alert_longest_wait_seconds: f64,
    in_alert: bool,
}

/// A queue's counts for today (see `since_ms`).
#[derive(Debug, Serialize, ToSchema)]
pub struct QueueTodayDto {
    /// Counting started at the tenant's midnight, or at the server's start if later.
    since_ms: i64,
    offered: u32,
    answered: u32,
    abandoned: u32,
    /// Answered within the threshold out of answered plus abandoned, in percent.
    service_level_percent: Option<f64>,
    /// The queue's service-level goal: `target_percent` within `threshold_seconds`.
    threshold_seconds: f64,
    target_percent: u8,
    /// Average speed of answer, seconds.
    asa_seconds: Option<f64>,
}

/// Every queue's live figures. Any user of the tenant.
#[utoipa::path(get, path = "/api/v1/queues", tag = "queues",
    responses((status = 200, body = Vec<QueueDto>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(super) async fn queues(caller: Caller) -> Result<Json<Vec<QueueDto>>, ApiError> {
    caller.require(Role::Agent)?;
    let list = ask(&caller.tenant, |reply| Request::Queues { reply }).await?;
    Ok(Json(
        list.into_iter()
            .map(|q| {
                let dir = &caller.tenant.directory;
                let name = dir.queue(&q.name).map_or_else(String::new, |id| dir.queue_display[id.index()].clone());
                let day = q.today;
                QueueDto {
                    queue: q.name,
                    name,
                    waiting: q.waiting,
                    staffed: q.staffed,
                    longest_wait_seconds: seconds(q.longest_wait),
                    estimated_wait_seconds: seconds(q.estimated_wait),
                    agents_available: q.agents[0],
                    agents_busy: q.agents[1],
                    agents_wrap_up: q.agents[2],
                    agents_not_ready: q.agents[3],
                    alert_longest_wait_seconds: q.alert_threshold.as_secs_f64(),
                    in_alert: q.in_alert,
                    today: QueueTodayDto {
                        since_ms: q.counting_since_ms,
                        offered: day.offered,
                        answered: day.answered,
                        abandoned: day.abandoned,
                        service_level_percent: day.service_level().map(|s| (s * 1000.0).round() / 10.0),
                        threshold_seconds: q.service_level.0.as_secs_f64(),
                        target_percent: q.service_level.1,
                        asa_seconds: (day.answered > 0)
                            .then(|| (day.wait_ms as f64 / f64::from(day.answered) / 100.0).round() / 10.0),
                    },
                }
            })
            .collect(),
    ))
}

/// A queue's waiting interactions.
#[derive(Debug, Serialize, ToSchema)]
pub struct WaitingDto {
    queue: String,
    /// Interaction ids in the order they will be served when every agent qualifies for all.
    waiting: Vec<u64>,
}

/// The waiting interactions of a queue, in queue order. Supervisors.
#[utoipa::path(get, path = "/api/v1/queues/{queue}/waiting", tag = "queues",
    params(("queue" = String, Path, description = "The queue's id")),
    responses((status = 200, body = WaitingDto), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub(super) async fn waiting(
    caller: Caller,
    queue: Result<Path<String>, PathRejection>,
) -> Result<Json<WaitingDto>, ApiError> {
    caller.require(Role::Supervisor)?;
    let Path(queue) = queue?;
    let id =
        caller.tenant.directory.queue(&queue).ok_or_else(|| ApiError::not_found(format!("unknown queue {queue:?}")))?;
    let waiting = ask(&caller.tenant, |reply| Request::Waiting { queue: id, reply }).await?;
    Ok(Json(WaitingDto { queue, waiting }))
}

/// An agent's live state.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgentStateDto {
    agent: String,
    /// `offline`, `available`, `busy`, `wrap_up` or `not_ready`.
    activity: &'static str,
    presence: &'static str,
    reason: Option<String>,
    /// Capacity in use, out of 100.
    load: u16,
    /// Since when (ms since the epoch) the agent has had this activity, if known.
    since_ms: Option<i64>,
    /// The agent's display name.
    name: String,
    /// Conversations completed today.
    handled_today: u32,
    /// Their average time from acceptance to completion, seconds.
    average_talk_seconds: Option<f64>,
    /// Skill id to proficiency (1 to 5), as routing uses them now.
    skills: std::collections::BTreeMap<String, u8>,
}

/// Agents' activity, presence and capacity in use: all of them for supervisors, their own
/// for agents.
#[utoipa::path(get, path = "/api/v1/agents", tag = "agents",
    responses((status = 200, body = Vec<AgentStateDto>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(super) async fn agents(caller: Caller) -> Result<Json<Vec<AgentStateDto>>, ApiError> {
    caller.require(Role::Agent)?;
    let list = ask(&caller.tenant, |reply| Request::Agents { reply }).await?;
    let dir = &caller.tenant.directory;
    let everyone = caller.who.at_least(Role::Supervisor);
    Ok(Json(
        list.into_iter()
            .filter(|a| everyone || caller.who.agent.as_deref() == Some(a.name.as_str()))
            .map(|a| {
                let (presence, reason) = match a.presence {
                    Presence::Offline => ("offline", None),
                    Presence::Available => ("available", None),
                    Presence::NotReady(r) => ("not_ready", Some(dir.reason_name(r).to_string())),
                };
                let name = dir.agent(&a.name).map_or_else(String::new, |id| dir.agent_display[id.index()].clone());
                AgentStateDto {
                    name,
                    handled_today: a.today.handled,
                    skills: a.skills.iter().map(|(s, l)| (dir.skill_name(*s).to_string(), l.get())).collect(),
                    average_talk_seconds: (a.today.handled > 0)
                        .then(|| (a.today.talk_ms as f64 / f64::from(a.today.handled) / 1000.0).round()),
                    agent: a.name,
                    activity: activity_name(a.activity),
                    presence,
                    reason,
                    load: a.load,
                    since_ms: a.since_ms,
                }
            })
            .collect(),
    ))
}

/// Sets an agent's presence: available, not ready with a reason, or offline. Going not
/// ready or offline withdraws unanswered offers; conversations in progress continue.
/// Agents set their own; supervisors anyone's. Audited.
#[utoipa::path(put, path = "/api/v1/agents/{agent}/presence", tag = "agents", request_body = PresenceDto,
    params(("agent" = String, Path, description = "The agent's id")),
    responses((status = 204, description = "Done and stored"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 400, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub(super) async fn set_presence(
    caller: Caller,
    agent: Result<Path<String>, PathRejection>,
    body: Result<Json<PresenceDto>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let Path(agent) = agent?;
    let dir = &caller.tenant.directory;
    if dir.agent(&agent).is_none() {
        return Err(ApiError::not_found(format!("unknown agent {agent:?}")));
    }
    let id = caller.acting_agent(Some(&agent))?;
    let Json(dto) = body?;
    let presence = match (dto.presence.as_str(), dto.reason.as_deref()) {
        ("available", None) => Presence::Available,
        ("offline", None) => Presence::Offline,
        ("not_ready", Some(reason)) => Presence::NotReady(dir.reason(reason).ok_or_else(|| {
            ApiError::invalid("reason", format!("unknown reason code {reason:?}; known: {}", dir.reasons.join(", ")))
        })?),
        ("not_ready", None) => return Err(ApiError::invalid("reason", "not_ready needs a reason code")),
        ("available" | "offline", Some(_)) => {
            return Err(ApiError::invalid("reason", "only not_ready takes a reason code"));
        }
        (other, _) => {
            return Err(ApiError::invalid(
                "presence",
                format!("unknown presence {other:?}: use available, not_ready or offline"),
            ));
        }
    };
    let detail = match &dto.reason {
        Some(r) => format!("{} ({r})", dto.presence),
        None => dto.presence.clone(),
    };
    let audit = Some(caller.audit("agent.presence", format!("agent:{agent}"), detail));
    let command = Command::SetPresence { agent: id, presence };
    ask(&caller.tenant, |reply| Request::Apply { command, then: Vec::new(), audit, reply }).await??;
    Ok(StatusCode::NO_CONTENT)
}

/// What an agent holds now: offers, conversations and wrap-ups, oldest first. The agent
/// themselves, or supervisors.
#[utoipa::path(get, path = "/api/v1/agents/{agent}/work", tag = "agents",
    params(("agent" = String, Path, description = "The agent's id")),
    responses((status = 200, body = Vec<super::interactions::InteractionDto>), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn work(
    caller: Caller,
    agent: Result<Path<String>, PathRejection>,
) -> Result<Json<Vec<super::interactions::InteractionDto>>, ApiError> {
    let Path(agent) = agent?;
    if caller.tenant.directory.agent(&agent).is_none() {
        return Err(ApiError::not_found(format!("unknown agent {agent:?}")));
    }
    let id = caller.acting_agent(Some(&agent))?;
    let list = ask(&caller.tenant, |reply| Request::Work { agent: id, reply }).await?;
    Ok(Json(list.into_iter().map(super::interactions::InteractionDto::new).collect()))
}

/// An agent's new skills.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SkillsDto {
    /// Skill id to proficiency, 1 to 5; skills left out are removed. Queue memberships stay.
    skills: std::collections::BTreeMap<String, u8>,
}

/// Replaces an agent's skills, live: from now on offers follow the new skills (work in hand
/// stays). Kept across restarts, over the configuration's. Supervisors. Audited.
#[utoipa::path(put, path = "/api/v1/agents/{agent}/skills", tag = "agents", request_body = SkillsDto,
    params(("agent" = String, Path, description = "The agent's id")),
    responses((status = 204, description = "Done and stored"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 400, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub(super) async fn set_skills(
    caller: Caller,
    agent: Result<Path<String>, PathRejection>,
    body: Result<Json<SkillsDto>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    caller.require(Role::Supervisor)?;
    let Path(agent) = agent?;
    let dir = &caller.tenant.directory;
    let id = dir.agent(&agent).ok_or_else(|| ApiError::not_found(format!("unknown agent {agent:?}")))?;
    let Json(dto) = body?;
    let skills = super::skill_levels(dir, &dto.skills)?;
    let detail = dto.skills.iter().map(|(s, l)| format!("{s}:{l}")).collect::<Vec<_>>().join(", ");
    let audit = Some(caller.audit("agent.skills", format!("agent:{agent}"), detail));
    let then =
        vec![sb_storage::LogEvent::AgentSkills { agent: agent.clone(), skills: dto.skills.into_iter().collect() }];
    let command = Command::SetSkills { agent: id, skills };
    ask(&caller.tenant, |reply| Request::Apply { command, then, audit, reply }).await??;
    Ok(StatusCode::NO_CONTENT)
}
