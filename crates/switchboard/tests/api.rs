//! The HTTP API over real HTTP: the happy path of a chat from creation to completion, and
//! bad input, which gets a clear 4xx answer and stores nothing.

mod common;

use common::{Scratch, Server, TENANT};
use serde_json::json;

fn server(scratch: &Scratch) -> Server {
    let config = scratch.file("tenant.yaml", TENANT);
    Server::start(&config, &format!("sqlite:{}", scratch.0.join("state.db").display()))
}

#[test]
fn a_chat_goes_from_queue_to_agent_to_completion() {
    let scratch = Scratch::new();
    let server = server(&scratch);
    let (status, created) =
        server.call("POST", "/api/v1/interactions", Some(r#"{"channel": "chat", "queue": "chat-support"}"#));
    assert_eq!(status, 201);
    let id = created["id"].as_u64().unwrap();
    assert_eq!(server.call("PUT", "/api/v1/agents/alice/presence", Some(r#"{"presence": "available"}"#)).0, 204);
    let (_, offered) = server.call("GET", &format!("/api/v1/interactions/{id}"), None);
    assert_eq!((offered["state"].as_str(), offered["agent"].as_str()), (Some("offered"), Some("alice")));
    assert_eq!(server.call("POST", &format!("/api/v1/interactions/{id}/accept"), Some(r#"{"agent": "alice"}"#)).0, 204);
    assert_eq!(
        server.call("POST", &format!("/api/v1/interactions/{id}/complete"), Some(r#"{"agent": "alice"}"#)).0,
        204
    );
    let (_, done) = server.call("GET", &format!("/api/v1/interactions/{id}"), None);
    assert_eq!(done["state"], "completed");
    let (status, health) = server.call("GET", "/health", None);
    assert_eq!((status, health["status"].as_str()), (200, Some("ok")));
}

#[test]
fn bad_input_gets_a_clear_error_and_stores_nothing() {
    let scratch = Scratch::new();
    let server = server(&scratch);
    let cases: Vec<(&str, &str, String, u16, &str)> = vec![
        ("POST", "/api/v1/interactions", "{not json".into(), 400, "malformed_json"),
        ("POST", "/api/v1/interactions", r#"{"channel": "chat"}"#.into(), 422, "malformed_json"),
        ("POST", "/api/v1/interactions", r#"{"channel": "fax", "queue": "chat-support"}"#.into(), 422, "invalid_field"),
        ("POST", "/api/v1/interactions", r#"{"channel": "chat", "queue": "nope"}"#.into(), 422, "invalid_field"),
        (
            "POST",
            "/api/v1/interactions",
            r#"{"channel": "voice", "queue": "chat-support"}"#.into(),
            422,
            "invalid_field",
        ),
        (
            "POST",
            "/api/v1/interactions",
            r#"{"channel": "chat", "queue": "chat-support", "priority": 11}"#.into(),
            422,
            "invalid_field",
        ),
        (
            "POST",
            "/api/v1/interactions",
            r#"{"channel": "chat", "queue": "chat-support", "skills": {"support": 6}}"#.into(),
            422,
            "invalid_field",
        ),
        (
            "POST",
            "/api/v1/interactions",
            r#"{"channel": "chat", "queue": "chat-support", "colour": "red"}"#.into(),
            422,
            "malformed_json",
        ),
        (
            "POST",
            "/api/v1/interactions",
            json!({"channel": "chat", "queue": "chat-support", "attributes": {"note": "x".repeat(70_000)}}).to_string(),
            413,
            "too_large",
        ),
        ("GET", "/api/v1/interactions/999", String::new(), 404, "not_found"),
        ("GET", "/api/v1/interactions/abc", String::new(), 400, "invalid_path"),
        ("POST", "/api/v1/interactions/-1/accept", r#"{"agent": "alice"}"#.into(), 400, "invalid_path"),
        ("POST", "/api/v1/interactions/999/accept", r#"{"agent": "alice"}"#.into(), 404, "not_found"),
        ("POST", "/api/v1/interactions/1/accept", r#"{"agent": "mallory"}"#.into(), 422, "invalid_field"),
        ("PUT", "/api/v1/agents/alice/presence", r#"{"presence": "not_ready"}"#.into(), 422, "invalid_field"),
        (
            "PUT",
            "/api/v1/agents/alice/presence",
            r#"{"presence": "not_ready", "reason": "nap"}"#.into(),
            422,
            "invalid_field",
        ),
        ("PUT", "/api/v1/agents/nobody/presence", r#"{"presence": "available"}"#.into(), 404, "not_found"),
    ];
    for (method, path, body, status, code) in cases {
        let (got, answer) = server.call(method, path, Some(&body));
        assert_eq!(got, status, "{method} {path} {body:.80}: {answer}");
        assert_eq!(answer["error"]["code"], code, "{method} {path} {body:.80}: {answer}");
        assert!(!answer["error"]["message"].as_str().unwrap().is_empty());
    }
    let (_, queues) = server.call("GET", "/api/v1/queues", None);
    assert!(queues.as_array().unwrap().iter().all(|q| q["waiting"] == 0), "nothing was stored: {queues}");
    let (_, next) =
        server.call("POST", "/api/v1/interactions", Some(r#"{"channel": "chat", "queue": "chat-support"}"#));
    assert_eq!(next["id"], 1, "refused requests used no id");
    let (status, conflict) = server.call("POST", "/api/v1/interactions/1/complete", Some(r#"{"agent": "alice"}"#));
    assert_eq!((status, conflict["error"]["code"].as_str()), (409, Some("conflict")));
}

#[test]
fn the_openapi_document_describes_every_route() {
    let scratch = Scratch::new();
    let server = server(&scratch);
    let (status, doc) = server.call("GET", "/api/openapi.json", None);
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "{doc}");
    let routes = [
        ("get", "/health"),
        ("post", "/api/v1/interactions"),
        ("get", "/api/v1/interactions/{id}"),
        ("post", "/api/v1/interactions/{id}/accept"),
        ("post", "/api/v1/interactions/{id}/reject"),
        ("post", "/api/v1/interactions/{id}/complete"),
        ("post", "/api/v1/interactions/{id}/end-wrap-up"),
        ("post", "/api/v1/interactions/{id}/abandon"),
        ("get", "/api/v1/queues"),
        ("get", "/api/v1/queues/{queue}/waiting"),
        ("get", "/api/v1/agents"),
        ("put", "/api/v1/agents/{agent}/presence"),
        ("get", "/api/v1/events"),
        ("post", "/api/v1/login"),
        ("post", "/api/v1/logout"),
        ("get", "/api/v1/me"),
        ("get", "/api/v1/users"),
        ("post", "/api/v1/users"),
        ("patch", "/api/v1/users/{username}"),
        ("get", "/api/v1/tokens"),
        ("post", "/api/v1/tokens"),
        ("delete", "/api/v1/tokens/{id}"),
        ("get", "/api/v1/audit"),
        ("get", "/api/v1/interactions/{id}/messages"),
        ("post", "/api/v1/interactions/{id}/messages"),
        ("post", "/api/v1/interactions/{id}/survey"),
        ("post", "/api/v1/interactions/{id}/transfer"),
        ("get", "/api/v1/agents/{agent}/work"),
        ("put", "/api/v1/agents/{agent}/skills"),
        ("get", "/api/v1/chat/{tenant}"),
        ("post", "/api/v1/chat/{tenant}"),
        ("get", "/api/v1/migration"),
        ("put", "/api/v1/migration/rollback"),
        ("put", "/api/v1/migration/phase"),
        ("put", "/api/v1/migration/freeze"),
    ];
    for (method, path) in routes {
        let operation = &doc["paths"][path][method];
        assert!(operation.is_object(), "{method} {path} is documented");
        assert!(operation["responses"].as_object().is_some_and(|r| !r.is_empty()), "{method} {path} has responses");
        // The route really exists: a request never answers 404 with an empty body or 405.
        let concrete = path
            .replace("{id}", "1")
            .replace("{queue}", "chat-support")
            .replace("{agent}", "alice")
            .replace("{username}", "nobody")
            .replace("{tenant}", "restart-test");
        // Not signing out, which would end the session of the other calls.
        if path == "/api/v1/logout" {
            continue;
        }
        let (got, _) = server.call_raw(&method.to_uppercase(), &concrete, Some(b"{}"));
        assert_ne!(got, 405, "{method} {concrete}");
    }
    assert_eq!(doc["paths"].as_object().unwrap().len(), 31, "no undocumented extra paths");
    for schema in ["MigrationDto", "RollbackDto", "PhaseDto", "FreezeDto"] {
        assert!(doc["components"]["schemas"][schema].is_object(), "{schema} is described");
    }
    // Public calls say so; the rest need the bearer credential.
    assert_eq!(doc["paths"]["/api/v1/login"]["post"]["security"], serde_json::json!([{}]));
    assert!(doc["paths"]["/api/v1/me"]["get"]["security"].is_null(), "the document-wide requirement applies");
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    let interaction = &doc["components"]["schemas"]["InteractionDto"]["properties"];
    for field in ["id", "channel", "queue", "state", "agent", "attributes", "estimated_wait_seconds"] {
        assert!(interaction[field].is_object(), "InteractionDto.{field} is described: {interaction}");
    }
}
