//! The migration's controls on a running server: rolling the traffic split back to the
//! legacy PBX, and resuming it.

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;

use super::{ApiError, AppState, Caller, ask};
use crate::auth::Role;
use crate::dispatcher::Request;

/// A rollback or a resumption, and why.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RollbackDto {
    /// `true`: every new call to the tenant's flow numbers goes to the legacy PBX trunk of its
    /// split; `false`: the split's rules apply again.
    pub rolled_back: bool,
    /// Why, for the audit log.
    pub reason: String,
}

/// Rolls the tenant's migration back to the legacy PBX, or resumes it. Administrators.
/// Takes effect for the next call, without a restart; recorded in the audit log with who
/// did it and why.
#[utoipa::path(put, path = "/api/v1/migration/rollback", tag = "migration", request_body = RollbackDto,
    responses((status = 204), (status = 401, body = super::ErrorBody), (status = 403, body = super::ErrorBody),
        (status = 409, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub(super) async fn rollback(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Json<RollbackDto>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    caller.require(Role::Admin)?;
    let Json(dto) = body?;
    if dto.reason.trim().is_empty() {
        return Err(ApiError::invalid("reason", "say why, for the audit log"));
    }
    let Some(voice) = &state.voice else {
        return Err(ApiError::conflict("this server does not answer calls (start it with --sip)"));
    };
    let action = if dto.rolled_back { "migration.rollback" } else { "migration.resume" };
    let entry = caller.audit(action, format!("tenant:{}", caller.tenant.directory.tenant), dto.reason.clone());
    let stored = ask(&caller.tenant, |reply| Request::Accounts {
        changes: Vec::new(),
        audit: vec![entry],
        expected: Vec::new(),
        reply,
    })
    .await?;
    stored?;
    let feedback =
        sb_voice::Feedback::Rollback { tenant: caller.tenant.directory.tenant.clone(), rolled_back: dto.rolled_back };
    voice.send(feedback).map_err(|_| ApiError::unavailable())?;
    Ok(StatusCode::NO_CONTENT)
}
