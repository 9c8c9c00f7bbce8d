//! The migration's controls on a running server: where the cutover stands, entering a
//! phase (its share of the calls), rolling back to the legacy PBX and resuming, and freezing
//! configuration changes. Every change is stored, audited with who and why, and holds across
//! restarts.

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ApiError, AppState, Caller, ask};
use crate::auth::Role;
use crate::dispatcher::{MigrationChange, Request};

/// Where a tenant's migration stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct MigrationDto {
    /// The cutover phase (the plan's id); `null` before the first.
    pub phase: Option<String>,
    /// The phase's share of new calls that Switchboard answers, in percent; the rest go to
    /// the legacy PBX trunk of the tenant's `voice.split`.
    pub switchboard_percent: Option<u8>,
    /// When the phase started, ms since the epoch.
    pub phase_since_ms: Option<i64>,
    /// The phase's pilot agents: only they may become available; empty: every agent.
    pub agents: Vec<String>,
    /// Every new call goes to the legacy PBX.
    pub rolled_back: bool,
    /// Changes to users and agents' skills are refused.
    pub frozen: bool,
    /// The last change: when (ms since the epoch) and by whom; `null` if none.
    pub changed_at_ms: Option<i64>,
    pub changed_by: Option<String>,
}

impl MigrationDto {
    fn of(record: Option<sb_storage::MigrationRecord>) -> MigrationDto {
        match record {
            None => MigrationDto {
                phase: None,
                switchboard_percent: None,
                phase_since_ms: None,
                agents: Vec::new(),
                rolled_back: false,
                frozen: false,
                changed_at_ms: None,
                changed_by: None,
            },
            Some(m) => MigrationDto {
                phase: m.phase,
                switchboard_percent: m.switchboard_percent,
                phase_since_ms: m.phase_since_ms,
                agents: m.agents,
                rolled_back: m.rolled_back,
                frozen: m.frozen,
                changed_at_ms: Some(m.changed_at_ms),
                changed_by: Some(m.actor),
            },
        }
    }
}

/// A rollback or a resumption, and why.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RollbackDto {
    /// `true`: every new call to the tenant's flow numbers goes to the legacy PBX trunk of its
    /// split; `false`: the phase's share (or the split's rules) applies again.
    pub rolled_back: bool,
    /// Why, for the audit log.
    pub reason: String,
}

/// Entering a cutover phase, and why.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PhaseDto {
    /// The phase's id in the migration plan.
    pub phase: String,
    /// The share of new calls Switchboard answers from now on, in percent (0 to 100).
    pub switchboard_percent: u8,
    /// The pilot agents (agent ids): only they may become available during the phase, so
    /// that Switchboard's share of calls goes to them; left out or empty: every agent.
    #[serde(default)]
    pub agents: Vec<String>,
    /// Why, for the audit log (such as the gate's verdict).
    pub reason: String,
}

/// Freezing or unfreezing configuration changes, and why.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FreezeDto {
    pub frozen: bool,
    /// Why, for the audit log.
    pub reason: String,
}

/// Where the tenant's migration stands. Supervisors and administrators.
#[utoipa::path(get, path = "/api/v1/migration", tag = "migration",
    responses((status = 200, body = MigrationDto), (status = 401, body = super::ErrorBody),
        (status = 403, body = super::ErrorBody)))]
pub(super) async fn state(State(_): State<AppState>, caller: Caller) -> Result<Json<MigrationDto>, ApiError> {
    caller.require(Role::Supervisor)?;
    let record = ask(&caller.tenant, |reply| Request::MigrationState { reply }).await?;
    Ok(Json(MigrationDto::of(record)))
}

/// Rolls the tenant's migration back to the legacy PBX, or resumes it. Administrators.
/// Takes effect for the next call, without a restart, and holds across restarts; recorded in
/// the audit log with who did it and why.
#[utoipa::path(put, path = "/api/v1/migration/rollback", tag = "migration", request_body = RollbackDto,
    responses((status = 200, body = MigrationDto), (status = 401, body = super::ErrorBody),
        (status = 403, body = super::ErrorBody), (status = 409, body = super::ErrorBody),
        (status = 422, body = super::ErrorBody)))]
pub(super) async fn rollback(
    State(_): State<AppState>,
    caller: Caller,
    body: Result<Json<RollbackDto>, JsonRejection>,
) -> Result<Json<MigrationDto>, ApiError> {
    caller.require(Role::Admin)?;
    let Json(dto) = body?;
    let action = if dto.rolled_back { "migration.rollback" } else { "migration.resume" };
    change(&caller, MigrationChange::Rollback(dto.rolled_back), action, dto.reason).await
}

/// Enters a cutover phase: Switchboard answers its share of new calls, the rest go to the
/// legacy PBX trunk (in place of the percent rules of the tenant's `voice.split`; its caller
/// and number rules still apply). Administrators. `switchboard migrate advance` calls this
/// once the plan's gate has passed.
#[utoipa::path(put, path = "/api/v1/migration/phase", tag = "migration", request_body = PhaseDto,
    responses((status = 200, body = MigrationDto), (status = 401, body = super::ErrorBody),
        (status = 403, body = super::ErrorBody), (status = 409, body = super::ErrorBody),
        (status = 422, body = super::ErrorBody)))]
pub(super) async fn phase(
    State(_): State<AppState>,
    caller: Caller,
    body: Result<Json<PhaseDto>, JsonRejection>,
) -> Result<Json<MigrationDto>, ApiError> {
    caller.require(Role::Admin)?;
    let Json(dto) = body?;
    if sb_config::Slug::parse(&dto.phase).is_err() {
        return Err(ApiError::invalid("phase", "a phase id: lowercase letters, digits and '-'"));
    }
    if dto.switchboard_percent > 100 {
        return Err(ApiError::invalid("switchboard_percent", "a share from 0 to 100"));
    }
    if dto.reason.trim().is_empty() {
        return Err(ApiError::invalid("reason", "say why, for the audit log"));
    }
    if let Some(unknown) = dto.agents.iter().find(|a| caller.tenant.directory.agent(a).is_none()) {
        return Err(ApiError::invalid("agents", format!("no agent {unknown:?} in this tenant")));
    }
    let change_ = MigrationChange::Phase {
        phase: dto.phase.clone(),
        switchboard_percent: dto.switchboard_percent,
        agents: dto.agents.clone(),
    };
    let reason = format!("phase {} ({}% to Switchboard): {}", dto.phase, dto.switchboard_percent, dto.reason);
    change(&caller, change_, "migration.phase", reason).await
}

/// Freezes changes to users and agents' skills for the cutover, or lifts the freeze.
/// Administrators.
#[utoipa::path(put, path = "/api/v1/migration/freeze", tag = "migration", request_body = FreezeDto,
    responses((status = 200, body = MigrationDto), (status = 401, body = super::ErrorBody),
        (status = 403, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub(super) async fn freeze(
    State(_): State<AppState>,
    caller: Caller,
    body: Result<Json<FreezeDto>, JsonRejection>,
) -> Result<Json<MigrationDto>, ApiError> {
    caller.require(Role::Admin)?;
    let Json(dto) = body?;
    let action = if dto.frozen { "migration.freeze" } else { "migration.unfreeze" };
    change(&caller, MigrationChange::Freeze(dto.frozen), action, dto.reason).await
}

/// Stores `change` with its audit entry; the dispatcher tells the SIP endpoint.
async fn change(
    caller: &Caller,
    change: MigrationChange,
    action: &str,
    reason: String,
) -> Result<Json<MigrationDto>, ApiError> {
    caller.require(Role::Admin)?;
    if reason.trim().is_empty() {
        return Err(ApiError::invalid("reason", "say why, for the audit log"));
    }
    let audit = caller.audit(action, format!("tenant:{}", caller.tenant.directory.tenant), reason);
    let record = ask(&caller.tenant, |reply| Request::Migration { change, audit, reply }).await??;
    Ok(Json(MigrationDto::of(Some(record))))
}
