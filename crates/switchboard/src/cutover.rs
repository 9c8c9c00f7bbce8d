//! `switchboard migrate status | advance | rollback | resume | freeze | unfreeze`: the
//! cutover, phase by phase, as the migration plan lays it out.
//!
//! The running server owns where the migration stands (it applies the phase's share of the
//! calls); these commands read and change it through the REST API. The gates are measured
//! from the store: the legacy baseline imported by `migrate history`, and the calls
//! Switchboard answered since the phase started.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Args;
use sb_migrate::cutover;
use sb_migrate::history::{LegacyContact, Outcome};

#[derive(Debug, Args)]
pub struct ServerArgs {
    /// The running server's HTTP address.
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:8080")]
    server: String,
    /// An administrator's API token; SWITCHBOARD_TOKEN in the environment is read when this
    /// is left out (and keeps the token out of the process list).
    #[arg(long)]
    token: Option<String>,
}

#[derive(Debug, Args)]
pub struct ReasonArgs {
    #[command(flatten)]
    server: ServerArgs,
    /// Why, for the audit log.
    #[arg(long)]
    reason: String,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The migration plan (YAML; see docs/migration.md).
    #[arg(long, value_name = "FILE")]
    plan: PathBuf,
    /// The tenant file the plan is read against.
    #[arg(long, short = 'c', value_name = "FILE")]
    config: PathBuf,
    /// The store holding the imported legacy history and Switchboard's calls.
    #[arg(long, short = 'd', value_name = "ADDRESS", default_value = "switchboard.db")]
    database: String,
    #[command(flatten)]
    server: ServerArgs,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    plan: PlanArgs,
    /// Where to write status.svg, the gate's KPIs day by day against the baseline.
    #[arg(long, short = 'o', value_name = "DIR")]
    out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct AdvanceArgs {
    #[command(flatten)]
    plan: PlanArgs,
    /// A note for the audit log, next to the gate's verdict.
    #[arg(long, default_value = "")]
    reason: String,
}

/// Where the migration stands, as the server answers `GET /api/v1/migration`.
#[derive(Debug, Default)]
struct State {
    phase: Option<String>,
    switchboard_percent: Option<u64>,
    phase_since_ms: Option<i64>,
    rolled_back: bool,
    frozen: bool,
    changed_by: Option<String>,
    changed_at_ms: Option<i64>,
}

impl State {
    fn of(json: &serde_json::Value) -> State {
        State {
            phase: json["phase"].as_str().map(str::to_owned),
            switchboard_percent: json["switchboard_percent"].as_u64(),
            phase_since_ms: json["phase_since_ms"].as_i64(),
            rolled_back: json["rolled_back"].as_bool().unwrap_or(false),
            frozen: json["frozen"].as_bool().unwrap_or(false),
            changed_by: json["changed_by"].as_str().map(str::to_owned),
            changed_at_ms: json["changed_at_ms"].as_i64(),
        }
    }
}

/// Calls the server's migration API: `method` on `path` with `body`; the answer's JSON.
fn call(server: &ServerArgs, method: &str, path: &str, body: Option<serde_json::Value>) -> anyhow::Result<State> {
    let base =
        sb_config::Webhook::parse(server.server.trim_end_matches('/')).map_err(|e| anyhow::anyhow!("--server: {e}"))?;
    let url = sb_config::Webhook { path: path.into(), ..base };
    let token = server
        .token
        .clone()
        .or_else(|| std::env::var("SWITCHBOARD_TOKEN").ok())
        .context("give an administrator's API token with --token or SWITCHBOARD_TOKEN")?;
    let body = body.map(|b| b.to_string());
    let answer = sb_server::http_client::request_as(
        method,
        &url,
        body.as_deref(),
        Some(&token),
        std::time::Duration::from_secs(10),
    )
    .map_err(|e| anyhow::anyhow!("{}: {e}", server.server))?;
    if answer.status != 200 {
        let text = String::from_utf8_lossy(&answer.body);
        let message = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|j| j["error"]["message"].as_str().map(str::to_owned))
            .unwrap_or_else(|| text.into_owned());
        anyhow::bail!("{} answered {}: {message}", server.server, answer.status);
    }
    let json: serde_json::Value = serde_json::from_slice(&answer.body).context("reading the server's answer")?;
    Ok(State::of(&json))
}

/// Runs `switchboard migrate rollback` (`rolled_back`) or `resume`.
pub fn rollback(args: ReasonArgs, rolled_back: bool) -> anyhow::Result<()> {
    let body = serde_json::json!({"rolled_back": rolled_back, "reason": args.reason});
    let state = call(&args.server, "PUT", "/api/v1/migration/rollback", Some(body))?;
    if rolled_back {
        println!("rolled back: every new call goes to the legacy PBX (recorded in the audit log)");
    } else {
        match state.switchboard_percent {
            Some(p) => println!(
                "resumed: Switchboard answers {p}% of new calls again, as phase {} says (recorded in the audit log)",
                state.phase.unwrap_or_default()
            ),
            None => println!("resumed: new calls follow the split's rules again (recorded in the audit log)"),
        }
    }
    Ok(())
}

/// Runs `switchboard migrate freeze` (`frozen`) or `unfreeze`.
pub fn freeze(args: ReasonArgs, frozen: bool) -> anyhow::Result<()> {
    let body = serde_json::json!({"frozen": frozen, "reason": args.reason});
    call(&args.server, "PUT", "/api/v1/migration/freeze", Some(body))?;
    if frozen {
        println!("frozen: changes to users and agents' skills are refused until `switchboard migrate unfreeze`");
    } else {
        println!("unfrozen: users and agents' skills may change again");
    }
    Ok(())
}

/// What the plan, the store and the server say together.
struct Picture {
    config: sb_config::TenantConfig,
    plan: sb_config::MigrationPlan,
    state: State,
    /// The current phase's index.
    current: Option<usize>,
    baseline: Option<sb_migrate::history::Kpis>,
    /// The whole days of the current phase.
    days: Vec<cutover::Day>,
    /// The current phase's gate, checked.
    verdict: Option<cutover::Verdict>,
}

fn picture(args: &PlanArgs) -> anyhow::Result<Picture> {
    let config = sb_config::load(&args.config).map_err(|e| crate::diagnostics(e.report))?;
    let plan = sb_config::load_plan(&args.plan, &config).map_err(crate::diagnostics)?;
    let state = call(&args.server, "GET", "/api/v1/migration", None)?;
    let current =
        match &state.phase {
            Some(id) => Some(plan.phase_ix(id).with_context(|| {
                format!("the server is in phase {id:?}, which {} does not have", args.plan.display())
            })?),
            None => None,
        };
    let mut store =
        sb_storage::open(&args.database).with_context(|| format!("opening the database {}", args.database))?;
    let measured: Vec<String> = if plan.queues.is_empty() {
        config.queues.iter().map(|q| q.id.as_str().to_owned()).collect()
    } else {
        plan.queues.iter().map(|q| config.queue(*q).id.as_str().to_owned()).collect()
    };
    let legacy: Vec<LegacyContact> = sb_migrate::history::without_duplicates(
        store
            .legacy(&plan.tenant)
            .context("reading the imported history")?
            .into_iter()
            .filter_map(crate::migrate::contact_of)
            .filter(|c| measured.contains(&c.queue))
            .collect(),
    );
    let intervals: Vec<sb_migrate::history::IntervalRecord> = store
        .legacy_intervals(&plan.tenant)
        .context("reading the imported history")?
        .into_iter()
        .map(crate::migrate::interval_of)
        .filter(|r| measured.contains(&r.queue))
        .collect();
    let within_ms = plan.within.as_millis() as i64;
    let baseline = cutover::overall_with(&legacy, &intervals, within_ms);
    let (days, verdict) = match (current, state.phase_since_ms) {
        (Some(ix), Some(since)) => {
            let rows = store.interactions_since(&plan.tenant, since).context("reading Switchboard's calls")?;
            let stays: Vec<LegacyContact> =
                rows.iter().filter(|r| measured.contains(&r.record.queue)).filter_map(stay_of).collect();
            let now = jiff::Timestamp::now().as_millisecond();
            let days = cutover::whole_days(&stays, &config.tenant.time_zone, since, now, within_ms);
            let verdict = plan.phases[ix].gate.as_ref().map(|gate| cutover::evaluate(gate, baseline.as_ref(), &days));
            (days, verdict)
        }
        _ => (Vec::new(), None),
    };
    Ok(Picture { config, plan, state, current, baseline, days, verdict })
}

/// A Switchboard call as a stay in its queue, like a legacy one; `None` while it is not
/// over, or for other channels.
fn stay_of(row: &sb_storage::InteractionRow) -> Option<LegacyContact> {
    use sb_storage::InteractionState as S;
    if row.record.channel != "voice" {
        return None;
    }
    let created = row.record.created_at_ms;
    let (outcome, wait_ms, talk_ms) = match (row.state, row.connected_at_ms, row.ended_at_ms) {
        (S::Completed, Some(connected), Some(ended)) => {
            (Outcome::Answered, connected - created, Some(ended - connected))
        }
        (S::WrapUp, Some(connected), ended) => (Outcome::Answered, connected - created, ended.map(|e| e - connected)),
        (S::Abandoned, _, Some(ended)) => (Outcome::Abandoned, ended - created, None),
        (S::Lost, Some(connected), _) => (Outcome::Answered, connected - created, None),
        (S::Lost, None, Some(ended)) => (Outcome::Exited, ended - created, None),
        _ => return None,
    };
    Some(LegacyContact {
        id: format!("switchboard-{}", row.record.id),
        queue: row.record.queue.clone(),
        caller: None,
        dnis: None,
        arrived_ms: created,
        wait_ms: Some(wait_ms),
        talk_ms,
        agent: row.agent.clone(),
        outcome,
    })
}

fn when(config: &sb_config::TenantConfig, ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.to_zoned(config.tenant.time_zone.clone()).strftime("%Y-%m-%d %H:%M %Z").to_string())
        .unwrap_or_else(|_| ms.to_string())
}

/// Runs `switchboard migrate status`.
pub fn status(args: StatusArgs) -> anyhow::Result<()> {
    let p = picture(&args.plan)?;
    let (plan, config, state) = (&p.plan, &p.config, &p.state);
    println!("migration of tenant {} ({})", plan.tenant, args.plan.plan.display());
    match p.current {
        None => println!("phase: not started; the tenant file's split applies"),
        Some(ix) => {
            let phase = &plan.phases[ix];
            let since = state.phase_since_ms.map(|ms| when(config, ms)).unwrap_or_default();
            println!(
                "phase: {} ({} of {}), since {since}: Switchboard answers {}% of new calls",
                phase.name,
                ix + 1,
                plan.phases.len(),
                phase.switchboard_percent
            );
            if !phase.agents.is_empty() {
                let names: Vec<&str> = phase.agents.iter().map(|a| config.agent(*a).id.as_str()).collect();
                println!("pilot agents: {}", names.join(", "));
            }
        }
    }
    if state.rolled_back {
        println!(
            "ROLLED BACK: every new call goes to the legacy PBX (last change by {} at {})",
            state.changed_by.as_deref().unwrap_or("?"),
            state.changed_at_ms.map(|ms| when(config, ms)).unwrap_or_default()
        );
    }
    println!("configuration changes: {}", if state.frozen { "frozen" } else { "open" });
    println!();
    print_kpis(&p);
    println!();
    print_gate(&p);
    println!();
    print_readiness(plan);
    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let svg = dir.join("status.svg");
        status_chart(&svg, &p).map_err(|e| anyhow::anyhow!("drawing {}: {e}", svg.display()))?;
        println!("\n{}", svg.display());
    }
    Ok(())
}

fn print_kpis(p: &Picture) {
    use sb_config::Kpi;
    let within = p.plan.within.as_secs();
    print!("{:<16} {:>10}", format!("KPI (SL {within}s)"), "baseline");
    for day in &p.days {
        print!(" {:>10}", day.date.strftime("%a %m-%d").to_string());
    }
    println!();
    let rows: [(&str, Option<Kpi>); 5] = [
        ("calls", None),
        ("service level", Some(Kpi::ServiceLevel)),
        ("abandoned", Some(Kpi::AbandonRate)),
        ("ASA", Some(Kpi::Asa)),
        ("AHT", Some(Kpi::Aht)),
    ];
    for (name, kpi) in rows {
        let cell = |k: Option<&sb_migrate::history::Kpis>| match kpi {
            None => k.map_or("0".to_owned(), |k| k.offered.to_string()),
            Some(kpi) => cutover::show(kpi, k.and_then(|k| cutover::value(k, kpi))),
        };
        print!("{name:<16} {:>10}", cell(p.baseline.as_ref()));
        for day in &p.days {
            print!(" {:>10}", cell(day.kpis.as_ref()));
        }
        println!();
    }
    if p.baseline.is_none() {
        println!("no baseline: import the legacy history with `switchboard migrate history` first");
    }
}

fn print_gate(p: &Picture) {
    let Some(ix) = p.current else {
        println!("next: phase {} (no gate before the first phase)", p.plan.phases[0].id.as_str());
        print_blocking(&p.plan, 0);
        return;
    };
    let phase = &p.plan.phases[ix];
    match (&phase.gate, &p.verdict) {
        (Some(gate), Some(verdict)) => {
            let conditions: Vec<&str> = gate.conditions.iter().map(|c| c.text.as_str()).collect();
            println!(
                "gate of {}: {} on each of the last {} whole days, each with {} calls or more",
                phase.id.as_str(),
                conditions.join(", "),
                gate.days,
                gate.min_calls
            );
            if verdict.passed {
                println!("  PASSED");
            } else {
                println!("  NOT PASSED");
                for reason in &verdict.reasons {
                    println!("  - {reason}");
                }
            }
        }
        _ => println!("gate of {}: none", phase.id.as_str()),
    }
    match p.plan.phases.get(ix + 1) {
        Some(next) => {
            println!("next: phase {} ({}% to Switchboard)", next.id.as_str(), next.switchboard_percent);
            print_blocking(&p.plan, ix + 1);
        }
        None => println!("this is the last phase"),
    }
}

fn print_blocking(plan: &sb_config::MigrationPlan, phase: usize) {
    for item in plan.blocking(phase) {
        println!("  blocked by readiness step {} ({}, {})", item.step.name(), item.owner, item.status.name());
    }
}

fn print_readiness(plan: &sb_config::MigrationPlan) {
    println!("readiness:");
    for item in &plan.readiness {
        let mark = match item.status {
            sb_config::StepStatus::Done => "[x]",
            sb_config::StepStatus::InProgress => "[~]",
            sb_config::StepStatus::Todo => "[ ]",
        };
        let blocks = item.blocks.map(|b| format!(", blocks {}", plan.phases[b].id.as_str())).unwrap_or_default();
        let note = item.note.as_deref().map(|n| format!(": {n}")).unwrap_or_default();
        println!("  {mark} {:<27} {} ({}{blocks}){note}", item.step.name(), item.owner, item.status.name());
    }
}

/// The gate's KPIs day by day (service level and abandon rate), with the baseline faint.
fn status_chart(path: &Path, p: &Picture) -> Result<(), String> {
    use sb_config::Kpi;
    let series = [Kpi::ServiceLevel, Kpi::AbandonRate]
        .iter()
        .enumerate()
        .flat_map(|(i, kpi)| {
            let color = sb_charts::PALETTE[i % sb_charts::PALETTE.len()];
            let points: Vec<(f64, f64)> = p
                .days
                .iter()
                .enumerate()
                .filter_map(|(d, day)| Some((d as f64, cutover::value(day.kpis.as_ref()?, *kpi)?)))
                .collect();
            let mut out = vec![sb_charts::Series { name: kpi.name().replace('_', " "), points, color, faint: false }];
            if let Some(b) = p.baseline.as_ref().and_then(|b| cutover::value(b, *kpi)) {
                let end = p.days.len().max(1) as f64 - 1.0;
                let name = format!("{} (legacy baseline)", kpi.name().replace('_', " "));
                out.push(sb_charts::Series { name, points: vec![(0.0, b), (end, b)], color, faint: true });
            }
            out
        })
        .collect();
    let panel = sb_charts::Panel {
        caption: "Switchboard per whole day of the phase, against the legacy baseline (faint)".into(),
        y_label: "%".into(),
        y_max: Some(100.0),
        series,
    };
    let dates: Vec<String> = p.days.iter().map(|d| d.date.strftime("%m-%d").to_string()).collect();
    let label = move |v: f64| dates.get(v.round() as usize).cloned().unwrap_or_default();
    sb_charts::render(path, &[panel], p.days.len().max(1) as f64, &label)
}

/// Runs `switchboard migrate advance`: the next phase starts if the current phase's gate
/// passes and no readiness step blocks it. Exit status 1 when it may not.
pub fn advance(args: AdvanceArgs) -> anyhow::Result<std::process::ExitCode> {
    let p = picture(&args.plan)?;
    let next = p.current.map_or(0, |ix| ix + 1);
    let Some(phase) = p.plan.phases.get(next) else {
        anyhow::bail!("the migration is in its last phase already");
    };
    let mut refusals = Vec::new();
    if p.state.rolled_back {
        refusals.push("the migration is rolled back; `switchboard migrate resume` it first".to_owned());
    }
    if let (Some(ix), Some(verdict)) = (p.current, &p.verdict)
        && !verdict.passed
    {
        refusals.push(format!("the gate of phase {} has not passed:", p.plan.phases[ix].id.as_str()));
        refusals.extend(verdict.reasons.iter().map(|r| format!("  {r}")));
    }
    for item in p.plan.blocking(next) {
        refusals.push(format!("readiness step {} is {} (owner {})", item.step.name(), item.status.name(), item.owner));
    }
    if phase.switchboard_percent < 100 && p.config.voice.split.is_none() {
        refusals.push(format!(
            "phase {} sends {}% of the calls to the legacy PBX, but {} has no voice.split naming its trunk",
            phase.id.as_str(),
            100 - phase.switchboard_percent,
            args.plan.config.display()
        ));
    }
    if !refusals.is_empty() {
        println!("phase {} may not start yet:", phase.id.as_str());
        for refusal in refusals {
            println!("  {refusal}");
        }
        return Ok(std::process::ExitCode::FAILURE);
    }
    let verdict = match p.current {
        None => "the first phase".to_owned(),
        Some(ix) if p.plan.phases[ix].gate.is_none() => format!("phase {} has no gate", p.plan.phases[ix].id.as_str()),
        Some(ix) => format!("the gate of phase {} passed", p.plan.phases[ix].id.as_str()),
    };
    let reason = if args.reason.trim().is_empty() { verdict } else { format!("{verdict}; {}", args.reason) };
    let agents: Vec<&str> = phase.agents.iter().map(|a| p.config.agent(*a).id.as_str()).collect();
    let body = serde_json::json!({
        "phase": phase.id.as_str(),
        "switchboard_percent": phase.switchboard_percent,
        "agents": agents,
        "reason": reason,
    });
    call(&args.plan.server, "PUT", "/api/v1/migration/phase", Some(body))?;
    println!(
        "phase {} started ({reason}): Switchboard answers {}% of new calls from now on",
        phase.id.as_str(),
        phase.switchboard_percent
    );
    if !agents.is_empty() {
        println!("pilot agents: {}; no other agent may become available", agents.join(", "));
    }
    Ok(std::process::ExitCode::SUCCESS)
}
