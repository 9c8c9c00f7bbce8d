//! `switchboard flow check` and `switchboard flow run`: validating contact flows (IVR) and
//! walking through one in text, as a caller pressing the given digits would.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;

/// Names outside the flow (queues, skills, business hours) to check against, from a tenant
/// configuration if one is given.
fn known(config: Option<&PathBuf>) -> anyhow::Result<sb_flow::KnownNames> {
    match config {
        None => Ok(sb_flow::KnownNames::default()),
        Some(path) => {
            let config = sb_config::load(path).map_err(|e| crate::diagnostics(e.report))?;
            Ok(sb_flow::KnownNames::from_config(&config))
        }
    }
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The flow files (YAML) to check; see docs/flows.md.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// A tenant configuration: queues, skills and business hours the flows name must exist
    /// in it. Without it those names are not checked.
    #[arg(long, short = 'c', value_name = "TENANT.yaml")]
    config: Option<PathBuf>,
}

/// Checks each flow: unknown fields and names, missing branches, unreachable nodes, loops
/// without a way out. Fails if any file has an error.
pub fn check(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let known = known(args.config.as_ref())?;
    let mut failed = false;
    for file in &args.files {
        match sb_flow::check_file(file, &known) {
            Ok((flow, report)) => {
                for diagnostic in &report.diagnostics {
                    say!("{diagnostic}");
                }
                let warnings = match report.warning_count() {
                    0 => String::new(),
                    1 => ", 1 warning".to_string(),
                    n => format!(", {n} warnings"),
                };
                say!(
                    "{}: ok (flow {} version {}, {} nodes){warnings}",
                    file.display(),
                    flow.id,
                    flow.version,
                    flow.nodes.len()
                );
            }
            Err(report) => {
                say!("{report}");
                failed = true;
            }
        }
    }
    Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The flow file (YAML).
    flow: PathBuf,
    /// The digits the caller presses, one at a time, whenever the flow waits for input:
    /// `1,3` or `13`; `*` and `#` too.
    #[arg(long, short = 'd', value_name = "DIGITS", default_value = "")]
    digits: String,
    /// Run as if every business-hours check found the center closed (default: open).
    #[arg(long)]
    closed: bool,
    /// A tenant configuration to check the flow's names against.
    #[arg(long, short = 'c', value_name = "TENANT.yaml")]
    config: Option<PathBuf>,
}

/// Simulates one call through the flow and prints what the caller hears and where the call
/// goes. Prompts finish at once; HTTP lookups fail (no network in a dry run).
pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let known = known(args.config.as_ref())?;
    let flow = sb_flow::load(&args.flow, &known).with_context(|| format!("loading {}", args.flow.display()))?;
    let mut digits = Vec::new();
    for c in args.digits.chars().filter(|c| *c != ',' && !c.is_whitespace()) {
        anyhow::ensure!(
            c.is_ascii_digit() || c == '*' || c == '#',
            "--digits: {c:?} is not a key of a phone's keypad (0-9, * and #)"
        );
        digits.push(c);
    }
    let hours = if args.closed { sb_flow::Hours::Closed } else { sb_flow::Hours::Open };
    say_raw!("{}", sb_flow::run_text(&flow, &digits, hours));
    Ok(ExitCode::SUCCESS)
}
