//! The server: the thin tokio driver around a tenant's routing engine and store.
//!
//! [`serve`] loads and validates the configuration, opens storage, rebuilds the engine from
//! it (see [`dispatcher`]), starts the dispatcher thread and serves the HTTP API ([`http`])
//! until interrupted. With `--sip`, the SIP endpoint of `sb-voice` answers on UDP next to it.

pub mod alerts;
pub mod auth;
pub mod demo;
pub mod dispatcher;
pub mod http;
pub mod http_client;
pub mod tenant;
pub mod throttle;
pub mod voice;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;

/// Options of `switchboard serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// A tenant's configuration file (YAML); see docs/configuration.md. Repeat the option to
    /// serve several tenants; each file's `tenant.id` must be different.
    #[arg(long, short = 'c', value_name = "FILE", required = true)]
    pub config: Vec<PathBuf>,
    /// Where state is kept: a file path or sqlite:PATH for an embedded SQLite database
    /// (created if missing), or postgres://USER@HOST:PORT/DATABASE for PostgreSQL.
    #[arg(long, short = 'd', value_name = "ADDRESS", default_value = "switchboard.db")]
    pub database: String,
    /// The address and port to serve HTTP on. Port 0 picks a free port; the address in use
    /// is printed on start.
    #[arg(long, short = 'l', value_name = "ADDR:PORT", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Web chats one client address may open per minute (more get 429).
    #[arg(long, value_name = "N", default_value_t = throttle::CHATS_PER_MINUTE)]
    pub chats_per_minute_per_address: usize,
    /// Also answer SIP over UDP and TCP on this address and port (off by default). Port 0
    /// picks a free port; the address in use is printed on start. Agents' phones (their `phone` in
    /// the tenant file) register here with digest authentication; calls to the tenants'
    /// numbers (`voice` in the tenant file) go through their contact flows and queues to
    /// the agents' phones. See docs/voice.md.
    #[arg(long, value_name = "ADDR:PORT")]
    pub sip: Option<SocketAddr>,
    /// The IP address phones, trunks and callers reach the SIP endpoint at, when it is not
    /// the --sip address: needed when --sip binds 0.0.0.0, or behind a NAT that forwards the
    /// SIP port and the media ports. It goes into Via, Contact and the SDP of every call.
    #[arg(long, value_name = "IP", requires = "sip")]
    pub sip_advertise: Option<std::net::IpAddr>,
}

/// Loads every tenant's configuration and opens a store connection for each.
pub fn open_tenants(
    configs: &[PathBuf],
    database: &str,
) -> anyhow::Result<Vec<(sb_config::TenantConfig, Box<dyn sb_storage::Store>)>> {
    let mut tenants: Vec<(sb_config::TenantConfig, Box<dyn sb_storage::Store>)> = Vec::new();
    for path in configs {
        let config = sb_config::load(path).map_err(|e| anyhow::anyhow!("{}", e.report))?;
        if let Some((other, _)) = tenants.iter().find(|(c, _)| c.tenant.id == config.tenant.id) {
            anyhow::bail!(
                "{}: tenant id {:?} is already served from another file ({})",
                path.display(),
                config.tenant.id.as_str(),
                other.tenant.name
            );
        }
        let store = sb_storage::open(database).with_context(|| format!("opening the database {database}"))?;
        tenants.push((config, store));
    }
    Ok(tenants)
}

/// Runs `switchboard serve` until interrupted.
pub fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let tenants = open_tenants(&args.config, &args.database)?;
    let limits = throttle::Limits::new(args.chats_per_minute_per_address);
    // SIP first, so that a port already taken stops the start before HTTP serves anything;
    // dropping the server stops it again if HTTP cannot start.
    let (sip, link) = match args.sip {
        Some(addr) => {
            anyhow::ensure!(
                !addr.ip().is_unspecified() || args.sip_advertise.is_some(),
                "--sip {addr} listens on every address, so peers need to be told which one to reach: \
                 give --sip-advertise IP"
            );
            let (sip, link) = start_sip(addr, args.sip_advertise, &args.config, &tenants)?;
            (Some(sip), Some(link))
        }
        None => (None, None),
    };
    let server = spawn_with(tenants, args.listen, limits, link)?;
    // Scripts and tests read these lines (the first administrators' passwords, then the
    // address). A closed standard output is no reason to stop serving.
    {
        use std::io::Write as _;
        let mut out = std::io::stdout();
        for (tenant, password) in &server.first_admins {
            let _ =
                writeln!(out, "tenant {tenant}: created user admin with password {password} (shown once; change it)");
        }
        if let Some(sip) = &sip {
            let _ = writeln!(out, "switchboard SIP listening on udp:{}", sip.local_addr());
        }
        let _ = writeln!(out, "switchboard listening on http://{}", server.addr).and_then(|()| out.flush());
    }
    let signals = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    signals.block_on(async { tokio::signal::ctrl_c().await }).context("waiting for Ctrl-C")?;
    if let Some(sip) = sip {
        sip.stop().context("stopping SIP")?;
    }
    server.stop()
}

/// Starts the SIP endpoint on `addr` for the tenants read from `paths` (in the same order):
/// their phones, numbers, flows, prompts and trunks. The link goes to [`spawn_with`], which
/// connects the calls to the tenants' dispatchers.
pub fn start_sip(
    addr: SocketAddr,
    advertise: Option<std::net::IpAddr>,
    paths: &[PathBuf],
    tenants: &[(sb_config::TenantConfig, Box<dyn sb_storage::Store>)],
) -> anyhow::Result<(sb_voice::SipServer, voice::VoiceLink)> {
    let mut config = sip_config(tenants);
    config.advertise = advertise;
    let configs: Vec<&sb_config::TenantConfig> = tenants.iter().map(|(c, _)| c).collect();
    config.entries = voice::entries(paths, &configs)?;
    let (commands, commands_rx) = tokio::sync::mpsc::unbounded_channel();
    let (feedback, feedback_rx) = tokio::sync::mpsc::unbounded_channel();
    let services = sb_voice::Services { commands, feedback: feedback_rx };
    let sip = sb_voice::SipServer::spawn(addr, config, Some(services)).context("starting SIP")?;
    let recordings = voice::recording_dirs(paths, &configs)?;
    Ok((sip, voice::VoiceLink { commands: commands_rx, feedback, recordings }))
}

/// The SIP endpoint's settings: the agents' phone accounts (the realm is the tenant's id), a
/// random key for the registrar's nonces, and To tags that differ from one start of the
/// process to the next.
fn sip_config(tenants: &[(sb_config::TenantConfig, Box<dyn sb_storage::Store>)]) -> sb_voice::EndpointConfig {
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    let started = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let tag_prefix = format!("sb{:x}{:x}-", std::process::id(), started.as_millis() % 0xffff_ffff);
    let phones = tenants
        .iter()
        .flat_map(|(config, _)| {
            config.agents.iter().filter_map(|agent| {
                agent.phone.as_ref().map(|phone| sb_voice::PhoneAccount {
                    realm: config.tenant.id.as_str().to_owned(),
                    user: phone.user.clone(),
                    agent: agent.id.as_str().to_owned(),
                    password: phone.password.clone(),
                })
            })
        })
        .collect();
    let mut nonce_secret = vec![0u8; 32];
    OsRng.fill_bytes(&mut nonce_secret);
    let seed = OsRng.next_u64();
    sb_voice::EndpointConfig { tag_prefix, phones, nonce_secret, seed, ..sb_voice::EndpointConfig::default() }
}

/// Tenants served in the background: a dispatcher thread each, and HTTP on a runtime of its own.
#[derive(Debug)]
pub struct Spawned {
    /// The address HTTP is served on.
    pub addr: SocketAddr,
    /// Tenants that had no users: the generated password of their first `admin`.
    pub first_admins: Vec<(String, String)>,
    shutdown: tokio::sync::oneshot::Sender<()>,
    http: std::thread::JoinHandle<anyhow::Result<()>>,
    dispatchers: Vec<std::thread::JoinHandle<()>>,
}

impl Spawned {
    /// Stops accepting requests, finishes those under way, and waits for every thread.
    pub fn stop(self) -> anyhow::Result<()> {
        let _ = self.shutdown.send(());
        let served = self.http.join().map_err(|_| anyhow::anyhow!("the HTTP thread panicked"))?;
        // A dispatcher ends once the HTTP server, the last holder of its channel, is gone.
        for dispatcher in self.dispatchers {
            dispatcher.join().map_err(|_| anyhow::anyhow!("a dispatcher panicked"))?;
        }
        served
    }
}

/// Rebuilds each tenant from its store and serves them all on `listen` in the background,
/// with the default limits.
pub fn spawn(
    tenants: Vec<(sb_config::TenantConfig, Box<dyn sb_storage::Store>)>,
    listen: SocketAddr,
) -> anyhow::Result<Spawned> {
    spawn_with(tenants, listen, throttle::Limits::default(), None)
}

/// [`spawn`] with the given limits on unauthenticated calls, and linked to the SIP endpoint
/// if `voice` is given.
pub fn spawn_with(
    tenants: Vec<(sb_config::TenantConfig, Box<dyn sb_storage::Store>)>,
    listen: SocketAddr,
    limits: throttle::Limits,
    voice: Option<voice::VoiceLink>,
) -> anyhow::Result<Spawned> {
    let keyring = auth::SharedKeyring::default();
    let mut handles = HashMap::new();
    let mut dispatchers = Vec::new();
    let mut first_admins = Vec::new();
    for (config, store) in tenants {
        let (setup, directory) = tenant::build(&config);
        let kind = store.kind();
        let (mut dispatcher, restored) = dispatcher::Dispatcher::open(setup, directory.clone(), store, keyring.clone())
            .with_context(|| format!("rebuilding tenant {} from storage", directory.tenant))?;
        tracing::info!(
            tenant = %directory.tenant,
            storage = kind,
            waiting = restored.waiting,
            connected = restored.connected,
            lost = restored.lost,
            "routing state rebuilt from storage"
        );
        if let Some(password) = dispatcher.ensure_admin().context("creating the first administrator")? {
            first_admins.push((directory.tenant.clone(), password));
        }
        let (tx, rx) = std::sync::mpsc::channel();
        let live = dispatcher.live_events();
        if let Some(link) = &voice {
            dispatcher.link_voice(link.feedback.clone());
        }
        dispatchers.push(
            std::thread::Builder::new()
                .name(format!("dispatcher-{}", directory.tenant))
                .spawn(move || dispatcher.run(rx))
                .context("starting a dispatcher thread")?,
        );
        let handle = http::TenantHandle {
            requests: tx,
            directory: Arc::new(directory.clone()),
            live,
            name: config.tenant.name.clone(),
        };
        handles.insert(directory.tenant.clone(), handle);
    }
    if let Some(link) = voice {
        // The bridge ends when the SIP endpoint, the sender of its commands, stops.
        drop(voice::spawn_bridge(handles.clone(), link)?);
    }
    let state = http::AppState { tenants: Arc::new(handles), keyring, limits: Arc::new(std::sync::Mutex::new(limits)) };
    let (bound_tx, bound_rx) = std::sync::mpsc::channel::<anyhow::Result<SocketAddr>>();
    let (shutdown, stop) = tokio::sync::oneshot::channel::<()>();
    let http = std::thread::Builder::new()
        .name("http".into())
        .spawn(move || -> anyhow::Result<()> {
            let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
            runtime.block_on(async move {
                let listener = match tokio::net::TcpListener::bind(listen).await {
                    Ok(l) => l,
                    Err(e) => {
                        let _ = bound_tx.send(Err(anyhow::Error::new(e).context(format!("listening on {listen}"))));
                        return Ok(());
                    }
                };
                let _ = bound_tx.send(listener.local_addr().map_err(Into::into));
                tracing::info!(addr = ?listener.local_addr().ok(), "serving HTTP");
                let app = http::router(state).into_make_service_with_connect_info::<SocketAddr>();
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stop.await;
                    })
                    .await
                    .context("serving HTTP")
            })
        })
        .context("starting the HTTP thread")?;
    let addr = bound_rx.recv().context("the HTTP thread ended before listening")??;
    Ok(Spawned { addr, first_admins, shutdown, http, dispatchers })
}
