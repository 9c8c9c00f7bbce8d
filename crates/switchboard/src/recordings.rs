//! `switchboard migrate recordings | key | open-recording`: a legacy center's recordings
//! copied into Switchboard's store, sealed at rest, each one checked against its SHA-256
//! before it counts as imported, with a metadata index linking it to the legacy history.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Args;
use sb_storage::sealed::{self, SealKey};
use sha2::Digest as _;

#[derive(Debug, Args)]
pub struct RecordingsArgs {
    /// The legacy recordings' directory (read recursively; nothing in it is changed).
    #[arg(long, value_name = "DIR")]
    from: PathBuf,
    /// A CSV index of the recordings: file (relative to --from), call_id, started (RFC 3339
    /// or seconds since 1970), agent, caller, queue. Files it does not list are imported
    /// with their path only.
    #[arg(long, value_name = "FILE")]
    index: Option<PathBuf>,
    /// Where the sealed copies go (the tenant's recordings directory).
    #[arg(long, value_name = "DIR")]
    to: PathBuf,
    /// The key file (64 hex digits), made by `switchboard migrate key`.
    #[arg(long, value_name = "FILE")]
    key_file: PathBuf,
    /// The store the index goes to.
    #[arg(long, short = 'd', value_name = "ADDRESS", default_value = "switchboard.db")]
    database: String,
    /// The tenant the recordings belong to.
    #[arg(long, value_name = "ID")]
    tenant: String,
}

#[derive(Debug, Args)]
pub struct KeyArgs {
    /// Where to write the new key; the file must not exist.
    #[arg(long, short = 'o', value_name = "FILE")]
    out: PathBuf,
}

#[derive(Debug, Args)]
pub struct OpenArgs {
    /// A sealed recording (NAME.sealed).
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// The key file it was sealed with.
    #[arg(long, value_name = "FILE")]
    key_file: PathBuf,
    /// Where to write the recording as it was (a WAV file, for instance).
    #[arg(long, short = 'o', value_name = "FILE")]
    out: PathBuf,
}

fn read_key(path: &Path) -> anyhow::Result<SealKey> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading the key file {}", path.display()))?;
    SealKey::from_hex(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// Runs `switchboard migrate key`.
pub fn key(args: KeyArgs) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(&args.out)
        .with_context(|| format!("creating {} (a key file is never replaced)", args.out.display()))?;
    writeln!(file, "{}", SealKey::generate().to_hex()).context("writing the key")?;
    println!(
        "{}: a new key (readable by its owner only); keep a copy apart from the recordings, without it they cannot be opened",
        args.out.display()
    );
    Ok(())
}

/// Runs `switchboard migrate open-recording`.
pub fn open(args: OpenArgs) -> anyhow::Result<()> {
    let key = read_key(&args.key_file)?;
    let input = std::fs::File::open(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    // A scratch file of our own next to the output, readable by its owner only, renamed
    // once the whole recording authenticated.
    let name = args.out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let part = args.out.with_file_name(format!(".{name}.{}.part", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let output = options.open(&part).with_context(|| format!("writing {}", part.display()))?;
    match sealed::open(&key, input, output) {
        Ok(bytes) => {
            std::fs::rename(&part, &args.out).with_context(|| format!("writing {}", args.out.display()))?;
            println!("{}: {bytes} bytes", args.out.display());
            Ok(())
        }
        Err(e) => {
            let _ = std::fs::remove_file(&part);
            anyhow::bail!("{}: {e}", args.file.display())
        }
    }
}

/// What the index says of one recording.
#[derive(Debug, Default, Clone)]
struct Meta {
    call_id: Option<String>,
    started_ms: Option<i64>,
    agent: Option<String>,
    caller: Option<String>,
    queue: Option<String>,
}

/// Reads the index; rows that cannot be read are printed with their line numbers.
fn index(path: &Path) -> anyhow::Result<(HashMap<String, Meta>, usize)> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let name = path.display().to_string();
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    let header = lines
        .next()
        .map(|(_, l)| sb_migrate::csv::fields(l, ','))
        .transpose()
        .map_err(|e| anyhow::anyhow!("{name}:1: {e}"))?;
    let header = sb_migrate::csv::Header::new(&header.unwrap_or_default());
    anyhow::ensure!(header.column("file").is_some(), "{name}:1: the header has no file column");
    let mut out = HashMap::new();
    let mut rejected = 0;
    for (i, line) in lines {
        let row = match sb_migrate::csv::fields(line, ',') {
            Ok(row) if row.len() == header.len() => row,
            Ok(row) => {
                println!("rejected: {name}:{}: {} fields, the header has {}", i + 1, row.len(), header.len());
                rejected += 1;
                continue;
            }
            Err(e) => {
                println!("rejected: {name}:{}: {e}", i + 1);
                rejected += 1;
                continue;
            }
        };
        let Some(file) = header.get(&row, "file") else {
            println!("rejected: {name}:{}: no file", i + 1);
            rejected += 1;
            continue;
        };
        let started_ms = match header.get(&row, "started") {
            None => None,
            Some(text) => match text.parse::<i64>() {
                Ok(seconds) if (0..=10_000_000_000).contains(&seconds) => Some(seconds * 1000),
                _ => match text.parse::<jiff::Timestamp>() {
                    Ok(t) => Some(t.as_millisecond()),
                    Err(_) => {
                        println!("rejected: {name}:{}: started {text:?} is not RFC 3339 or seconds since 1970", i + 1);
                        rejected += 1;
                        continue;
                    }
                },
            },
        };
        let text = |column: &str| header.get(&row, column).map(str::to_owned);
        let meta = Meta {
            call_id: text("call_id"),
            started_ms,
            agent: text("agent"),
            caller: text("caller"),
            queue: text("queue"),
        };
        out.insert(file.to_owned(), meta);
    }
    Ok((out, rejected))
}

/// A `Write` that only hashes.
struct Hashing(sha2::Sha256, u64);

impl std::io::Write for Hashing {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        self.1 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Seals `source` into `stored` and proves the copy: opening it must give the same SHA-256.
fn seal_checked(key: &SealKey, source: &Path, stored: &Path, sha256: &str) -> anyhow::Result<()> {
    if let Some(dir) = stored.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let part = stored.with_extension("part");
    let input = std::fs::File::open(source).with_context(|| format!("reading {}", source.display()))?;
    let output = std::fs::File::create(&part).with_context(|| format!("writing {}", part.display()))?;
    sealed::seal(key, input, &output).with_context(|| format!("sealing {}", source.display()))?;
    output.sync_all().with_context(|| format!("writing {}", part.display()))?;
    let mut check = Hashing(sha2::Sha256::new(), 0);
    let reread = std::fs::File::open(&part).with_context(|| format!("reading {}", part.display()))?;
    let opened = sealed::open(key, reread, &mut check);
    let copied = crate::migrate::hex(&check.0.finalize());
    if opened.is_err() || copied != sha256 {
        let _ = std::fs::remove_file(&part);
        anyhow::bail!("the sealed copy of {} does not give its SHA-256 back", source.display());
    }
    std::fs::rename(&part, stored).with_context(|| format!("writing {}", stored.display()))
}

/// Runs `switchboard migrate recordings`.
pub fn import(args: RecordingsArgs) -> anyhow::Result<std::process::ExitCode> {
    let key = read_key(&args.key_file)?;
    let (meta, rejected) = match &args.index {
        Some(path) => index(path)?,
        None => (HashMap::new(), 0),
    };
    let mut files = Vec::new();
    crate::migrate::walk(&args.from, &args.from, &mut files)
        .with_context(|| format!("reading {}", args.from.display()))?;
    let mut store =
        sb_storage::open(&args.database).with_context(|| format!("opening the database {}", args.database))?;
    let known: std::collections::HashSet<String> = store
        .legacy_recordings(&args.tenant)
        .context("reading the recordings' index")?
        .into_iter()
        .map(|r| r.sha256)
        .collect();
    let bytes: u64 = files.iter().filter_map(|f| std::fs::metadata(args.from.join(f)).ok()).map(|m| m.len()).sum();
    let mut bars = crate::progress::PhaseBars::default();
    bars.phase("sealing recordings (bytes)", bytes);
    let (mut new, mut already, mut failed) = (0u64, 0u64, Vec::new());
    let mut listed = 0;
    for relative in &files {
        let source = args.from.join(relative);
        let name = relative.display().to_string();
        let result = (|| -> anyhow::Result<bool> {
            let (sha256, size) = crate::migrate::sha256_of(&source)?;
            if known.contains(&sha256) {
                return Ok(false);
            }
            let stored_path = format!("legacy/{}/{sha256}.sealed", &sha256[..2]);
            seal_checked(&key, &source, &args.to.join(&stored_path), &sha256)?;
            let m = meta.get(&name).cloned().unwrap_or_default();
            let row = sb_storage::RecordingRow {
                sha256,
                size: size as i64,
                source_path: name.clone(),
                stored_path,
                call_id: m.call_id,
                started_ms: m.started_ms,
                agent: m.agent,
                caller: m.caller,
                queue: m.queue,
            };
            Ok(store.put_legacy_recording(&args.tenant, &row)?)
        })();
        if meta.contains_key(&name) {
            listed += 1;
        }
        match result {
            Ok(true) => new += 1,
            Ok(false) => already += 1,
            Err(e) => failed.push(format!("{name}: {e:#}")),
        }
        bars.advance(std::fs::metadata(&source).map(|m| m.len()).unwrap_or(0));
    }
    bars.finish();
    for f in &failed {
        println!("FAILED {f}");
    }
    let unlisted = meta.len().saturating_sub(listed);
    if unlisted > 0 {
        println!("the index names {unlisted} files that are not in {}", args.from.display());
    }
    println!(
        "{}: {} files ({new} sealed and checked, {already} already imported, {} failed), {listed} with index entries, {rejected} index rows rejected",
        args.from.display(),
        files.len(),
        failed.len()
    );
    Ok(if failed.is_empty() { std::process::ExitCode::SUCCESS } else { std::process::ExitCode::FAILURE })
}
