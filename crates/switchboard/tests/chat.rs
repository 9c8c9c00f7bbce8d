//! Web chat over real HTTP: a customer opens a chat, waits with a position, talks with the
//! agent who accepted it, and answers the survey; bad messages are refused; messages accepted
//! before a kill -9 are all there after the restart. On SQLite and on PostgreSQL.

#[macro_use]
mod common;

use common::{Scratch, Server, TENANT};
use serde_json::{Value, json};

fn code(answer: &Value) -> &str {
    answer["error"]["code"].as_str().unwrap_or("")
}

fn a_chat_from_start_to_survey(database: &str, scratch: &Scratch) {
    let config = scratch.file("tenant.yaml", TENANT);
    let server = Server::start(&config, database);
    let alice = server.user("alice", "agent", Some("alice"));

    let (status, widget) = server.call_as(None, "GET", "/api/v1/chat/restart-test", None);
    assert_eq!((status, widget["queues"].clone()), (200, json!(["chat-support"])), "{widget}");
    // Two customers: the second waits behind the first.
    let open = |name: &str| {
        let body = json!({"name": name, "email": format!("{name}@example.com"), "attributes": {"order": "A-17"}});
        let (status, chat) = server.call_as(None, "POST", "/api/v1/chat/restart-test", Some(&body.to_string()));
        assert_eq!(status, 201, "{chat}");
        (chat["token"].as_str().unwrap().to_string(), chat["interaction"].clone())
    };
    let (ann, ann_chat) = open("Ann");
    let (ben, ben_chat) = open("Ben");
    let (id, ben_id) = (ann_chat["id"].as_u64().unwrap(), ben_chat["id"].as_u64().unwrap());
    assert_eq!((ann_chat["state"].as_str(), ann_chat["position"].as_u64()), (Some("waiting"), Some(1)));
    assert_eq!(ben_chat["position"], 2);
    assert_eq!(ann_chat["attributes"], json!({"name": "Ann", "email": "Ann@example.com", "order": "A-17"}));

    let messages = format!("/api/v1/interactions/{id}/messages");
    let say = |token: &str, text: &str| {
        server.call_as(Some(token), "POST", &messages, Some(&json!({"text": text}).to_string()))
    };
    assert_eq!(say(&ann, "Hello, is anyone there?").0, 201);
    // Bad messages: empty, too long, not JSON, someone else's chat.
    let (status, answer) = say(&ann, "   ");
    assert_eq!((status, answer["error"]["field"].as_str()), (422, Some("text")));
    let (status, answer) = say(&ann, &"x".repeat(4001));
    assert_eq!((status, answer["error"]["field"].as_str()), (422, Some("text")), "{answer}");
    assert_eq!(server.raw_as(Some(&ann), "POST", &messages, Some(b"{\"text\": ")).0, 400);
    // A NUL byte (which PostgreSQL cannot store) is refused before it reaches storage.
    let (status, answer) = say(&ann, "bad\u{0}byte");
    assert_eq!((status, answer["error"]["field"].as_str()), (422, Some("text")), "{answer}");
    let nul_chat = json!({"name": "Eve", "attributes": {"order": "A\u{0}B"}}).to_string();
    let (status, answer) = server.call_as(None, "POST", "/api/v1/chat/restart-test", Some(&nul_chat));
    assert_eq!((status, answer["error"]["field"].as_str()), (422, Some("attributes.order")), "{answer}");
    let (status, answer) = say(&ben, "let me in");
    assert_eq!((status, code(&answer)), (403, "forbidden"));
    let (status, answer) = server.call_as(Some(&alice), "POST", &messages, Some(r#"{"text": "hi"}"#));
    assert_eq!((status, code(&answer)), (409, "conflict"), "not connected yet: {answer}");

    // The agent goes available, is offered Ann's chat first, accepts, and they talk.
    assert_eq!(
        server.call_as(Some(&alice), "PUT", "/api/v1/agents/alice/presence", Some(r#"{"presence": "available"}"#)).0,
        204
    );
    let (_, offered) = server.call_as(Some(&alice), "GET", &format!("/api/v1/interactions/{id}"), None);
    assert_eq!((offered["state"].as_str(), offered["agent"].as_str()), (Some("offered"), Some("alice")));
    assert_eq!(offered["attributes"]["order"], "A-17", "the screen pop has the customer's details");
    assert_eq!(server.call_as(Some(&alice), "POST", &format!("/api/v1/interactions/{id}/accept"), None).0, 204);
    assert_eq!(say(&alice, "Hi Ann, Alice here. How can I help?").0, 201);
    assert_eq!(say(&ann, "My invoice is wrong.").0, 201);
    // Three chats fit in an agent's capacity: Ben's is offered to Alice too.
    let (_, ben_now) = server.call_as(Some(&ben), "GET", &format!("/api/v1/interactions/{ben_id}"), None);
    assert_eq!(ben_now["state"], "offered");

    let (status, list) = server.call_as(Some(&ann), "GET", &messages, None);
    assert_eq!(status, 200);
    let texts: Vec<(&str, &str)> =
        list.as_array().unwrap().iter().map(|m| (m["sender"].as_str().unwrap(), m["text"].as_str().unwrap())).collect();
    assert_eq!(
        texts,
        [
            ("customer", "Hello, is anyone there?"),
            ("agent", "Hi Ann, Alice here. How can I help?"),
            ("customer", "My invoice is wrong.")
        ]
    );
    assert_eq!(list[1]["author"], "alice");

    // No survey before the end; wrap-up with a disposition; then the survey, once.
    let survey = format!("/api/v1/interactions/{id}/survey");
    assert_eq!(server.call_as(Some(&ann), "POST", &survey, Some(r#"{"score": 5}"#)).0, 409);
    let complete = json!({"disposition": "resolved", "notes": "credit note sent"}).to_string();
    let (status, answer) = server.call_as(
        Some(&alice),
        "POST",
        &format!("/api/v1/interactions/{id}/complete"),
        Some(r#"{"disposition": "not a code!"}"#),
    );
    assert_eq!((status, answer["error"]["field"].as_str()), (422, Some("disposition")));
    assert_eq!(
        server.call_as(Some(&alice), "POST", &format!("/api/v1/interactions/{id}/complete"), Some(&complete)).0,
        204
    );
    let (status, answer) = say(&ann, "one more thing");
    assert_eq!((status, code(&answer)), (409, "conflict"), "{answer}");
    let (status, answer) = server.call_as(Some(&ann), "POST", &survey, Some(r#"{"score": 9}"#));
    assert_eq!((status, answer["error"]["field"].as_str()), (422, Some("score")));
    assert_eq!(server.call_as(Some(&ann), "POST", &survey, Some(r#"{"score": 4}"#)).0, 204);
    assert_eq!(server.call_as(Some(&ann), "POST", &survey, Some(r#"{"score": 1}"#)).0, 401, "one answer per chat");

    // The log has the disposition and the survey.
    let (_, audit) = server.call("GET", "/api/v1/audit", None);
    assert!(
        audit
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "interaction.complete" && e["detail"] == "agent alice, disposition resolved"),
        "{audit}"
    );
}

/// Messages of open chats accepted before a kill -9 are all there afterwards, in order, and
/// the conversation goes on.
fn messages_survive_a_kill(database: &str, scratch: &Scratch) {
    let config = scratch.file("tenant.yaml", TENANT);
    let server = Server::start(&config, database);
    let alice = server.user("alice", "agent", Some("alice"));
    let mut chats = Vec::new();
    for n in 0..3 {
        let (_, chat) = server.call_as(
            None,
            "POST",
            "/api/v1/chat/restart-test",
            Some(&json!({"name": format!("c{n}")}).to_string()),
        );
        chats.push((chat["token"].as_str().unwrap().to_string(), chat["interaction"]["id"].as_u64().unwrap()));
    }
    server.call_as(Some(&alice), "PUT", "/api/v1/agents/alice/presence", Some(r#"{"presence": "available"}"#));
    let (first_token, first) = chats[0].clone();
    server.call_as(Some(&alice), "POST", &format!("/api/v1/interactions/{first}/accept"), None);
    let mut sent = Vec::new();
    for k in 0..20 {
        let (token, who) = if k % 2 == 0 { (&first_token, "customer") } else { (&alice, "agent") };
        let text = format!("message {k} from the {who}");
        let (status, _) = server.call_as(
            Some(token),
            "POST",
            &format!("/api/v1/interactions/{first}/messages"),
            Some(&json!({"text": text}).to_string()),
        );
        assert_eq!(status, 201);
        sent.push(text);
    }
    for (token, id) in &chats[1..] {
        let (status, _) = server.call_as(
            Some(token),
            "POST",
            &format!("/api/v1/interactions/{id}/messages"),
            Some(r#"{"text": "still waiting"}"#),
        );
        assert_eq!(status, 201);
    }
    let admin = server.token.clone();
    server.kill();

    let mut server = Server::start(&config, database);
    server.token = admin;
    let (_, list) = server.call_as(Some(&first_token), "GET", &format!("/api/v1/interactions/{first}/messages"), None);
    let texts: Vec<&str> = list.as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap()).collect();
    assert_eq!(texts, sent.iter().map(String::as_str).collect::<Vec<_>>());
    for (token, id) in &chats[1..] {
        let (_, list) = server.call_as(Some(token), "GET", &format!("/api/v1/interactions/{id}/messages"), None);
        assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    }
    // The chat is still connected to Alice, and goes on.
    let (_, chat) = server.call_as(Some(&alice), "GET", &format!("/api/v1/interactions/{first}"), None);
    assert_eq!((chat["state"].as_str(), chat["agent"].as_str()), (Some("connected"), Some("alice")));
    let (status, _) = server.call_as(
        Some(&alice),
        "POST",
        &format!("/api/v1/interactions/{first}/messages"),
        Some(r#"{"text": "sorry, where were we?"}"#),
    );
    assert_eq!(status, 201);
}

/// Transfers to an agent and to a queue, and what is refused.
fn chats_are_transferred(database: &str, scratch: &Scratch) {
    let config = scratch.file("tenant.yaml", TENANT);
    let server = Server::start(&config, database);
    let alice = server.user("alice", "agent", Some("alice"));
    let bob = server.user("bob", "agent", Some("bob"));
    let available = Some(r#"{"presence": "available"}"#);
    server.call_as(Some(&alice), "PUT", "/api/v1/agents/alice/presence", available);
    let (_, chat) = server.call_as(None, "POST", "/api/v1/chat/restart-test", Some(r#"{"name": "Tom"}"#));
    let (customer, id) = (chat["token"].as_str().unwrap().to_string(), chat["interaction"]["id"].as_u64().unwrap());
    server.call_as(Some(&alice), "POST", &format!("/api/v1/interactions/{id}/accept"), None);
    let transfer = format!("/api/v1/interactions/{id}/transfer");
    let to = |token: &str, body: &str| server.call_as(Some(token), "POST", &transfer, Some(body));

    let (status, answer) = to(&alice, r#"{"to_agent": "bob"}"#);
    assert_eq!((status, code(&answer)), (409, "conflict"), "bob is offline: {answer}");
    let (status, answer) = to(&alice, r#"{"to_queue": "phone"}"#);
    assert_eq!((status, answer["error"]["field"].as_str()), (422, Some("channel")), "{answer}");
    let (status, answer) = to(&alice, r#"{"to_queue": "chat-support", "to_agent": "bob"}"#);
    assert_eq!(status, 422, "{answer}");
    let (status, _) = to(&bob, r#"{"to_queue": "chat-support"}"#);
    assert_eq!(status, 409, "bob does not have it");

    server.call_as(Some(&bob), "PUT", "/api/v1/agents/bob/presence", available);
    assert_eq!(to(&alice, r#"{"to_agent": "bob"}"#).0, 204);
    let (_, view) = server.call_as(Some(&bob), "GET", &format!("/api/v1/interactions/{id}"), None);
    assert_eq!((view["state"].as_str(), view["agent"].as_str()), (Some("offered"), Some("bob")));
    assert_eq!(server.call_as(Some(&bob), "POST", &format!("/api/v1/interactions/{id}/accept"), None).0, 204);
    let post = format!("/api/v1/interactions/{id}/messages");
    assert_eq!(server.call_as(Some(&bob), "POST", &post, Some(r#"{"text": "Bob here."}"#)).0, 201);
    assert_eq!(server.call_as(Some(&alice), "POST", &post, Some(r#"{"text": "Still me?"}"#)).0, 409);

    // Back to the queue: it is offered to whoever is free, here Alice again.
    assert_eq!(to(&bob, r#"{"to_queue": "chat-support"}"#).0, 204);
    let (_, view) = server.call_as(Some(&customer), "GET", &format!("/api/v1/interactions/{id}"), None);
    assert_eq!((view["state"].as_str(), view["agent"].as_str()), (Some("offered"), Some("alice")), "{view}");
    let (_, queues) = server.call("GET", "/api/v1/queues", None);
    assert_eq!(queues[0]["today"]["offered"], 2, "a transfer to a queue is an arrival there: {queues}");
    assert_eq!(queues[0]["today"]["answered"], 1, "an agent-to-agent transfer is not answered twice");
    let (_, agents) = server.call("GET", "/api/v1/agents", None);
    let bob_row = agents.as_array().unwrap().iter().find(|a| a["agent"] == "bob").unwrap();
    assert_eq!(bob_row["handled_today"], 1, "{agents}");
    let (_, audit) = server.call("GET", "/api/v1/audit", None);
    let transfers: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "interaction.transfer")
        .map(|e| e["detail"].as_str().unwrap())
        .collect();
    assert_eq!(transfers, ["by bob to queue chat-support", "by alice to agent bob"]);
}

/// A supervisor changes an agent's skills live; routing follows at once, and the change
/// outlives a restart.
fn skills_change_live(database: &str, scratch: &Scratch) {
    let config = scratch.file("tenant.yaml", TENANT);
    let server = Server::start(&config, database);
    let alice = server.user("alice", "agent", Some("alice"));
    let sam = server.user("sam", "supervisor", None);
    let skills = "/api/v1/agents/alice/skills";
    let (status, answer) = server.call_as(Some(&alice), "PUT", skills, Some(r#"{"skills": {}}"#));
    assert_eq!((status, code(&answer)), (403, "forbidden"), "agents do not change skills");
    let (status, answer) = server.call_as(Some(&sam), "PUT", skills, Some(r#"{"skills": {"suport": 2}}"#));
    assert_eq!((status, answer["error"]["field"].as_str()), (422, Some("skills.suport")), "{answer}");
    let (status, answer) = server.call_as(Some(&sam), "PUT", skills, Some(r#"{"skills": {"support": 6}}"#));
    assert_eq!((status, answer["error"]["field"].as_str()), (422, Some("skills.support")));

    // Without the queue's skill, Alice is not offered its chat...
    assert_eq!(server.call_as(Some(&sam), "PUT", skills, Some(r#"{"skills": {}}"#)).0, 204);
    server.call_as(Some(&alice), "PUT", "/api/v1/agents/alice/presence", Some(r#"{"presence": "available"}"#));
    let (_, chat) =
        server.call("POST", "/api/v1/interactions", Some(r#"{"channel": "chat", "queue": "chat-support"}"#));
    assert_eq!(chat["state"], "waiting", "{chat}");
    // ...until she has it.
    assert_eq!(server.call_as(Some(&sam), "PUT", skills, Some(r#"{"skills": {"support": 2}}"#)).0, 204);
    let (_, now) = server.call("GET", &format!("/api/v1/interactions/{}", chat["id"]), None);
    assert_eq!((now["state"].as_str(), now["agent"].as_str()), (Some("offered"), Some("alice")));
    let (_, audit) = server.call("GET", "/api/v1/audit", None);
    assert!(
        audit.as_array().unwrap().iter().any(|e| e["action"] == "agent.skills"
            && e["actor"] == "sam"
            && e["target"] == "agent:alice"
            && e["detail"] == "support:2"),
        "{audit}"
    );

    let admin = server.token.clone();
    server.kill();
    let mut server = Server::start(&config, database);
    server.token = admin;
    let (_, agents) = server.call("GET", "/api/v1/agents", None);
    let row = agents.as_array().unwrap().iter().find(|a| a["agent"] == "alice").unwrap().clone();
    assert_eq!(row["skills"], serde_json::json!({"support": 2}), "{agents}");
    let bob = agents.as_array().unwrap().iter().find(|a| a["agent"] == "bob").unwrap();
    assert_eq!(bob["skills"], serde_json::json!({"support": 3}), "the configuration's");
}

on_both_backends!(a_chat_from_start_to_survey, messages_survive_a_kill, chats_are_transferred, skills_change_live);
