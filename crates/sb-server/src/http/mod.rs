//! The HTTP API: JSON in and out, names instead of numbers, and the one place where errors
//! become HTTP statuses.
//!
//! Every handler first learns who is calling ([`Caller`], from the credential; see
//! [`crate::auth`]), which also fixes the tenant: there is no way to name another tenant's
//! data. It then checks the caller's role, validates and resolves names, sends a [`Request`]
//! to the tenant's dispatcher and waits for its answer, which comes only once the effect is
//! stored.
//!
//! Modules: [`interactions`] (interactions, messages, surveys), [`people`] (queues, agents,
//! presence), [`accounts`] (sign-in, users, tokens, audit), [`live`] (the event stream),
//! [`chat`] (the customer's side of web chat).

mod accounts;
mod chat;
mod interactions;
mod live;
mod migration;
mod pages;
mod people;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, mpsc};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use sb_routing::{AgentId, CommandError};
use sb_storage::AuditRecord;
use serde::Serialize;
use tokio::sync::{broadcast, oneshot};
use utoipa::{OpenApi, ToSchema};

use crate::auth::{AuthError, Principal, Role, SharedKeyring};
use crate::dispatcher::{LiveEvent, Request, RequestError};
use crate::tenant::Directory;

/// The largest request body accepted, in bytes.
pub const MAX_BODY: usize = 64 * 1024;
/// The most attributes one interaction may carry.
pub const MAX_ATTRIBUTES: usize = 50;
/// The longest attribute name and value, in characters.
pub const MAX_ATTRIBUTE_NAME: usize = 64;
pub const MAX_ATTRIBUTE_VALUE: usize = 1024;
/// The longest chat message, in characters.
pub const MAX_MESSAGE: usize = 4000;
/// The session cookie's name.
pub const SESSION_COOKIE: &str = "sb_session";

/// One tenant as the HTTP layer reaches it.
#[derive(Clone, Debug)]
pub struct TenantHandle {
    pub requests: mpsc::Sender<Request>,
    pub directory: Arc<Directory>,
    /// Stored events, for the live event stream.
    pub live: broadcast::Sender<Arc<LiveEvent>>,
    /// The tenant's display name.
    pub name: String,
}

/// Shared by every handler: the tenants and the keyring.
#[derive(Clone, Debug)]
pub struct AppState {
    pub tenants: Arc<HashMap<String, TenantHandle>>,
    pub keyring: SharedKeyring,
    /// Limits on sign-in failures and chats opened without a credential.
    pub limits: Arc<std::sync::Mutex<crate::throttle::Limits>>,
}

impl AppState {
    fn tenant(&self, id: &str) -> Option<&TenantHandle> {
        self.tenants.get(id)
    }
}

/// Builds the router.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/api/v1/login", post(accounts::login))
        .route("/api/v1/logout", post(accounts::logout))
        .route("/api/v1/me", get(accounts::me))
        .route("/api/v1/users", get(accounts::list_users).post(accounts::create_user))
        .route("/api/v1/users/{username}", axum::routing::patch(accounts::update_user))
        .route("/api/v1/tokens", get(accounts::list_tokens).post(accounts::create_token))
        .route("/api/v1/tokens/{id}", axum::routing::delete(accounts::revoke_token))
        .route("/api/v1/audit", get(accounts::audit))
        .route("/api/v1/migration", get(migration::state))
        .route("/api/v1/migration/rollback", axum::routing::put(migration::rollback))
        .route("/api/v1/migration/phase", axum::routing::put(migration::phase))
        .route("/api/v1/migration/freeze", axum::routing::put(migration::freeze))
        .route("/api/v1/interactions", post(interactions::create))
        .route("/api/v1/interactions/{id}", get(interactions::get_one))
        .route("/api/v1/interactions/{id}/accept", post(interactions::accept))
        .route("/api/v1/interactions/{id}/reject", post(interactions::reject))
        .route("/api/v1/interactions/{id}/complete", post(interactions::complete))
        .route("/api/v1/interactions/{id}/end-wrap-up", post(interactions::end_wrap_up))
        .route("/api/v1/interactions/{id}/abandon", post(interactions::abandon))
        .route("/api/v1/interactions/{id}/transfer", post(interactions::transfer))
        .route("/api/v1/interactions/{id}/messages", get(interactions::messages).post(interactions::post_message))
        .route("/api/v1/interactions/{id}/survey", post(interactions::survey))
        .route("/api/v1/queues", get(people::queues))
        .route("/api/v1/queues/{queue}/waiting", get(people::waiting))
        .route("/api/v1/agents", get(people::agents))
        .route("/api/v1/agents/{agent}/presence", put(people::set_presence))
        .route("/api/v1/agents/{agent}/work", get(people::work))
        .route("/api/v1/agents/{agent}/skills", put(people::set_skills))
        .route("/api/v1/events", get(live::events))
        .route("/api/v1/chat/{tenant}", get(chat::widget_info).post(chat::start))
        .route("/api/openapi.json", get(openapi))
        .route("/", get(pages::index))
        .route("/login", get(pages::login))
        .route("/agent", get(pages::agent))
        .route("/supervisor", get(pages::supervisor))
        .route("/chat/{tenant}", get(pages::chat))
        .route("/static/{file}", get(pages::file))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

/// The OpenAPI description of this API, generated from the handlers and DTOs.
#[derive(Debug, OpenApi)]
#[openapi(
    info(title = "Switchboard API", description = "Routing of calls, chats, emails and SMS to agents. \
        Every call but /health, /api/v1/login and the chat start needs a credential: \
        `Authorization: Bearer TOKEN`, the `sb_session` cookie, or `?access_token=` (WebSocket).", version = "1"),
    paths(health, accounts::login, accounts::logout, accounts::me, accounts::list_users, accounts::create_user,
        accounts::update_user, accounts::list_tokens, accounts::create_token, accounts::revoke_token, accounts::audit,
        interactions::create, interactions::get_one, interactions::accept, interactions::reject,
        interactions::complete, interactions::end_wrap_up, interactions::abandon, interactions::transfer, interactions::messages,
        interactions::post_message, interactions::survey, people::queues, people::waiting, people::agents,
        people::set_presence, people::work, people::set_skills, live::events, chat::widget_info, chat::start,
        migration::state, migration::rollback, migration::phase, migration::freeze),
    modifiers(&BearerAuth),
    tags((name = "interactions"), (name = "queues"), (name = "agents"), (name = "events"), (name = "accounts"),
        (name = "chat"), (name = "migration"), (name = "health"))
)]
pub struct ApiDoc;

/// Declares the bearer credential and requires it everywhere but the public calls.
#[derive(Debug)]
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        openapi.security = Some(vec![SecurityRequirement::new("bearer", Vec::<String>::new())]);
        const PUBLIC: [&str; 3] = ["/health", "/api/v1/login", "/api/v1/chat/{tenant}"];
        for (path, item) in openapi.paths.paths.iter_mut() {
            if PUBLIC.contains(&path.as_str()) {
                for op in [&mut item.get, &mut item.post].into_iter().flatten() {
                    op.security = Some(vec![SecurityRequirement::default()]);
                }
            }
        }
    }
}

/// The OpenAPI document, as JSON.
async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// Liveness: every tenant's dispatcher answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthDto {
    status: &'static str,
    /// Tenants served.
    tenants: usize,
}

/// Whether the server and every tenant's dispatcher are up.
#[utoipa::path(get, path = "/health", tag = "health",
    responses((status = 200, body = HealthDto), (status = 503, body = ErrorBody)))]
async fn health(State(state): State<AppState>) -> Result<Json<HealthDto>, ApiError> {
    for tenant in state.tenants.values() {
        ask(tenant, |reply| Request::Queues { reply }).await?;
    }
    Ok(Json(HealthDto { status: "ok", tenants: state.tenants.len() }))
}

// ----- Text from clients ----------------------------------------------------------------------

/// Whether text may be stored: no NUL and no control characters (PostgreSQL refuses NUL in
/// text, and one refused value would fail the whole batch it is stored with), except line
/// breaks and tabs where `multiline`.
pub(crate) fn clean_text(text: &str, multiline: bool) -> bool {
    text.chars().all(|c| !c.is_control() || (multiline && matches!(c, '\n' | '\r' | '\t')))
}

/// Checks a client's text field: `min..=max` characters, and [`clean_text`].
pub(crate) fn check_text(field: &str, text: &str, min: usize, max: usize, multiline: bool) -> Result<(), ApiError> {
    let length = text.chars().count();
    if length < min || length > max {
        return Err(ApiError::invalid(field, format!("{min} to {max} characters, not {length}")));
    }
    if !clean_text(text, multiline) {
        let what = if multiline { "control characters other than line breaks and tabs" } else { "control characters" };
        return Err(ApiError::invalid(field, format!("{what} are not allowed")));
    }
    Ok(())
}

/// Reads `{"skill": level, ...}` into the engine's ids and levels, naming the entry at fault
/// as `skills.NAME`.
pub(crate) fn skill_levels(
    dir: &Directory,
    skills: &std::collections::BTreeMap<String, u8>,
) -> Result<Vec<(sb_routing::SkillId, sb_routing::Level)>, ApiError> {
    skills
        .iter()
        .map(|(name, level)| {
            let field = format!("skills.{name}");
            let skill = dir.skill(name).ok_or_else(|| {
                ApiError::invalid(&field, format!("unknown skill {name:?}; known skills: {}", dir.skills.join(", ")))
            })?;
            let level = sb_routing::Level::new(*level)
                .ok_or_else(|| ApiError::invalid(&field, format!("proficiency must be from 1 to 5, not {level}")))?;
            Ok((skill, level))
        })
        .collect()
}

// ----- Who is calling -------------------------------------------------------------------------

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// The secret a request carries: bearer header, session cookie, or `access_token` query
/// parameter, in that order.
fn secret_of(parts: &Parts) -> Option<String> {
    let headers = &parts.headers;
    if let Some(value) = headers.get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok())
        && let Some(token) = value.strip_prefix("Bearer ")
    {
        return Some(token.trim().to_string());
    }
    for cookies in headers.get_all(axum::http::header::COOKIE).iter().filter_map(|v| v.to_str().ok()) {
        for cookie in cookies.split(';') {
            if let Some((name, value)) = cookie.trim().split_once('=')
                && name == SESSION_COOKIE
                && !value.is_empty()
            {
                return Some(value.to_string());
            }
        }
    }
    parts.uri.query().and_then(|q| q.split('&').find_map(|pair| pair.strip_prefix("access_token=").map(str::to_string)))
}

fn source_of(parts: &Parts) -> String {
    parts.extensions.get::<ConnectInfo<SocketAddr>>().map_or_else(|| "unknown".into(), |c| c.0.ip().to_string())
}

/// The client's address, for the audit log of public calls.
#[derive(Debug, Clone)]
pub struct Source(pub String);

impl FromRequestParts<AppState> for Source {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Source, Self::Rejection> {
        Ok(Source(source_of(parts)))
    }
}

/// An authenticated caller and its tenant.
#[derive(Debug, Clone)]
pub struct Caller {
    pub who: Principal,
    pub tenant: TenantHandle,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, ApiError> {
        let secret = secret_of(parts).ok_or_else(|| ApiError::from(AuthError::Missing))?;
        let who = state.keyring.read().expect("keyring lock").authenticate(&secret, now_ms(), source_of(parts))?;
        let tenant = state.tenant(&who.tenant).cloned().ok_or_else(|| ApiError::from(AuthError::Unknown))?;
        Ok(Caller { who, tenant })
    }
}

impl Caller {
    /// Refuses callers below `role`.
    fn require(&self, role: Role) -> Result<(), ApiError> {
        if self.who.at_least(role) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!("this needs the {} role or higher", role.name())))
        }
    }

    /// The agent an action is for: agents act only for themselves (the name may be left
    /// out); supervisors and administrators name any agent, or act as their own.
    fn acting_agent(&self, named: Option<&str>) -> Result<AgentId, ApiError> {
        self.require(Role::Agent)?;
        let dir = &self.tenant.directory;
        let name = match (named, self.who.agent.as_deref()) {
            (Some(n), Some(own)) if n != own && !self.who.at_least(Role::Supervisor) => {
                return Err(ApiError::forbidden(format!("agent {own:?} cannot act for agent {n:?}")));
            }
            (Some(n), _) => n,
            (None, Some(own)) => own,
            (None, None) => return Err(ApiError::invalid("agent", "name the agent: this user is no agent")),
        };
        dir.agent(name).ok_or_else(|| ApiError::invalid("agent", format!("unknown agent {name:?}")))
    }

    /// An audit entry by this caller, now.
    fn audit(&self, action: &str, target: String, detail: String) -> AuditRecord {
        AuditRecord {
            at_ms: now_ms(),
            actor: self.who.actor(),
            source: self.who.source.clone(),
            action: action.into(),
            target,
            detail,
        }
    }
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

    fn malformed(message: impl Into<String>) -> ApiError {
        ApiError { status: StatusCode::BAD_REQUEST, code: "malformed_json", message: message.into(), field: None }
    }

    fn too_many(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::TOO_MANY_REQUESTS,
            code: "too_many_requests",
            message: message.into(),
            field: None,
        }
    }

    fn unauthenticated(message: impl Into<String>) -> ApiError {
        ApiError { status: StatusCode::UNAUTHORIZED, code: "unauthenticated", message: message.into(), field: None }
    }

    fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError { status: StatusCode::FORBIDDEN, code: "forbidden", message: message.into(), field: None }
    }

    fn conflict(message: impl Into<String>) -> ApiError {
        ApiError { status: StatusCode::CONFLICT, code: "conflict", message: message.into(), field: None }
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
    /// `unauthenticated`, `token_expired`, `user_disabled`, `forbidden`, `not_found`,
    /// `conflict`, `too_many_requests`, `storage_failed` or `unavailable`.
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

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> ApiError {
        let code = match e {
            AuthError::Missing | AuthError::Unknown => "unauthenticated",
            AuthError::Expired => "token_expired",
            AuthError::Disabled => "user_disabled",
        };
        ApiError { status: StatusCode::UNAUTHORIZED, code, message: e.to_string(), field: None }
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
            RequestError::Conflict(_) => ApiError::conflict(message),
            RequestError::Frozen(_) => ApiError { status: StatusCode::CONFLICT, code: "frozen", message, field: None },
            RequestError::Storage(_) => {
                ApiError { status: StatusCode::SERVICE_UNAVAILABLE, code: "storage_failed", message, field: None }
            }
            RequestError::Refused(c) => match c {
                CommandError::UnknownInteraction(_) => ApiError::not_found(message),
                CommandError::UnknownAgent(_) | CommandError::UnknownQueue(_) | CommandError::UnknownSkill(_) => {
                    ApiError::not_found(message)
                }
                CommandError::ChannelNotServed { .. } => ApiError::invalid("channel", message),
                CommandError::TransferToSelf(_) => ApiError::invalid("to_agent", message),
                _ => ApiError::conflict(message),
            },
        }
    }
}

// ----- Plumbing -------------------------------------------------------------------------------

async fn ask<T>(tenant: &TenantHandle, make: impl FnOnce(oneshot::Sender<T>) -> Request) -> Result<T, ApiError> {
    let (tx, rx) = oneshot::channel();
    tenant.requests.send(make(tx)).map_err(|_| ApiError::unavailable())?;
    rx.await.map_err(|_| ApiError::unavailable())
}

fn seconds(d: Option<Duration>) -> Option<f64> {
    d.map(|d| (d.as_millis() as f64 / 1000.0).round())
}
