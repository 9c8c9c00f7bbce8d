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
