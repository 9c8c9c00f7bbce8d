//! The server: the thin tokio driver around a tenant's routing engine and store.
//!
//! [`serve`] loads and validates the configuration, opens storage, rebuilds the engine from
//! it (see [`dispatcher`]), starts the dispatcher thread and serves the HTTP API ([`http`])
//! until interrupted.

pub mod dispatcher;
pub mod http;
pub mod tenant;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;

/// Options of `switchboard serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The tenant's configuration file (YAML); see docs/configuration.md.
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: PathBuf,
    /// Where state is kept: a file path or sqlite:PATH for an embedded SQLite database
    /// (created if missing), or postgres://USER@HOST:PORT/DATABASE for PostgreSQL.
    #[arg(long, short = 'd', value_name = "ADDRESS", default_value = "switchboard.db")]
    pub database: String,
    /// The address and port to serve HTTP on. Port 0 picks a free port; the address in use
    /// is printed on start.
    #[arg(long, short = 'l', value_name = "ADDR:PORT", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
}

/// Runs `switchboard serve` until interrupted.
pub fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let config = sb_config::load(&args.config).map_err(|e| anyhow::anyhow!("{}", e.report))?;
    let store = sb_storage::open(&args.database).with_context(|| format!("opening the database {}", args.database))?;
    let server = spawn(&config, store, args.listen)?;
    // Scripts and tests read this line to find the port. A closed standard output is no
    // reason to stop serving.
    {
        use std::io::Write as _;
        let mut out = std::io::stdout();
        let _ = writeln!(out, "switchboard listening on http://{}", server.addr).and_then(|()| out.flush());
    }
    let signals = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    signals.block_on(async { tokio::signal::ctrl_c().await }).context("waiting for Ctrl-C")?;
    server.stop()
}

/// A tenant served in the background: its dispatcher thread, and HTTP on a runtime of its own.
#[derive(Debug)]
pub struct Spawned {
    /// The address HTTP is served on.
    pub addr: SocketAddr,
    shutdown: tokio::sync::oneshot::Sender<()>,
    http: std::thread::JoinHandle<anyhow::Result<()>>,
    dispatcher: std::thread::JoinHandle<()>,
}

impl Spawned {
    /// Stops accepting requests, finishes those under way, and waits for both threads.
    pub fn stop(self) -> anyhow::Result<()> {
        let _ = self.shutdown.send(());
        let served = self.http.join().map_err(|_| anyhow::anyhow!("the HTTP thread panicked"))?;
        // The dispatcher ends once the HTTP server, the last holder of its channel, is gone.
        self.dispatcher.join().map_err(|_| anyhow::anyhow!("the dispatcher panicked"))?;
        served
    }
}

/// Rebuilds a tenant from `store` and serves it on `listen` in the background.
pub fn spawn(
    config: &sb_config::TenantConfig,
    store: Box<dyn sb_storage::Store>,
    listen: SocketAddr,
) -> anyhow::Result<Spawned> {
    let (setup, directory) = tenant::build(config);
    let kind = store.kind();
    let (dispatcher, restored) = dispatcher::Dispatcher::open(setup, directory.clone(), store)
        .context("rebuilding the routing state from storage")?;
    tracing::info!(
        tenant = %directory.tenant,
        storage = kind,
        waiting = restored.waiting,
        connected = restored.connected,
        lost = restored.lost,
        "routing state rebuilt from storage"
    );
    let (tx, rx) = std::sync::mpsc::channel();
    let live = dispatcher.live_events();
    let dispatcher = std::thread::Builder::new()
        .name(format!("dispatcher-{}", directory.tenant))
        .spawn(move || dispatcher.run(rx))
        .context("starting the dispatcher thread")?;
    let state = http::AppState { requests: tx, directory: Arc::new(directory), live };
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
                axum::serve(listener, http::router(state))
                    .with_graceful_shutdown(async {
                        let _ = stop.await;
                    })
                    .await
                    .context("serving HTTP")
            })
        })
        .context("starting the HTTP thread")?;
    let addr = bound_rx.recv().context("the HTTP thread ended before listening")??;
    Ok(Spawned { addr, shutdown, http, dispatcher })
}
