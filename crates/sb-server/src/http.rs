//! The HTTP API: JSON in and out, names instead of numbers, and the one place where errors
//! become HTTP statuses.
//!
//! Handlers validate and resolve names, send a [`Request`] to the tenant's dispatcher and
//! wait for its answer, which comes only once the effect is stored. This is the core of the
//! REST API under `/api/v1`; authentication and tenants' users come with the full API.

use std::collections::BTreeMap;
use std::sync::mpsc;
use std::time::Duration;

use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use sb_routing::{Channel, Command, CommandError, InteractionId, Level, Presence, Priority};
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;
use utoipa::{OpenApi, ToSchema};

use crate::dispatcher::{InteractionView, NewRequest, Request, RequestError, activity_name};
use crate::tenant::Directory;

/// The largest request body accepted, in bytes.
pub const MAX_BODY: usize = 64 * 1024;
/// The most attributes one interaction may carry.
pub const MAX_ATTRIBUTES: usize = 50;
/// The longest attribute name and value, in characters.
pub const MAX_ATTRIBUTE_NAME: usize = 64;
pub const MAX_ATTRIBUTE_VALUE: usize = 1024;

/// Shared by every handler: where to send requests, and the names to resolve.
#[derive(Clone, Debug)]
pub struct AppState {
    pub requests: mpsc::Sender<Request>,
    pub directory: std::sync::Arc<Directory>,
    /// Stored events as JSON, for the live event stream.
    pub live: tokio::sync::broadcast::Sender<std::sync::Arc<str>>,
}

/// Builds the router.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/api/v1/interactions", post(create_interaction))
        .route("/api/v1/interactions/{id}", get(get_interaction))
        .route("/api/v1/interactions/{id}/accept", post(accept))
        .route("/api/v1/interactions/{id}/reject", post(reject))
        .route("/api/v1/interactions/{id}/complete", post(complete))
        .route("/api/v1/interactions/{id}/end-wrap-up", post(end_wrap_up))
        .route("/api/v1/interactions/{id}/abandon", post(abandon))
        .route("/api/v1/queues", get(queues))
        .route("/api/v1/queues/{queue}/waiting", get(waiting))
        .route("/api/v1/agents", get(agents))
        .route("/api/v1/agents/{agent}/presence", put(set_presence))
        .route("/api/v1/events", get(events))
        .route("/api/openapi.json", get(openapi))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

/// The OpenAPI description of this API, generated from the handlers and DTOs below.
#[derive(Debug, OpenApi)]
#[openapi(
    info(title = "Switchboard API", description = "Routing of calls, chats, emails and SMS to agents.", version = "1"),
    paths(health, create_interaction, get_interaction, accept, reject, complete, end_wrap_up, abandon, queues, waiting,
        agents, set_presence, events),
    tags((name = "interactions"), (name = "queues"), (name = "agents"), (name = "events"), (name = "health"))
)]
pub struct ApiDoc;

/// The live event stream: a WebSocket on which every event is sent as it is stored, one
/// JSON text message each: `{"at_ms": ..., "event": {"kind": "offered", ...}}`, in the format
/// of the event log. A subscriber too slow to keep up gets `{"missed": N}` and goes on.
#[utoipa::path(get, path = "/api/v1/events", tag = "events",
    responses((status = 101, description = "Switching to the WebSocket protocol; events follow as text messages"),
        (status = 400, description = "Not a WebSocket upgrade request")))]
async fn events(State(state): State<AppState>, upgrade: WebSocketUpgrade) -> Response {
    let live = state.live.subscribe();
    upgrade.on_upgrade(move |socket| follow(socket, live))
}

/// Forwards live events to one WebSocket until either side closes.
async fn follow(mut socket: WebSocket, mut live: tokio::sync::broadcast::Receiver<std::sync::Arc<str>>) {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        let text: String = tokio::select! {
            event = live.recv() => match event {
                Ok(json) => json.to_string(),
                Err(RecvError::Lagged(missed)) => format!("{{\"missed\":{missed}}}"),
                Err(RecvError::Closed) => break,
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                Some(Ok(_)) => continue,
            },
        };
        if socket.send(Message::Text(text.into())).await.is_err() {
            break;
        }
    }
}

/// The OpenAPI document, as JSON.
async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

// ----- Errors ---------------------------------------------------------------------------------

/// An error answer: `{"error": {"code": ..., "message": ..., "field": ...}}`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    field: Option<String>,
}

impl ApiError {
    fn invalid(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "invalid_field",
            message: message.into(),
            field: Some(field.into()),
        }
    }

    fn not_found(message: impl Into<String>) -> ApiError {
        ApiError { status: StatusCode::NOT_FOUND, code: "not_found", message: message.into(), field: None }
    }

    fn unavailable() -> ApiError {
        ApiError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: "unavailable",
            message: "the tenant's dispatcher is not running".into(),
            field: None,
        }
    }
}

/// Every error answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    error: ErrorDetail,
}

/// What went wrong: a stable code, a sentence for people, and the field at fault if any.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// `malformed_json`, `too_large`, `unsupported_media_type`, `invalid_path`, `invalid_field`,
    /// `not_found`, `conflict`, `storage_failed` or `unavailable`.
    code: String,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<String>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body =
            ErrorBody { error: ErrorDetail { code: self.code.into(), message: self.message, field: self.field } };
        (self.status, Json(body)).into_response()
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> ApiError {
        let status = rejection.status();
        let code = match status {
            StatusCode::PAYLOAD_TOO_LARGE => "too_large",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
            _ => "malformed_json",
        };
        ApiError { status, code, message: rejection.body_text(), field: None }
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> ApiError {
        ApiError { status: StatusCode::BAD_REQUEST, code: "invalid_path", message: rejection.body_text(), field: None }
    }
}

impl From<RequestError> for ApiError {
    fn from(e: RequestError) -> ApiError {
        let message = e.to_string();
        match e {
            RequestError::NotFound(_) => ApiError::not_found(message),
            RequestError::Storage(_) => {
                ApiError { status: StatusCode::SERVICE_UNAVAILABLE, code: "storage_failed", message, field: None }
            }
            RequestError::Refused(c) => match c {
                CommandError::UnknownInteraction(_) => ApiError::not_found(message),
                CommandError::UnknownAgent(_) | CommandError::UnknownQueue(_) | CommandError::UnknownSkill(_) => {
                    ApiError::not_found(message)
                }
                CommandError::ChannelNotServed { .. } => ApiError::invalid("channel", message),
                _ => ApiError { status: StatusCode::CONFLICT, code: "conflict", message, field: None },
            },
        }
    }
}

// ----- Plumbing -------------------------------------------------------------------------------

async fn ask<T>(state: &AppState, make: impl FnOnce(oneshot::Sender<T>) -> Request) -> Result<T, ApiError> {
    let (tx, rx) = oneshot::channel();
    state.requests.send(make(tx)).map_err(|_| ApiError::unavailable())?;
    rx.await.map_err(|_| ApiError::unavailable())
}

fn seconds(d: Option<Duration>) -> Option<f64> {
    d.map(|d| (d.as_millis() as f64 / 1000.0).round())
}

// ----- DTOs -----------------------------------------------------------------------------------

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
}

impl From<InteractionView> for InteractionDto {
    fn from(v: InteractionView) -> InteractionDto {
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
        }
    }
}

/// The agent acting on an interaction.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentDto {
    agent: String,
}

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

// ----- Handlers -------------------------------------------------------------------------------

/// Liveness: the tenant's dispatcher answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthDto {
    status: &'static str,
    tenant: String,
    /// Interactions waiting in all queues.
    waiting: u32,
}

/// Whether the server and the tenant's dispatcher are up.
#[utoipa::path(get, path = "/health", tag = "health",
    responses((status = 200, body = HealthDto), (status = 503, body = ErrorBody)))]
async fn health(State(state): State<AppState>) -> Result<Json<HealthDto>, ApiError> {
    let queues = ask(&state, |reply| Request::Queues { reply }).await?;
    let waiting: u32 = queues.iter().map(|q| q.waiting).sum();
    Ok(Json(HealthDto { status: "ok", tenant: state.directory.tenant.clone(), waiting }))
}

/// Accepts a new interaction into a queue; it is routed at once. The answer comes once it is
/// durably stored.
#[utoipa::path(post, path = "/api/v1/interactions", tag = "interactions", request_body = NewInteractionDto,
    responses((status = 201, body = InteractionDto), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
async fn create_interaction(
    State(state): State<AppState>,
    body: Result<Json<NewInteractionDto>, JsonRejection>,
) -> Result<(StatusCode, Json<InteractionDto>), ApiError> {
    let Json(dto) = body?;
    let dir = &state.directory;
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
    let mut requirements = Vec::new();
    for (name, level) in &dto.skills {
        let skill = dir
            .skill(name)
            .ok_or_else(|| ApiError::invalid(format!("skills.{name}"), format!("unknown skill {name:?}")))?;
        let level = Level::new(*level).ok_or_else(|| {
            ApiError::invalid(format!("skills.{name}"), format!("proficiency must be from 1 to 5, not {level}"))
        })?;
        requirements.push((skill, level));
    }
    if dto.attributes.len() > MAX_ATTRIBUTES {
        return Err(ApiError::invalid(
            "attributes",
            format!("at most {MAX_ATTRIBUTES} attributes, not {}", dto.attributes.len()),
        ));
    }
    for (k, v) in &dto.attributes {
        if k.is_empty() || k.chars().count() > MAX_ATTRIBUTE_NAME {
            return Err(ApiError::invalid(
                "attributes",
                format!("attribute names are 1 to {MAX_ATTRIBUTE_NAME} characters"),
            ));
        }
        if v.chars().count() > MAX_ATTRIBUTE_VALUE {
            return Err(ApiError::invalid(
                format!("attributes.{k}"),
                format!("at most {MAX_ATTRIBUTE_VALUE} characters"),
            ));
        }
    }
    let new = NewRequest { channel, queue, priority, requirements, attributes: dto.attributes.into_iter().collect() };
    let view = ask(&state, |reply| Request::Create { new, reply }).await??;
    Ok((StatusCode::CREATED, Json(view.into())))
}

/// One interaction, ended or not.
#[utoipa::path(get, path = "/api/v1/interactions/{id}", tag = "interactions",
    params(("id" = u64, Path, description = "The interaction's id")),
    responses((status = 200, body = InteractionDto), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_interaction(
    State(state): State<AppState>,
    id: Result<Path<u64>, PathRejection>,
) -> Result<Json<InteractionDto>, ApiError> {
    let Path(id) = id?;
    let view = ask(&state, |reply| Request::Interaction { id, reply }).await??;
    Ok(Json(view.into()))
}

async fn apply(state: &AppState, command: Command) -> Result<StatusCode, ApiError> {
    ask(state, |reply| Request::Apply { command, reply }).await??;
    Ok(StatusCode::NO_CONTENT)
}

fn agent_of(state: &AppState, body: Result<Json<AgentDto>, JsonRejection>) -> Result<sb_routing::AgentId, ApiError> {
    let Json(dto) = body?;
    state
        .directory
        .agent(&dto.agent)
        .ok_or_else(|| ApiError::invalid("agent", format!("unknown agent {:?}", dto.agent)))
}

macro_rules! agent_action {
    ($name:ident, $variant:ident, $path:literal, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(post, path = $path, tag = "interactions", request_body = AgentDto,
                    params(("id" = u64, Path, description = "The interaction's id")),
                    responses((status = 204, description = "Done and stored"), (status = 404, body = ErrorBody),
                        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
                        (status = 503, body = ErrorBody)))]
        async fn $name(
            State(state): State<AppState>,
            id: Result<Path<u64>, PathRejection>,
            body: Result<Json<AgentDto>, JsonRejection>,
        ) -> Result<StatusCode, ApiError> {
            let Path(id) = id?;
            let agent = agent_of(&state, body)?;
            apply(&state, Command::$variant { interaction: InteractionId(id), agent }).await
        }
    };
}

agent_action!(accept, Accept, "/api/v1/interactions/{id}/accept", "The agent accepts the interaction offered to them.");
agent_action!(
    reject,
    Reject,
    "/api/v1/interactions/{id}/reject",
    "The agent declines the offer; the interaction goes back to its place in the queue."
);
agent_action!(
    complete,
    Complete,
    "/api/v1/interactions/{id}/complete",
    "The conversation ended; wrap-up starts if the queue has one."
);
agent_action!(
    end_wrap_up,
    EndWrapUp,
    "/api/v1/interactions/{id}/end-wrap-up",
    "The agent ends after-contact work early."
);

/// The customer left before being connected.
#[utoipa::path(post, path = "/api/v1/interactions/{id}/abandon", tag = "interactions",
    params(("id" = u64, Path, description = "The interaction's id")),
    responses((status = 204, description = "Done and stored"), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 503, body = ErrorBody)))]
async fn abandon(State(state): State<AppState>, id: Result<Path<u64>, PathRejection>) -> Result<StatusCode, ApiError> {
    let Path(id) = id?;
    apply(&state, Command::Abandon { interaction: InteractionId(id) }).await
}

/// Live figures of a queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueueDto {
    queue: String,
    waiting: u32,
    staffed: u32,
    longest_wait_seconds: Option<f64>,
    estimated_wait_seconds: Option<f64>,
}

/// Every queue's live figures.
#[utoipa::path(get, path = "/api/v1/queues", tag = "queues", responses((status = 200, body = Vec<QueueDto>)))]
async fn queues(State(state): State<AppState>) -> Result<Json<Vec<QueueDto>>, ApiError> {
    let list = ask(&state, |reply| Request::Queues { reply }).await?;
    Ok(Json(
        list.into_iter()
            .map(|q| QueueDto {
                queue: q.name,
                waiting: q.waiting,
                staffed: q.staffed,
                longest_wait_seconds: seconds(q.longest_wait),
                estimated_wait_seconds: seconds(q.estimated_wait),
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

/// The waiting interactions of a queue, in queue order.
#[utoipa::path(get, path = "/api/v1/queues/{queue}/waiting", tag = "queues",
    params(("queue" = String, Path, description = "The queue's id")),
    responses((status = 200, body = WaitingDto), (status = 404, body = ErrorBody)))]
async fn waiting(State(state): State<AppState>, Path(queue): Path<String>) -> Result<Json<WaitingDto>, ApiError> {
    let id = state.directory.queue(&queue).ok_or_else(|| ApiError::not_found(format!("unknown queue {queue:?}")))?;
    let waiting = ask(&state, |reply| Request::Waiting { queue: id, reply }).await?;
    Ok(Json(WaitingDto { queue, waiting }))
}

/// An agent's live state.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgentStateDto {
    agent: String,
    activity: &'static str,
    presence: &'static str,
    reason: Option<String>,
    load: u16,
}

/// Every agent's activity, presence and capacity in use.
#[utoipa::path(get, path = "/api/v1/agents", tag = "agents", responses((status = 200, body = Vec<AgentStateDto>)))]
async fn agents(State(state): State<AppState>) -> Result<Json<Vec<AgentStateDto>>, ApiError> {
    let list = ask(&state, |reply| Request::Agents { reply }).await?;
    let dir = &state.directory;
    Ok(Json(
        list.into_iter()
            .map(|a| {
                let (presence, reason) = match a.presence {
                    Presence::Offline => ("offline", None),
                    Presence::Available => ("available", None),
                    Presence::NotReady(r) => ("not_ready", Some(dir.reason_name(r).to_string())),
                };
                AgentStateDto { agent: a.name, activity: activity_name(a.activity), presence, reason, load: a.load }
            })
            .collect(),
    ))
}

/// Sets an agent's presence: available, not ready with a reason, or offline. Going not
/// ready or offline withdraws unanswered offers; conversations in progress continue.
#[utoipa::path(put, path = "/api/v1/agents/{agent}/presence", tag = "agents", request_body = PresenceDto,
    params(("agent" = String, Path, description = "The agent's id")),
    responses((status = 204, description = "Done and stored"), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 400, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 503, body = ErrorBody)))]
async fn set_presence(
    State(state): State<AppState>,
    Path(agent): Path<String>,
    body: Result<Json<PresenceDto>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let Json(dto) = body?;
    let dir = &state.directory;
    let id = dir.agent(&agent).ok_or_else(|| ApiError::not_found(format!("unknown agent {agent:?}")))?;
    let presence = match (dto.presence.as_str(), dto.reason) {
        ("available", None) => Presence::Available,
        ("offline", None) => Presence::Offline,
        ("not_ready", Some(reason)) => Presence::NotReady(dir.reason(&reason).ok_or_else(|| {
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
    apply(&state, Command::SetPresence { agent: id, presence }).await
}
