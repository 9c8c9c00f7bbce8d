//! Sign-in, roles, credentials and tenant isolation over real HTTP, on a fresh database per
//! test, on SQLite and on PostgreSQL.

#[macro_use]
mod common;

use common::{Scratch, Server, TENANT};
use serde_json::{Value, json};

/// A second tenant with the same queue and agent names as [`TENANT`], so that a leak would
/// resolve instead of failing.
fn other_tenant() -> String {
    TENANT.replace("id: restart-test", "id: globex").replace("name: Restart test", "name: Globex")
}

fn code(answer: &Value) -> &str {
    answer["error"]["code"].as_str().unwrap_or("")
}

/// Credentials: none, unknown, expired, revoked, disabled user.
fn credentials_are_checked(database: &str, scratch: &Scratch) {
    let config = scratch.file("tenant.yaml", TENANT);
    let server = Server::start(&config, database);
    let (status, answer) = server.call_as(None, "GET", "/api/v1/queues", None);
    assert_eq!((status, code(&answer)), (401, "unauthenticated"), "{answer}");
    let (status, answer) = server.call_as(Some("sb_0000"), "GET", "/api/v1/queues", None);
    assert_eq!((status, code(&answer)), (401, "unauthenticated"));
    // Wrong password, unknown user, unknown tenant: one answer for all three.
    for (tenant, user, password) in
        [("restart-test", "admin", "wrong-password"), ("restart-test", "nobody", "x"), ("nowhere", "admin", "x")]
    {
        let body = json!({"tenant": tenant, "username": user, "password": password}).to_string();
        let (status, answer) = server.call_as(None, "POST", "/api/v1/login", Some(&body));
        assert_eq!((status, code(&answer)), (401, "unauthenticated"), "{tenant}/{user}: {answer}");
    }
    // The failed attempts are in the audit log, with where they came from.
    let (_, audit) = server.call("GET", "/api/v1/audit", None);
    let failed: Vec<&Value> =
        audit.as_array().unwrap().iter().filter(|e| e["action"] == "session.login_failed").collect();
    assert_eq!(failed.len(), 2, "the unknown tenant has no log to write to: {audit}");
    assert!(failed.iter().all(|e| e["source"] == "127.0.0.1"), "{audit}");

    // A session cookie works like a bearer token.
    let token = server.token.clone().unwrap();
    let request = format!(
        "GET /api/v1/me HTTP/1.1\r\nHost: x\r\nCookie: theme=dark; sb_session={token}\r\nConnection: close\r\n\r\n"
    );
    assert!(common::raw(&server.addr, &request).starts_with("HTTP/1.1 200"));

    // An API token, listed by id, then revoked.
    let (status, created) = server.call("POST", "/api/v1/tokens", Some(r#"{"label": "crm-sync"}"#));
    assert_eq!(status, 201, "{created}");
    let api = created["token"].as_str().unwrap().to_string();
    assert_eq!(server.call_as(Some(&api), "GET", "/api/v1/me", None).1["credential"], "api");
    let (_, tokens) = server.call("GET", "/api/v1/tokens", None);
    assert!(tokens.as_array().unwrap().iter().all(|t| t.get("token").is_none() && t.get("hash").is_none()));
    let id = created["id"].as_str().unwrap();
    assert_eq!(server.call("DELETE", &format!("/api/v1/tokens/{id}"), None).0, 204);
    assert_eq!(server.call_as(Some(&api), "GET", "/api/v1/me", None).0, 401);

    // A disabled user's sessions end, and it cannot sign in again.
    let ann = server.user("ann", "supervisor", None);
    assert_eq!(server.call_as(Some(&ann), "GET", "/api/v1/queues", None).0, 200);
    assert_eq!(server.call("PATCH", "/api/v1/users/ann", Some(r#"{"disabled": true}"#)).0, 200);
    assert_eq!(server.call_as(Some(&ann), "GET", "/api/v1/queues", None).0, 401);
    let body = json!({"tenant": "restart-test", "username": "ann", "password": "ann-password"}).to_string();
    assert_eq!(server.call_as(None, "POST", "/api/v1/login", Some(&body)).0, 401);

    // Signing out ends the session.
    let admin_password = server.admin_password("restart-test");
    let session = server.login("restart-test", "admin", &admin_password);
    assert_eq!(server.call_as(Some(&session), "POST", "/api/v1/logout", None).0, 204);
    let (status, answer) = server.call_as(Some(&session), "GET", "/api/v1/me", None);
    assert_eq!((status, code(&answer)), (401, "unauthenticated"));

    // An expired credential says so. Written to the database directly: no API makes one.
    let secret = "sb_expired-for-the-test";
    let mut store = sb_storage::open(database).unwrap();
    let token = sb_storage::TokenRecord {
        hash: sha256_hex(secret),
        username: "admin".into(),
        kind: "session".into(),
        label: "old".into(),
        interaction: None,
        created_at_ms: now_ms() - 3_600_000,
        expires_at_ms: Some(now_ms() - 60_000),
    };
    let change = [sb_storage::AccountChange::PutToken(token)];
    store.commit("restart-test", sb_storage::Batch { accounts: &change, ..Default::default() }).unwrap();
    drop(store);
    let token = server.token.clone();
    server.kill();
    let mut server = Server::start(&config, database);
    server.token = token;
    let (status, answer) = server.call_as(Some(secret), "GET", "/api/v1/me", None);
    assert_eq!((status, code(&answer)), (401, "token_expired"), "{answer}");
    assert_eq!(server.call("GET", "/api/v1/me", None).0, 200, "sessions survive a restart");
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

/// SHA-256 through the server's own helper would prove nothing about the stored form; this
/// goes through a second implementation: the `sha256sum` tool.
fn sha256_hex(text: &str) -> String {
    use std::io::Write;
    let mut child = std::process::Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("sha256sum (coreutils)");
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8(out.stdout).unwrap().split_whitespace().next().unwrap().to_string()
}

/// What each role may do.
fn roles_limit_what_users_do(database: &str, scratch: &Scratch) {
    let config = scratch.file("tenant.yaml", TENANT);
    let server = Server::start(&config, database);
    let alice = server.user("alice", "agent", Some("alice"));
    let sup = server.user("sam", "supervisor", None);
    let forbidden = |token: &str, method: &str, path: &str, body: Option<&str>| {
        let (status, answer) = server.call_as(Some(token), method, path, body);
        assert_eq!((status, code(&answer)), (403, "forbidden"), "{method} {path}: {answer}");
    };
    // Agents: their own presence only; no users, audit, creation or other agents.
    let available = r#"{"presence": "available"}"#;
    assert_eq!(server.call_as(Some(&alice), "PUT", "/api/v1/agents/alice/presence", Some(available)).0, 204);
    forbidden(&alice, "PUT", "/api/v1/agents/bob/presence", Some(available));
    forbidden(&alice, "POST", "/api/v1/users", Some(r#"{"username": "x", "role": "admin", "password": "12345678"}"#));
    forbidden(&alice, "GET", "/api/v1/audit", None);
    forbidden(&alice, "GET", "/api/v1/queues/chat-support/waiting", None);
    forbidden(&alice, "POST", "/api/v1/interactions", Some(r#"{"channel": "chat", "queue": "chat-support"}"#));
    let (_, agents) = server.call_as(Some(&alice), "GET", "/api/v1/agents", None);
    assert_eq!(agents.as_array().unwrap().len(), 1, "an agent sees their own state: {agents}");
    // Agents act for themselves only.
    let (_, chat) =
        server.call("POST", "/api/v1/interactions", Some(r#"{"channel": "chat", "queue": "chat-support"}"#));
    let id = chat["id"].as_u64().unwrap();
    assert_eq!(chat["agent"], "alice");
    forbidden(&alice, "POST", &format!("/api/v1/interactions/{id}/accept"), Some(r#"{"agent": "bob"}"#));
    assert_eq!(server.call_as(Some(&alice), "POST", &format!("/api/v1/interactions/{id}/accept"), None).0, 204);
    // Bob's interactions are not Alice's business.
    let bob = server.user("bob", "agent", Some("bob"));
    assert_eq!(server.call_as(Some(&bob), "GET", &format!("/api/v1/interactions/{id}"), None).0, 403);
    assert_eq!(server.call_as(Some(&bob), "GET", &format!("/api/v1/interactions/{id}/messages"), None).0, 403);
    let (status, answer) =
        server.call_as(Some(&bob), "POST", &format!("/api/v1/interactions/{id}/messages"), Some(r#"{"text": "hi"}"#));
    assert_eq!((status, code(&answer)), (409, "conflict"), "bob is not connected to it: {answer}");
    // Supervisors: live operations and the audit log, not users or tokens.
    assert_eq!(server.call_as(Some(&sup), "PUT", "/api/v1/agents/bob/presence", Some(available)).0, 204);
    assert_eq!(server.call_as(Some(&sup), "GET", "/api/v1/audit", None).0, 200);
    forbidden(&sup, "POST", "/api/v1/users", Some(r#"{"username": "x", "role": "admin", "password": "12345678"}"#));
    forbidden(&sup, "PATCH", "/api/v1/users/alice", Some(r#"{"role": "admin"}"#));
    forbidden(&sup, "POST", "/api/v1/tokens", Some(r#"{"label": "x"}"#));
    // Everyone may change their own password.
    assert_eq!(
        server.call_as(Some(&alice), "PATCH", "/api/v1/users/alice", Some(r#"{"password": "a-new-password"}"#)).0,
        200
    );
    server.login("restart-test", "alice", "a-new-password");

    // Every change made by a person is audited: who, what, when, from where.
    let (_, audit) = server.call("GET", "/api/v1/audit?limit=1000", None);
    let entries = audit.as_array().unwrap();
    let find = |actor: &str, action: &str, target: &str| {
        entries.iter().find(|e| e["actor"] == actor && e["action"] == action && e["target"] == target)
    };
    let presence = find("sam", "agent.presence", "agent:bob").unwrap_or_else(|| panic!("{audit}"));
    assert_eq!((presence["detail"].as_str(), presence["source"].as_str()), (Some("available"), Some("127.0.0.1")));
    assert!(presence["at_ms"].as_i64().unwrap() > now_ms() - 60_000);
    assert!(find("alice", "interaction.accept", &format!("interaction:{id}")).is_some(), "{audit}");
    assert!(find("admin", "user.create", "user:alice").is_some(), "{audit}");
    assert!(find("alice", "user.update", "user:alice").is_some_and(|e| e["detail"] == "password"), "{audit}");
    // Refused requests change nothing and leave no entry.
    assert!(find("alice", "agent.presence", "agent:bob").is_none());
    // Paging: older entries after the last id.
    let (_, page) = server.call("GET", "/api/v1/audit?limit=2", None);
    let last = page[1]["id"].as_i64().unwrap();
    let (_, older) = server.call("GET", &format!("/api/v1/audit?limit=2&before={last}"), None);
    assert!(older[0]["id"].as_i64().unwrap() < last);
    let (status, answer) = server.call("GET", "/api/v1/audit?limit=0", None);
    assert_eq!((status, answer["error"]["field"].as_str()), (422, Some("limit")));
}

/// Two tenants on one server and one database: nothing of one is reachable from the other,
/// for every family of endpoints.
fn tenants_are_isolated(database: &str, scratch: &Scratch) {
    let acme = scratch.file("acme.yaml", TENANT);
    let globex = scratch.file("globex.yaml", &other_tenant());
    let server = Server::start_tenants(&[&acme, &globex], database);
    assert_eq!(server.admin_passwords.len(), 2, "each tenant gets its own administrator");
    let a = server.token.clone().unwrap();
    let g = server.login("globex", "admin", &server.admin_password("globex"));
    // The acme administrator's password does not open globex, even with the same username.
    let body = json!({"tenant": "globex", "username": "admin", "password": server.admin_password("restart-test")});
    assert_eq!(server.call_as(None, "POST", "/api/v1/login", Some(&body.to_string())).0, 401);

    // Interactions: acme's chat with its messages.
    let (_, chat) = server.call_as(None, "POST", "/api/v1/chat/restart-test", Some(r#"{"name": "Acme customer"}"#));
    let customer = chat["token"].as_str().unwrap().to_string();
    let id = chat["interaction"]["id"].as_u64().unwrap();
    let post = format!("/api/v1/interactions/{id}/messages");
    assert_eq!(server.call_as(Some(&customer), "POST", &post, Some(r#"{"text": "secret"}"#)).0, 201);
    let (status, _) = server.call_as(Some(&g), "GET", &format!("/api/v1/interactions/{id}"), None);
    assert_eq!(status, 404, "globex has no interaction {id}");
    let (status, _) = server.call_as(Some(&g), "GET", &post, None);
    assert_eq!(status, 404);
    assert_eq!(server.call_as(Some(&g), "POST", &format!("/api/v1/interactions/{id}/abandon"), None).0, 404);
    // Globex's own interaction 1 is its own, with nothing of acme's.
    let (_, theirs) = server.call_as(
        Some(&g),
        "POST",
        "/api/v1/interactions",
        Some(r#"{"channel": "chat", "queue": "chat-support"}"#),
    );
    assert_eq!(theirs["id"], 1);
    assert_eq!(theirs["attributes"], json!({}));
    let (_, messages) = server.call_as(Some(&g), "GET", "/api/v1/interactions/1/messages", None);
    assert_eq!(messages, json!([]));
    // The acme customer's credential, for acme's interaction 1, reads acme's, never globex's.
    let (status, own) = server.call_as(Some(&customer), "GET", "/api/v1/interactions/1", None);
    assert_eq!((status, own["attributes"]["name"].as_str()), (200, Some("Acme customer")));

    // Queues and agents: each tenant counts its own.
    let waiting = |token: &str| {
        let (_, queues) = server.call_as(Some(token), "GET", "/api/v1/queues", None);
        queues.as_array().unwrap().iter().map(|q| q["waiting"].as_u64().unwrap()).sum::<u64>()
    };
    assert_eq!((waiting(&a), waiting(&g)), (1, 1));
    let available = r#"{"presence": "not_ready", "reason": "break"}"#;
    assert_eq!(server.call_as(Some(&g), "PUT", "/api/v1/agents/alice/presence", Some(available)).0, 204);
    let (_, agents) = server.call_as(Some(&a), "GET", "/api/v1/agents", None);
    assert!(agents.as_array().unwrap().iter().all(|x| x["presence"] == "offline"), "{agents}");

    // Users, tokens and the audit log.
    server.user("acme-only", "supervisor", None);
    let (_, users) = server.call_as(Some(&g), "GET", "/api/v1/users", None);
    assert_eq!(users.as_array().unwrap().len(), 1, "{users}");
    assert_eq!(server.call_as(Some(&g), "PATCH", "/api/v1/users/acme-only", Some(r#"{"disabled": true}"#)).0, 404);
    let (_, acme_tokens) = server.call_as(Some(&a), "GET", "/api/v1/tokens", None);
    let acme_token = acme_tokens[0]["id"].as_str().unwrap();
    assert_eq!(server.call_as(Some(&g), "DELETE", &format!("/api/v1/tokens/{acme_token}"), None).0, 404);
    let (_, audit) = server.call_as(Some(&g), "GET", "/api/v1/audit?limit=1000", None);
    let text = audit.to_string();
    assert!(!text.contains("acme-only") && !text.contains("chat.start"), "{text}");

    // The live event stream: globex's subscriber gets only globex's events.
    let url = format!("ws://{}/api/v1/events?access_token={g}", server.addr);
    let (mut socket, _) = tungstenite::connect(url).unwrap();
    assert_eq!(server.call_as(Some(&customer), "POST", &post, Some(r#"{"text": "acme again"}"#)).0, 201);
    server.call_as(Some(&g), "POST", "/api/v1/interactions", Some(r#"{"channel": "email", "queue": "chat-support"}"#));
    let first = socket.read().unwrap().into_text().unwrap().to_string();
    assert!(first.contains("\"kind\":\"created\"") && first.contains("\"channel\":\"email\""), "{first}");

    // The chat widget of an unknown tenant does not exist.
    assert_eq!(server.call_as(None, "GET", "/api/v1/chat/initech", None).0, 404);
}

/// Guessing passwords and flooding the chat widget are held back (429), and say for how long.
#[test]
fn sign_in_failures_and_chat_floods_are_limited() {
    let scratch = Scratch::new();
    let config = scratch.file("tenant.yaml", TENANT);
    let server = Server::start_with(&[&config], &common::sqlite(&scratch), &["--chats-per-minute-per-address", "3"]);
    let password = server.admin_password("restart-test");
    let attempt = |pw: &str| {
        let body = json!({"tenant": "restart-test", "username": "admin", "password": pw}).to_string();
        server.call_as(None, "POST", "/api/v1/login", Some(&body))
    };
    for _ in 0..5 {
        assert_eq!(attempt("not-the-password").0, 401);
    }
    let (status, answer) = attempt(&password);
    assert_eq!((status, code(&answer)), (429, "too_many_requests"), "even the right password waits: {answer}");
    assert!(answer["error"]["message"].as_str().unwrap().contains("try again in 15 minute(s)"), "{answer}");
    // The session made before still works; only signing in waits.
    assert_eq!(server.call("GET", "/api/v1/me", None).0, 200);

    for n in 0..3 {
        let (status, _) = server.call_as(None, "POST", "/api/v1/chat/restart-test", Some(r#"{"name": "x"}"#));
        assert_eq!(status, 201, "chat {n}");
    }
    let (status, answer) = server.call_as(None, "POST", "/api/v1/chat/restart-test", Some(r#"{"name": "x"}"#));
    assert_eq!((status, code(&answer)), (429, "too_many_requests"));
    let (_, queues) = server.call("GET", "/api/v1/queues", None);
    assert_eq!(queues[0]["waiting"], 3, "the refused chat was not stored");
}

on_both_backends!(credentials_are_checked, roles_limit_what_users_do, tenants_are_isolated);
