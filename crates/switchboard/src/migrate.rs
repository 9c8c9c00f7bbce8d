//! `switchboard migrate ...`: moving a legacy contact center onto Switchboard.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Asterisk: queues.conf (app_queue) to a tenant file. Queues become voice queues with a
    /// skill of the same id, members become agents, penalties proficiencies; the report
    /// says what was approximated or left out, line by line.
    Asterisk(AsteriskArgs),
}

#[derive(Debug, Args)]
pub struct AsteriskArgs {
    /// Asterisk's queues.conf.
    #[arg(long, value_name = "FILE")]
    queues: PathBuf,
    /// The new tenant's id (lowercase letters, digits and '-').
    #[arg(long, value_name = "ID")]
    tenant_id: String,
    /// The new tenant's display name; the id when left out.
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// The tenant's time zone (IANA name, such as Europe/Berlin).
    #[arg(long, value_name = "ZONE", default_value = "UTC")]
    time_zone: String,
    /// Where to write the tenant file (YAML).
    #[arg(long, short = 'o', value_name = "FILE")]
    out: PathBuf,
    /// Where to write the translation report as well (it is always printed).
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
    /// Replace the output files if they exist.
    #[arg(long)]
    force: bool,
}

/// Runs `switchboard migrate import asterisk`.
pub fn import(command: ImportCommand) -> anyhow::Result<()> {
    let ImportCommand::Asterisk(args) = command;
    let text = std::fs::read_to_string(&args.queues).with_context(|| format!("reading {}", args.queues.display()))?;
    let tenant = sb_migrate::TenantInfo {
        name: args.name.clone().unwrap_or_else(|| args.tenant_id.clone()),
        id: args.tenant_id.clone(),
        time_zone: args.time_zone.clone(),
    };
    let file = args.queues.display().to_string();
    let import = sb_migrate::asterisk::import_queues(&file, &text, &tenant);
    // The tenant file must load before it is written: a bad tenant id or time zone is the
    // user's to fix, anything else is a bug of the importer.
    let out = args.out.display().to_string();
    let (config, _) = sb_config::parse(&out, &import.tenant_yaml)
        .map_err(|report| anyhow::anyhow!("the imported tenant does not load:\n{report}"))?;
    refuse_to_overwrite(&args.out, args.force)?;
    std::fs::write(&args.out, &import.tenant_yaml).with_context(|| format!("writing {out}"))?;
    if let Some(path) = &args.report {
        refuse_to_overwrite(path, args.force)?;
        std::fs::write(path, format!("{}\n", import.report)).with_context(|| format!("writing {}", path.display()))?;
    }
    println!("{}", import.report);
    println!("{out}: {}", config.summary());
    Ok(())
}

fn refuse_to_overwrite(path: &Path, force: bool) -> anyhow::Result<()> {
    if path.exists() && !force {
        anyhow::bail!("{} exists; pass --force to replace it", path.display());
    }
    Ok(())
}

#[derive(Debug, Subcommand)]
pub enum HistoryCommand {
    /// Asterisk's queue_log: each stay of a call in a queue (arrival, wait, answer or
    /// abandon, talk time, agent, caller, number dialled) into the tenant's store. Run
    /// again, or after an interruption, it adds nothing twice.
    Asterisk(QueueLogArgs),
}

#[derive(Debug, Args)]
pub struct QueueLogArgs {
    /// The queue_log file.
    #[arg(long, value_name = "FILE")]
    queue_log: PathBuf,
    /// The store, as for `switchboard serve --database`.
    #[arg(long, short = 'd', value_name = "ADDRESS", default_value = "switchboard.db")]
    database: String,
    /// The tenant the history belongs to.
    #[arg(long, value_name = "ID")]
    tenant: String,
    /// Where to write the report of rejected lines and calls left out (it is summed up on
    /// the terminal).
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
}

/// Runs `switchboard migrate history asterisk`.
pub fn history(command: HistoryCommand) -> anyhow::Result<()> {
    use std::io::BufRead as _;
    let HistoryCommand::Asterisk(args) = command;
    let file = std::fs::File::open(&args.queue_log).with_context(|| format!("reading {}", args.queue_log.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let name = args.queue_log.display().to_string();
    let mut report = sb_migrate::Report::default();
    let mut log = sb_migrate::queue_log::QueueLog::new(&name);
    let mut bars = crate::progress::PhaseBars::default();
    bars.phase("reading the queue_log (bytes)", size);
    let mut reader = std::io::BufReader::new(file);
    let mut line = String::new();
    let mut number = 0;
    loop {
        line.clear();
        let read = reader.read_line(&mut line).with_context(|| format!("reading {name}"))?;
        if read == 0 {
            break;
        }
        number += 1;
        log.push(number, &line, &mut report);
        bars.advance(read as u64);
    }
    let (lines, other, rings) = (log.lines, log.other_events, log.unanswered_rings);
    let contacts = log.finish(&mut report);
    let mut store =
        sb_storage::open(&args.database).with_context(|| format!("opening the database {}", args.database))?;
    bars.phase("storing the calls' stays", contacts.len() as u64);
    let mut new = 0;
    for chunk in contacts.chunks(5000) {
        let rows: Vec<sb_storage::LegacyRow> = chunk.iter().map(row_of).collect();
        new += store.put_legacy(&args.tenant, "asterisk-queue_log", &rows).context("storing the history")?;
        bars.advance(chunk.len() as u64);
    }
    bars.finish();
    if let Some(path) = &args.report {
        std::fs::write(path, format!("{report}\n")).with_context(|| format!("writing {}", path.display()))?;
    }
    let rejected = report.count(sb_migrate::Outcome::Rejected);
    let left_out = report.count(sb_migrate::Outcome::NotTranslated);
    for item in report.items.iter().filter(|i| i.outcome == sb_migrate::Outcome::Rejected).take(10) {
        let at = item.source.as_ref().map(|(f, l)| format!("{f}:{l}: ")).unwrap_or_default();
        println!("rejected: {at}{}: {}", item.object, item.detail);
    }
    println!(
        "{name}: {lines} lines, {} stays in queues ({new} new, {} already stored), {rings} unanswered rings, \
         {other} agent and system events, {rejected} lines rejected, {left_out} calls or events left out",
        contacts.len(),
        contacts.len() as u64 - new,
    );
    Ok(())
}

fn row_of(c: &sb_migrate::history::LegacyContact) -> sb_storage::LegacyRow {
    sb_storage::LegacyRow {
        id: c.id.clone(),
        queue: c.queue.clone(),
        caller: c.caller.clone(),
        dnis: c.dnis.clone(),
        arrived_ms: c.arrived_ms,
        wait_ms: c.wait_ms,
        talk_ms: c.talk_ms,
        agent: c.agent.clone(),
        outcome: c.outcome.name().to_owned(),
    }
}

#[derive(Debug, Args)]
pub struct BaselineArgs {
    /// The store the history was imported into.
    #[arg(long, short = 'd', value_name = "ADDRESS", default_value = "switchboard.db")]
    database: String,
    /// The tenant.
    #[arg(long, value_name = "ID")]
    tenant: String,
    /// The length of an interval, in minutes.
    #[arg(long, value_name = "MINUTES", default_value_t = 30)]
    interval_minutes: u32,
    /// The service-level threshold: answered within this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 20)]
    within_seconds: u32,
    /// Where to write baseline.csv and baseline.svg.
    #[arg(long, short = 'o', value_name = "DIR", default_value = ".")]
    out: PathBuf,
}

/// Runs `switchboard migrate baseline`.
pub fn baseline(args: BaselineArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.interval_minutes > 0, "--interval-minutes must be at least 1");
    let mut store =
        sb_storage::open(&args.database).with_context(|| format!("opening the database {}", args.database))?;
    let rows = store.legacy(&args.tenant).context("reading the imported history")?;
    anyhow::ensure!(
        !rows.is_empty(),
        "tenant {} has no imported history; run `switchboard migrate history` first",
        args.tenant
    );
    let contacts: Vec<sb_migrate::history::LegacyContact> = rows
        .into_iter()
        .filter_map(|r| {
            Some(sb_migrate::history::LegacyContact {
                outcome: sb_migrate::history::Outcome::parse(&r.outcome)?,
                id: r.id,
                queue: r.queue,
                caller: r.caller,
                dnis: r.dnis,
                arrived_ms: r.arrived_ms,
                wait_ms: r.wait_ms,
                talk_ms: r.talk_ms,
                agent: r.agent,
            })
        })
        .collect();
    let definitions = sb_migrate::history::Definitions {
        interval_ms: i64::from(args.interval_minutes) * 60_000,
        within_ms: i64::from(args.within_seconds) * 1000,
        ..sb_migrate::history::Definitions::default()
    };
    let kpis = sb_migrate::history::baseline(&contacts, &definitions);
    std::fs::create_dir_all(&args.out).with_context(|| format!("creating {}", args.out.display()))?;
    let csv = args.out.join("baseline.csv");
    std::fs::write(&csv, baseline_csv(&kpis)).with_context(|| format!("writing {}", csv.display()))?;
    let svg = args.out.join("baseline.svg");
    baseline_chart(&svg, &kpis, &definitions).map_err(|e| anyhow::anyhow!("drawing {}: {e}", svg.display()))?;
    let pct = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{:.1}%", v * 100.0));
    let secs = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.0}s"));
    println!(
        "{:<20} {:>8} {:>8} {:>9} {:>9} {:>7} {:>7} {:>7}",
        "queue", "offered", "answered", "abandoned", "SL", "ASA", "AHT", "FCR"
    );
    for k in kpis.iter().filter(|k| k.interval_ms.is_none()) {
        println!(
            "{:<20} {:>8} {:>8} {:>9} {:>9} {:>7} {:>7} {:>7}",
            k.queue,
            k.offered,
            k.answered,
            k.abandoned,
            pct(k.service_level),
            secs(k.asa_s),
            secs(k.aht_s),
            pct(k.fcr)
        );
    }
    println!("definitions: {}", definitions.describe());
    println!("per interval: {} and {}", csv.display(), svg.display());
    Ok(())
}

fn baseline_csv(kpis: &[sb_migrate::history::Kpis]) -> String {
    let mut out = String::from("queue,interval_start_ms,offered,answered,abandoned,service_level,asa_s,aht_s,fcr\n");
    let opt = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:.4}"));
    for k in kpis {
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{}\n",
            k.queue,
            k.interval_ms.map_or("total".to_owned(), |i| i.to_string()),
            k.offered,
            k.answered,
            k.abandoned,
            opt(k.service_level),
            opt(k.asa_s),
            opt(k.aht_s),
            opt(k.fcr)
        ));
    }
    out
}

/// Offered calls and service level per interval, one line per queue.
fn baseline_chart(
    path: &Path,
    kpis: &[sb_migrate::history::Kpis],
    definitions: &sb_migrate::history::Definitions,
) -> Result<(), String> {
    let start = kpis.iter().filter_map(|k| k.interval_ms).min().unwrap_or(0);
    let end = kpis.iter().filter_map(|k| k.interval_ms).max().unwrap_or(0);
    let step = definitions.interval_ms;
    let x = |ms: i64| ((ms - start) / step) as f64;
    let mut queues: Vec<&str> = kpis.iter().map(|k| k.queue.as_str()).collect();
    queues.dedup();
    let series = |value: &dyn Fn(&sb_migrate::history::Kpis) -> Option<f64>| -> Vec<sb_charts::Series> {
        queues
            .iter()
            .enumerate()
            .map(|(i, queue)| sb_charts::Series {
                name: (*queue).to_owned(),
                points: kpis
                    .iter()
                    .filter(|k| k.queue == *queue)
                    .filter_map(|k| Some((x(k.interval_ms?), value(k)?)))
                    .collect(),
                color: sb_charts::PALETTE[i % sb_charts::PALETTE.len()],
                faint: false,
            })
            .collect()
    };
    let panels = [
        sb_charts::Panel {
            caption: "Offered calls per interval (legacy baseline)".into(),
            y_label: "calls".into(),
            y_max: None,
            series: series(&|k| Some(k.offered as f64)),
        },
        sb_charts::Panel {
            caption: format!("Service level (answered within {}s)", definitions.within_ms / 1000),
            y_label: "%".into(),
            y_max: Some(100.0),
            series: series(&|k| k.service_level.map(|v| v * 100.0)),
        },
    ];
    let label = move |v: f64| {
        let ms = start + (v as i64) * step;
        let minutes = ms.div_euclid(60_000).rem_euclid(24 * 60);
        format!("{:02}:{:02}", minutes / 60, minutes % 60)
    };
    sb_charts::render(path, &panels, x(end) + 1.0, &label)
}
