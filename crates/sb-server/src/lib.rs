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
    let (setup, directory) = tenant::build(&config);
    let store = sb_storage::open(&args.database).with_context(|| format!("opening the database {}", args.database))?;
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
    let worker = std::thread::Builder::new()
        .name(format!("dispatcher-{}", directory.tenant))
        .spawn(move || dispatcher.run(rx))
        .context("starting the dispatcher thread")?;
    let state = http::AppState { requests: tx, directory: Arc::new(directory), live };

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("listening on {}", args.listen))?;
        let addr = listener.local_addr()?;
        // Scripts and tests read this line to find the port. A closed standard output is no
        // reason to stop serving.
        {
            use std::io::Write as _;
            let mut out = std::io::stdout();
            let _ = writeln!(out, "switchboard listening on http://{addr}").and_then(|()| out.flush());
        }
        tracing::info!(%addr, "serving HTTP");
        axum::serve(listener, http::router(state))
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .context("serving HTTP")
    })?;
    drop(runtime);
    let _ = worker.join();
    Ok(())
}
