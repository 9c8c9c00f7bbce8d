//! `switchboard migrate ...`: moving a legacy contact center onto Switchboard.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::{Args, Subcommand};

pub(crate) fn refuse_to_overwrite(path: &Path, force: bool) -> anyhow::Result<()> {
    if path.exists() && !force {
        anyhow::bail!("{} exists; pass --force to replace it", path.display());
    }
    Ok(())
}

#[derive(Debug, Subcommand)]
pub enum HistoryCommand {
    /// Asterisk's queue_log: each stay of a call in a queue (arrival, wait, answer or
    /// abandon, talk time, agent, caller, number dialled) into the tenant's store; and
    /// Master.csv's queue calls that the queue_log lacks (without queue times). Run again,
    /// or after an interruption, it adds nothing twice.
    Asterisk(QueueLogArgs),
    /// Cisco Unified CM CDR files: each call through a hunt pilot is a stay in the queue of
    /// that pilot (native call queuing: wasCallQueued, totalWaitTimeInQueue). Idempotent.
    Cucm(CucmArgs),
    /// Avaya CMS interval history: the historical split/skill table (hsplit) exported as
    /// CSV; each skill's interval figures (offered, answered, abandoned, acceptable, times)
    /// for the baseline and the gates. Idempotent.
    Cms(CmsArgs),
    /// Avaya CM call detail records in the customized format, read with the layout of
    /// `display system-parameters cdr`: incoming calls to VDNs as stays without queue times
    /// (volumes and FCR; CMS gives the service level). Idempotent.
    AvayaCdr(AvayaCdrArgs),
}

/// Where imported history goes.
#[derive(Debug, Args)]
pub struct HistoryOut {
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
    /// Store a legacy queue's calls under a new queue's id, such as 5000=sales (a hunt
    /// pilot) or "Sales Team=sales"; repeat for each queue. Other queues keep their names.
    #[arg(long, value_name = "LEGACY=QUEUE")]
    queue_map: Vec<String>,
}

impl HistoryOut {
    fn map(&self) -> anyhow::Result<std::collections::HashMap<String, String>> {
        self.queue_map
            .iter()
            .map(|pair| match pair.split_once('=') {
                Some((legacy, queue)) if !legacy.trim().is_empty() && !queue.trim().is_empty() => {
                    Ok((legacy.trim().to_owned(), queue.trim().to_owned()))
                }
                _ => anyhow::bail!("--queue-map {pair:?}: expected LEGACY=QUEUE, such as 5000=sales"),
            })
            .collect()
    }
}

#[derive(Debug, Args)]
pub struct QueueLogArgs {
    /// The queue_log file.
    #[arg(long, value_name = "FILE", required_unless_present = "master_csv")]
    queue_log: Option<PathBuf>,
    /// Master.csv (cdr_csv): calls whose last application was Queue, counted for volumes
    /// and FCR; those the queue_log has already (the same uniqueid) are left out.
    #[arg(long, value_name = "FILE")]
    master_csv: Option<PathBuf>,
    /// The time zone of Master.csv's times (the Asterisk server's).
    #[arg(long, value_name = "ZONE", default_value = "UTC")]
    time_zone: String,
    /// Master.csv was written with cdr.conf's loguniqueid=yes: its 17th field is the call's
    /// uniqueid, which joins the parties of a call and matches the queue_log's calls. Needed
    /// when a queue_log is imported too, so that no call counts twice.
    #[arg(long)]
    loguniqueid: bool,
    #[command(flatten)]
    out: HistoryOut,
}

#[derive(Debug, Args)]
pub struct CucmArgs {
    /// CDR files (cdr_CLUSTER_NODE_YYYYMMDDHHMM_SEQ), as many as the shell gives.
    #[arg(value_name = "FILE", required = true)]
    files: Vec<PathBuf>,
    #[command(flatten)]
    out: HistoryOut,
}

#[derive(Debug, Args)]
pub struct CmsArgs {
    /// The hsplit export (CSV with a header row: row_date, starttime, intrvl, split,
    /// callsoffered, acdcalls, abncalls, acdtime, anstime, acceptable, servicelevel, ...).
    #[arg(long, value_name = "FILE")]
    hsplit: PathBuf,
    /// The time zone CMS's dates and times are in (IANA name).
    #[arg(long, value_name = "ZONE", default_value = "UTC")]
    time_zone: String,
    #[command(flatten)]
    out: HistoryOut,
}

#[derive(Debug, Args)]
pub struct AvayaCdrArgs {
    /// The capture of `display system-parameters cdr` (both pages): the record layout and
    /// the date format.
    #[arg(long, value_name = "FILE")]
    layout: PathBuf,
    /// The CDR records, one per line, as the CDR collector wrote them.
    #[arg(long, value_name = "FILE")]
    cdr: PathBuf,
    /// The time zone of the records' dates and times (the switch's).
    #[arg(long, value_name = "ZONE", default_value = "UTC")]
    time_zone: String,
    #[command(flatten)]
    out: HistoryOut,
}

/// Runs `switchboard migrate history ...`.
pub fn history(command: HistoryCommand) -> anyhow::Result<()> {
    match command {
        HistoryCommand::Asterisk(args) => queue_log(args),
        HistoryCommand::Cucm(args) => cucm(args),
        HistoryCommand::Cms(args) => cms(args),
        HistoryCommand::AvayaCdr(args) => avaya_cdr(args),
    }
}

fn avaya_cdr(args: AvayaCdrArgs) -> anyhow::Result<()> {
    let map = args.out.map()?;
    let tz = time_zone(&args.time_zone)?;
    let layout_name = args.layout.display().to_string();
    let layout_text = std::fs::read_to_string(&args.layout).with_context(|| format!("reading {layout_name}"))?;
    let layout = sb_migrate::avaya_cdr::layout(&layout_name, &layout_text).map_err(|e| anyhow::anyhow!(e))?;
    let name = args.cdr.display().to_string();
    let text = std::fs::read_to_string(&args.cdr).with_context(|| format!("reading {name}"))?;
    let mut report = sb_migrate::Report::default();
    let (stays, counts) = sb_migrate::avaya_cdr::import_cdr(&name, &text, &layout, &tz, &mut report);
    let mut bars = crate::progress::PhaseBars::default();
    let new = store_stays(&args.out, &map, "avaya-cdr", &stays, &report, &mut bars, false)?;
    println!(
        "{name}: {} records, {} calls to VDNs ({new} new, {} already stored), {} other records left out, \
         {} lines rejected; CDRs hold no queue times, so these calls count for volumes and FCR, not for the \
         service level or the ASA",
        counts.records,
        stays.len(),
        stays.len() as u64 - new,
        counts.other,
        counts.rejected,
    );
    Ok(())
}

fn cms(args: CmsArgs) -> anyhow::Result<()> {
    let map = args.out.map()?;
    let tz = time_zone(&args.time_zone)?;
    let name = args.hsplit.display().to_string();
    let text = std::fs::read_to_string(&args.hsplit).with_context(|| format!("reading {name}"))?;
    let mut report = sb_migrate::Report::default();
    let records = sb_migrate::cms::import_hsplit(&name, &text, &tz, &mut report);
    let mut store =
        sb_storage::open(&args.out.database).with_context(|| format!("opening the database {}", args.out.database))?;
    // Each skill's rows are kept apart (the skill is in the source), so that skills mapped to
    // one queue add up when read, also across imports.
    let count = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    let mut by_source: std::collections::BTreeMap<String, Vec<sb_storage::IntervalRow>> =
        std::collections::BTreeMap::new();
    for r in &records {
        by_source.entry(format!("avaya-cms-hsplit:{}", r.queue)).or_default().push(sb_storage::IntervalRow {
            queue: map.get(&r.queue).unwrap_or(&r.queue).clone(),
            start_ms: r.start_ms,
            minutes: i64::from(r.minutes),
            offered: count(r.offered),
            answered: count(r.answered),
            abandoned: count(r.abandoned),
            answered_within: count(r.answered_within),
            within_s: i64::from(r.within_s),
            answer_s: count(r.answer_s),
            talk_s: count(r.talk_s),
        });
    }
    let mut bars = crate::progress::PhaseBars::default();
    bars.phase("storing the interval figures", records.len() as u64);
    let mut new = 0;
    for (source, rows) in &by_source {
        for chunk in rows.chunks(5000) {
            new += store.put_legacy_intervals(&args.out.tenant, source, chunk).context("storing the history")?;
            bars.advance(chunk.len() as u64);
        }
    }
    bars.finish();
    if let Some(path) = &args.out.report {
        std::fs::write(path, format!("{report}\n")).with_context(|| format!("writing {}", path.display()))?;
    }
    print_rejected(&report);
    let calls: u64 = records.iter().map(|r| r.offered).sum();
    println!(
        "{name}: {} interval rows ({new} new, {} already stored), {calls} calls offered, {} rows rejected",
        records.len(),
        records.len() as u64 - new,
        report.count(sb_migrate::Outcome::Rejected)
    );
    Ok(())
}

/// A stored interval row as a record.
pub(crate) fn interval_of(r: sb_storage::IntervalRow) -> sb_migrate::history::IntervalRecord {
    let count = |v: i64| v.max(0) as u64;
    sb_migrate::history::IntervalRecord {
        queue: r.queue,
        start_ms: r.start_ms,
        minutes: r.minutes.clamp(0, 1440) as u32,
        offered: count(r.offered),
        answered: count(r.answered),
        abandoned: count(r.abandoned),
        answered_within: count(r.answered_within),
        within_s: r.within_s.clamp(0, i64::from(u32::MAX)) as u32,
        answer_s: count(r.answer_s),
        talk_s: count(r.talk_s),
    }
}

fn queue_log(args: QueueLogArgs) -> anyhow::Result<()> {
    if let Some(path) = &args.queue_log {
        read_queue_log(path, &args.out)?;
    }
    if let Some(path) = &args.master_csv {
        master_csv(path, &args)?;
    }
    Ok(())
}

fn master_csv(path: &Path, args: &QueueLogArgs) -> anyhow::Result<()> {
    let map = args.out.map()?;
    let tz = time_zone(&args.time_zone)?;
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {name}"))?;
    let mut report = sb_migrate::Report::default();
    // Calls the queue_log gave already: its stays are "CALLID#N".
    let mut store =
        sb_storage::open(&args.out.database).with_context(|| format!("opening the database {}", args.out.database))?;
    let logged: std::collections::HashSet<String> = store
        .legacy(&args.out.tenant)
        .context("reading the imported history")?
        .into_iter()
        .filter_map(|r| r.id.split_once('#').map(|(call, _)| call.to_owned()))
        .collect();
    drop(store);
    anyhow::ensure!(
        args.loguniqueid || (logged.is_empty() && args.queue_log.is_none()),
        "the tenant has queue_log history, and Master.csv can only be matched with it by uniqueid: \
         write Master.csv with loguniqueid=yes in cdr.conf and pass --loguniqueid, or import only one of the two"
    );
    let (stays, counts) = sb_migrate::cdr_csv::import_master_csv(&name, &text, &tz, args.loguniqueid, &mut report);
    let (known, fresh): (Vec<_>, Vec<_>) = stays.into_iter().partition(|s| logged.contains(&s.id));
    let mut bars = crate::progress::PhaseBars::default();
    let new =
        store_stays(&args.out, &map, "asterisk-master_csv", &fresh, &report, &mut bars, args.queue_log.is_some())?;
    println!(
        "{name}: {} records, {} queue calls ({} in the queue_log already, {new} new, {} already stored), \
         {} calls through no queue, {} lines rejected; CDRs hold no queue times, so these calls count for \
         volumes and FCR, not for the service level or the ASA",
        counts.records,
        known.len() + fresh.len(),
        known.len(),
        fresh.len() as u64 - new,
        counts.not_queued,
        counts.rejected,
    );
    Ok(())
}

fn read_queue_log(path: &Path, out: &HistoryOut) -> anyhow::Result<()> {
    use std::io::BufRead as _;
    let map = out.map()?;
    let file = std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let name = path.display().to_string();
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
    let new = store_stays(out, &map, "asterisk-queue_log", &contacts, &report, &mut bars, false)?;
    println!(
        "{name}: {lines} lines, {} stays in queues ({new} new, {} already stored), {rings} unanswered rings, \
         {other} agent and system events, {} lines rejected, {} calls or events left out",
        contacts.len(),
        contacts.len() as u64 - new,
        report.count(sb_migrate::Outcome::Rejected),
        report.count(sb_migrate::Outcome::NotTranslated),
    );
    Ok(())
}

fn cucm(args: CucmArgs) -> anyhow::Result<()> {
    let map = args.out.map()?;
    let mut report = sb_migrate::Report::default();
    let mut bars = crate::progress::PhaseBars::default();
    bars.phase("reading the CDR files", args.files.len() as u64);
    let mut contacts = Vec::new();
    let mut counts = sb_migrate::cucm::Counts::default();
    for path in &args.files {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let (stays, c) = sb_migrate::cucm::import_cdr(&path.display().to_string(), &text, &mut report);
        contacts.extend(stays);
        counts.records += c.records;
        counts.skipped += c.skipped;
        counts.rejected += c.rejected;
        bars.advance(1);
    }
    let new = store_stays(&args.out, &map, "cucm-cdr", &contacts, &report, &mut bars, false)?;
    println!(
        "{} files: {} records, {} calls through a hunt pilot ({new} new, {} already stored), \
         {} other records left out, {} lines rejected",
        args.files.len(),
        counts.records,
        contacts.len(),
        contacts.len() as u64 - new,
        counts.skipped,
        counts.rejected,
    );
    Ok(())
}

/// The `--time-zone` given.
fn time_zone(name: &str) -> anyhow::Result<jiff::tz::TimeZone> {
    jiff::tz::TimeZone::get(name)
        .map_err(|_| anyhow::anyhow!("--time-zone {name:?} is not an IANA time zone such as Europe/Berlin"))
}

/// The first rejected lines of an import, on the terminal (all of them go to --report).
fn print_rejected(report: &sb_migrate::Report) {
    for item in report.items.iter().filter(|i| i.outcome == sb_migrate::Outcome::Rejected).take(10) {
        let at = item.source.as_ref().map(|(f, l)| format!("{f}:{l}: ")).unwrap_or_default();
        println!("rejected: {at}{}: {}", item.object, item.detail);
    }
}

/// Stores `contacts` from `source` (queues renamed by `map`), writes and sums up the report;
/// returns how many were new.
fn store_stays(
    out: &HistoryOut,
    map: &std::collections::HashMap<String, String>,
    source: &str,
    contacts: &[sb_migrate::history::LegacyContact],
    report: &sb_migrate::Report,
    bars: &mut crate::progress::PhaseBars,
    append_report: bool,
) -> anyhow::Result<u64> {
    let mut store =
        sb_storage::open(&out.database).with_context(|| format!("opening the database {}", out.database))?;
    bars.phase("storing the calls' stays", contacts.len() as u64);
    let mut new = 0;
    for chunk in contacts.chunks(5000) {
        let rows: Vec<sb_storage::LegacyRow> = chunk
            .iter()
            .map(|c| {
                let mut row = row_of(c);
                if let Some(queue) = map.get(&row.queue) {
                    row.queue.clone_from(queue);
                }
                row
            })
            .collect();
        new += store.put_legacy(&out.tenant, source, &rows).context("storing the history")?;
        bars.advance(chunk.len() as u64);
    }
    bars.finish();
    if let Some(path) = &out.report {
        use std::io::Write as _;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .append(append_report)
            .truncate(!append_report)
            .open(path)
            .with_context(|| format!("writing {}", path.display()))?;
        writeln!(file, "{report}").with_context(|| format!("writing {}", path.display()))?;
    }
    print_rejected(report);
    Ok(new)
}

/// A stored legacy stay, or `None` if its outcome is not one this version knows.
pub(crate) fn contact_of(r: sb_storage::LegacyRow) -> Option<sb_migrate::history::LegacyContact> {
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
    let intervals: Vec<sb_migrate::history::IntervalRecord> = store
        .legacy_intervals(&args.tenant)
        .context("reading the imported history")?
        .into_iter()
        .map(interval_of)
        .collect();
    anyhow::ensure!(
        !rows.is_empty() || !intervals.is_empty(),
        "tenant {} has no imported history; run `switchboard migrate history` first",
        args.tenant
    );
    let contacts = sb_migrate::history::without_duplicates(rows.into_iter().filter_map(contact_of).collect());
    let definitions = sb_migrate::history::Definitions {
        interval_ms: i64::from(args.interval_minutes) * 60_000,
        within_ms: i64::from(args.within_seconds) * 1000,
        ..sb_migrate::history::Definitions::default()
    };
    let kpis = sb_migrate::history::baseline_with(&contacts, &intervals, &definitions);
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
    if !intervals.is_empty() {
        let thresholds: std::collections::BTreeSet<u32> = intervals.iter().map(|r| r.within_s).collect();
        let thresholds: Vec<String> = thresholds.iter().map(|t| format!("{t}s")).collect();
        println!(
            "interval figures (Avaya CMS): service level is acceptable / offered at CMS's own threshold ({}), \
             with no short abandons left out; AHT is talk time (acdtime); calls count in the interval they ended",
            thresholds.join(", ")
        );
    }
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

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The new configuration (the tenant file), whose queues have the legacy queues' ids.
    #[arg(long, short = 'c', value_name = "FILE")]
    config: PathBuf,
    /// The store the history was imported into.
    #[arg(long, short = 'd', value_name = "ADDRESS", default_value = "switchboard.db")]
    database: String,
    /// Who of the new configuration's agents is logged in when (YAML: shifts with agents,
    /// days and hours, in the tenant's time zone); every agent all the time when left out,
    /// which flatters the new configuration.
    #[arg(long, value_name = "FILE")]
    roster: Option<PathBuf>,
    /// The tenant whose history is replayed; the configuration's id when left out.
    #[arg(long, value_name = "ID")]
    tenant: Option<String>,
    /// Load multipliers to replay at: 1 is the recorded traffic, 1.5 adds half as many calls
    /// again (copies of recorded calls, moved within their half hour).
    #[arg(long, value_delimiter = ',', default_value = "1,1.5,2")]
    stress: Vec<f64>,
    /// Seed of the copies' times and of the simulated handle times and patience.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Where to write replay.csv and replay.svg.
    #[arg(long, short = 'o', value_name = "DIR", default_value = ".")]
    out: PathBuf,
}

/// One queue's figures in the comparison.
struct Figures {
    offered: u64,
    service_level: Option<f64>,
    asa_s: Option<f64>,
    abandon_rate: Option<f64>,
}

/// Runs `switchboard migrate replay`.
pub fn replay(args: ReplayArgs) -> anyhow::Result<()> {
    use sb_migrate::history;
    anyhow::ensure!(
        !args.stress.is_empty() && args.stress.iter().all(|m| *m > 0.0 && *m <= 10.0),
        "--stress takes multipliers from 0 to 10, such as 1,1.5,2"
    );
    let config = sb_config::load(&args.config).map_err(|e| crate::diagnostics(e.report))?;
    let tenant_id = args.tenant.clone().unwrap_or_else(|| config.tenant.id.as_str().to_owned());
    let mut store =
        sb_storage::open(&args.database).with_context(|| format!("opening the database {}", args.database))?;
    let rows = store.legacy(&tenant_id).context("reading the imported history")?;
    let intervals = store.legacy_intervals(&tenant_id).context("reading the imported history")?.len();
    anyhow::ensure!(
        !rows.is_empty(),
        "tenant {tenant_id} has no imported calls; run `switchboard migrate history` first{}",
        if intervals > 0 {
            " (interval figures such as CMS's serve the baseline and the gates, not the replay, which needs single calls)"
        } else {
            ""
        }
    );
    if intervals > 0 {
        println!("left out: {intervals} interval rows (CMS): the replay needs single calls");
    }
    let tenant = crate::simulate::sim_tenant(&config);
    // The legacy calls of each queue the new configuration has.
    let mut by_queue: Vec<Vec<history::LegacyContact>> = vec![Vec::new(); tenant.queue_names.len()];
    let mut unknown: std::collections::BTreeMap<String, u64> = std::collections::BTreeMap::new();
    for contact in sb_migrate::history::without_duplicates(rows.into_iter().filter_map(contact_of).collect()) {
        match tenant.queue_names.iter().position(|q| *q == contact.queue) {
            Some(q) => by_queue[q].push(contact),
            None => *unknown.entry(contact.queue).or_default() += 1,
        }
    }
    for (queue, count) in &unknown {
        println!("left out: {count} legacy calls of queue {queue:?}, which the new configuration does not have");
    }
    let interval_ms: i64 = 30 * 60_000;
    let first = by_queue
        .iter()
        .flatten()
        .map(|c| c.arrived_ms)
        .min()
        .context("no legacy call is in a queue of the new configuration")?;
    let start = first.div_euclid(interval_ms) * interval_ms;
    let last = by_queue.iter().flatten().map(|c| c.arrived_ms).max().unwrap_or(start);
    let intervals = u32::try_from((last - start) / interval_ms + 1).unwrap_or(u32::MAX);
    // The legacy side, with each queue's own service-level threshold.
    let legacy: Vec<Option<Figures>> = by_queue
        .iter()
        .enumerate()
        .map(|(q, contacts)| {
            let definitions = history::Definitions {
                interval_ms,
                within_ms: tenant.service_within[q].as_millis() as i64,
                ..history::Definitions::default()
            };
            let total = history::baseline(contacts, &definitions).into_iter().find(|k| k.interval_ms.is_none())?;
            Some(Figures {
                offered: total.offered,
                service_level: total.service_level,
                asa_s: total.asa_s,
                abandon_rate: (total.offered > 0).then(|| total.abandoned as f64 / total.offered as f64),
            })
        })
        .collect();
    let shifts = match &args.roster {
        Some(path) => {
            let roster = sb_config::load_roster(path, &config).map_err(crate::diagnostics)?;
            let span_ms = i64::from(intervals) * interval_ms + 4 * 3_600_000;
            let mut shifts = roster_shifts(&roster, &config.tenant.time_zone, start, span_ms);
            if shifts.is_empty() {
                // The simulator reads no shifts as everyone always; a roster that staffs
                // none of the replay means no one, so one agent logs in after it ends.
                let after = std::time::Duration::from_millis(span_ms as u64 + 3_600_000);
                shifts.push(sb_sim::Shift { agent: sb_routing::AgentId(0), from: after, to: after * 2 });
                println!("{}: no agent is logged in during the replay", path.display());
            }
            shifts
        }
        None => Vec::new(),
    };
    let mut runs = Vec::new();
    for &m in &args.stress {
        let mut scenario = replay_scenario(&by_queue, start, interval_ms, intervals, m, args.seed);
        scenario.shifts.clone_from(&shifts);
        let result = sb_sim::run(&tenant, &scenario, args.seed);
        let figures: Vec<Figures> = (0..tenant.queue_names.len())
            .map(|q| {
                let c = result.queue_total(q);
                Figures {
                    offered: c.offered,
                    service_level: c.service_level(),
                    asa_s: c.asa(),
                    abandon_rate: c.abandon_rate(),
                }
            })
            .collect();
        runs.push((m, figures));
    }
    let pct = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{:.1}%", v * 100.0));
    let secs = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.0}s"));
    let mut csv = String::from("queue,run,offered,service_level,asa_s,abandon_rate\n");
    println!("{:<16} {:<12} {:>8} {:>8} {:>7} {:>9}", "queue", "run", "offered", "SL", "ASA", "abandoned");
    for (q, name) in tenant.queue_names.iter().enumerate() {
        let Some(old) = &legacy[q] else { continue };
        let lines =
            std::iter::once(("legacy".to_owned(), old)).chain(runs.iter().map(|(m, f)| (format!("new @{m}x"), &f[q])));
        for (run, f) in lines {
            println!(
                "{name:<16} {run:<12} {:>8} {:>8} {:>7} {:>9}",
                f.offered,
                pct(f.service_level),
                secs(f.asa_s),
                pct(f.abandon_rate)
            );
            let opt = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:.4}"));
            csv.push_str(&format!(
                "{name},{run},{},{},{},{}\n",
                f.offered,
                opt(f.service_level),
                opt(f.asa_s),
                opt(f.abandon_rate)
            ));
        }
    }
    let staffing = match &args.roster {
        Some(path) => format!("the new configuration's agents are logged in as {} says", path.display()),
        None => {
            "the new configuration's agents are all logged in for the whole replay (give --roster for real staffing)"
                .to_owned()
        }
    };
    println!(
        "{staffing}; handle times are drawn from the legacy talk times, \
         patience from an exponential fitted to the legacy waits and abandons; service level is each queue's own threshold"
    );
    std::fs::create_dir_all(&args.out).with_context(|| format!("creating {}", args.out.display()))?;
    let csv_path = args.out.join("replay.csv");
    std::fs::write(&csv_path, csv).with_context(|| format!("writing {}", csv_path.display()))?;
    let svg = args.out.join("replay.svg");
    replay_chart(&svg, &tenant.queue_names, &legacy, &runs)
        .map_err(|e| anyhow::anyhow!("drawing {}: {e}", svg.display()))?;
    println!("{} and {}", csv_path.display(), svg.display());
    Ok(())
}

/// The roster's shifts on every day of the replay, as offsets from `start_ms`.
fn roster_shifts(
    roster: &sb_config::Roster,
    tz: &jiff::tz::TimeZone,
    start_ms: i64,
    span_ms: i64,
) -> Vec<sb_sim::Shift> {
    use std::time::Duration;
    let local = |ms: i64| jiff::Timestamp::from_millisecond(ms).map(|t| t.to_zoned(tz.clone()).date()).ok();
    // The wall-clock time on that day (so that a shift keeps its hours when the clocks
    // change); 24:00 is the next day's midnight.
    let at = |date: jiff::civil::Date, minutes: u16| -> Option<i64> {
        let moment = if minutes >= 24 * 60 {
            date.tomorrow().ok()?.to_zoned(tz.clone()).ok()?
        } else {
            date.at((minutes / 60) as i8, (minutes % 60) as i8, 0, 0).to_zoned(tz.clone()).ok()?
        };
        Some(moment.timestamp().as_millisecond())
    };
    let (Some(first), Some(last)) = (local(start_ms), local(start_ms + span_ms)) else { return Vec::new() };
    let mut out = Vec::new();
    let mut date = first;
    while date <= last {
        let weekday = usize::try_from(date.weekday().to_monday_zero_offset()).unwrap_or(0);
        for shift in roster.shifts.iter().filter(|s| s.days.contains(&weekday)) {
            let (Some(from), Some(to)) = (at(date, shift.hours.start.minutes()), at(date, shift.hours.end.minutes()))
            else {
                continue;
            };
            let (from, to) = ((from - start_ms).max(0), (to - start_ms).max(0));
            if to <= from {
                continue;
            }
            for agent in &shift.agents {
                out.push(sb_sim::Shift {
                    agent: sb_routing::AgentId(agent.index() as u32),
                    from: Duration::from_millis(from as u64),
                    to: Duration::from_millis(to as u64),
                });
            }
        }
        let Ok(next) = date.tomorrow() else { break };
        date = next;
    }
    // One agent's overlapping or adjoining shifts are one: the simulator logs an agent out
    // at each shift's end.
    out.sort_by_key(|s| (s.agent.0, s.from));
    let mut merged: Vec<sb_sim::Shift> = Vec::new();
    for shift in out {
        match merged.last_mut() {
            Some(last) if last.agent == shift.agent && shift.from <= last.to => last.to = last.to.max(shift.to),
            _ => merged.push(shift),
        }
    }
    merged
}

/// The legacy arrivals of each queue as a simulation scenario at load `multiplier`: every
/// recorded call, plus copies of randomly chosen ones moved by up to a quarter hour; talk
/// times drawn from the answered calls', patience exponential with the mean that the waits
/// and abandons give (total waiting time over abandons, which counts the callers who were
/// answered before they gave up).
fn replay_scenario(
    by_queue: &[Vec<sb_migrate::history::LegacyContact>],
    start: i64,
    interval_ms: i64,
    intervals: u32,
    multiplier: f64,
    seed: u64,
) -> sb_sim::Scenario {
    use sb_migrate::history::Outcome;
    use std::time::Duration;
    let mut rng = sb_sim::Rng::new(seed ^ multiplier.to_bits());
    let streams = by_queue
        .iter()
        .enumerate()
        .filter(|(_, contacts)| !contacts.is_empty())
        .map(|(q, contacts)| {
            let mut offsets: Vec<Duration> = Vec::new();
            for c in contacts {
                let at = (c.arrived_ms - start).max(0);
                let copies = multiplier.floor() as u32 + u32::from(rng.uniform() < multiplier.fract());
                for copy in 0..copies {
                    let shift = if copy == 0 { 0 } else { ((rng.uniform() - 0.5) * interval_ms as f64 / 2.0) as i64 };
                    offsets.push(Duration::from_millis((at + shift).max(0) as u64));
                }
            }
            offsets.sort_unstable();
            let talk: Vec<Duration> =
                contacts.iter().filter_map(|c| c.talk_ms).map(|t| Duration::from_millis(t.max(0) as u64)).collect();
            // Only stays with a known wait tell the patience.
            let abandons =
                contacts.iter().filter(|c| c.outcome == Outcome::Abandoned && c.wait_ms.is_some()).count() as u64;
            let waited: i64 = contacts.iter().filter_map(|c| c.wait_ms).map(|w| w.max(0)).sum();
            sb_sim::Stream {
                queue: sb_routing::QueueId(q as u16),
                channel: sb_routing::Channel::Voice,
                requirements: Vec::new(),
                arrivals: sb_sim::Arrivals::Replay { offsets },
                handle: if talk.is_empty() {
                    sb_sim::Dist::Fixed(Duration::from_secs(180))
                } else {
                    sb_sim::Dist::Empirical(talk)
                },
                patience: (abandons > 0).then(|| sb_sim::Dist::Exponential {
                    mean: Duration::from_millis((waited as u64 / abandons).max(1)),
                }),
                callback: None,
            }
        })
        .collect();
    sb_sim::Scenario {
        interval: Duration::from_millis(interval_ms as u64),
        intervals,
        short_abandon: Duration::from_secs(5),
        streams,
        shifts: Vec::new(),
        drain: Duration::from_secs(4 * 3600),
    }
}

/// Service level per queue: the legacy figure, then the new configuration at each load.
fn replay_chart(
    path: &Path,
    queues: &[String],
    legacy: &[Option<Figures>],
    runs: &[(f64, Vec<Figures>)],
) -> Result<(), String> {
    let series = queues
        .iter()
        .enumerate()
        .filter(|(q, _)| legacy[*q].is_some())
        .flat_map(|(q, name)| {
            let color = sb_charts::PALETTE[q % sb_charts::PALETTE.len()];
            let old = legacy[q].as_ref().and_then(|f| f.service_level).map(|sl| sl * 100.0);
            let new: Vec<(f64, f64)> = runs
                .iter()
                .enumerate()
                .filter_map(|(i, (_, f))| Some((i as f64 + 1.0, f[q].service_level? * 100.0)))
                .collect();
            let mut out = vec![sb_charts::Series { name: format!("{name} (new)"), points: new, color, faint: false }];
            if let Some(old) = old {
                let points = vec![(0.0, old), (runs.len() as f64 + 1.0, old)];
                out.push(sb_charts::Series { name: format!("{name} (legacy)"), points, color, faint: true });
            }
            out
        })
        .collect();
    let panel = sb_charts::Panel {
        caption: "Service level: legacy (faint) and the new configuration at each load".into(),
        y_label: "%".into(),
        y_max: Some(100.0),
        series,
    };
    let labels: Vec<String> = runs.iter().map(|(m, _)| format!("{m}x")).collect();
    let label = move |v: f64| {
        let i = v.round() as usize;
        if i == 0 { "legacy".to_owned() } else { labels.get(i - 1).cloned().unwrap_or_default() }
    };
    sb_charts::render(path, &[panel], runs.len() as f64 + 1.0, &label)
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The database to back up, while the server runs if need be: an SQLite file (copied
    /// with VACUUM INTO) or a postgres:// address (dumped with pg_dump, which must be
    /// installed).
    #[arg(long, short = 'd', value_name = "ADDRESS", default_value = "switchboard.db")]
    database: String,
    /// A directory of recordings to copy too (a tenant's voice.recordings).
    #[arg(long, value_name = "DIR")]
    recordings: Option<PathBuf>,
    /// The backup's directory; it must not exist yet.
    #[arg(long, short = 'o', value_name = "DIR")]
    out: PathBuf,
}

/// The manifest's name inside a backup.
const MANIFEST: &str = "MANIFEST.sha256";
/// A PostgreSQL database's dump inside a backup.
const PG_DUMP: &str = "database.pgdump";

fn is_postgres(address: &str) -> bool {
    address.starts_with("postgres://") || address.starts_with("postgresql://")
}

/// A postgres:// address for the client tools: its parts, with the password taken out
/// (it goes to them in PGPASSWORD, not on the command line, where `ps` would show it).
#[derive(Debug, PartialEq, Eq)]
struct PgAddress {
    /// `postgres://user@host:port`
    server: String,
    database: Option<String>,
    /// `?sslmode=...`, with its `?`, or empty.
    query: String,
    password: Option<String>,
}

impl PgAddress {
    fn parse(address: &str) -> PgAddress {
        let scheme_end = address.find("://").map_or(0, |i| i + 3);
        let (base, query) = match address.split_once('?') {
            Some((base, query)) => (base, format!("?{query}")),
            None => (address, String::new()),
        };
        let authority_end = base[scheme_end..].find('/').map_or(base.len(), |i| scheme_end + i);
        let authority = &base[scheme_end..authority_end];
        let database = base[authority_end..].trim_start_matches('/');
        let (authority, password) = match authority.rsplit_once('@') {
            Some((userinfo, host)) => match userinfo.split_once(':') {
                // A user name may hold an '@' (user@server): written encoded again.
                Some((user, password)) => {
                    (format!("{}@{host}", percent_encode(&percent_decode(user))), Some(percent_decode(password)))
                }
                None => (format!("{}@{host}", percent_encode(&percent_decode(userinfo))), None),
            },
            None => (authority.to_owned(), None),
        };
        PgAddress {
            server: format!("{}{authority}", &address[..scheme_end]),
            database: (!database.is_empty()).then(|| database.to_owned()),
            query,
            password,
        }
    }

    /// The address of `database` on this server, without the password.
    fn of(&self, database: &str) -> String {
        format!("{}/{database}{}", self.server, self.query)
    }

    /// The address without the password.
    fn public(&self) -> String {
        self.of(self.database.as_deref().unwrap_or(""))
    }

    /// `program` with the password in its environment.
    fn command(&self, program: &str) -> std::process::Command {
        let mut command = std::process::Command::new(program);
        if let Some(password) = &self.password {
            command.env("PGPASSWORD", password);
        }
        command
    }
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(high), Some(low)) => {
                out.push((high * 16 + low) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Runs `switchboard migrate backup`: a consistent copy of the database, the recordings, and
/// a manifest of every file's SHA-256 and size.
pub fn backup(args: BackupArgs) -> anyhow::Result<()> {
    anyhow::ensure!(!args.out.exists(), "{} exists; a backup goes to a new directory", args.out.display());
    std::fs::create_dir_all(&args.out).with_context(|| format!("creating {}", args.out.display()))?;
    let mut files = if is_postgres(&args.database) {
        let dump = args.out.join(PG_DUMP);
        // One consistent snapshot (pg_dump reads in one transaction), in the custom format
        // that pg_restore checks and restores.
        let address = PgAddress::parse(&args.database);
        let out = address
            .command("pg_dump")
            .args(["--format=custom", "--no-owner", "--file"])
            .arg(&dump)
            .arg("--dbname")
            .arg(address.public())
            .output()
            .context("running pg_dump (the PostgreSQL client tools must be installed)")?;
        anyhow::ensure!(out.status.success(), "pg_dump failed: {}", String::from_utf8_lossy(&out.stderr).trim());
        vec![PathBuf::from(PG_DUMP)]
    } else {
        let database = args.out.join("database.sqlite");
        sb_storage::backup_sqlite(&args.database, &database).with_context(|| format!("copying {}", args.database))?;
        vec![PathBuf::from("database.sqlite")]
    };
    if let Some(dir) = &args.recordings {
        let mut found = Vec::new();
        walk(dir, dir, &mut found).with_context(|| format!("reading {}", dir.display()))?;
        let mut bars = crate::progress::PhaseBars::default();
        bars.phase("copying recordings", found.len() as u64);
        for relative in found {
            let to = args.out.join("recordings").join(&relative);
            if let Some(parent) = to.parent() {
                std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
            }
            std::fs::copy(dir.join(&relative), &to).with_context(|| format!("copying {}", relative.display()))?;
            files.push(Path::new("recordings").join(relative));
            bars.advance(1);
        }
        bars.finish();
    }
    let mut manifest = String::new();
    let mut bytes = 0u64;
    for relative in &files {
        let (digest, size) = sha256_of(&args.out.join(relative))?;
        bytes += size;
        manifest.push_str(&format!("{digest}  {size}  {}\n", relative.display()));
    }
    std::fs::write(args.out.join(MANIFEST), manifest).context("writing the manifest")?;
    println!("{}: {} files, {bytes} bytes, with {MANIFEST}", args.out.display(), files.len());
    Ok(())
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// A directory written by `switchboard migrate backup`.
    #[arg(value_name = "DIR")]
    backup: PathBuf,
    /// For a PostgreSQL backup: a server to prove the restore on, as a postgres:// address of
    /// a user who may create databases. A scratch database is created there, restored into,
    /// read back and dropped. Without it, pg_restore only checks the dump's table of contents.
    #[arg(long, value_name = "ADDRESS")]
    restore_into: Option<String>,
}

/// Runs `switchboard migrate verify`: every file of the manifest is there with its size and
/// SHA-256, and the database copy restores (SQLite's integrity check, then every tenant's
/// state read back as on a restart, from a scratch copy so that the backup stays untouched).
pub fn verify(args: VerifyArgs) -> anyhow::Result<std::process::ExitCode> {
    let manifest_path = args.backup.join(MANIFEST);
    let manifest =
        std::fs::read_to_string(&manifest_path).with_context(|| format!("reading {}", manifest_path.display()))?;
    let mut problems = Vec::new();
    let mut checked = 0;
    for (i, line) in manifest.lines().enumerate() {
        let mut parts = line.splitn(3, "  ");
        let (Some(digest), Some(size), Some(name)) = (parts.next(), parts.next(), parts.next()) else {
            problems.push(format!("{}:{}: not \"SHA256  SIZE  PATH\"", manifest_path.display(), i + 1));
            continue;
        };
        let path = args.backup.join(name);
        match sha256_of(&path) {
            Err(e) => problems.push(format!("{name}: {e:#}")),
            Ok((actual, actual_size)) if actual != digest || actual_size.to_string() != size => {
                problems.push(format!(
                    "{name}: SHA-256 {actual} and {actual_size} bytes, the manifest says {digest} and {size}"
                ));
            }
            Ok(_) => checked += 1,
        }
    }
    let (name, restored) = if args.backup.join(PG_DUMP).exists() {
        (PG_DUMP, verify_pg_dump(&args.backup.join(PG_DUMP), args.restore_into.as_deref()))
    } else {
        let scratch = std::env::temp_dir().join(format!("switchboard-verify-{}.sqlite", std::process::id()));
        let _ = std::fs::remove_file(&scratch);
        let restored = std::fs::copy(args.backup.join("database.sqlite"), &scratch)
            .map_err(|e| e.to_string())
            .and_then(|_| sb_storage::verify_sqlite(&scratch))
            .map(Some);
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", scratch.display()));
        }
        ("database.sqlite", restored)
    };
    match restored {
        Ok(Some(tenants)) => println!(
            "{name} restores: tenants {}",
            if tenants.is_empty() { "none".to_owned() } else { tenants.join(", ") }
        ),
        Ok(None) => println!("{name}: pg_restore reads its table of contents; give --restore-into to prove a restore"),
        Err(e) => problems.push(format!("{name} does not restore: {e}")),
    }
    for problem in &problems {
        println!("FAILED {problem}");
    }
    println!("{}: {checked} files as in the manifest, {} problems", args.backup.display(), problems.len());
    Ok(if problems.is_empty() { std::process::ExitCode::SUCCESS } else { std::process::ExitCode::FAILURE })
}

/// Checks a pg_dump archive: pg_restore reads its table of contents, and with `server`, it
/// is restored into a scratch database there, every tenant read back, and the database
/// dropped. `Ok(None)`: checked without a restore.
fn verify_pg_dump(dump: &Path, server: Option<&str>) -> Result<Option<Vec<String>>, String> {
    let run = |command: &mut std::process::Command| -> Result<(), String> {
        let out = command.output().map_err(|e| format!("running {:?}: {e}", command.get_program()))?;
        if out.status.success() { Ok(()) } else { Err(String::from_utf8_lossy(&out.stderr).trim().to_owned()) }
    };
    run(std::process::Command::new("pg_restore").arg("--list").arg(dump))?;
    let Some(server) = server else { return Ok(None) };
    if !is_postgres(server) {
        return Err(format!("--restore-into {server:?} is not a postgres:// address"));
    }
    let address = PgAddress::parse(server);
    if address.database.is_none() {
        return Err("--restore-into needs a database to connect to, such as postgres://user@host/postgres".to_owned());
    }
    let scratch = format!("sb_verify_{}", std::process::id());
    let scratch_url = address.of(&scratch);
    let psql =
        |sql: &str| run(address.command("psql").arg(address.public()).args(["-v", "ON_ERROR_STOP=1", "-q", "-c", sql]));
    psql(&format!("DROP DATABASE IF EXISTS {scratch}"))?;
    psql(&format!("CREATE DATABASE {scratch}"))?;
    let result = run(address
        .command("pg_restore")
        .args(["--no-owner", "--exit-on-error", "--dbname"])
        .arg(&scratch_url)
        .arg(dump))
    .and_then(|()| {
        // The store itself takes the password in its address.
        let with_password = match &address.password {
            Some(p) => scratch_url.replacen('@', &format!(":{}@", percent_encode(p)), 1),
            None => scratch_url.clone(),
        };
        sb_storage::read_back(&with_password)
    });
    let dropped = psql(&format!("DROP DATABASE IF EXISTS {scratch} WITH (FORCE)"));
    let tenants = result?;
    dropped?;
    Ok(Some(tenants))
}

/// Every file under `dir`, relative to `root`, in name order.
pub(crate) fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            walk(root, &path, out)?;
        } else if let Ok(relative) = path.strip_prefix(root) {
            out.push(relative.to_path_buf());
        }
    }
    Ok(())
}

/// A file's SHA-256 (hex) and size, read in chunks.
pub(crate) fn sha256_of(path: &Path) -> anyhow::Result<(String, u64)> {
    use sha2::Digest as _;
    use std::io::Read as _;
    let mut file = std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let mut hasher = sha2::Sha256::new();
    let mut buffer = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buffer).with_context(|| format!("reading {}", path.display()))?;
        if n == 0 {
            break;
        }
        size += n as u64;
        hasher.update(&buffer[..n]);
    }
    Ok((hex(&hasher.finalize()), size))
}

/// Bytes as lowercase hex digits.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_addresses_lose_their_password_and_keep_their_options() {
        let a = PgAddress::parse("postgres://sb:s%40cret@db.example:5432/switchboard?sslmode=require");
        assert_eq!(a.password.as_deref(), Some("s@cret"));
        assert_eq!(a.public(), "postgres://sb@db.example:5432/switchboard?sslmode=require");
        assert_eq!(a.of("sb_verify_1"), "postgres://sb@db.example:5432/sb_verify_1?sslmode=require");
        let b = PgAddress::parse("postgres://postgres@127.0.0.1:5432");
        assert_eq!((b.database, b.password), (None, None));
        assert_eq!(percent_encode("s@c:r/t"), "s%40c%3Ar%2Ft");
        let azure = PgAddress::parse("postgres://sb@server:pw@db.example/switchboard");
        assert_eq!(azure.public(), "postgres://sb%40server@db.example/switchboard");
        assert_eq!(azure.password.as_deref(), Some("pw"));
    }

    #[test]
    fn roster_shifts_keep_their_hours_across_a_clock_change_and_merge() {
        let config =
            sb_config::load(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/demo.yaml"))).unwrap();
        let text =
            "shifts:\n  - {agents: [anna], hours: \"08:00-16:00\"}\n  - {agents: [anna], hours: \"12:00-20:00\"}\n";
        let roster = sb_config::parse_roster("r.yaml", text, &config).unwrap();
        let tz = jiff::tz::TimeZone::get("Europe/Berlin").unwrap();
        // From midnight of 2026-03-29 in Berlin, the day the clocks go forward at 02:00.
        let start = jiff::civil::date(2026, 3, 29).to_zoned(tz.clone()).unwrap().timestamp().as_millisecond();
        let shifts = roster_shifts(&roster, &tz, start, 20 * 3_600_000);
        assert_eq!(shifts.len(), 1, "one agent's overlapping shifts are one: {shifts:?}");
        // 08:00 local is 7 hours after midnight that day, 20:00 is 19.
        assert_eq!(shifts[0].from, std::time::Duration::from_secs(7 * 3600));
        assert_eq!(shifts[0].to, std::time::Duration::from_secs(19 * 3600));
    }
}
