//! Threshold alerts: a queue whose oldest chat waits longer than `alerts.longest_wait` is in
//! alert on the dashboard's API, and the configured webhook receives a JSON notice when the
//! alert is raised and when it clears.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::Duration;

use common::{Scratch, Server, TENANT};
use serde_json::Value;

/// A webhook receiver: each POST body, parsed, goes to the channel; answers 204.
fn receiver() -> (u16, mpsc::Receiver<(String, Value)>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let mut stream = stream.unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            let mut length = 0;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                if line.trim().is_empty() {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap();
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            stream.write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n").unwrap();
            let _ = tx.send((request_line.trim().to_string(), serde_json::from_slice(&body).unwrap()));
        }
    });
    (port, rx)
}

#[test]
fn a_long_wait_raises_an_alert_and_calls_the_webhook() {
    let (port, notices) = receiver();
    let scratch = Scratch::new();
    let config = format!("{TENANT}alerts:\n  longest_wait: 1s\n  webhook: http://127.0.0.1:{port}/hooks/ops\n");
    let config = scratch.file("tenant.yaml", &config);
    let server = Server::start(&config, &common::sqlite(&scratch));
    let (_, queues) = server.call("GET", "/api/v1/queues", None);
    assert_eq!(queues[0]["alert_longest_wait_seconds"], 1.0);
    assert_eq!(queues[0]["in_alert"], false);

    // Nobody is available: the chat waits past the threshold.
    let (status, _) =
        server.call("POST", "/api/v1/interactions", Some(r#"{"channel": "chat", "queue": "chat-support"}"#));
    assert_eq!(status, 201);
    let (request, raised) = notices.recv_timeout(Duration::from_secs(60)).expect("a raised notice");
    assert_eq!(request, "POST /hooks/ops HTTP/1.1");
    assert_eq!(
        (raised["queue"].as_str(), raised["state"].as_str()),
        (Some("chat-support"), Some("raised")),
        "{raised}"
    );
    assert_eq!((raised["tenant"].as_str(), raised["threshold_seconds"].as_u64()), (Some("restart-test"), Some(1)));
    let (_, queues) = server.call("GET", "/api/v1/queues", None);
    assert_eq!(queues[0]["in_alert"], true, "{queues}");

    // An agent takes it: the queue is empty again and the alert clears.
    server.call("PUT", "/api/v1/agents/alice/presence", Some(r#"{"presence": "available"}"#));
    let (_, cleared) = notices.recv_timeout(Duration::from_secs(60)).expect("a cleared notice");
    assert_eq!((cleared["queue"].as_str(), cleared["state"].as_str()), (Some("chat-support"), Some("cleared")));
    let (_, queues) = server.call("GET", "/api/v1/queues", None);
    assert_eq!(queues[0]["in_alert"], false);
}
