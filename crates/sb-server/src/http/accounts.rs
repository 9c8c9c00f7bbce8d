//! Signing in and out, users, API tokens and the audit log.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sb_storage::{AccountChange, AuditRecord, TokenRecord, UserRecord};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{ApiError, AppState, Caller, ErrorBody, SESSION_COOKIE, ask, now_ms};
use crate::auth::{self, Role, TokenKind};
use crate::dispatcher::Request;

/// Credentials to sign in with.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginDto {
    /// The tenant's id.
    tenant: String,
    username: String,
    password: String,
}

/// A user as shown (never with the password hash).
#[derive(Debug, Serialize, ToSchema)]
pub struct UserDto {
    username: String,
    display_name: String,
    /// `admin`, `supervisor` or `agent`.
    role: String,
    /// The agent id this user works as.
    agent: Option<String>,
    disabled: bool,
    created_at_ms: i64,
}

impl From<UserRecord> for UserDto {
    fn from(u: UserRecord) -> UserDto {
        UserDto {
            username: u.username,
            display_name: u.display_name,
            role: u.role,
            agent: u.agent,
            disabled: u.disabled,
            created_at_ms: u.created_at_ms,
        }
    }
}

/// A new session: the secret is shown this once (and set as the `sb_session` cookie).
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionDto {
    token: String,
    expires_at_ms: i64,
    tenant: String,
    tenant_name: String,
    user: UserDto,
}

/// Who the caller is.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeDto {
    tenant: String,
    tenant_name: String,
    /// `session`, `api` or `customer`.
    credential: &'static str,
    user: Option<UserDto>,
    /// A chat customer's interaction.
    interaction: Option<u64>,
    /// The tenant's reason codes, for presence menus.
    reason_codes: Vec<String>,
    queues: Vec<String>,
}

/// Signs in with a password and starts a browser session (12 hours). Every attempt,
/// successful or not, is audited. After 5 failures in 15 minutes for one user, or 50 from one
/// address, sign-in is refused (429) until the oldest failure is 15 minutes old.
#[utoipa::path(post, path = "/api/v1/login", tag = "accounts", request_body = LoginDto,
    responses((status = 200, body = SessionDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 429, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub(super) async fn login(
    State(state): State<AppState>,
    super::Source(source): super::Source,
    body: Result<Json<LoginDto>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(dto) = body?;
    let refused = || ApiError::unauthenticated("unknown tenant, user or password");
    // A name no user can have is refused before it reaches the audit log.
    if dto.username.is_empty() || dto.username.len() > 64 || !super::clean_text(&dto.username, false) {
        return Err(refused());
    }
    // Too many failures for this user or from this address: refused before any check. The
    // attempt counts as a failure until it succeeds, so parallel guesses count too.
    let user_key = format!("{}/{}", dto.tenant, dto.username);
    let source_key = format!("ip:{source}");
    {
        let mut limits = state.limits.lock().expect("limits lock");
        let now = now_ms();
        if let Err(wait) = limits.sign_in_user.check(&user_key, now).and(limits.sign_in_address.check(&source_key, now))
        {
            return Err(ApiError::too_many(format!(
                "too many failed sign-ins; try again in {} minute(s)",
                (wait + 59_999) / 60_000
            )));
        }
        limits.sign_in_user.record(&user_key, now);
        limits.sign_in_address.record(&source_key, now);
    }
    let tenant = state.tenant(&dto.tenant).cloned().ok_or_else(refused)?;
    let user = state.keyring.read().expect("keyring lock").user(&dto.tenant, &dto.username).cloned();
    let hash = user.as_ref().map_or_else(|| auth::decoy_hash().to_string(), |u| u.password_hash.clone());
    let password = dto.password.clone();
    let matches = tokio::task::spawn_blocking(move || auth::verify_password(&hash, &password))
        .await
        .map_err(|_| ApiError::unavailable())?;
    let now = now_ms();
    let entry = |action: &str, detail: &str| AuditRecord {
        at_ms: now,
        actor: dto.username.clone(),
        source: source.clone(),
        action: action.into(),
        target: format!("user:{}", dto.username),
        detail: detail.into(),
    };
    let user = match user {
        Some(u) if matches && !u.disabled => u,
        found => {
            let why = match found {
                None => "unknown user",
                Some(u) if u.disabled => "user disabled",
                Some(_) => "wrong password",
            };
            // Known tenant: the failure is audited there.
            let audit = vec![entry("session.login_failed", why)];
            ask(&tenant, |reply| Request::Accounts { changes: Vec::new(), audit, expected: Vec::new(), reply })
                .await??;
            return Err(refused());
        }
    };
    {
        let mut limits = state.limits.lock().expect("limits lock");
        limits.sign_in_user.clear(&user_key);
        limits.sign_in_address.forget_latest(&source_key);
    }
    let secret = auth::new_secret();
    let expires_at_ms = now + auth::SESSION_TTL_MS;
    let token = TokenRecord {
        hash: auth::token_hash(&secret),
        username: user.username.clone(),
        kind: TokenKind::Session.name().into(),
        label: "browser session".into(),
        interaction: None,
        created_at_ms: now,
        expires_at_ms: Some(expires_at_ms),
    };
    let changes = vec![AccountChange::PutToken(token)];
    let audit = vec![entry("session.login", "")];
    ask(&tenant, |reply| Request::Accounts { changes, audit, expected: Vec::new(), reply }).await??;
    let cookie = format!(
        "{SESSION_COOKIE}={secret}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}",
        auth::SESSION_TTL_MS / 1000
    );
    let body = SessionDto {
        token: secret,
        expires_at_ms,
        tenant: dto.tenant,
        tenant_name: tenant.name.clone(),
        user: user.into(),
    };
    let mut headers = HeaderMap::new();
    headers.insert(header::SET_COOKIE, HeaderValue::from_str(&cookie).expect("a cookie of hex digits"));
    Ok((StatusCode::OK, headers, Json(body)).into_response())
}

/// Ends the session (or revokes the API token) the request is made with.
#[utoipa::path(post, path = "/api/v1/logout", tag = "accounts",
    responses((status = 204, description = "The credential is revoked"), (status = 401, body = ErrorBody)))]
pub(super) async fn logout(caller: Caller) -> Result<Response, ApiError> {
    let hash = caller.who.token_hash.clone();
    let changes = vec![AccountChange::RevokeToken { hash: hash.clone(), at_ms: now_ms() }];
    let audit = vec![caller.audit("session.logout", format!("token:{}", auth::token_id(&hash)), String::new())];
    ask(&caller.tenant, |reply| Request::Accounts { changes, audit, expected: Vec::new(), reply }).await??;
    let mut headers = HeaderMap::new();
    let expired = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    headers.insert(header::SET_COOKIE, HeaderValue::from_str(&expired).expect("a plain cookie"));
    Ok((StatusCode::NO_CONTENT, headers).into_response())
}

/// Who the caller is, with what the screens need to know about the tenant.
#[utoipa::path(get, path = "/api/v1/me", tag = "accounts",
    responses((status = 200, body = MeDto), (status = 401, body = ErrorBody)))]
pub(super) async fn me(State(state): State<AppState>, caller: Caller) -> Result<Json<MeDto>, ApiError> {
    let user = if caller.who.kind == TokenKind::Customer {
        None
    } else {
        state.keyring.read().expect("keyring lock").user(&caller.who.tenant, &caller.who.username).cloned()
    };
    let dir = &caller.tenant.directory;
    Ok(Json(MeDto {
        tenant: caller.who.tenant.to_string(),
        tenant_name: caller.tenant.name.clone(),
        credential: caller.who.kind.name(),
        user: user.map(UserDto::from),
        interaction: caller.who.interaction,
        reason_codes: dir.reasons.clone(),
        queues: dir.queues.clone(),
    }))
}

/// The tenant's users. Administrators and supervisors.
#[utoipa::path(get, path = "/api/v1/users", tag = "accounts",
    responses((status = 200, body = Vec<UserDto>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(super) async fn list_users(State(state): State<AppState>, caller: Caller) -> Result<Json<Vec<UserDto>>, ApiError> {
    caller.require(Role::Supervisor)?;
    let users = state.keyring.read().expect("keyring lock").users(&caller.who.tenant);
    Ok(Json(users.into_iter().map(UserDto::from).collect()))
}

/// A new user.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserDto {
    /// 1 to 64 of lowercase letters, digits, `.`, `-` and `_`; unique in the tenant.
    username: String,
    display_name: Option<String>,
    /// `admin`, `supervisor` or `agent`.
    role: String,
    /// An agent id of the tenant's configuration; required for the agent role.
    agent: Option<String>,
    /// At least 8 characters.
    password: String,
}

/// Changes to a user; fields left out stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserChangeDto {
    display_name: Option<String>,
    role: Option<String>,
    /// An agent id, or `""` for none.
    agent: Option<String>,
    password: Option<String>,
    disabled: Option<bool>,
}

fn check_username(name: &str) -> Result<(), ApiError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid("username", "1 to 64 of lowercase letters, digits, '.', '-' and '_'"))
    }
}

/// Checks the role, the agent link and the password of a user being stored.
fn check_user(caller: &Caller, user: &UserRecord, password: Option<&str>) -> Result<(), ApiError> {
    let role = Role::from_name(&user.role).ok_or_else(|| {
        ApiError::invalid("role", format!("unknown role {:?}: use admin, supervisor or agent", user.role))
    })?;
    match &user.agent {
        Some(agent) if caller.tenant.directory.agent(agent).is_none() => {
            return Err(ApiError::invalid("agent", format!("unknown agent {agent:?} in the tenant's configuration")));
        }
        None if role == Role::Agent => {
            return Err(ApiError::invalid("agent", "a user with the agent role needs an agent id"));
        }
        _ => {}
    }
    if let Some(p) = password {
        auth::check_password(p).map_err(|e| ApiError::invalid("password", e))?;
    }
    super::check_text("display_name", &user.display_name, 1, 200, false)?;
    Ok(())
}

async fn hash(password: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || auth::hash_password(&password)).await.map_err(|_| ApiError::unavailable())
}

/// Creates a user. Administrators. Audited.
#[utoipa::path(post, path = "/api/v1/users", tag = "accounts", request_body = NewUserDto,
    responses((status = 201, body = UserDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(super) async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Json<NewUserDto>, JsonRejection>,
) -> Result<(StatusCode, Json<UserDto>), ApiError> {
    caller.require(Role::Admin)?;
    let Json(dto) = body?;
    check_username(&dto.username)?;
    let mut user = UserRecord {
        display_name: dto.display_name.unwrap_or_else(|| dto.username.clone()),
        username: dto.username,
        role: dto.role,
        agent: dto.agent.filter(|a| !a.is_empty()),
        password_hash: String::new(),
        disabled: false,
        created_at_ms: now_ms(),
    };
    check_user(&caller, &user, Some(&dto.password))?;
    if state.keyring.read().expect("keyring lock").user(&caller.who.tenant, &user.username).is_some() {
        return Err(ApiError::conflict(format!("user {:?} already exists", user.username)));
    }
    user.password_hash = hash(dto.password).await?;
    let detail = format!("role {}, agent {}", user.role, user.agent.as_deref().unwrap_or("none"));
    let audit = vec![caller.audit("user.create", format!("user:{}", user.username), detail)];
    let changes = vec![AccountChange::PutUser(user.clone())];
    // Stored only if the user still does not exist (two creations of one name race).
    let expected = vec![(user.username.clone(), None)];
    ask(&caller.tenant, |reply| Request::Accounts { changes, audit, expected, reply }).await?.map_err(|e| match e {
        crate::dispatcher::RequestError::Conflict(_) => {
            ApiError::conflict(format!("user {:?} already exists", user.username))
        }
        other => other.into(),
    })?;
    Ok((StatusCode::CREATED, Json(user.into())))
}

/// Changes a user: name, role, agent, password, or disabled (which ends its sessions).
/// Administrators; every user may change their own password and display name. Audited.
#[utoipa::path(patch, path = "/api/v1/users/{username}", tag = "accounts", request_body = UserChangeDto,
    params(("username" = String, Path, description = "The user")),
    responses((status = 200, body = UserDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub(super) async fn update_user(
    State(state): State<AppState>,
    caller: Caller,
    username: Result<Path<String>, PathRejection>,
    body: Result<Json<UserChangeDto>, JsonRejection>,
) -> Result<Json<UserDto>, ApiError> {
    let Path(username) = username?;
    let Json(dto) = body?;
    let own = caller.who.kind != TokenKind::Customer && caller.who.username == username;
    let only_own_fields = dto.role.is_none() && dto.agent.is_none() && dto.disabled.is_none();
    if !(own && only_own_fields) {
        caller.require(Role::Admin)?;
    }
    let mut user = state
        .keyring
        .read()
        .expect("keyring lock")
        .user(&caller.who.tenant, &username)
        .cloned()
        .ok_or_else(|| ApiError::not_found(format!("no user {username:?}")))?;
    // Stored only if nobody changed the user since it was read here.
    let expected = vec![(username.clone(), Some(user.clone()))];
    let mut changed = Vec::new();
    if let Some(name) = dto.display_name {
        user.display_name = name;
        changed.push("display name".to_string());
    }
    if let Some(role) = dto.role {
        changed.push(format!("role {role}"));
        user.role = role;
    }
    if let Some(agent) = dto.agent {
        changed.push(format!("agent {}", if agent.is_empty() { "none" } else { &agent }));
        user.agent = Some(agent).filter(|a| !a.is_empty());
    }
    if let Some(disabled) = dto.disabled {
        if disabled && own {
            return Err(ApiError::invalid("disabled", "users cannot disable themselves"));
        }
        user.disabled = disabled;
        changed.push(if disabled { "disabled" } else { "enabled" }.to_string());
    }
    check_user(&caller, &user, dto.password.as_deref())?;
    let mut changes = Vec::new();
    if let Some(password) = dto.password {
        user.password_hash = hash(password).await?;
        changed.push("password".to_string());
    }
    changes.push(AccountChange::PutUser(user.clone()));
    if user.disabled {
        // A disabled user's sessions and tokens end now.
        let tokens = state
            .keyring
            .read()
            .expect("keyring lock")
            .tokens(&caller.who.tenant, &[TokenKind::Session, TokenKind::Api]);
        let now = now_ms();
        changes.extend(
            tokens
                .into_iter()
                .filter(|t| t.username == user.username)
                .map(|t| AccountChange::RevokeToken { hash: t.hash, at_ms: now }),
        );
    }
    let audit = vec![caller.audit("user.update", format!("user:{username}"), changed.join(", "))];
    ask(&caller.tenant, |reply| Request::Accounts { changes, audit, expected, reply }).await??;
    Ok(Json(user.into()))
}

/// A credential as listed (the secret is never shown again).
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenDto {
    /// The first 12 hex digits of the secret's hash: the id to revoke it by.
    id: String,
    username: String,
    /// `session` or `api`.
    kind: &'static str,
    label: String,
    created_at_ms: i64,
    expires_at_ms: Option<i64>,
}

/// A new API token for an integration.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTokenDto {
    /// What it is for, such as `crm-sync` (1 to 100 characters).
    label: String,
    /// The user it acts as (its role applies); the caller when left out.
    username: Option<String>,
    /// Days until it expires; never when left out.
    #[schema(minimum = 1, maximum = 3650)]
    expires_in_days: Option<u32>,
}

/// A new API token: the secret is shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct NewTokenAnswerDto {
    token: String,
    #[serde(flatten)]
    info: TokenDto,
}

fn token_dto(t: TokenRecord) -> TokenDto {
    TokenDto {
        id: auth::token_id(&t.hash).to_string(),
        kind: if t.kind == "api" { "api" } else { "session" },
        username: t.username,
        label: t.label,
        created_at_ms: t.created_at_ms,
        expires_at_ms: t.expires_at_ms,
    }
}

/// The tenant's sessions and API tokens. Administrators.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "accounts",
    responses((status = 200, body = Vec<TokenDto>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(super) async fn list_tokens(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<TokenDto>>, ApiError> {
    caller.require(Role::Admin)?;
    let now = now_ms();
    let tokens =
        state.keyring.read().expect("keyring lock").tokens(&caller.who.tenant, &[TokenKind::Session, TokenKind::Api]);
    Ok(Json(tokens.into_iter().filter(|t| t.expires_at_ms.is_none_or(|e| e > now)).map(token_dto).collect()))
}

/// Creates an API token. Administrators. Audited.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "accounts", request_body = NewTokenDto,
    responses((status = 201, body = NewTokenAnswerDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(super) async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Json<NewTokenDto>, JsonRejection>,
) -> Result<(StatusCode, Json<NewTokenAnswerDto>), ApiError> {
    caller.require(Role::Admin)?;
    let Json(dto) = body?;
    if dto.label.trim().is_empty() {
        return Err(ApiError::invalid("label", "a label has 1 to 100 characters"));
    }
    super::check_text("label", &dto.label, 1, 100, false)?;
    let username = dto.username.unwrap_or_else(|| caller.who.username.clone());
    if state.keyring.read().expect("keyring lock").user(&caller.who.tenant, &username).is_none() {
        return Err(ApiError::invalid("username", format!("no user {username:?}")));
    }
    let now = now_ms();
    let expires_at_ms = match dto.expires_in_days {
        None => None,
        Some(d @ 1..=3650) => Some(now + i64::from(d) * 24 * 3600 * 1000),
        Some(d) => return Err(ApiError::invalid("expires_in_days", format!("1 to 3,650 days, not {d}"))),
    };
    let secret = auth::new_secret();
    let record = TokenRecord {
        hash: auth::token_hash(&secret),
        username,
        kind: TokenKind::Api.name().into(),
        label: dto.label,
        interaction: None,
        created_at_ms: now,
        expires_at_ms,
    };
    let detail = format!("for user {}, label {:?}", record.username, record.label);
    let audit = vec![caller.audit("token.create", format!("token:{}", auth::token_id(&record.hash)), detail)];
    let changes = vec![AccountChange::PutToken(record.clone())];
    ask(&caller.tenant, |reply| Request::Accounts { changes, audit, expected: Vec::new(), reply }).await??;
    Ok((StatusCode::CREATED, Json(NewTokenAnswerDto { token: secret, info: token_dto(record) })))
}

/// Revokes a session or API token by its id. Administrators. Audited.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "accounts",
    params(("id" = String, Path, description = "The token's id, as listed")),
    responses((status = 204, description = "Revoked"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub(super) async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    id: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    caller.require(Role::Admin)?;
    let Path(id) = id?;
    let tokens =
        state.keyring.read().expect("keyring lock").tokens(&caller.who.tenant, &[TokenKind::Session, TokenKind::Api]);
    let token = tokens
        .into_iter()
        .find(|t| id.len() == 12 && auth::token_id(&t.hash) == id)
        .ok_or_else(|| ApiError::not_found(format!("no token {id:?}")))?;
    let changes = vec![AccountChange::RevokeToken { hash: token.hash, at_ms: now_ms() }];
    let audit = vec![caller.audit("token.revoke", format!("token:{id}"), format!("of user {}", token.username))];
    ask(&caller.tenant, |reply| Request::Accounts { changes, audit, expected: Vec::new(), reply }).await??;
    Ok(StatusCode::NO_CONTENT)
}

/// Paging of the audit log.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Entries older than this id (from a previous page).
    before: Option<i64>,
    /// At most this many, 1 to 1,000 (default 100).
    limit: Option<u32>,
}

/// An audit log entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditDto {
    id: i64,
    at_ms: i64,
    actor: String,
    /// The client's address.
    source: String,
    action: String,
    target: String,
    detail: String,
}

/// The audit log, newest first. Administrators and supervisors.
#[utoipa::path(get, path = "/api/v1/audit", tag = "accounts", params(AuditQuery),
    responses((status = 200, body = Vec<AuditDto>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub(super) async fn audit(
    caller: Caller,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Json<Vec<AuditDto>>, ApiError> {
    caller.require(Role::Supervisor)?;
    let Query(q) = query.map_err(|e| ApiError::invalid("query", e.body_text()))?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid("limit", format!("1 to 1,000, not {limit}")));
    }
    let entries = ask(&caller.tenant, |reply| Request::Audit { before: q.before, limit, reply }).await??;
    Ok(Json(
        entries
            .into_iter()
            .map(|e| AuditDto {
                id: e.id,
                at_ms: e.record.at_ms,
                actor: e.record.actor,
                source: e.record.source,
                action: e.record.action,
                target: e.record.target,
                detail: e.record.detail,
            })
            .collect(),
    ))
}
