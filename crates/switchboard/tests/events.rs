//! The live event stream over a real WebSocket: what the log stores is what subscribers get,
//! in order, as it happens.

mod common;

use std::time::Duration;

use common::{Scratch, Server, TENANT};
use serde_json::Value;
use tungstenite::Message;

#[test]
fn subscribers_see_stored_events_as_they_happen() {
    let scratch = Scratch::new();
    let config = scratch.file("tenant.yaml", TENANT);
    let server = Server::start(&config, &format!("sqlite:{}", scratch.0.join("state.db").display()));
    let (mut socket, _) = tungstenite::connect(format!(
        "ws://{}/api/v1/events?access_token={}",
        server.addr,
        server.token.as_deref().unwrap()
    ))
    .expect("a WebSocket");
    if let tungstenite::stream::MaybeTlsStream::Plain(tcp) = socket.get_mut() {
        // A guard against hanging forever if an event never comes, not a speed requirement.
        tcp.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    }

    let (status, created) = server.call(
        "POST",
        "/api/v1/interactions",
        Some(r#"{"channel": "chat", "queue": "chat-support", "attributes": {"customer": "Ann"}}"#),
    );
    assert_eq!(status, 201);
    let id = created["id"].as_u64().unwrap();
    assert_eq!(server.call("PUT", "/api/v1/agents/bob/presence", Some(r#"{"presence": "available"}"#)).0, 204);

    let mut kinds = Vec::new();
    while !kinds.contains(&"offered".to_string()) {
        let Message::Text(text) = socket.read().expect("an event") else { continue };
        let message: Value = serde_json::from_str(&text).unwrap();
        assert!(message["at_ms"].as_i64().unwrap() > 0, "{message}");
        let event = &message["event"];
        if let Some(interaction) = event["interaction"].as_u64() {
            assert_eq!(interaction, id, "{message}");
        }
        if event["kind"] == "created" {
            assert_eq!(event["attributes"][0]["value"], "Ann", "{message}");
        }
        kinds.push(event["kind"].as_str().unwrap().to_string());
    }
    assert_eq!(kinds.first().map(String::as_str), Some("created"), "{kinds:?}");
    assert!(kinds.iter().any(|k| k == "agent_state"), "bob's presence change is streamed: {kinds:?}");
    socket.close(None).unwrap();
}
