//! Helpers for tests that run the real `switchboard` binary: a scratch directory, a server
//! process on a free port, a minimal HTTP client, and a fresh PostgreSQL database per test.

#![allow(dead_code, unused_macros)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    format!("{prefix}_{}_{}_{nanos}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst))
}

/// Runs the binary in the repository's root, with `token` as SWITCHBOARD_TOKEN if given;
/// its exit code and output (standard output, then standard error).
pub fn switchboard_as(args: &[&str], token: Option<&str>) -> (i32, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_switchboard"));
    command.args(args).current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    if let Some(token) = token {
        command.env("SWITCHBOARD_TOKEN", token);
    }
    let out = command.output().expect("the binary runs");
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

/// [`switchboard_as`] without a token.
pub fn switchboard(args: &[&str]) -> (i32, String) {
    switchboard_as(args, None)
}

/// A directory removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new() -> Scratch {
        let dir = std::env::temp_dir().join(unique("switchboard-test"));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    pub fn file(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A PostgreSQL database created for one test and dropped afterwards.
pub struct PgDatabase {
    pub name: String,
}

const PG_ADMIN: &str = "postgres://postgres@127.0.0.1:5432/test";

impl PgDatabase {
    pub fn new() -> PgDatabase {
        let name = unique("sb_test");
        let mut admin = postgres::Client::connect(PG_ADMIN, postgres::NoTls)
            .expect("PostgreSQL must be running on 127.0.0.1:5432 (see README)");
        admin.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
        PgDatabase { name }
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:5432/{}", self.name)
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        if let Ok(mut admin) = postgres::Client::connect(PG_ADMIN, postgres::NoTls) {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
        }
    }
}

/// A running `switchboard serve`; killed (SIGKILL, no clean shutdown) when dropped.
pub struct Server {
    /// The process, when this started it.
    child: Option<Child>,
    pub addr: String,
    /// The SIP address (`ADDR:PORT`, UDP) the server printed when started with `--sip`.
    pub sip: Option<String>,
    /// The first administrators' passwords the server printed, by tenant.
    pub admin_passwords: Vec<(String, String)>,
    /// The credential `call` sends: the first tenant's administrator's session when the
    /// server created one, else none until set.
    pub token: Option<String>,
}

impl Server {
    /// Serves one tenant; signs in as its first administrator if the server created one.
    pub fn start(config: &Path, database: &str) -> Server {
        Server::start_tenants(&[config], database)
    }

    /// Serves several tenants.
    pub fn start_tenants(configs: &[&Path], database: &str) -> Server {
        Server::start_with(configs, database, &[])
    }

    /// Serves tenants with more options of `serve`.
    pub fn start_with(configs: &[&Path], database: &str, options: &[&str]) -> Server {
        let mut command = Command::new(env!("CARGO_BIN_EXE_switchboard"));
        command.args(["serve", "--listen", "127.0.0.1:0", "--database", database]).args(options);
        for config in configs {
            command.arg("--config").arg(config);
        }
        let mut child = command
            .env("RUST_LOG", std::env::var("SB_TEST_LOG").unwrap_or_else(|_| "warn".into()))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the switchboard binary runs");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let mut admin_passwords = Vec::new();
        let mut sip = None;
        let addr = loop {
            let line = lines.next().expect("the server printed its address before exiting").unwrap();
            if let Some(rest) = line.strip_prefix("switchboard listening on http://") {
                break rest.trim().to_string();
            }
            if let Some(rest) = line.strip_prefix("switchboard SIP listening on udp:") {
                sip = Some(rest.trim().to_string());
            }
            if let Some(rest) = line.strip_prefix("tenant ")
                && let Some((tenant, rest)) = rest.split_once(": created user admin with password ")
            {
                let password = rest.split_whitespace().next().unwrap().to_string();
                admin_passwords.push((tenant.to_string(), password));
            }
        };
        let mut server = Server { child: Some(child), addr, sip, admin_passwords, token: None };
        if let Some((tenant, password)) = server.admin_passwords.first().cloned() {
            server.token = Some(server.login(&tenant, "admin", &password));
        }
        server
    }

    /// A client of a server started elsewhere (it is not stopped when this is dropped).
    pub fn attach(addr: String) -> Server {
        Server { child: None, addr, sip: None, admin_passwords: Vec::new(), token: None }
    }

    /// The first administrator's password of a tenant, as printed on its first start.
    pub fn admin_password(&self, tenant: &str) -> String {
        self.admin_passwords.iter().find(|(t, _)| t == tenant).map(|(_, p)| p.clone()).expect("printed")
    }

    /// Signs in and returns the session's secret.
    pub fn login(&self, tenant: &str, username: &str, password: &str) -> String {
        let body = serde_json::json!({"tenant": tenant, "username": username, "password": password}).to_string();
        let (status, answer) = self.call_as(None, "POST", "/api/v1/login", Some(&body));
        assert_eq!(status, 200, "login of {username}@{tenant}: {answer}");
        answer["token"].as_str().unwrap().to_string()
    }

    /// Creates a user as the current administrator and signs in as it.
    pub fn user(&self, username: &str, role: &str, agent: Option<&str>) -> String {
        let password = format!("{username}-password");
        let body = serde_json::json!({"username": username, "role": role, "agent": agent, "password": password});
        let (status, answer) = self.call("POST", "/api/v1/users", Some(&body.to_string()));
        assert_eq!(status, 201, "{answer}");
        let tenant = self.call("GET", "/api/v1/me", None).1["tenant"].as_str().unwrap().to_string();
        self.login(&tenant, username, &password)
    }

    /// Ends the process the hard way, as a crash or power loss would.
    pub fn kill(mut self) {
        let mut child = self.child.take().expect("a server this test started");
        child.kill().unwrap();
        child.wait().unwrap();
    }

    /// Sends a request with [`Server::token`] and returns the status and the body parsed
    /// as JSON (null if empty).
    pub fn call(&self, method: &str, path: &str, body: Option<&str>) -> (u16, serde_json::Value) {
        self.call_as(self.token.as_deref(), method, path, body)
    }

    /// Sends a request with the given credential (or none).
    pub fn call_as(
        &self,
        token: Option<&str>,
        method: &str,
        path: &str,
        body: Option<&str>,
    ) -> (u16, serde_json::Value) {
        let (status, text) = self.raw_as(token, method, path, body.map(str::as_bytes));
        let json = if text.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
        };
        (status, json)
    }

    pub fn call_raw(&self, method: &str, path: &str, body: Option<&[u8]>) -> (u16, String) {
        self.raw_as(self.token.as_deref(), method, path, body)
    }

    pub fn raw_as(&self, token: Option<&str>, method: &str, path: &str, body: Option<&[u8]>) -> (u16, String) {
        let mut stream = TcpStream::connect(&self.addr).unwrap();
        let body = body.unwrap_or(b"");
        let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            self.addr,
            body.len()
        );
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(body).unwrap();
        let mut response = Vec::new();
        stream.read_to_end(&mut response).unwrap();
        let text = String::from_utf8_lossy(&response).to_string();
        let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP response");
        let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
        (status, body.to_string())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Sends raw request text and returns the whole answer as text.
pub fn raw(addr: &str, request: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    String::from_utf8_lossy(&response).to_string()
}

/// A small tenant: a chat queue, a voice queue, two agents.
pub const TENANT: &str = "
tenant:
  id: restart-test
  name: Restart test
  time_zone: Europe/Berlin
skills:
  - id: support
reason_codes:
  - id: break
queues:
  - id: chat-support
    channels: [chat, email]
    skills: {support: 1}
  - id: phone
    channels: [voice]
    skills: {support: 1}
agents:
  - id: alice
    skills: {support: 3}
    queues: [chat-support, phone]
  - id: bob
    skills: {support: 3}
    queues: [chat-support, phone]
";

/// An SQLite database in the scratch directory.
pub fn sqlite(scratch: &Scratch) -> String {
    format!("sqlite:{}", scratch.0.join("state.db").display())
}

/// Runs each named test function, taking a database address and a scratch directory, on a
/// fresh SQLite file and on a fresh PostgreSQL database.
macro_rules! on_both_backends {
    ($($test:ident),* $(,)?) => {
        mod on_sqlite {
            $( #[test] fn $test() { let s = super::common::Scratch::new(); super::$test(&super::common::sqlite(&s), &s); } )*
        }
        mod on_postgres {
            $( #[test] fn $test() {
                let s = super::common::Scratch::new();
                let db = super::common::PgDatabase::new();
                super::$test(&db.url(), &s);
            } )*
        }
    };
}
