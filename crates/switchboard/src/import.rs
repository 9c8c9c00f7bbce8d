//! `switchboard migrate import ...`: a legacy system's configuration to a tenant file (and
//! contact flows), with the translation report.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Subcommand};

use crate::migrate::refuse_to_overwrite;

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Asterisk: queues.conf (app_queue) to a tenant file, and extensions.conf's IVR menus to
    /// contact flows. Queues become voice queues with a skill of the same id, members become
    /// agents, penalties proficiencies; the report says what was approximated or left out,
    /// line by line.
    Asterisk(AsteriskArgs),
    /// Avaya Communication Manager: SAT display screens (hunt-group, agent-loginID, vdn,
    /// vector) captured as text into one file. ACD hunt groups become skills and queues,
    /// login IDs agents, each VDN a number entering a flow translated from its vector.
    Avaya(AvayaArgs),
    /// Cisco UCCX: the admin REST API's JSON answers (skill, resource, resourceGroup, csq,
    /// team) to a tenant file. CSQs become queues, resources agents, competence 1-10
    /// proficiency 1-5.
    Uccx(UccxArgs),
    /// Any other platform (Mitel and others): skills, queues and agents from CSV files with
    /// the columns docs/migration.md describes; each problem is reported with file and line.
    Csv(CsvArgs),
}

/// The tenant to write, and where.
#[derive(Debug, Args)]
pub struct TenantOut {
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

impl TenantOut {
    fn tenant(&self) -> sb_migrate::TenantInfo {
        sb_migrate::TenantInfo {
            name: self.name.clone().unwrap_or_else(|| self.tenant_id.clone()),
            id: self.tenant_id.clone(),
            time_zone: self.time_zone.clone(),
        }
    }
}

#[derive(Debug, Args)]
pub struct AsteriskArgs {
    /// Asterisk's queues.conf.
    #[arg(long, value_name = "FILE")]
    queues: PathBuf,
    /// Asterisk's extensions.conf: each context that waits for a digit (Background and
    /// WaitExten) becomes a contact flow next to the tenant file, and numbers that go
    /// straight to one become the tenant's voice numbers.
    #[arg(long, value_name = "FILE")]
    extensions: Option<PathBuf>,
    #[command(flatten)]
    out: TenantOut,
}

#[derive(Debug, Args)]
pub struct CsvArgs {
    /// skills.csv: id, name. Without it, the skills the other files name are created.
    #[arg(long, value_name = "FILE")]
    skills: Option<PathBuf>,
    /// queues.csv: id, name, channels, skills, strategy, priority, service_level,
    /// offer_timeout, wrap_up.
    #[arg(long, value_name = "FILE")]
    queues: Option<PathBuf>,
    /// agents.csv: id, name, skills, queues.
    #[arg(long, value_name = "FILE")]
    agents: Option<PathBuf>,
    #[command(flatten)]
    out: TenantOut,
}

#[derive(Debug, Args)]
pub struct AvayaArgs {
    /// The captured SAT screens (display hunt-group N, display agent-loginID N, display vdn
    /// N, display vector N, every page), one after the other.
    #[arg(long, value_name = "FILE")]
    sat: PathBuf,
    #[command(flatten)]
    out: TenantOut,
}

#[derive(Debug, Args)]
pub struct UccxArgs {
    /// One JSON document holding the answers under "skills", "resources",
    /// "resourceGroups", "csqs" and "teams".
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// The answer of GET /adminapi/skill (over --json's).
    #[arg(long, value_name = "FILE")]
    skills: Option<PathBuf>,
    /// The answer of GET /adminapi/resource.
    #[arg(long, value_name = "FILE")]
    resources: Option<PathBuf>,
    /// The answer of GET /adminapi/resourceGroup.
    #[arg(long, value_name = "FILE")]
    resource_groups: Option<PathBuf>,
    /// The answer of GET /adminapi/csq.
    #[arg(long, value_name = "FILE")]
    csqs: Option<PathBuf>,
    /// The answer of GET /adminapi/team.
    #[arg(long, value_name = "FILE")]
    teams: Option<PathBuf>,
    #[command(flatten)]
    out: TenantOut,
}

/// A JSON file, with the place of a syntax error.
fn json(path: &Path) -> anyhow::Result<serde_json::Value> {
    let (name, text) = read(path)?;
    serde_json::from_str(&text).map_err(|e| {
        let message = e.to_string();
        let message = message.strip_suffix(&format!(" at line {} column {}", e.line(), e.column())).unwrap_or(&message);
        anyhow::anyhow!("{name}:{}:{}: {message}", e.line(), e.column())
    })
}

fn uccx(args: UccxArgs) -> anyhow::Result<ExitCode> {
    let mut answers = match &args.json {
        Some(path) => sb_migrate::uccx::Answers::from_document(&json(path)?),
        None => sb_migrate::uccx::Answers::default(),
    };
    for (file, answer) in [
        (&args.skills, &mut answers.skills),
        (&args.resources, &mut answers.resources),
        (&args.resource_groups, &mut answers.resource_groups),
        (&args.csqs, &mut answers.csqs),
        (&args.teams, &mut answers.teams),
    ] {
        if let Some(path) = file {
            *answer = Some(json(path)?);
        }
    }
    anyhow::ensure!(
        answers.skills.is_some() || answers.resources.is_some() || answers.csqs.is_some(),
        "give --json, or the answers with --skills, --resources and --csqs"
    );
    let name = args.json.as_ref().map_or("the UCCX answers".to_owned(), |p| p.display().to_string());
    let import = sb_migrate::uccx::import(&name, &answers, &args.out.tenant());
    write(&args.out, &import, &[])
}

fn read(path: &Path) -> anyhow::Result<(String, String)> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Ok((path.display().to_string(), text))
}

/// Runs `switchboard migrate import ...`.
pub fn import(command: ImportCommand) -> anyhow::Result<ExitCode> {
    match command {
        ImportCommand::Asterisk(args) => asterisk(args),
        ImportCommand::Uccx(args) => uccx(args),
        ImportCommand::Avaya(args) => {
            let (file, text) = read(&args.sat)?;
            let (mut import, dialplan) = sb_migrate::avaya::import_sat(&file, &text, &args.out.tenant());
            import.tenant_yaml.push_str(&sb_migrate::dialplan::voice_numbers(&dialplan));
            let code = write(&args.out, &import, &dialplan.flows)?;
            if !dialplan.flows.is_empty() {
                println!(
                    "prompts: record the announcements as WAV files under sounds/ next to the tenant file (sounds/annc-EXT.wav)"
                );
            }
            Ok(code)
        }
        ImportCommand::Csv(args) => {
            anyhow::ensure!(
                args.skills.is_some() || args.queues.is_some() || args.agents.is_some(),
                "give at least one of --skills, --queues and --agents"
            );
            let skills = args.skills.as_deref().map(read).transpose()?;
            let queues = args.queues.as_deref().map(read).transpose()?;
            let agents = args.agents.as_deref().map(read).transpose()?;
            fn pair(f: &Option<(String, String)>) -> Option<(&str, &str)> {
                f.as_ref().map(|(n, t)| (n.as_str(), t.as_str()))
            }
            let files =
                sb_migrate::generic::Files { skills: pair(&skills), queues: pair(&queues), agents: pair(&agents) };
            let import = sb_migrate::generic::import(files, &args.out.tenant());
            write(&args.out, &import, &[])
        }
    }
}

fn asterisk(args: AsteriskArgs) -> anyhow::Result<ExitCode> {
    let (file, text) = read(&args.queues)?;
    let mut import = sb_migrate::asterisk::import_queues(&file, &text, &args.out.tenant());
    let dialplan = match &args.extensions {
        Some(path) => {
            let (file, text) = read(path)?;
            let dialplan = sb_migrate::dialplan::import_extensions(&file, &text, &mut import.report);
            import.tenant_yaml.push_str(&sb_migrate::dialplan::voice_numbers(&dialplan));
            dialplan
        }
        None => sb_migrate::dialplan::Dialplan::default(),
    };
    let code = write(&args.out, &import, &dialplan.flows)?;
    if !dialplan.flows.is_empty() {
        println!(
            "prompts: convert Asterisk's sound files to WAV under sounds/ next to the tenant file, as the flows name them"
        );
    }
    Ok(code)
}

/// Writes the tenant file, the report and the flows, and prints the report. The tenant file
/// must load before anything is written: a bad tenant id or time zone is the user's to fix,
/// anything else is a bug of the importer. Each flow is checked against the imported
/// tenant; one that does not pass (a queue the dialplan names but the queues lack) is
/// written all the same, to be fixed by hand, and the exit status is 1.
fn write(
    out: &TenantOut,
    import: &sb_migrate::Import,
    flows: &[sb_migrate::dialplan::FlowFile],
) -> anyhow::Result<ExitCode> {
    let name = out.out.display().to_string();
    let (config, _) = sb_config::parse(&name, &import.tenant_yaml)
        .map_err(|report| anyhow::anyhow!("the imported tenant does not load:\n{report}"))?;
    let dir = out.out.parent().map(Path::to_path_buf).unwrap_or_default();
    let flows: Vec<(PathBuf, &str)> =
        flows.iter().map(|f| (dir.join(format!("{}.yaml", f.id)), f.yaml.as_str())).collect();
    let mut paths: Vec<&PathBuf> = Vec::new();
    for path in std::iter::once(&out.out).chain(out.report.iter()).chain(flows.iter().map(|(p, _)| p)) {
        // A flow named like the tenant file or the report would replace it.
        anyhow::ensure!(
            !paths.contains(&path),
            "{} would be written twice (a flow named like the tenant file or the report); choose another -o or --report",
            path.display()
        );
        paths.push(path);
        refuse_to_overwrite(path, out.force)?;
    }
    std::fs::write(&out.out, &import.tenant_yaml).with_context(|| format!("writing {name}"))?;
    if let Some(path) = &out.report {
        std::fs::write(path, format!("{}\n", import.report)).with_context(|| format!("writing {}", path.display()))?;
    }
    println!("{}", import.report);
    println!("{name}: {}", config.summary());
    let known = sb_flow::KnownNames::from_config(&config);
    let mut broken = 0;
    for (path, yaml) in &flows {
        std::fs::write(path, yaml).with_context(|| format!("writing {}", path.display()))?;
        let name = path.display().to_string();
        match sb_flow::parse(&name, yaml, &known) {
            Ok(_) => println!("{name}: a flow that passes `switchboard flow check`"),
            Err(report) => {
                broken += 1;
                println!("{name}: fix this flow by hand before serving it:\n{report}");
            }
        }
    }
    Ok(if broken == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
