//! Helpers for tests that run the real `switchboard` binary: a scratch directory, a server
//! process on a free port, a minimal HTTP client, and a fresh PostgreSQL database per test.

#![allow(dead_code)]

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
    child: Child,
    pub addr: String,
}

impl Server {
    pub fn start(config: &Path, database: &str) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_switchboard"))
            .args(["serve", "--listen", "127.0.0.1:0", "--database", database, "--config"])
            .arg(config)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the switchboard binary runs");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let addr = loop {
            let line = lines.next().expect("the server printed its address before exiting").unwrap();
            if let Some(rest) = line.strip_prefix("switchboard listening on http://") {
                break rest.trim().to_string();
            }
        };
        Server { child, addr }
    }

    /// Ends the process the hard way, as a crash or power loss would.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Sends a request and returns the status and the body parsed as JSON (null if empty).
    pub fn call(&self, method: &str, path: &str, body: Option<&str>) -> (u16, serde_json::Value) {
        let (status, text) = self.call_raw(method, path, body.map(str::as_bytes));
        let json = if text.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
        };
        (status, json)
    }

    pub fn call_raw(&self, method: &str, path: &str, body: Option<&[u8]>) -> (u16, String) {
        let mut stream = TcpStream::connect(&self.addr).unwrap();
        let body = body.unwrap_or(b"");
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
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
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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
