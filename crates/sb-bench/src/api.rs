//! `switchboard bench api`: durable chat messages per second over real HTTP, with latency
//! quantiles, on SQLite and on PostgreSQL; and the live event fan-out to WebSocket clients.
//!
//! A server runs in-process on 127.0.0.1 (the same code as `switchboard serve`). Each client
//! opens a web chat as a customer would (`POST /api/v1/chat/bench`), then posts messages
//! into it on a keep-alive connection with the chat's own credential. An answer means the
//! message is stored (the dispatcher answers after its group commit), so the figure is
//! durable messages, not requests accepted into memory.

use std::fmt;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::stats::Latencies;

/// The size of the run.
#[derive(Clone, Debug)]
pub struct ApiBench {
    /// Chat messages posted per backend.
    pub requests: u32,
    /// Concurrent keep-alive connections.
    pub connections: u32,
    /// Where a scratch PostgreSQL database can be created; `None` skips PostgreSQL.
    pub postgres_admin: Option<String>,
    /// WebSocket subscribers of the live event stream for the fan-out measurement; 0 skips it.
    pub subscribers: u32,
    /// Events each subscriber must receive in the fan-out measurement.
    pub fanout_events: u32,
    /// Events per second of the paced fan-out measurement (besides the back-to-back one);
    /// 0 skips it.
    pub fanout_rate: f64,
}

/// How long after a message was sent every subscriber had its event.
#[derive(Clone, Debug)]
pub struct FanoutFigures {
    pub subscribers: u32,
    pub events: u32,
    /// Events per second the messages were sent at; `None` back to back (each sent as soon
    /// as the previous one was stored).
    pub rate: Option<f64>,
    /// One sample per subscriber and event: from sending the request to receiving the event.
    pub latencies: Latencies,
}

/// One backend's figures.
#[derive(Clone, Debug)]
pub struct BackendFigures {
    pub backend: &'static str,
    pub requests: u64,
    pub elapsed: Duration,
    pub latencies: Latencies,
}

/// The result of a run.
#[derive(Clone, Debug)]
pub struct ApiReport {
    pub bench: ApiBench,
    pub backends: Vec<BackendFigures>,
    /// Backends that could not be measured, and why.
    pub skipped: Vec<(&'static str, String)>,
    pub fanout: Result<Vec<FanoutFigures>, String>,
}

const TENANT: &str = "
tenant: {id: bench, name: API benchmark, time_zone: UTC}
skills: [{id: help}]
queues: [{id: chat, channels: [chat], skills: {help: 1}}]
agents: [{id: ann, skills: {help: 2}, queues: [chat]}]
";

const MESSAGE: &str = r#"{"text":"Hello, I would like to change the address on my invoice, please."}"#;

/// A server of the benchmark tenant, and the secret of an administrator's API token.
struct BenchServer {
    server: sb_server::Spawned,
    admin_token: String,
}

/// Stores a benchmark administrator with an API token; returns the token's secret.
pub(crate) fn store_admin_token(store: &mut dyn sb_storage::Store, tenant: &str) -> Result<String, String> {
    use sb_storage::{AccountChange, Batch, TokenRecord, UserRecord};
    let admin_token = sb_server::auth::new_secret();
    let accounts = [
        AccountChange::PutUser(UserRecord {
            username: "bench".into(),
            display_name: "Benchmark".into(),
            role: "admin".into(),
            agent: None,
            password_hash: sb_server::auth::decoy_hash().into(),
            disabled: false,
            created_at_ms: 0,
        }),
        AccountChange::PutToken(TokenRecord {
            hash: sb_server::auth::token_hash(&admin_token),
            username: "bench".into(),
            kind: "api".into(),
            label: "benchmark".into(),
            interaction: None,
            created_at_ms: 0,
            expires_at_ms: None,
        }),
    ];
    store.commit(tenant, Batch { accounts: &accounts, ..Batch::default() }).map_err(|e| e.to_string())?;
    Ok(admin_token)
}

/// Starts the benchmark tenant in-process on a free port of 127.0.0.1, with an
/// administrator's API token stored beforehand.
fn start_server(database: &str) -> Result<BenchServer, String> {
    let (config, _) = sb_config::parse("bench tenant", TENANT).map_err(|r| r.to_string())?;
    let mut store = sb_storage::open(database).map_err(|e| e.to_string())?;
    let admin_token = store_admin_token(store.as_mut(), "bench")?;
    // Every simulated customer comes from 127.0.0.1: no limit on chats per address.
    let limits = sb_server::throttle::Limits::new(usize::MAX);
    let server = sb_server::spawn_with(vec![(config, store)], "127.0.0.1:0".parse().expect("an address"), limits, None)
        .map_err(|e| format!("{e:#}"))?;
    Ok(BenchServer { server, admin_token })
}

/// Writes a request with a JSON body on a keep-alive connection.
async fn send(stream: &mut tokio::net::TcpStream, path: &str, token: Option<&str>, body: &str) -> Result<(), String> {
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: bench\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.map_err(|e| e.to_string())
}

/// A customer's open chat on a keep-alive connection: the path to post to and its credential.
struct Chat {
    stream: tokio::net::TcpStream,
    buffer: Vec<u8>,
    path: String,
    token: String,
}

impl Chat {
    async fn open(addr: SocketAddr) -> Result<Chat, String> {
        let mut stream = tokio::net::TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        let mut buffer = Vec::with_capacity(8192);
        send(&mut stream, "/api/v1/chat/bench", None, r#"{"name":"Benchmark customer"}"#).await?;
        let body = read_answer(&mut stream, &mut buffer).await?;
        let answer: serde_json::Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
        let id = answer["interaction"]["id"].as_u64().ok_or("no interaction id in the chat's answer")?;
        let token = answer["token"].as_str().ok_or("no token in the chat's answer")?.to_string();
        Ok(Chat { stream, buffer, path: format!("/api/v1/interactions/{id}/messages"), token })
    }

    async fn post(&mut self) -> Result<(), String> {
        send(&mut self.stream, &self.path, Some(&self.token), MESSAGE).await?;
        read_answer(&mut self.stream, &mut self.buffer).await.map(drop)
    }
}

/// Posts `count` messages into a new chat on one keep-alive connection; returns each latency.
async fn client(addr: SocketAddr, count: u32) -> Result<Vec<Duration>, String> {
    let mut chat = Chat::open(addr).await?;
    let mut latencies = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let started = Instant::now();
        chat.post().await?;
        latencies.push(started.elapsed());
    }
    Ok(latencies)
}

/// Reads one answer (headers, then Content-Length bytes of body), checks it is 201 and
/// returns the body. `buffer` keeps bytes read past the answer for the next call.
async fn read_answer(stream: &mut tokio::net::TcpStream, buffer: &mut Vec<u8>) -> Result<Vec<u8>, String> {
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buffer[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if buffer.len() >= end + 4 + length {
                if !head.starts_with("http/1.1 201") {
                    let body = String::from_utf8_lossy(&buffer[end + 4..end + 4 + length]).to_string();
                    return Err(format!("unexpected answer: {} {body}", head.lines().next().unwrap_or("")));
                }
                let body = buffer[end + 4..end + 4 + length].to_vec();
                buffer.drain(..end + 4 + length);
                return Ok(body);
            }
        }
        let n = stream.read(&mut chunk).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("the server closed the connection".into());
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
}

fn measure(backend: &'static str, database: &str, bench: &ApiBench) -> Result<BackendFigures, String> {
    let server = start_server(database)?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    let connections = bench.connections.max(1);
    let per_connection = bench.requests.div_ceil(connections);
    let started = Instant::now();
    let results = runtime.block_on(async {
        let addr = server.server.addr;
        let tasks: Vec<_> = (0..connections).map(|_| tokio::spawn(client(addr, per_connection))).collect();
        let mut all = Vec::new();
        for task in tasks {
            all.push(task.await.map_err(|e| e.to_string())?);
        }
        Ok::<_, String>(all)
    });
    let elapsed = started.elapsed();
    let stopped = server.server.stop();
    let mut latencies = Latencies::with_capacity((per_connection * connections) as usize);
    for result in results? {
        for latency in result? {
            latencies.record(latency);
        }
    }
    stopped.map_err(|e| format!("{e:#}"))?;
    Ok(BackendFigures { backend, requests: latencies.len() as u64, elapsed, latencies })
}

/// Subscribers on the live event stream (as a supervisor sees it) while one customer posts
/// chat messages one after the other: the time from sending each message to each
/// subscriber's receipt of its event.
fn fanout(database: &str, bench: &ApiBench, rate: Option<f64>) -> Result<FanoutFigures, String> {
    use futures_util::StreamExt;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    let server = start_server(database)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let (subscribers, events) = (bench.subscribers, bench.fanout_events.max(1));
    let base = Instant::now();
    // When the request of the k-th creation was sent, in nanoseconds after `base`.
    let sent: Arc<Vec<AtomicU64>> = Arc::new((0..events).map(|_| AtomicU64::new(0)).collect());
    let result = runtime.block_on(async {
        let url = format!("ws://{}/api/v1/events?access_token={}", server.server.addr, server.admin_token);
        let mut chat = Chat::open(server.server.addr).await?;
        let mut sockets = Vec::with_capacity(subscribers as usize);
        for _ in 0..subscribers {
            let (socket, _) = tokio_tungstenite::connect_async(url.as_str()).await.map_err(|e| e.to_string())?;
            sockets.push(socket);
        }
        let readers: Vec<_> = sockets
            .into_iter()
            .map(|mut socket| {
                let sent = sent.clone();
                tokio::spawn(async move {
                    let mut latencies = Vec::with_capacity(events as usize);
                    while (latencies.len() as u32) < events {
                        let message = match socket.next().await {
                            Some(Ok(m)) => m,
                            Some(Err(e)) => return Err(e.to_string()),
                            None => return Err("the stream ended".to_string()),
                        };
                        let Ok(text) = message.to_text() else { continue };
                        if text.contains("\"kind\":\"message\"") {
                            let k = latencies.len();
                            let received = base.elapsed().as_nanos() as u64;
                            latencies
                                .push(Duration::from_nanos(received.saturating_sub(sent[k].load(Ordering::SeqCst))));
                        }
                    }
                    Ok(latencies)
                })
            })
            .collect();
        let start = tokio::time::Instant::now();
        for k in 0..events as usize {
            if let Some(rate) = rate {
                tokio::time::sleep_until(start + Duration::from_secs_f64(k as f64 / rate)).await;
            }
            sent[k].store(base.elapsed().as_nanos() as u64, Ordering::SeqCst);
            chat.post().await?;
        }
        let mut all = Latencies::with_capacity((subscribers * events) as usize);
        for reader in readers {
            for latency in reader.await.map_err(|e| e.to_string())?? {
                all.record(latency);
            }
        }
        Ok::<_, String>(all)
    });
    drop(runtime);
    server.server.stop().map_err(|e| format!("{e:#}"))?;
    Ok(FanoutFigures { subscribers, events, rate, latencies: result? })
}

/// A PostgreSQL database created for the run and dropped afterwards.
struct ScratchDatabase {
    admin: String,
    name: String,
}

impl ScratchDatabase {
    fn create(admin: &str) -> Result<ScratchDatabase, String> {
        let name = format!("sb_bench_{}", std::process::id());
        let describe =
            |e: postgres::Error| e.as_db_error().map_or_else(|| e.to_string(), |db| db.message().to_string());
        let mut client = postgres::Client::connect(admin, postgres::NoTls).map_err(describe)?;
        // Separate statements: CREATE DATABASE cannot run inside the implicit transaction of
        // a multi-statement batch.
        client.batch_execute(&format!("DROP DATABASE IF EXISTS {name}")).map_err(describe)?;
        client.batch_execute(&format!("CREATE DATABASE {name}")).map_err(describe)?;
        Ok(ScratchDatabase { admin: admin.to_string(), name })
    }

    fn url(&self) -> String {
        match self.admin.rsplit_once('/') {
            Some((server, _)) => format!("{server}/{}", self.name),
            None => self.admin.clone(),
        }
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        if let Ok(mut client) = postgres::Client::connect(&self.admin, postgres::NoTls) {
            let _ = client.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
        }
    }
}

/// Runs the benchmark on SQLite (a scratch file) and, if reachable, PostgreSQL.
pub fn run(bench: &ApiBench) -> ApiReport {
    let mut report =
        ApiReport { bench: bench.clone(), backends: Vec::new(), skipped: Vec::new(), fanout: Ok(Vec::new()) };
    let dir = std::env::temp_dir().join(format!("switchboard-bench-api-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    match measure("SQLite", &format!("sqlite:{}", dir.join("bench.db").display()), bench) {
        Ok(figures) => report.backends.push(figures),
        Err(e) => report.skipped.push(("SQLite", e)),
    }
    if bench.subscribers > 0 {
        let rates = [None, (bench.fanout_rate > 0.0).then_some(bench.fanout_rate)];
        report.fanout = rates
            .iter()
            .enumerate()
            .filter(|(k, rate)| *k == 0 || rate.is_some())
            .map(|(k, rate)| fanout(&format!("sqlite:{}", dir.join(format!("fanout-{k}.db")).display()), bench, *rate))
            .collect();
    }
    let _ = std::fs::remove_dir_all(&dir);
    match &bench.postgres_admin {
        None => report.skipped.push(("PostgreSQL", "no --postgres address given".into())),
        Some(admin) => match ScratchDatabase::create(admin) {
            Err(e) => report.skipped.push(("PostgreSQL", format!("cannot create a scratch database: {e}"))),
            Ok(db) => match measure("PostgreSQL", &db.url(), bench) {
                Ok(figures) => report.backends.push(figures),
                Err(e) => report.skipped.push(("PostgreSQL", e)),
            },
        },
    }
    report
}

impl fmt::Display for ApiReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "API benchmark: chat messages (POST /api/v1/interactions/ID/messages) over HTTP/1.1 keep-alive, {} connections, one chat each; each answer follows a durable commit",
            self.bench.connections
        )?;
        writeln!(
            f,
            "{:<12} {:>10} {:>14} {:>10} {:>10} {:>10}",
            "storage", "messages", "messages/s", "p50", "p99", "p99.9"
        )?;
        for b in &self.backends {
            let ms = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1000.0);
            writeln!(
                f,
                "{:<12} {:>10} {:>14} {:>10} {:>10} {:>10}",
                b.backend,
                crate::routing::group(b.requests),
                crate::routing::group((b.requests as f64 / b.elapsed.as_secs_f64()) as u64),
                ms(b.latencies.quantile(0.5)),
                ms(b.latencies.quantile(0.99)),
                ms(b.latencies.quantile(0.999)),
            )?;
        }
        for (backend, why) in &self.skipped {
            writeln!(f, "{backend} skipped: {why}")?;
        }
        match &self.fanout {
            Ok(runs) => {
                for fan in runs {
                    let pace = match fan.rate {
                        None => "sent back to back".to_string(),
                        Some(r) => format!("{r} per second"),
                    };
                    writeln!(
                        f,
                        "live events to {} WebSocket subscribers ({} messages each, {pace}), from request sent to event received: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms (target: p99 under 50 ms)",
                        fan.subscribers,
                        fan.events,
                        fan.latencies.quantile(0.5).as_secs_f64() * 1000.0,
                        fan.latencies.quantile(0.99).as_secs_f64() * 1000.0,
                        fan.latencies.quantile(1.0).as_secs_f64() * 1000.0,
                    )?;
                }
                Ok(())
            }
            Err(e) => writeln!(f, "live event fan-out failed: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_run_stores_every_message_on_sqlite() {
        let report = run(&ApiBench {
            requests: 200,
            connections: 4,
            postgres_admin: None,
            subscribers: 20,
            fanout_events: 5,
            fanout_rate: 50.0,
        });
        let runs = report.fanout.clone().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(runs.iter().map(|r| r.rate).collect::<Vec<_>>(), [None, Some(50.0)]);
        for fan in &runs {
            assert_eq!(fan.latencies.len(), 20 * 5, "every subscriber got every event");
        }
        let sqlite = report.backends.iter().find(|b| b.backend == "SQLite").unwrap_or_else(|| panic!("{report}"));
        assert_eq!(sqlite.requests, 200, "{report}");
        assert!(report.to_string().contains("messages/s"));
        assert!(report.skipped.iter().any(|(b, _)| *b == "PostgreSQL"));
    }
}
