//! The `switchboard` command: parses the command line and hands each command to the crate
//! that does the work. Nothing else lives here.

/// Like `println!`, but a closed standard output (`switchboard ... | head`) is not an
/// error: the command carries on, so the files it writes are still written.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// Like `print!`, with the same tolerance as [`say!`].
macro_rules! say_raw {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout(), $($arg)*);
    }};
}

mod bench;
mod config_cmd;
mod cutover;
mod flow;
mod import;
mod migrate;
mod progress;
mod recordings;
mod simulate;
mod wfm;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Switchboard: an open-source, self-hostable contact center.
///
/// Routes calls, chats, emails and SMS to agents by skill, priority and wait time, with a
/// migration path from legacy contact centers. One binary; SQLite by default, PostgreSQL
/// when one machine is outgrown.
#[derive(Debug, Parser)]
#[command(name = "switchboard", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Try Switchboard: serve the demo tenant on SQLite with demo users and simulated
    /// customers and agents; open the printed address to watch the supervisor dashboard,
    /// take chats as an agent, or chat as a customer.
    Demo(sb_server::demo::DemoArgs),
    /// Run the server for one or more tenants: load their configuration, open storage,
    /// rebuild the routing state from it and serve the HTTP API and the web screens.
    Serve(sb_server::ServeArgs),
    /// Work with tenant configuration files.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Work with contact flows (IVR): check them, or walk a call through one in text.
    #[command(subcommand)]
    Flow(FlowCommand),
    /// Simulate a day (or more) of contacts against a tenant's routing, with replications
    /// and confidence intervals; prints a summary and writes JSON, CSV and an SVG chart.
    Simulate(simulate::SimulateArgs),
    /// Agents needed to meet a service-level target (Erlang C, or Erlang A with patience),
    /// for one interval or per interval of a demand file, with shrinkage.
    Staff(wfm::StaffArgs),
    /// Forecast interval volumes and handle times from history, with weekly and daily
    /// seasonality; reports accuracy on a held-back week and writes CSV and an SVG chart.
    Forecast(wfm::ForecastArgs),
    /// Move a legacy contact center onto Switchboard: import its configuration, history and
    /// recordings, prove the new routing against its baseline, and cut over phase by phase
    /// with a rollback at hand.
    #[command(subcommand)]
    Migrate(MigrateCommand),
    /// Print performance figures measured on this machine.
    #[command(subcommand)]
    Bench(BenchCommand),
}

#[derive(Debug, Subcommand)]
enum MigrateCommand {
    /// Turn a legacy system's configuration into a Switchboard tenant file, with a
    /// translation report of what mapped, what was approximated and what was left out.
    #[command(subcommand)]
    Import(import::ImportCommand),
    /// Import a legacy system's call history into the tenant's store, for the baseline and
    /// the replay; resumable and idempotent.
    #[command(subcommand)]
    History(migrate::HistoryCommand),
    /// The legacy center's KPIs per queue and interval (offered, answered, abandoned,
    /// service level, ASA, AHT, FCR) from the imported history, as a table, CSV and a chart.
    Baseline(migrate::BaselineArgs),
    /// Replay the imported legacy calls through the new configuration in the simulator, at
    /// the recorded load and under stress, and compare the KPIs queue by queue.
    Replay(migrate::ReplayArgs),
    /// Where the cutover stands: the phase and its share of the calls, Switchboard's KPIs
    /// day by day against the baseline, the gate's verdict and the readiness checklist.
    Status(cutover::StatusArgs),
    /// Start the plan's next phase on the running server, if the current phase's gate has
    /// passed and no readiness step blocks it; exit status 1, with the reasons, if not.
    Advance(cutover::AdvanceArgs),
    /// Send every new call to the legacy PBX at once, on a running server (the split's
    /// trunk), recording who did it and why. Calls under way are not touched; it holds
    /// across restarts.
    Rollback(cutover::ReasonArgs),
    /// Undo a rollback: new calls follow the phase's share (or the split's rules) again.
    Resume(cutover::ReasonArgs),
    /// Freeze changes to users and agents' skills on the running server for the cutover.
    Freeze(cutover::ReasonArgs),
    /// Lift the freeze.
    Unfreeze(cutover::ReasonArgs),
    /// Back up before the cutover: a consistent copy of the database (SQLite's VACUUM INTO,
    /// or PostgreSQL's pg_dump) and the recordings, with a manifest of every file's SHA-256
    /// and size.
    Backup(migrate::BackupArgs),
    /// Check a backup: every file against the manifest, and the database copy restoring
    /// (a PostgreSQL dump into a scratch database with --restore-into).
    Verify(migrate::VerifyArgs),
    /// Import a legacy center's recordings: each file sealed (encrypted) into the tenant's
    /// recordings, its copy checked against its SHA-256, and indexed with its call (from a
    /// CSV index). Run again, it adds nothing twice; exit status 1 if a file failed.
    Recordings(recordings::RecordingsArgs),
    /// Make a new key for sealed recordings.
    Key(recordings::KeyArgs),
    /// Open a sealed recording with its key, to listen to it.
    OpenRecording(recordings::OpenArgs),
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Validate configuration files and report every problem with file, line, column and
    /// field. Exits with status 1 if any file has an error (warnings alone do not fail).
    Check {
        /// The YAML files to check.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum FlowCommand {
    /// Validate flow files and report every problem with file, line, column and field:
    /// unknown nodes and names, missing branches, unreachable nodes, loops without a way
    /// out. Exits with status 1 if any file has an error.
    Check(flow::CheckArgs),
    /// Simulate a call through a flow in text: `switchboard flow run FLOW --digits 1,3`.
    Run(flow::RunArgs),
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// Routing decisions per second and decision latency (p50/p99/p99.9) of the engine on a
    /// generated tenant, next to a naive linear-scan router in the same run.
    Routing(bench::RoutingArgs),
    /// Simulated contacts per second: a generated 1,000-agent, 50-skill day through the
    /// real routing engine, and an M/M/N model in Switchboard's simulator next to SimPy
    /// (python3 with the simpy package) in the same run.
    Simulate(bench::SimulateArgs),
    /// Durable chat messages per second and latency over real HTTP on SQLite and
    /// PostgreSQL, and live-event fan-out to WebSocket clients, with a server started
    /// in-process on 127.0.0.1.
    Api(bench::ApiArgs),
    /// Calls per second end to end (answer, 2 s prompt, queue, the agent's phone answers,
    /// hang-up) next to sipp calling sipp in the same run, and concurrent bridged calls
    /// with media relayed (loss and added jitter), with sipp as callers and phones.
    Sip(bench::SipArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo(args) => {
            init_logging_at("warn");
            sb_server::demo::run(args)
        }
        Command::Serve(args) => {
            init_logging();
            sb_server::serve(args)
        }
        Command::Config(ConfigCommand::Check { files }) => return config_cmd::check(&files),
        Command::Flow(FlowCommand::Check(args)) => return exit(flow::check(args)),
        Command::Flow(FlowCommand::Run(args)) => return exit(flow::run(args)),
        Command::Simulate(args) => simulate::run(args),
        Command::Staff(args) => wfm::staff(args),
        Command::Forecast(args) => wfm::forecast(args),
        Command::Migrate(MigrateCommand::Import(command)) => return exit(import::import(command)),
        Command::Migrate(MigrateCommand::History(command)) => migrate::history(command),
        Command::Migrate(MigrateCommand::Baseline(args)) => migrate::baseline(args),
        Command::Migrate(MigrateCommand::Replay(args)) => migrate::replay(args),
        Command::Migrate(MigrateCommand::Status(args)) => cutover::status(args),
        Command::Migrate(MigrateCommand::Advance(args)) => return exit(cutover::advance(args)),
        Command::Migrate(MigrateCommand::Rollback(args)) => cutover::rollback(args, true),
        Command::Migrate(MigrateCommand::Resume(args)) => cutover::rollback(args, false),
        Command::Migrate(MigrateCommand::Freeze(args)) => cutover::freeze(args, true),
        Command::Migrate(MigrateCommand::Unfreeze(args)) => cutover::freeze(args, false),
        Command::Migrate(MigrateCommand::Backup(args)) => migrate::backup(args),
        Command::Migrate(MigrateCommand::Verify(args)) => return exit(migrate::verify(args)),
        Command::Migrate(MigrateCommand::Recordings(args)) => return exit(recordings::import(args)),
        Command::Migrate(MigrateCommand::Key(args)) => recordings::key(args),
        Command::Migrate(MigrateCommand::OpenRecording(args)) => recordings::open(args),
        Command::Bench(BenchCommand::Routing(args)) => bench::routing(args),
        Command::Bench(BenchCommand::Simulate(args)) => bench::simulate(args),
        Command::Bench(BenchCommand::Api(args)) => bench::api(args),
        Command::Bench(BenchCommand::Sip(args)) => bench::sip(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            print_error(&e);
            ExitCode::FAILURE
        }
    }
}

/// The exit code of a command that decides it, or failure with its error.
fn exit(result: anyhow::Result<ExitCode>) -> ExitCode {
    result.unwrap_or_else(|e| {
        print_error(&e);
        ExitCode::FAILURE
    })
}

/// Problems found in an input file, one per line, each already saying where and how bad
/// (`file:line:column: error: field: message`), then a count. They are printed as they are.
#[derive(Debug)]
pub struct Diagnostics(String);

impl std::fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Diagnostics {}

/// A file's diagnostics as the error of a command.
pub fn diagnostics(report: impl std::fmt::Display) -> anyhow::Error {
    anyhow::Error::new(Diagnostics(report.to_string()))
}

fn print_error(e: &anyhow::Error) {
    match e.downcast_ref::<Diagnostics>() {
        Some(d) => eprintln!("{d}"),
        None => eprintln!("error: {e:#}"),
    }
}

fn init_logging() {
    init_logging_at("info");
}

/// Logs to standard error at `level` unless RUST_LOG says otherwise.
fn init_logging_at(level: &str) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}
