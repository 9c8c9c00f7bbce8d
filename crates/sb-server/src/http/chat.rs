//! The customer's side of web chat: what the widget needs to know, and opening a chat.
//! Both are public; everything after the opening uses the chat's own credential, good for
//! that one conversation only.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use sb_routing::Channel;
use sb_storage::{AuditRecord, TokenRecord};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::interactions::{InteractionDto, check_attributes};
use super::{ApiError, AppState, ErrorBody, TenantHandle, ask, now_ms};
use crate::auth::{self, TokenKind};
use crate::dispatcher::{NewRequest, Request};

/// What the chat widget shows before a chat starts.
#[derive(Debug, Serialize, ToSchema)]
pub struct WidgetDto {
    tenant: String,
    name: String,
    /// Queues that take chats, the first being the default.
    queues: Vec<String>,
}

/// A customer opening a chat.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewChatDto {
    /// The customer's name (up to 1,024 characters), shown to the agent.
    name: Option<String>,
    /// The customer's e-mail address, shown to the agent.
    email: Option<String>,
    /// One of the widget's queues; the first when left out.
    queue: Option<String>,
    /// Other details for the agent's screen (same limits as an interaction's attributes).
    #[serde(default)]
    attributes: BTreeMap<String, String>,
}

/// An opened chat: its credential (kept by the widget, good for 24 hours) and where it stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChatDto {
    token: String,
    interaction: InteractionDto,
}

fn tenant(state: &AppState, id: Result<Path<String>, PathRejection>) -> Result<(String, &TenantHandle), ApiError> {
    let Path(id) = id?;
    let handle = state.tenant(&id).ok_or_else(|| ApiError::not_found(format!("no tenant {id:?}")))?;
    Ok((id, handle))
}

fn chat_queues(handle: &TenantHandle) -> Vec<String> {
    let dir = &handle.directory;
    (0..dir.queues.len())
        .filter(|&q| dir.queue_channels[q].contains(&Channel::Chat))
        .map(|q| dir.queues[q].clone())
        .collect()
}

/// What the chat widget of a tenant offers.
#[utoipa::path(get, path = "/api/v1/chat/{tenant}", tag = "chat",
    params(("tenant" = String, Path, description = "The tenant's id")),
    responses((status = 200, body = WidgetDto), (status = 404, body = ErrorBody)))]
pub(super) async fn widget_info(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<WidgetDto>, ApiError> {
    let (id, handle) = tenant(&state, id)?;
    Ok(Json(WidgetDto { tenant: id, name: handle.name.clone(), queues: chat_queues(handle) }))
}

/// Opens a chat: the customer joins a chat queue and gets a credential for this
/// conversation (messages, the event stream, the survey). At most 30 a minute from one
/// address.
#[utoipa::path(post, path = "/api/v1/chat/{tenant}", tag = "chat", request_body = NewChatDto,
    params(("tenant" = String, Path, description = "The tenant's id")),
    responses((status = 201, body = ChatDto), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 429, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub(super) async fn start(
    State(state): State<AppState>,
    super::Source(source): super::Source,
    id: Result<Path<String>, PathRejection>,
    body: Result<Json<NewChatDto>, JsonRejection>,
) -> Result<(StatusCode, Json<ChatDto>), ApiError> {
    let (_, handle) = tenant(&state, id)?;
    let Json(dto) = body?;
    {
        let mut limits = state.limits.lock().expect("limits lock");
        let (key, now) = (format!("ip:{source}"), now_ms());
        if limits.chats.check(&key, now).is_err() {
            return Err(ApiError::too_many("too many chats opened from this address; try again in a minute"));
        }
        limits.chats.record(&key, now);
    }
    let queues = chat_queues(handle);
    let queue_name = match &dto.queue {
        Some(q) if queues.contains(q) => q.clone(),
        Some(q) => {
            return Err(ApiError::invalid(
                "queue",
                format!("queue {q:?} takes no chats; chat queues: {}", queues.join(", ")),
            ));
        }
        None => queues.first().cloned().ok_or_else(|| ApiError::conflict("this contact center takes no chats"))?,
    };
    let mut attributes = dto.attributes;
    for (field, value) in [("name", dto.name), ("email", dto.email)] {
        if let Some(v) = value.filter(|v| !v.trim().is_empty()) {
            attributes.insert(field.to_string(), v.trim().to_string());
        }
    }
    check_attributes(&attributes)?;
    let secret = auth::new_secret();
    let now = now_ms();
    let token = TokenRecord {
        hash: auth::token_hash(&secret),
        username: "customer".into(),
        kind: TokenKind::Customer.name().into(),
        label: "web chat".into(),
        interaction: None,
        created_at_ms: now,
        expires_at_ms: Some(now + auth::CUSTOMER_TTL_MS),
    };
    let audit = AuditRecord {
        at_ms: now,
        actor: "customer".into(),
        source,
        action: "chat.start".into(),
        target: String::new(),
        detail: format!("queue {queue_name}"),
    };
    let new = NewRequest {
        channel: Channel::Chat,
        queue: handle.directory.queue(&queue_name).expect("listed above"),
        priority: None,
        requirements: Vec::new(),
        attributes: attributes.into_iter().collect(),
        customer: Some((token, audit)),
        voice_call: None,
    };
    let view = ask(handle, |reply| Request::Create { new, reply }).await??;
    Ok((StatusCode::CREATED, Json(ChatDto { token: secret, interaction: InteractionDto::new(view) })))
}
