//! `switchboard demo`: the demo tenant on SQLite with demo users, and simulated traffic, so
//! that a newcomer sees a live dashboard within a minute.
//!
//! The traffic goes through the public HTTP API like any client's: simulated customers open
//! web chats, write, wait (and sometimes give up), and answer the survey; simulated agents
//! sign in, go available, accept offers, reply, complete with a disposition and wrap up.
//! One agent (`anna` by default) is left to the person trying the demo.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context as _;
use sb_storage::{AccountChange, AuditRecord, Batch, UserRecord};
use sb_wfm::rng::SplitMix64;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// The demo tenant's configuration (`examples/demo.yaml`).
pub const DEMO_CONFIG: &str = include_str!("../../../examples/demo.yaml");
/// Every demo user's password.
pub const DEMO_PASSWORD: &str = "switchboard";

/// Options of `switchboard demo`.
#[derive(Debug, Clone, clap::Args)]
pub struct DemoArgs {
    /// Where the demo keeps its state (SQLite file or postgres:// URL); kept between runs.
    #[arg(long, short = 'd', value_name = "ADDRESS", default_value = "switchboard-demo.db")]
    pub database: String,
    /// The address and port to serve on; port 0 picks a free one.
    #[arg(long, short = 'l', value_name = "ADDR:PORT", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Simulated customers opening a chat per minute, on average.
    #[arg(long, value_name = "N", default_value_t = 8.0)]
    pub chats_per_minute: f64,
    /// The agent left to you: not simulated, so you can sign in as them and take chats.
    #[arg(long, value_name = "AGENT", default_value = "anna")]
    pub human: String,
    /// Runs the simulated people this many times faster (think, typing and talk times).
    #[arg(long, value_name = "FACTOR", default_value_t = 1.0)]
    pub speed: f64,
    /// Seed of the simulated traffic.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// Runs the demo until interrupted.
pub fn run(args: DemoArgs) -> anyhow::Result<()> {
    let (config, _) = sb_config::parse("examples/demo.yaml", DEMO_CONFIG).map_err(|r| anyhow::anyhow!("{r}"))?;
    if !config.agents.iter().any(|a| a.id.as_str() == args.human) && args.human != "none" {
        anyhow::bail!("--human {:?}: the demo tenant has no such agent (or say none)", args.human);
    }
    let mut store =
        sb_storage::open(&args.database).with_context(|| format!("opening the database {}", args.database))?;
    let tenant = config.tenant.id.as_str().to_string();
    let agents: Vec<String> = config.agents.iter().map(|a| a.id.as_str().to_string()).collect();
    let names: Vec<String> = config.agents.iter().map(|a| a.name.clone()).collect();
    create_users(&mut *store, &tenant, &agents, &names)?;
    // The simulated customers all come from this machine's address.
    let limits = crate::throttle::Limits::new(usize::MAX);
    let server = crate::spawn_with(vec![(config.clone(), store)], args.listen, limits, None)?;
    let base = format!("http://{}", server.addr);
    {
        use std::io::Write as _;
        let mut out = std::io::stdout();
        let bots = agents.iter().filter(|a| **a != args.human).count();
        let _ = writeln!(
            out,
            "Switchboard demo: {} on {base}\n  \
             supervisor dashboard  {base}/supervisor   (sign in as supervisor, password {DEMO_PASSWORD})\n  \
             agent desktop         {base}/agent        (sign in as {}, password {DEMO_PASSWORD})\n  \
             customer chat         {base}/chat/{tenant}\n  \
             API description       {base}/api/openapi.json\n  \
             simulated: {bots} agents, about {} customers a minute; state in {}\n\
             switchboard listening on {base}\nPress Ctrl-C to stop.",
            config.tenant.name,
            if args.human == "none" { "admin" } else { &args.human },
            args.chats_per_minute,
            args.database,
        );
        let _ = out.flush();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
    let traffic = runtime.spawn(traffic(server.addr, tenant, agents, args.clone()));
    runtime.block_on(async { tokio::signal::ctrl_c().await }).context("waiting for Ctrl-C")?;
    traffic.abort();
    drop(runtime);
    server.stop()
}

/// The demo users, created once: `admin`, `supervisor`, and one user per agent, all with
/// the demo password.
fn create_users(
    store: &mut dyn sb_storage::Store,
    tenant: &str,
    agents: &[String],
    names: &[String],
) -> anyhow::Result<()> {
    let existing = store.accounts(tenant, 0)?;
    if !existing.users.is_empty() {
        return Ok(());
    }
    let now = crate::http::now_ms();
    let hash = crate::auth::hash_password(DEMO_PASSWORD);
    let user = |username: &str, display: &str, role: &str, agent: Option<&str>| {
        AccountChange::PutUser(UserRecord {
            username: username.into(),
            display_name: display.into(),
            role: role.into(),
            agent: agent.map(str::to_string),
            password_hash: hash.clone(),
            disabled: false,
            created_at_ms: now,
        })
    };
    let mut changes = vec![
        user("admin", "Demo administrator", "admin", None),
        user("supervisor", "Sam Supervisor", "supervisor", None),
    ];
    changes.extend(agents.iter().zip(names).map(|(a, n)| user(a, n, "agent", Some(a))));
    let audit = [AuditRecord {
        at_ms: now,
        actor: "switchboard demo".into(),
        source: "cli".into(),
        action: "user.create".into(),
        target: "demo users".into(),
        detail: format!("{} users with the demo password", changes.len()),
    }];
    store.commit(tenant, Batch { accounts: &changes, audit: &audit, ..Batch::default() })?;
    Ok(())
}

/// One HTTP/1.1 request on a fresh connection; the answer's status and JSON body.
async fn call(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Result<(u16, Value), String> {
    let mut stream = tokio::net::TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: demo\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.map_err(|e| e.to_string())?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&answer);
    let (head, body) = text.split_once("\r\n\r\n").ok_or("not an HTTP answer")?;
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).ok_or("no status")?;
    Ok((status, serde_json::from_str(body).unwrap_or(Value::Null)))
}

/// Sleeps `seconds` of demo time.
async fn pause(seconds: f64, speed: f64) {
    tokio::time::sleep(Duration::from_secs_f64((seconds / speed.max(0.01)).max(0.01))).await;
}

const FIRST_NAMES: [&str; 12] =
    ["Mia", "Noah", "Lena", "Jonas", "Sofia", "Paul", "Marie", "Elias", "Hannah", "Luca", "Emilia", "Finn"];
const OPENERS: [&str; 6] = [
    "Hi, my last invoice looks too high.",
    "Hello, can I change my delivery address?",
    "Good morning, I'd like to upgrade my plan.",
    "Hi, the app keeps logging me out.",
    "Hello, do you ship to Austria?",
    "Hi! I was charged twice this month.",
];

/// The simulated customers and agents, until aborted.
async fn traffic(addr: SocketAddr, tenant: String, agents: Vec<String>, args: DemoArgs) {
    for (k, agent) in agents.iter().filter(|a| **a != args.human).enumerate() {
        tokio::spawn(bot_agent(addr, tenant.clone(), agent.clone(), args.speed, args.seed ^ (k as u64 + 1)));
    }
    let mut rng = SplitMix64::new(args.seed);
    let mut n: u64 = 0;
    loop {
        pause(rng.exponential(60.0 / args.chats_per_minute.max(0.01)), args.speed).await;
        n += 1;
        tokio::spawn(customer(addr, tenant.clone(), args.speed, args.seed.wrapping_mul(31).wrapping_add(n)));
    }
}

/// A simulated customer: opens a chat, waits (up to their patience), talks, answers the survey.
async fn customer(addr: SocketAddr, tenant: String, speed: f64, seed: u64) {
    let mut rng = SplitMix64::new(seed);
    let name = FIRST_NAMES[rng.below(FIRST_NAMES.len() as u64) as usize];
    // Any of the chat queues, as a web site's topic menu would offer.
    let Ok((200, widget)) = call(addr, "GET", &format!("/api/v1/chat/{tenant}"), None, None).await else { return };
    let queues = widget["queues"].as_array().cloned().unwrap_or_default();
    let queue = queues.get(rng.below(queues.len().max(1) as u64) as usize).cloned().unwrap_or(Value::Null);
    let body = json!({"name": name, "queue": queue});
    let opened = call(addr, "POST", &format!("/api/v1/chat/{tenant}"), None, Some(body)).await;
    let Ok((201, chat)) = opened else { return };
    let (Some(token), Some(id)) = (chat["token"].as_str(), chat["interaction"]["id"].as_u64()) else { return };
    let say = |text: String| {
        let token = token.to_string();
        async move {
            let _ = call(
                addr,
                "POST",
                &format!("/api/v1/interactions/{id}/messages"),
                Some(&token),
                Some(json!({"text": text})),
            )
            .await;
        }
    };
    say(OPENERS[rng.below(OPENERS.len() as u64) as usize].to_string()).await;
    let patience = 60.0 + rng.exponential(120.0);
    let mut waited = 0.0;
    let mut talked = false;
    loop {
        pause(2.0, speed).await;
        waited += 2.0;
        let Ok((200, view)) = call(addr, "GET", &format!("/api/v1/interactions/{id}"), Some(token), None).await else {
            return;
        };
        match view["state"].as_str().unwrap_or("") {
            "waiting" | "offered" if waited > patience => {
                let _ = call(addr, "POST", &format!("/api/v1/interactions/{id}/abandon"), Some(token), None).await;
                return;
            }
            "connected" if !talked => {
                talked = true;
                pause(5.0 + rng.exponential(10.0), speed).await;
                say("Thanks, that would help a lot.".into()).await;
            }
            "completed" | "wrap_up" => {
                let score = 3 + rng.below(3);
                let _ = call(
                    addr,
                    "POST",
                    &format!("/api/v1/interactions/{id}/survey"),
                    Some(token),
                    Some(json!({"score": score})),
                )
                .await;
                return;
            }
            "abandoned" | "lost" => return,
            _ => {}
        }
    }
}

/// A simulated agent: signs in, goes available, takes what is offered, replies, completes
/// with a disposition, wraps up; now and then takes a break.
async fn bot_agent(addr: SocketAddr, tenant: String, agent: String, speed: f64, seed: u64) {
    let mut rng = SplitMix64::new(seed);
    let login = json!({"tenant": tenant, "username": agent, "password": DEMO_PASSWORD});
    let Ok((200, session)) = call(addr, "POST", "/api/v1/login", None, Some(login)).await else {
        tracing::warn!(agent, "a demo agent could not sign in");
        return;
    };
    let Some(token) = session["token"].as_str().map(str::to_string) else { return };
    let token = token.as_str();
    let presence_path = format!("/api/v1/agents/{agent}/presence");
    let presence = |body: Value| call(addr, "PUT", &presence_path, Some(token), Some(body));
    pause(rng.uniform() * 10.0, speed).await;
    let _ = presence(json!({"presence": "available"})).await;
    // Per interaction: when the agent will next act on it.
    let mut due: std::collections::HashMap<u64, f64> = std::collections::HashMap::new();
    let mut clock = 0.0;
    loop {
        pause(1.0, speed).await;
        clock += 1.0;
        let Ok((200, work)) = call(addr, "GET", &format!("/api/v1/agents/{agent}/work"), Some(token), None).await
        else {
            continue;
        };
        let list = work.as_array().cloned().unwrap_or_default();
        for item in &list {
            let (Some(id), Some(state)) = (item["id"].as_u64(), item["state"].as_str()) else { continue };
            let when = *due.entry(id).or_insert_with(|| clock + 2.0 + rng.uniform() * 4.0);
            if clock < when {
                continue;
            }
            let path = |action: &str| format!("/api/v1/interactions/{id}/{action}");
            match state {
                "offered" => {
                    let _ = call(addr, "POST", &path("accept"), Some(token), None).await;
                    let greeting = format!("Hello, this is {agent}. Let me look into that for you.");
                    let _ = call(addr, "POST", &path("messages"), Some(token), Some(json!({"text": greeting}))).await;
                    due.insert(id, clock + 30.0 + rng.exponential(60.0));
                }
                "connected" => {
                    let _ = call(
                        addr,
                        "POST",
                        &path("messages"),
                        Some(token),
                        Some(json!({"text": "All done. Anything else I can do?"})),
                    )
                    .await;
                    let disposition = ["resolved", "resolved", "follow-up", "sale"][rng.below(4) as usize];
                    let _ =
                        call(addr, "POST", &path("complete"), Some(token), Some(json!({"disposition": disposition})))
                            .await;
                    due.insert(id, clock + 5.0 + rng.uniform() * 10.0);
                }
                "wrap_up" => {
                    let _ = call(addr, "POST", &path("end-wrap-up"), Some(token), None).await;
                    due.remove(&id);
                }
                _ => {}
            }
        }
        // Between conversations, a short break now and then.
        if list.is_empty() && rng.uniform() < 0.002 {
            let _ = presence(json!({"presence": "not_ready", "reason": "break"})).await;
            let pause_seconds = 30.0 + rng.exponential(60.0);
            pause(pause_seconds, speed).await;
            clock += pause_seconds;
            let _ = presence(json!({"presence": "available"})).await;
        }
    }
}
