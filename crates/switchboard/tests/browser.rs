//! The screens in a real browser: headless Chromium driven over WebDriver (Debian's
//! `chromium` and `chromium-driver`). A customer opens a chat, an agent signs in and accepts
//! it, both exchange messages (the customer's page survives a reload), the agent wraps up
//! with a disposition, the customer answers the survey, and the supervisor's dashboard shows
//! the counts change. Screenshots of each step are saved under the target directory's
//! `tmp/browser-screenshots/`.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Scratch, Server, TENANT};
use serde_json::{Value, json};

/// How long a step may take before the test gives up and says which one it was.
const PATIENCE: Duration = Duration::from_secs(60);

/// A running `chromedriver`, killed when dropped.
struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    fn start() -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver must be installed: apt-get install chromium chromium-driver (see README)");
        let driver = Driver { child, port };
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < PATIENCE, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        driver
    }

    fn request(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(body.as_bytes()).unwrap();
        // chromedriver keeps the connection open whatever the request says: read exactly
        // the Content-Length it announces.
        let mut answer = Vec::new();
        let mut chunk = [0u8; 65536];
        loop {
            if let Some(end) = answer.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&answer[..end]).to_ascii_lowercase();
                let length: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .map(|v| v.trim().parse().expect("a Content-Length"))
                    .expect("chromedriver announces the length");
                if answer.len() >= end + 4 + length {
                    let body = &answer[end + 4..end + 4 + length];
                    return serde_json::from_slice(body).unwrap_or_else(|e| {
                        panic!("WebDriver answered non-JSON ({e}): {}", String::from_utf8_lossy(body))
                    });
                }
            }
            let n = stream.read(&mut chunk).unwrap();
            assert!(n > 0, "chromedriver closed the connection mid-answer");
            answer.extend_from_slice(&chunk[..n]);
        }
    }

    fn session(&self) -> Browser<'_> {
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900"]
            }
        }}});
        let answer = self.request("POST", "/session", Some(capabilities));
        let id = answer["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no browser session: {answer}"));
        Browser { driver: self, id: id.to_string() }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One browser (its own cookies and storage).
struct Browser<'d> {
    driver: &'d Driver,
    id: String,
}

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

impl Browser<'_> {
    fn command(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let answer = self.driver.request(method, &format!("/session/{}{path}", self.id), body);
        answer["value"].clone()
    }

    fn open(&self, url: &str) {
        self.command("POST", "/url", Some(json!({"url": url})));
    }

    fn script(&self, script: &str, args: Value) -> Value {
        self.command("POST", "/execute/sync", Some(json!({"script": script, "args": args})))
    }

    /// Waits until the script returns something truthy; `what` says what was awaited.
    fn wait_for(&self, what: &str, script: &str, args: Value) -> Value {
        let started = Instant::now();
        loop {
            let value = self.script(script, args.clone());
            let truthy = match &value {
                Value::Null | Value::Bool(false) => false,
                Value::String(s) => !s.is_empty(),
                Value::Object(o) => !o.contains_key("error"),
                _ => true,
            };
            if truthy {
                return value;
            }
            if started.elapsed() > PATIENCE {
                let body = self.script("return document.body ? document.body.innerText : ''", json!([]));
                panic!("gave up waiting for {what}; the page shows:\n{}", body.as_str().unwrap_or(""));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits for an element and returns its WebDriver id.
    fn element(&self, css: &str) -> String {
        self.wait_for(
            &format!("element {css}"),
            "const e = document.querySelector(arguments[0]); return e && e.offsetParent !== null ? true : null",
            json!([css]),
        );
        let found = self.command("POST", "/element", Some(json!({"using": "css selector", "value": css})));
        found[ELEMENT].as_str().unwrap_or_else(|| panic!("{css}: {found}")).to_string()
    }

    fn click(&self, css: &str) {
        let id = self.element(css);
        self.command("POST", &format!("/element/{id}/click"), Some(json!({})));
    }

    /// Replaces the field's text with `text`. Clearing takes the focus away, and a live page
    /// may rebuild the field in that moment (the supervisor's agent table does): the keys
    /// then went to a field no longer shown, so the new one gets them.
    fn type_into(&self, css: &str, text: &str) {
        for _ in 0..10 {
            let id = self.element(css);
            self.command("POST", &format!("/element/{id}/clear"), Some(json!({})));
            self.command("POST", &format!("/element/{id}/value"), Some(json!({"text": text})));
            let shown =
                self.script("const e = document.querySelector(arguments[0]); return e && e.value", json!([css]));
            if shown == text {
                return;
            }
        }
        panic!("{css} never kept the text {text:?}");
    }

    /// Waits until the element's text contains `text`.
    fn wait_text(&self, css: &str, text: &str) {
        self.wait_for(
            &format!("{text:?} in {css}"),
            "const e = document.querySelector(arguments[0]); return !!e && e.innerText.includes(arguments[1])",
            json!([css, text]),
        );
    }

    fn select(&self, css: &str, value: &str) {
        self.element(css);
        self.script(
            "const s = document.querySelector(arguments[0]); s.value = arguments[1]; s.dispatchEvent(new Event('change'))",
            json!([css, value]),
        );
    }

    fn screenshot(&self, name: &str) {
        let data = self.command("GET", "/screenshot", None);
        let png = decode_base64(data.as_str().expect("a base64 screenshot"));
        assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser-screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    fn sign_in(&self, base: &str, username: &str, password: &str) {
        self.open(&format!("{base}/login"));
        self.type_into("#username", username);
        self.type_into("#password", password);
        self.click("#submit");
    }
}

impl Drop for Browser<'_> {
    fn drop(&mut self) {
        self.driver.request("DELETE", &format!("/session/{}", self.id), None);
    }
}

fn decode_base64(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    };
    let digits: Vec<u8> = text.bytes().filter(|c| *c != b'=' && !c.is_ascii_whitespace()).map(value).collect();
    digits
        .chunks(4)
        .flat_map(|chunk| {
            let n = chunk.iter().enumerate().fold(0u32, |acc, (i, d)| acc | u32::from(*d) << (18 - 6 * i));
            let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
            bytes.into_iter().take(chunk.len() - 1)
        })
        .collect()
}

#[test]
fn a_chat_between_a_customer_and_an_agent_with_the_supervisor_watching() {
    let scratch = Scratch::new();
    let config = scratch.file("tenant.yaml", TENANT);
    let server = Server::start(&config, &common::sqlite(&scratch));
    let base = format!("http://{}", server.addr);
    server.user("alice", "agent", Some("alice"));
    server.user("sam", "supervisor", None);
    let driver = Driver::start();

    // The supervisor watches the dashboard.
    let supervisor = driver.session();
    supervisor.sign_in(&base, "sam", "sam-password");
    supervisor.wait_text("header", "Supervisor dashboard");
    supervisor.wait_text("#live", "live");
    supervisor.wait_text("tr[data-queue='chat-support'] td.offered", "0");
    supervisor.screenshot("1-supervisor-before");

    // The agent signs in and goes available.
    let agent = driver.session();
    agent.sign_in(&base, "alice", "alice-password");
    agent.wait_text("header", "Agent desktop");
    agent.select("#presence", "available");
    agent.wait_text("#state", "available");

    // A customer opens a chat.
    let customer = driver.session();
    customer.open(&format!("{base}/chat/restart-test"));
    customer.type_into("#name", "Ann Lee");
    customer.type_into("#first", "Hello, my invoice is wrong.");
    customer.click("#open");
    customer.wait_text("#transcript", "Hello, my invoice is wrong.");
    customer.screenshot("2-customer-waiting");

    // The offer pops up on the agent's desktop with the customer's details; accept.
    agent.wait_text("#offers", "Ann Lee");
    agent.screenshot("3-agent-offer");
    agent.click("button.accept");
    agent.wait_text("#transcript", "Hello, my invoice is wrong.");
    agent.type_into("#message", "Hi Ann, I'm Alice. Let me check.");
    agent.click("#send");

    customer.wait_text("#transcript", "Hi Ann, I'm Alice. Let me check.");
    customer.type_into("#message", "Thank you!");
    customer.click("#send");
    // A reload keeps the conversation.
    customer.open(&format!("{base}/chat/restart-test"));
    customer.wait_text("#transcript", "Hi Ann, I'm Alice. Let me check.");
    customer.wait_text("#transcript", "Thank you!");
    customer.screenshot("4-customer-after-reload");

    agent.wait_text("#transcript", "Thank you!");
    agent.screenshot("5-agent-conversation");
    // Wrap-up with a disposition.
    agent.click("#end");
    agent.type_into("#disposition", "resolved");
    agent.type_into("#notes", "Corrected the invoice address.");
    agent.click("#complete");
    agent.wait_text("#stats", "1 handled");

    // The customer is asked the survey question.
    customer.click("button[data-score='5']");
    customer.wait_text("#thanks", "Thank you");
    customer.screenshot("6-customer-survey-done");

    // The supervisor's dashboard counted it.
    supervisor.wait_text("tr[data-queue='chat-support'] td.offered", "1");
    supervisor.wait_text("tr[data-queue='chat-support'] td.answered", "1");
    supervisor.wait_text("tr[data-agent='alice'] td.handled", "1");
    supervisor.screenshot("7-supervisor-after");

    // The supervisor changes Bob's presence and Alice's skills from the dashboard.
    supervisor.select("select[data-agent='bob']", "not_ready:break");
    supervisor.wait_text("tr[data-agent='bob']", "not ready (break)");
    supervisor.type_into("input[data-skills='alice']", "support:4");
    supervisor.click("button[data-save='alice']");
    supervisor.wait_for(
        "Alice's new skills",
        "const e = document.querySelector(\"input[data-skills='alice']\"); return !!e && e.value === 'support:4'",
        json!([]),
    );
    // The field shows what was typed at once; the save lands a moment later.
    let mut agents = serde_json::Value::Null;
    for _ in 0..50 {
        agents = server.call("GET", "/api/v1/agents", None).1;
        let alice = agents.as_array().unwrap().iter().find(|a| a["agent"] == "alice").unwrap();
        if alice["skills"] == json!({"support": 4}) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let alice = agents.as_array().unwrap().iter().find(|a| a["agent"] == "alice").unwrap();
    assert_eq!(alice["skills"], json!({"support": 4}), "{agents}");

    // A rollback of the migration shows in the dashboard's header.
    let hidden = supervisor.script("return document.getElementById('migration').hidden", json!([]));
    assert_eq!(hidden, json!(true), "no migration yet");
    let body = json!({"rolled_back": true, "reason": "testing the banner"}).to_string();
    let (status, answer) = server.call("PUT", "/api/v1/migration/rollback", Some(&body));
    assert_eq!(status, 200, "{answer}");
    supervisor.wait_text("#migration", "ROLLED BACK: new calls go to the legacy PBX");
    supervisor.screenshot("8-supervisor-rolled-back");

    // And the record agrees: completed, three messages, a disposition and a survey.
    let (_, chat) = server.call("GET", "/api/v1/interactions/1", None);
    assert_eq!(chat["state"], "completed", "{chat}");
    let (_, messages) = server.call("GET", "/api/v1/interactions/1/messages", None);
    assert_eq!(messages.as_array().unwrap().len(), 3, "{messages}");
    let (_, audit) = server.call("GET", "/api/v1/audit", None);
    for (action, actor) in [("interaction.complete", "alice"), ("agent.presence", "sam"), ("agent.skills", "sam")] {
        assert!(
            audit.as_array().unwrap().iter().any(|e| e["action"] == action && e["actor"] == actor),
            "{action}: {audit}"
        );
    }
}
