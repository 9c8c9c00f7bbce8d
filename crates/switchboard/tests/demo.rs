//! `switchboard demo` on a scratch database: its users sign in, and the simulated customers
//! and agents move chats through the queues (run fast with --speed).

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Scratch, Server};

/// The demo process, killed when the test ends, failed or not.
struct Demo(std::process::Child);

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_demo_serves_a_live_tenant() {
    let scratch = Scratch::new();
    let database = common::sqlite(&scratch);
    let mut demo = Demo(
        Command::new(env!("CARGO_BIN_EXE_switchboard"))
            .args([
                "demo",
                "--listen",
                "127.0.0.1:0",
                "--database",
                &database,
                "--speed",
                "20",
                "--chats-per-minute",
                "20",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    let mut lines = BufReader::new(demo.0.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    let addr = loop {
        let line = lines.next().expect("the demo printed its address").unwrap();
        printed.push(line.clone());
        if let Some(rest) = line.strip_prefix("switchboard listening on http://") {
            break rest.trim().to_string();
        }
    };
    let text = printed.join("\n");
    assert!(text.contains("/supervisor") && text.contains("sign in as supervisor, password switchboard"), "{text}");
    let mut server = Server::attach(addr);
    server.token = Some(server.login("demo", "supervisor", "switchboard"));
    // The agent left to a person can sign in too.
    server.login("demo", "anna", "switchboard");

    // Simulated traffic: chats are offered, answered and completed; give it up to a minute.
    let started = Instant::now();
    let (answered, handled) = loop {
        let (_, queues) = server.call("GET", "/api/v1/queues", None);
        let answered: u64 = queues.as_array().unwrap().iter().map(|q| q["today"]["answered"].as_u64().unwrap()).sum();
        let (_, agents) = server.call("GET", "/api/v1/agents", None);
        let handled: u64 = agents.as_array().unwrap().iter().map(|a| a["handled_today"].as_u64().unwrap()).sum();
        if answered >= 3 && handled >= 1 {
            break (answered, handled);
        }
        assert!(started.elapsed() < Duration::from_secs(60), "no traffic: {queues} {agents}");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(answered >= handled);
    let (_, agents) = server.call("GET", "/api/v1/agents", None);
    let anna = agents.as_array().unwrap().iter().find(|a| a["agent"] == "anna").unwrap();
    assert_eq!(anna["activity"], "offline", "the human's agent is not simulated");
}
