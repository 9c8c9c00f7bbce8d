//! Interactions: creating them, reading them, agents' answers to offers, completion with a
//! disposition, chat messages and the customer's survey.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::Path;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::http::StatusCode;
use sb_routing::{Channel, Command, InteractionId, Priority, TransferTarget};
use sb_storage::{LogEvent, MessageRow};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    ApiError, Caller, ErrorBody, MAX_ATTRIBUTE_NAME, MAX_ATTRIBUTE_VALUE, MAX_ATTRIBUTES, MAX_MESSAGE, ask, seconds,
};
use crate::auth::{Role, TokenKind};
use crate::dispatcher::{Author, InteractionView, NewRequest, Request};

/// A new interaction: a call, chat, email or SMS conversation to route.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInteractionDto {
    /// `voice`, `chat`, `email` or `sms`; the queue must take it.
    #[schema(pattern = "^(voice|chat|email|sms)$")]
    channel: String,
    /// The queue's id in the tenant's configuration.
    queue: String,
    /// 1 (lowest) to 10 (highest); the queue's priority when left out.
    #[schema(minimum = 1, maximum = 10)]
    priority: Option<u8>,
    /// Skills needed on top of the queue's, with a minimum proficiency from 1 to 5.
    #[serde(default)]
    skills: BTreeMap<String, u8>,
    /// Free-form details shown to the agent (at most 50; names up to 64 and values up to
    /// 1,024 characters).
    #[serde(default)]
    attributes: BTreeMap<String, String>,
}

/// An interaction and where it stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct InteractionDto {
    id: u64,
    channel: String,
    queue: String,
    priority: u8,
    /// `waiting`, `offered`, `connected`, `wrap_up`, `completed`, `abandoned` or `lost`.
    state: &'static str,
    /// The agent it is offered to, connected to or in wrap-up with.
    agent: Option<String>,
    skills: BTreeMap<String, u8>,
    attributes: BTreeMap<String, String>,
    created_at_ms: i64,
    /// Seconds, while waiting and someone is logged in to the queue.
    estimated_wait_seconds: Option<f64>,
    /// 1 for the next to be served, while waiting.
    position: Option<u32>,
}

impl InteractionDto {
    pub(super) fn new(v: InteractionView) -> InteractionDto {
        InteractionDto {
            id: v.record.id,
            channel: v.record.channel,
            queue: v.record.queue,
            priority: v.record.priority,
            state: v.state.name(),
            agent: v.agent,
            skills: v.record.requirements.into_iter().collect(),
            attributes: v.record.attributes.into_iter().collect(),
            created_at_ms: v.record.created_at_ms,
            estimated_wait_seconds: seconds(v.estimated_wait),
            position: v.position,
        }
    }
}

/// The agent acting on an interaction. Agents may leave it out (they act for themselves);
/// supervisors and administrators name the agent they act for.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentDto {
    agent: Option<String>,
}

/// How the conversation ended.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteDto {
    /// As for accept.
    agent: Option<String>,
    /// A disposition code such as `resolved` or `sale` (letters, digits, `-` and `_`, up to 64).
    disposition: Option<String>,
    /// The agent's notes, up to 4,000 characters.
    notes: Option<String>,
}

/// Where to hand a conversation on: exactly one of `to_queue` and `to_agent`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferDto {
    /// As for accept.
    agent: Option<String>,
    /// A queue taking the interaction's channel; it waits there from now on.
    to_queue: Option<String>,
    /// An available agent with room for it; they get an offer.
    to_agent: Option<String>,
}

/// A chat message.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMessageDto {
    /// 1 to 4,000 characters; not only spaces.
    text: String,
}

/// A chat message as stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageDto {
    /// Increasing in order of acceptance (0 in the answer to a post; read the list for it).
    seq: i64,
    at_ms: i64,
    /// `customer`, `agent` or `system`.
    sender: String,
    /// The agent, for an agent's message.
    author: Option<String>,
    text: String,
}

impl From<MessageRow> for MessageDto {
    fn from(m: MessageRow) -> MessageDto {
        MessageDto { seq: m.seq, at_ms: m.at_ms, sender: m.sender, author: m.author, text: m.text }
    }
}

/// The customer's answer to "How satisfied were you?".
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SurveyDto {
    /// 1 (very unsatisfied) to 5 (very satisfied).
    #[schema(minimum = 1, maximum = 5)]
    score: u8,
}

/// Checks attributes against the limits, naming the one at fault.
pub(super) fn check_attributes(attributes: &BTreeMap<String, String>) -> Result<(), ApiError> {
    if attributes.len() > MAX_ATTRIBUTES {
        return Err(ApiError::invalid(
            "attributes",
            format!("at most {MAX_ATTRIBUTES} attributes, not {}", attributes.len()),
        ));
    }
    for (k, v) in attributes {
        if k.is_empty() || k.chars().count() > MAX_ATTRIBUTE_NAME || !super::clean_text(k, false) {
            return Err(ApiError::invalid(
                "attributes",
                format!("attribute names are 1 to {MAX_ATTRIBUTE_NAME} characters, without control characters"),
            ));
        }
        super::check_text(&format!("attributes.{k}"), v, 0, MAX_ATTRIBUTE_VALUE, true)?;
    }
    Ok(())
}

/// Accepts a new interaction into a queue; it is routed at once. The answer comes once it is
/// durably stored. Needs the supervisor role (integrations use an API token of such a user).
#[utoipa::path(post, path = "/api/v1/interactions", tag = "interactions", request_body = NewInteractionDto,
    responses((status = 201, body = InteractionDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub(super) async fn create(
    caller: Caller,
    body: Result<Json<NewInteractionDto>, JsonRejection>,
) -> Result<(StatusCode, Json<InteractionDto>), ApiError> {
    caller.require(Role::Supervisor)?;
    let Json(dto) = body?;
    let dir = &caller.tenant.directory;
    let channel = Channel::from_name(&dto.channel).ok_or_else(|| {
        ApiError::invalid("channel", format!("unknown channel {:?}: use voice, chat, email or sms", dto.channel))
    })?;
    let queue = dir.queue(&dto.queue).ok_or_else(|| {
        ApiError::invalid("queue", format!("unknown queue {:?}; known queues: {}", dto.queue, dir.queues.join(", ")))
    })?;
    if !dir.queue_channels[queue.index()].contains(&channel) {
        return Err(ApiError::invalid(
            "channel",
            format!("queue {:?} does not take {channel} interactions", dto.queue),
        ));
    }
    let priority = match dto.priority {
        None => None,
        Some(p) => Some(
            Priority::new(p)
                .ok_or_else(|| ApiError::invalid("priority", format!("priority must be from 1 to 10, not {p}")))?,
        ),
    };
    let requirements = super::skill_levels(dir, &dto.skills)?;
    check_attributes(&dto.attributes)?;
    let new = NewRequest {
        channel,
        queue,
        priority,
        requirements,
        attributes: dto.attributes.into_iter().collect(),
        customer: None,
        voice_call: None,
    };
    let view = ask(&caller.tenant, |reply| Request::Create { new, reply }).await??;
    Ok((StatusCode::CREATED, Json(InteractionDto::new(view))))
}

/// Reads an interaction and checks that the caller may see it: supervisors see all, agents
/// what is offered or connected to them, customers their own.
async fn visible(caller: &Caller, id: u64) -> Result<InteractionView, ApiError> {
    if caller.who.kind == TokenKind::Customer && caller.who.interaction != Some(id) {
        return Err(ApiError::forbidden(format!("this chat credential is for another interaction, not {id}")));
    }
    let view = ask(&caller.tenant, |reply| Request::Interaction { id, reply }).await??;
    let allowed = caller.who.kind == TokenKind::Customer
        || caller.who.at_least(Role::Supervisor)
        || (view.agent.is_some() && view.agent == caller.who.agent);
    if !allowed {
        return Err(ApiError::forbidden(format!("interaction {id} is not with this agent")));
    }
    Ok(view)
}

/// One interaction, ended or not.
#[utoipa::path(get, path = "/api/v1/interactions/{id}", tag = "interactions",
    params(("id" = u64, Path, description = "The interaction's id")),
    responses((status = 200, body = InteractionDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn get_one(
    caller: Caller,
    id: Result<Path<u64>, PathRejection>,
) -> Result<Json<InteractionDto>, ApiError> {
    let Path(id) = id?;
    Ok(Json(InteractionDto::new(visible(&caller, id).await?)))
}

/// Sends an engine command for the caller, audited; `then` is logged after it on success.
async fn apply(
    caller: &Caller,
    command: Command,
    then: Vec<LogEvent>,
    action: &str,
    target: String,
    detail: String,
) -> Result<StatusCode, ApiError> {
    let audit = Some(caller.audit(action, target, detail));
    ask(&caller.tenant, |reply| Request::Apply { command, then, audit, reply }).await??;
    Ok(StatusCode::NO_CONTENT)
}

/// A JSON body that may be left out (empty): `None` then.
fn optional_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<Option<T>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice(body).map(Some).map_err(|e| ApiError::malformed(format!("the request body: {e}")))
}

macro_rules! agent_action {
    ($name:ident, $variant:ident, $action:literal, $path:literal, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(post, path = $path, tag = "interactions", request_body = AgentDto,
            params(("id" = u64, Path, description = "The interaction's id")),
            responses((status = 204, description = "Done and stored"), (status = 401, body = ErrorBody),
                (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
                (status = 422, body = ErrorBody), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody),
                (status = 415, body = ErrorBody), (status = 503, body = ErrorBody)))]
        pub(super) async fn $name(
            caller: Caller,
            id: Result<Path<u64>, PathRejection>,
            body: axum::body::Bytes,
        ) -> Result<StatusCode, ApiError> {
            let Path(id) = id?;
            let named = optional_body::<AgentDto>(&body)?.and_then(|dto| dto.agent);
            let agent = caller.acting_agent(named.as_deref())?;
            let name = caller.tenant.directory.agent_name(agent).to_string();
            let command = Command::$variant { interaction: InteractionId(id), agent };
            apply(&caller, command, Vec::new(), $action, format!("interaction:{id}"), format!("agent {name}")).await
        }
    };
}

agent_action!(
    accept,
    Accept,
    "interaction.accept",
    "/api/v1/interactions/{id}/accept",
    "The agent accepts the interaction offered to them."
);
agent_action!(
    reject,
    Reject,
    "interaction.reject",
    "/api/v1/interactions/{id}/reject",
    "The agent declines the offer; the interaction goes back to its place in the queue."
);
agent_action!(
    end_wrap_up,
    EndWrapUp,
    "interaction.end_wrap_up",
    "/api/v1/interactions/{id}/end-wrap-up",
    "The agent ends after-contact work early."
);

fn is_code(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// The conversation ended; wrap-up starts if the queue has one. The disposition code and
/// notes are logged with it.
#[utoipa::path(post, path = "/api/v1/interactions/{id}/complete", tag = "interactions", request_body = CompleteDto,
    params(("id" = u64, Path, description = "The interaction's id")),
    responses((status = 204, description = "Done and stored"), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub(super) async fn complete(
    caller: Caller,
    id: Result<Path<u64>, PathRejection>,
    body: axum::body::Bytes,
) -> Result<StatusCode, ApiError> {
    let Path(id) = id?;
    let dto =
        optional_body::<CompleteDto>(&body)?.unwrap_or(CompleteDto { agent: None, disposition: None, notes: None });
    let agent = caller.acting_agent(dto.agent.as_deref())?;
    if let Some(code) = &dto.disposition
        && !is_code(code)
    {
        return Err(ApiError::invalid("disposition", "a disposition code has 1 to 64 letters, digits, '-' or '_'"));
    }
    let notes = dto.notes.unwrap_or_default();
    super::check_text("notes", &notes, 0, MAX_MESSAGE, true)?;
    let name = caller.tenant.directory.agent_name(agent).to_string();
    let then = if dto.disposition.is_some() || !notes.is_empty() {
        vec![LogEvent::Disposition { interaction: id, agent: name.clone(), code: dto.disposition.clone(), notes }]
    } else {
        Vec::new()
    };
    let detail = match &dto.disposition {
        Some(code) => format!("agent {name}, disposition {code}"),
        None => format!("agent {name}"),
    };
    let command = Command::Complete { interaction: InteractionId(id), agent };
    apply(&caller, command, then, "interaction.complete", format!("interaction:{id}"), detail).await
}

/// The connected agent hands the conversation on, to a queue (where it waits again) or to an
/// agent with room for it (who gets an offer; a rejection puts it in the queue). Audited.
#[utoipa::path(post, path = "/api/v1/interactions/{id}/transfer", tag = "interactions", request_body = TransferDto,
    params(("id" = u64, Path, description = "The interaction's id")),
    responses((status = 204, description = "Done and stored"), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub(super) async fn transfer(
    caller: Caller,
    id: Result<Path<u64>, PathRejection>,
    body: Result<Json<TransferDto>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let Path(id) = id?;
    let Json(dto) = body?;
    let agent = caller.acting_agent(dto.agent.as_deref())?;
    let dir = &caller.tenant.directory;
    let (to, detail) = match (&dto.to_queue, &dto.to_agent) {
        (Some(q), None) => {
            let queue = dir.queue(q).ok_or_else(|| {
                ApiError::invalid("to_queue", format!("unknown queue {q:?}; known queues: {}", dir.queues.join(", ")))
            })?;
            (TransferTarget::Queue(queue), format!("to queue {q}"))
        }
        (None, Some(a)) => {
            let to = dir.agent(a).ok_or_else(|| ApiError::invalid("to_agent", format!("unknown agent {a:?}")))?;
            (TransferTarget::Agent(to), format!("to agent {a}"))
        }
        _ => return Err(ApiError::invalid("to_queue", "give exactly one of to_queue and to_agent")),
    };
    let name = dir.agent_name(agent).to_string();
    let command = Command::Transfer { interaction: InteractionId(id), agent, to };
    apply(
        &caller,
        command,
        Vec::new(),
        "interaction.transfer",
        format!("interaction:{id}"),
        format!("by {name} {detail}"),
    )
    .await
}

/// The customer left before being connected. Supervisors, or the chat's customer.
#[utoipa::path(post, path = "/api/v1/interactions/{id}/abandon", tag = "interactions",
    params(("id" = u64, Path, description = "The interaction's id")),
    responses((status = 204, description = "Done and stored"), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub(super) async fn abandon(caller: Caller, id: Result<Path<u64>, PathRejection>) -> Result<StatusCode, ApiError> {
    let Path(id) = id?;
    let own = caller.who.kind == TokenKind::Customer && caller.who.interaction == Some(id);
    if !own {
        caller.require(Role::Supervisor)?;
    }
    let command = Command::Abandon { interaction: InteractionId(id) };
    apply(&caller, command, Vec::new(), "interaction.abandon", format!("interaction:{id}"), String::new()).await
}

/// The messages of a chat, oldest first.
#[utoipa::path(get, path = "/api/v1/interactions/{id}/messages", tag = "interactions",
    params(("id" = u64, Path, description = "The interaction's id")),
    responses((status = 200, body = Vec<MessageDto>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub(super) async fn messages(
    caller: Caller,
    id: Result<Path<u64>, PathRejection>,
) -> Result<Json<Vec<MessageDto>>, ApiError> {
    let Path(id) = id?;
    visible(&caller, id).await?;
    let list = ask(&caller.tenant, |reply| Request::Messages { interaction: id, reply }).await??;
    Ok(Json(list.into_iter().map(MessageDto::from).collect()))
}

/// Posts a message into a live conversation: the customer at any time until it ends, the
/// agent while connected. Answered once stored; the other side gets it on the event stream.
#[utoipa::path(post, path = "/api/v1/interactions/{id}/messages", tag = "interactions", request_body = NewMessageDto,
    params(("id" = u64, Path, description = "The interaction's id")),
    responses((status = 201, body = MessageDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub(super) async fn post_message(
    caller: Caller,
    id: Result<Path<u64>, PathRejection>,
    body: Result<Json<NewMessageDto>, JsonRejection>,
) -> Result<(StatusCode, Json<MessageDto>), ApiError> {
    let Path(id) = id?;
    let from = if caller.who.kind == TokenKind::Customer {
        if caller.who.interaction != Some(id) {
            return Err(ApiError::forbidden(format!("this chat credential is for another interaction, not {id}")));
        }
        Author::Customer
    } else {
        Author::Agent(caller.acting_agent(None)?)
    };
    let Json(dto) = body?;
    let length = dto.text.chars().count();
    if dto.text.trim().is_empty() || length > MAX_MESSAGE {
        return Err(ApiError::invalid("text", format!("a message has 1 to {MAX_MESSAGE} characters, not {length}")));
    }
    super::check_text("text", &dto.text, 1, MAX_MESSAGE, true)?;
    let message = ask(&caller.tenant, |reply| Request::Post { interaction: id, from, text: dto.text, reply }).await??;
    Ok((StatusCode::CREATED, Json(message.into())))
}

/// The customer's satisfaction score, once the conversation is over. One answer per chat:
/// the chat's credential ends with it.
#[utoipa::path(post, path = "/api/v1/interactions/{id}/survey", tag = "interactions", request_body = SurveyDto,
    params(("id" = u64, Path, description = "The interaction's id")),
    responses((status = 204, description = "Stored"), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub(super) async fn survey(
    caller: Caller,
    id: Result<Path<u64>, PathRejection>,
    body: Result<Json<SurveyDto>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let Path(id) = id?;
    if caller.who.kind != TokenKind::Customer || caller.who.interaction != Some(id) {
        return Err(ApiError::forbidden("only the chat's customer answers its survey"));
    }
    let Json(dto) = body?;
    if !(1..=5).contains(&dto.score) {
        return Err(ApiError::invalid("score", format!("the score is from 1 to 5, not {}", dto.score)));
    }
    let revoke = Some(caller.who.token_hash.clone());
    ask(&caller.tenant, |reply| Request::Survey { interaction: id, score: dto.score, revoke, reply }).await??;
    Ok(StatusCode::NO_CONTENT)
}
