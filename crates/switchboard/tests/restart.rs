//! Restart tests: chats accepted before the server is killed (SIGKILL, no clean shutdown)
//! are all still waiting, in the same order, after it starts again; agents' presences are
//! restored; calls, which cannot outlive the process, are reported as lost. On SQLite and
//! on PostgreSQL.

mod common;

use common::{PgDatabase, Scratch, Server, TENANT};
use serde_json::json;

fn chats_survive_a_kill(database: &str, config: &std::path::Path) {
    let server = Server::start(config, database);
    let mut ids = Vec::new();
    for n in 0..5 {
        let body =
            json!({"channel": "chat", "queue": "chat-support", "attributes": {"customer": format!("customer {n}")}});
        let (status, created) = server.call("POST", "/api/v1/interactions", Some(&body.to_string()));
        assert_eq!(status, 201, "{created}");
        assert_eq!(created["state"], "waiting");
        ids.push(created["id"].as_u64().unwrap());
    }
    let (status, call) = server.call("POST", "/api/v1/interactions", Some(r#"{"channel": "voice", "queue": "phone"}"#));
    assert_eq!(status, 201);
    let call_id = call["id"].as_u64().unwrap();
    let (status, _) =
        server.call("PUT", "/api/v1/agents/alice/presence", Some(r#"{"presence": "not_ready", "reason": "break"}"#));
    assert_eq!(status, 204);
    let (_, before) = server.call("GET", "/api/v1/queues/chat-support/waiting", None);
    assert_eq!(before["waiting"], json!(ids));
    let token = server.token.clone();
    server.kill();

    // The session survives the restart too.
    let mut server = Server::start(config, database);
    assert!(server.admin_passwords.is_empty(), "the tenant has its administrator already");
    server.token = token;
    let (_, after) = server.call("GET", "/api/v1/queues/chat-support/waiting", None);
    assert_eq!(after["waiting"], json!(ids), "the same chats wait in the same order");
    let (_, third) = server.call("GET", &format!("/api/v1/interactions/{}", ids[2]), None);
    assert_eq!(third["state"], "waiting");
    assert_eq!(third["attributes"]["customer"], "customer 2");
    let (_, call) = server.call("GET", &format!("/api/v1/interactions/{call_id}"), None);
    assert_eq!(call["state"], "lost", "a call does not survive a restart: {call}");
    let (_, agents) = server.call("GET", "/api/v1/agents", None);
    let alice = agents.as_array().unwrap().iter().find(|a| a["agent"] == "alice").unwrap();
    assert_eq!(alice["presence"], "not_ready");
    assert_eq!(alice["reason"], "break");

    // New interactions get new ids, and the oldest chat is served first.
    let (_, newer) =
        server.call("POST", "/api/v1/interactions", Some(r#"{"channel": "chat", "queue": "chat-support"}"#));
    assert!(newer["id"].as_u64().unwrap() > call_id);
    let (status, _) = server.call("PUT", "/api/v1/agents/bob/presence", Some(r#"{"presence": "available"}"#));
    assert_eq!(status, 204);
    let (_, first) = server.call("GET", &format!("/api/v1/interactions/{}", ids[0]), None);
    assert_eq!(first["state"], "offered");
    assert_eq!(first["agent"], "bob");
    server.kill();
}

#[test]
fn chats_survive_a_kill_on_sqlite() {
    let scratch = Scratch::new();
    let config = scratch.file("tenant.yaml", TENANT);
    let database = format!("sqlite:{}", scratch.0.join("state.db").display());
    chats_survive_a_kill(&database, &config);
}

#[test]
fn chats_survive_a_kill_on_postgres() {
    let scratch = Scratch::new();
    let config = scratch.file("tenant.yaml", TENANT);
    let db = PgDatabase::new();
    chats_survive_a_kill(&db.url(), &config);
}
