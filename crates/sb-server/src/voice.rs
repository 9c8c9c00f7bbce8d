//! Voice wiring: the tenants' numbers, flows and prompts loaded for the SIP endpoint, and
//! the bridge that carries the calls' requests to the tenants' dispatchers.
//!
//! The endpoint (`sb-voice`) runs on a thread of its own and speaks in [`Command`]s and
//! [`Feedback`]. The bridge thread takes the commands: a call's enqueue becomes a
//! dispatcher `Create` for a voice interaction, an answer, abandon or hang-up an engine
//! command. The dispatcher itself sends what the engine decides about voice interactions
//! (queued, offered, offer withdrawn) straight to the endpoint, in the engine's order.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use sb_routing::{Channel, InteractionId, Level, Priority};
use std::net::ToSocketAddrs as _;

use sb_flow::Action;
use sb_voice::{Command, Entry, Feedback, Prompt, RouteNotice, RouteRequest, Target};
use tokio::sync::{mpsc, oneshot};

use crate::dispatcher::{NewRequest, Request};
use crate::http::TenantHandle;

/// Loads the numbers of every tenant: each flow (checked against its tenant), the prompts it
/// plays and the tenant's music on hold, relative to the files that name them. `paths[i]` is
/// the file `tenants[i]` was read from.
pub fn entries(paths: &[PathBuf], tenants: &[&sb_config::TenantConfig]) -> anyhow::Result<Vec<Arc<Entry>>> {
    let mut entries: Vec<Arc<Entry>> = Vec::new();
    for (path, config) in paths.iter().zip(tenants) {
        let dir = path.parent().unwrap_or(Path::new("."));
        let tenant: Arc<str> = config.tenant.id.as_str().into();
        let schedules: Arc<dyn sb_flow::Schedules + Send + Sync> = Arc::new((*config).clone());
        let music_on_hold = match &config.voice.music_on_hold {
            Some(file) => {
                Some(prompt(&dir.join(file)).with_context(|| format!("{}: voice.music_on_hold", path.display()))?)
            }
            None => None,
        };
        let announcements = match &config.voice.announcements {
            Some(a) => Some(
                announcements(&dir.join(&a.prompts), a.every)
                    .with_context(|| format!("{}: voice.announcements", path.display()))?,
            ),
            None => None,
        };
        let known = sb_flow::KnownNames::from_config(config);
        let mut trunks: HashMap<&str, Arc<sb_voice::Trunk>> = HashMap::new();
        let mut split: Option<Arc<sb_voice::Split>> = None;
        for trunk in &config.voice.trunks {
            let address = (trunk.host.as_str(), trunk.port)
                .to_socket_addrs()
                .ok()
                .and_then(|mut addresses| addresses.next())
                .with_context(|| {
                    format!("{}: trunk {}: {}:{} has no address", path.display(), trunk.id, trunk.host, trunk.port)
                })?;
            let target = sb_voice::Trunk {
                id: trunk.id.as_str().to_owned(),
                address,
                host: trunk.host.clone(),
                credentials: trunk.credentials.clone(),
            };
            trunks.insert(trunk.id.as_str(), Arc::new(target));
        }
        if let Some(s) = &config.voice.split {
            // The configuration checked the reference.
            let trunk = trunks.get(s.trunk.as_str()).with_context(|| format!("unknown trunk {}", s.trunk))?;
            let rules = s
                .rules
                .iter()
                .map(|r| match &r.matcher {
                    sb_config::SplitMatch::Caller(prefix) => sb_voice::SplitRule::Caller(prefix.clone(), r.to_legacy),
                    sb_config::SplitMatch::Number(number) => sb_voice::SplitRule::Number(number.clone(), r.to_legacy),
                    sb_config::SplitMatch::Percent(p) => sb_voice::SplitRule::Percent(*p, r.to_legacy),
                })
                .collect();
            split = Some(Arc::new(sb_voice::Split { trunk: Arc::clone(trunk), rules }));
        }
        for number in &config.voice.numbers {
            if let Some(other) = entries.iter().find(|e| e.number == number.number) {
                anyhow::bail!(
                    "{}: number {:?} is already tenant {:?}'s",
                    path.display(),
                    number.number,
                    &*other.tenant
                );
            }
            let (target, prompts) = match &number.destination {
                sb_config::Destination::Flow(file) => {
                    let (flow, prompts) = load_flow(&dir.join(file), &known)
                        .with_context(|| format!("{}: number {:?}", path.display(), number.number))?;
                    (Target::Flow { flow: Arc::new(flow), schedules: Arc::clone(&schedules) }, prompts)
                }
                sb_config::Destination::Trunk(id) => {
                    // The configuration checked the reference.
                    let trunk = trunks.get(id.as_str()).with_context(|| format!("unknown trunk {id}"))?;
                    (Target::Trunk(Arc::clone(trunk)), HashMap::new())
                }
            };
            let split = split.clone();
            entries.push(Arc::new(Entry {
                number: number.number.clone(),
                tenant: Arc::clone(&tenant),
                target,
                prompts: Arc::new(prompts),
                music_on_hold: music_on_hold.clone(),
                record_calls: config.voice.record_calls,
                announcements: announcements.clone(),
                split,
            }));
        }
    }
    Ok(entries)
}

/// Loads a flow, checked against its tenant, and the prompts it plays, relative to it.
fn load_flow(
    flow_path: &Path,
    known: &sb_flow::KnownNames,
) -> anyhow::Result<(sb_flow::Flow, HashMap<String, Prompt>)> {
    let flow = sb_flow::load(flow_path, known).map_err(|e| anyhow::anyhow!("{e}"))?;
    let flow_dir = flow_path.parent().unwrap_or(Path::new("."));
    let mut prompts = HashMap::new();
    for file in flow.prompts() {
        let loaded = prompt(&flow_dir.join(file))
            .with_context(|| format!("{}: a prompt of flow {}", flow_path.display(), flow.id))?;
        prompts.insert(file.to_owned(), loaded);
    }
    Ok((flow, prompts))
}

/// Reads the position announcement's prompts: `position.wav`, `0.wav` to `9.wav`, and
/// `after.wav` if there is one.
fn announcements(dir: &Path, every: std::time::Duration) -> anyhow::Result<sb_voice::Announcements> {
    let before = prompt(&dir.join("position.wav"))?;
    let mut digits = Vec::with_capacity(10);
    for digit in 0..10 {
        digits.push(prompt(&dir.join(format!("{digit}.wav")))?);
    }
    let after_path = dir.join("after.wav");
    let after = if after_path.exists() { Some(prompt(&after_path)?) } else { None };
    let digits: [Prompt; 10] = digits.try_into().map_err(|_| anyhow::anyhow!("ten digits"))?;
    Ok(sb_voice::Announcements { every, before, digits, after })
}

/// Reads a WAV prompt.
fn prompt(path: &Path) -> anyhow::Result<Prompt> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let wav = sb_media::Wav::parse(&bytes).with_context(|| format!("reading {}", path.display()))?;
    Ok(Prompt::new(&wav))
}

/// Where a tenant's recordings go, and the key they are sealed with, if any.
#[derive(Debug, Clone)]
pub struct RecordingStore {
    pub dir: PathBuf,
    pub key: Option<sb_storage::sealed::SealKey>,
}

/// Each tenant's recordings: its `voice.recordings` directory and `voice.recordings_key`,
/// relative to the file it was read from. A key file that cannot be read stops the start.
pub fn recording_dirs(
    paths: &[PathBuf],
    tenants: &[&sb_config::TenantConfig],
) -> anyhow::Result<HashMap<String, RecordingStore>> {
    paths
        .iter()
        .zip(tenants)
        .map(|(path, config)| {
            let base = path.parent().unwrap_or(Path::new("."));
            let key = match &config.voice.recordings_key {
                Some(file) => {
                    let file = base.join(file);
                    let text = std::fs::read_to_string(&file).with_context(|| {
                        format!("tenant {}: reading voice.recordings_key {}", config.tenant.id.as_str(), file.display())
                    })?;
                    let key = sb_storage::sealed::SealKey::from_hex(&text).map_err(|e| {
                        anyhow::anyhow!(
                            "tenant {}: voice.recordings_key {}: {e}",
                            config.tenant.id.as_str(),
                            file.display()
                        )
                    })?;
                    Some(key)
                }
                None => None,
            };
            let store = RecordingStore { dir: base.join(&config.voice.recordings), key };
            Ok((config.tenant.id.as_str().to_owned(), store))
        })
        .collect()
}

/// The endpoint's side of the link, as the server's spawn takes it.
#[derive(Debug)]
pub struct VoiceLink {
    pub commands: mpsc::UnboundedReceiver<Command>,
    pub feedback: mpsc::UnboundedSender<Feedback>,
    /// Where each tenant's recordings go.
    pub recordings: HashMap<String, RecordingStore>,
}

/// Runs the bridge on a thread of its own until the endpoint is gone.
pub fn spawn_bridge(
    tenants: HashMap<String, TenantHandle>,
    link: VoiceLink,
) -> anyhow::Result<std::thread::JoinHandle<()>> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    std::thread::Builder::new()
        .name("voice-bridge".into())
        .spawn(move || runtime.block_on(bridge(tenants, link)))
        .context("starting the voice bridge")
}

async fn bridge(tenants: HashMap<String, TenantHandle>, mut link: VoiceLink) {
    while let Some(command) = link.commands.recv().await {
        match command {
            Command::Route { tenant, request } => {
                let Some(handle) = tenants.get(&*tenant) else { continue };
                // Sent at once, in the calls' order (the dispatcher's channel keeps it);
                // the answers are awaited apart, so that no call waits for another's commit.
                match route(handle, request) {
                    Ok(Some(waiting)) => {
                        let feedback = link.feedback.clone();
                        tokio::spawn(async move {
                            if let Some(notice) = waiting.finish().await {
                                let _ = feedback.send(Feedback::Route(notice));
                            }
                        });
                    }
                    Ok(None) => {}
                    Err(notice) => {
                        let _ = link.feedback.send(Feedback::Route(notice));
                    }
                }
            }
            Command::Http { call, url, timeout } => {
                // On a blocking thread of its own, so that a slow CRM holds up no other call.
                let feedback = link.feedback.clone();
                tokio::task::spawn_blocking(move || {
                    let result = lookup(&url, timeout);
                    if let Err(error) = &result {
                        tracing::info!(%call, url, error, "a flow's lookup failed");
                    }
                    let _ = feedback.send(Feedback::Http { call, result });
                });
            }
            Command::Outcome { tenant, call, caller, interaction, action } => {
                let Some(handle) = tenants.get(&*tenant) else { continue };
                outcome(handle, call, caller, interaction, action);
            }
            Command::SaveRecording { tenant, call, interaction, kind, wav, attributes } => {
                let Some(store) = link.recordings.get(&*tenant) else { continue };
                match save_recording(store, call, interaction, kind, &wav) {
                    Ok(path) => tracing::info!(
                        %tenant,
                        %call,
                        ?interaction,
                        ?attributes,
                        path = %path.display(),
                        bytes = wav.len(),
                        "recording saved"
                    ),
                    Err(error) => tracing::error!(%tenant, %call, error = format!("{error:#}"), "recording lost"),
                }
            }
            Command::OpenMedia { .. } | Command::CloseMedia { .. } => {}
        }
    }
}

/// Stores what a flow decided: a survey score on the call's interaction, or a call back as a
/// new voice interaction in the queue the flow named, with the caller's number in
/// `callback_number` and the flow's variables, for an agent to call back. Its offers show on
/// the agents' desktops; no phone rings for it.
fn outcome(handle: &TenantHandle, call: sb_voice::CallId, caller: String, interaction: Option<u64>, action: Action) {
    let request = match action {
        Action::SurveyAnswer { name, score, scale } => {
            let Some(interaction) = interaction else {
                tracing::info!(%call, name, score, "a survey answer without an interaction is not stored");
                return;
            };
            tracing::info!(%call, interaction, name, score, scale, "survey answer");
            let (reply, answer) = oneshot::channel();
            tokio::spawn(async move {
                if let Ok(Err(error)) = answer.await {
                    tracing::warn!(%call, interaction, %error, "the survey answer was not stored");
                }
            });
            Request::Survey { interaction, score, revoke: None, reply }
        }
        Action::RequestCallback { queue, mut attributes } => {
            let Some(queue_id) = handle.directory.queue(&queue) else {
                tracing::warn!(%call, queue, "call back requested in an unknown queue");
                return;
            };
            attributes.retain(|(name, _)| name != "callback_number");
            attributes.insert(0, ("callback_number".to_owned(), caller));
            tracing::info!(%call, queue, "call back requested");
            let new = NewRequest {
                channel: Channel::Voice,
                queue: queue_id,
                priority: None,
                requirements: Vec::new(),
                attributes,
                customer: None,
                voice_call: None,
            };
            let (reply, answer) = oneshot::channel();
            tokio::spawn(async move {
                if let Ok(Err(error)) = answer.await {
                    tracing::warn!(%call, %error, "the call back was not queued");
                }
            });
            Request::Create { new, reply }
        }
        other => {
            tracing::debug!(%call, ?other, "not an outcome to store");
            return;
        }
    };
    if handle.requests.send(request).is_err() {
        tracing::warn!(%call, "the tenant is shutting down; the flow's outcome is lost");
    }
}

/// A flow's `http` lookup: GET `url`, and the pairs of the JSON object it answers with.
fn lookup(url: &str, timeout: std::time::Duration) -> Result<Vec<(String, String)>, String> {
    let address = sb_config::Webhook::parse(url)?;
    let answer = crate::http_client::request("GET", &address, None, timeout)?;
    if !(200..300).contains(&answer.status) {
        return Err(format!("{url} answered {}", answer.status));
    }
    crate::http_client::pairs(&answer.body)
}

/// Writes a recording as `conversation-INTERACTION-CALLID-TIME.wav` or
/// `voicemail-CALLID-TIME.wav` (TIME in milliseconds since the Unix epoch), creating the
/// directory if needed; sealed (`.wav.sealed`) when the tenant has a recordings key. The
/// file is written under a temporary name and renamed, so that a file with the final name is
/// always whole.
fn save_recording(
    store: &RecordingStore,
    call: sb_voice::CallId,
    interaction: Option<u64>,
    kind: sb_voice::RecordingKind,
    wav: &[u8],
) -> anyhow::Result<PathBuf> {
    let at = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_millis();
    let name = match (kind, interaction) {
        (sb_voice::RecordingKind::Conversation, Some(id)) => format!("conversation-{id}-{call}-{at}.wav"),
        (sb_voice::RecordingKind::Conversation, None) => format!("conversation-{call}-{at}.wav"),
        (sb_voice::RecordingKind::Voicemail, _) => format!("voicemail-{call}-{at}.wav"),
    };
    let dir = &store.dir;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let (path, partial) = match &store.key {
        Some(_) => (dir.join(format!("{name}.sealed")), dir.join(format!("{name}.sealed.partial"))),
        None => (dir.join(&name), dir.join(format!("{name}.partial"))),
    };
    match &store.key {
        Some(key) => {
            let file = std::fs::File::create(&partial).with_context(|| format!("writing {}", partial.display()))?;
            sb_storage::sealed::seal(key, wav, &file).with_context(|| format!("sealing {}", partial.display()))?;
            file.sync_all().with_context(|| format!("writing {}", partial.display()))?;
        }
        None => std::fs::write(&partial, wav).with_context(|| format!("writing {}", partial.display()))?,
    }
    std::fs::rename(&partial, &path).with_context(|| format!("renaming {}", partial.display()))?;
    Ok(path)
}

/// An answer the dispatcher owes a call's request.
enum Waiting {
    Create {
        call: sb_voice::CallId,
        answer: oneshot::Receiver<Result<crate::dispatcher::InteractionView, crate::dispatcher::RequestError>>,
    },
    Apply {
        command: String,
        answer: oneshot::Receiver<Result<(), crate::dispatcher::RequestError>>,
    },
    Transfer {
        interaction: u64,
        answer: oneshot::Receiver<Result<(), crate::dispatcher::RequestError>>,
    },
    Position {
        interaction: u64,
        answer: oneshot::Receiver<Result<crate::dispatcher::InteractionView, crate::dispatcher::RequestError>>,
    },
}

impl Waiting {
    /// Waits for the answer: a failed enqueue is a notice for the call (a successful one
    /// is announced by the dispatcher itself, before the engine's offers); a refused command
    /// is logged (an offer that ran out as the phone answered, say: the engine's word stands).
    async fn finish(self) -> Option<RouteNotice> {
        match self {
            Waiting::Create { call, answer } => {
                let reason = match answer.await {
                    Ok(Ok(_)) => return None,
                    Ok(Err(error)) => error.to_string(),
                    Err(_) => "the tenant is shutting down".to_owned(),
                };
                Some(RouteNotice::EnqueueFailed { call, reason })
            }
            Waiting::Position { interaction, answer } => {
                let position = answer.await.ok().and_then(Result::ok).and_then(|view| view.position);
                Some(RouteNotice::Position { interaction, position })
            }
            Waiting::Transfer { interaction, answer } => {
                let result = match answer.await {
                    Ok(Ok(())) => Ok(()),
                    Ok(Err(error)) => Err(error.to_string()),
                    Err(_) => Err("the tenant is shutting down".to_owned()),
                };
                Some(RouteNotice::Transferred { interaction, result })
            }
            Waiting::Apply { command, answer } => {
                if let Ok(Err(error)) = answer.await {
                    tracing::info!(command, %error, "the routing engine refused a call's request");
                }
                None
            }
        }
    }
}

/// Sends one request to the tenant's dispatcher. `Err` is a failed enqueue known at once.
fn route(handle: &TenantHandle, request: RouteRequest) -> Result<Option<Waiting>, RouteNotice> {
    let dir = &handle.directory;
    let command = match request {
        RouteRequest::Enqueue { call, queue, priority, skills, attributes } => {
            let failed = |reason: String| RouteNotice::EnqueueFailed { call, reason };
            let queue_id = dir.queue(&queue).ok_or_else(|| failed(format!("unknown queue {queue:?}")))?;
            let mut requirements = Vec::new();
            for (skill, level) in &skills {
                match (dir.skill(skill), Level::new(*level)) {
                    (Some(s), Some(l)) => requirements.push((s, l)),
                    _ => return Err(failed(format!("unknown skill {skill:?} or level {level}"))),
                }
            }
            let new = NewRequest {
                channel: Channel::Voice,
                queue: queue_id,
                priority: priority.and_then(Priority::new),
                requirements,
                attributes,
                customer: None,
                voice_call: Some(call.0),
            };
            let (reply, answer) = oneshot::channel();
            handle
                .requests
                .send(Request::Create { new, reply })
                .map_err(|_| failed("the tenant is shutting down".into()))?;
            return Ok(Some(Waiting::Create { call, answer }));
        }
        RouteRequest::Accept { interaction, agent } => {
            let Some(agent) = dir.agent(&agent) else { return Ok(None) };
            sb_routing::Command::Accept { interaction: InteractionId(interaction), agent }
        }
        RouteRequest::Abandon { interaction } => {
            sb_routing::Command::Abandon { interaction: InteractionId(interaction) }
        }
        RouteRequest::Complete { interaction, agent } => {
            let Some(agent) = dir.agent(&agent) else { return Ok(None) };
            sb_routing::Command::Complete { interaction: InteractionId(interaction), agent }
        }
        RouteRequest::Position { interaction } => {
            let (reply, answer) = oneshot::channel();
            let request = Request::Interaction { id: interaction, reply };
            return Ok(handle.requests.send(request).ok().map(|()| Waiting::Position { interaction, answer }));
        }
        RouteRequest::Transfer { interaction, agent, target } => {
            let failed = |why: String| RouteNotice::Transferred { interaction, result: Err(why) };
            let agent = dir.agent(&agent).ok_or_else(|| failed(format!("unknown agent {agent:?}")))?;
            // A queue's id first, then an agent's.
            let to = match (dir.queue(&target), dir.agent(&target)) {
                (Some(queue), _) => sb_routing::TransferTarget::Queue(queue),
                (None, Some(other)) => sb_routing::TransferTarget::Agent(other),
                (None, None) => return Err(failed(format!("no queue or agent {target:?}"))),
            };
            let command = sb_routing::Command::Transfer { interaction: InteractionId(interaction), agent, to };
            let (reply, answer) = oneshot::channel();
            let request = Request::Apply { command, then: Vec::new(), audit: None, reply };
            handle.requests.send(request).map_err(|_| failed("the tenant is shutting down".to_owned()))?;
            return Ok(Some(Waiting::Transfer { interaction, answer }));
        }
    };
    let (reply, answer) = oneshot::channel();
    let described = format!("{command:?}");
    let request = Request::Apply { command, then: Vec::new(), audit: None, reply };
    Ok(handle.requests.send(request).ok().map(|()| Waiting::Apply { command: described, answer }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recordings_are_sealed_when_the_tenant_has_a_key() {
        let dir = std::env::temp_dir().join(format!("switchboard-recordings-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let wav: Vec<u8> = b"RIFF....WAVEfmt ".iter().copied().chain((0..100_000u32).map(|i| i as u8)).collect();
        let call = sb_voice::CallId(7);
        let plain = RecordingStore { dir: dir.join("plain"), key: None };
        let path = save_recording(&plain, call, Some(3), sb_voice::RecordingKind::Conversation, &wav).unwrap();
        assert!(path.to_string_lossy().ends_with(".wav"));
        assert_eq!(std::fs::read(&path).unwrap(), wav);
        let key = sb_storage::sealed::SealKey::generate();
        let sealed = RecordingStore { dir: dir.join("sealed"), key: Some(key.clone()) };
        let path = save_recording(&sealed, call, None, sb_voice::RecordingKind::Voicemail, &wav).unwrap();
        assert!(path.to_string_lossy().ends_with(".wav.sealed"), "{}", path.display());
        let bytes = std::fs::read(&path).unwrap();
        assert!(!bytes.windows(4).any(|w| w == b"RIFF"), "no plaintext at rest");
        let mut opened = Vec::new();
        sb_storage::sealed::open(&key, &bytes[..], &mut opened).unwrap();
        assert_eq!(opened, wav);
        assert_eq!(std::fs::read_dir(dir.join("sealed")).unwrap().count(), 1, "no partial file left");
        // A key file that is not a key stops the start, naming the tenant and the file.
        std::fs::create_dir_all(&dir).unwrap();
        let demo = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/demo.yaml")).unwrap();
        let text = format!("{demo}\nvoice:\n  recordings_key: bad.key\n");
        let (config, _) = sb_config::parse("demo.yaml", &text).unwrap_or_else(|r| panic!("{r}"));
        std::fs::write(dir.join("bad.key"), "not a key").unwrap();
        let error = recording_dirs(&[dir.join("demo.yaml")], &[&config]).unwrap_err();
        assert!(format!("{error:#}").contains("tenant demo: voice.recordings_key"), "{error:#}");
        assert!(format!("{error:#}").contains("a key is 64 hex digits"), "{error:#}");
        std::fs::write(dir.join("bad.key"), key.to_hex()).unwrap();
        let stores = recording_dirs(&[dir.join("demo.yaml")], &[&config]).unwrap();
        assert!(stores["demo"].key.is_some());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
