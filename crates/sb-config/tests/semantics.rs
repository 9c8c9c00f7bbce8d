//! What a loaded configuration means: defaults, derived capacities, cumulative steps, the
//! `missed` reason code and business hours, checked through the public API.

use std::time::Duration;

use sb_config::{Channel, Strategy, TenantConfig};

/// A tenant header and a `billing` skill, to which each test appends its queues and agents.
const HEAD: &str = "
tenant: {id: acme, name: Acme, time_zone: Europe/Berlin}
skills:
  - id: billing
  - id: spanish
    name: Spanish
";

fn load(body: &str) -> TenantConfig {
    let text = format!("{HEAD}{body}");
    match sb_config::parse("test.yaml", &text) {
        Ok((config, report)) => {
            assert!(report.is_empty(), "unexpected warnings:\n{report}");
            config
        }
        Err(report) => panic!("does not load:\n{report}"),
    }
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

#[test]
fn defaults_fill_what_the_file_leaves_out() {
    let config = load(
        "
queues:
  - id: billing
    channels: [voice, chat]
    skills: {billing: 2, spanish: 1}
agents:
  - id: alice
    skills: {billing: 3, spanish: 1}
    queues: [billing]
",
    );
    let queue = &config.queues[0];
    assert_eq!(queue.name, "billing");
    assert_eq!(queue.priority.get(), 5);
    assert_eq!(queue.strategy, Strategy::LongestIdle);
    assert_eq!(queue.service_level.percent, 80);
    assert_eq!(queue.service_level.within, secs(20));
    assert_eq!(queue.offer_timeout, secs(20));
    assert_eq!(queue.wrap_up, Duration::ZERO);
    assert_eq!(queue.expected_handle_time, secs(300));
    assert_eq!(queue.business_hours, None);
    assert_eq!(queue.stages.len(), 1);
    assert_eq!(config.skills[0].name, "billing");
    assert_eq!(config.skills[1].name, "Spanish");
    let costs: Vec<u8> = Channel::ALL.iter().map(|c| config.channels.cost(*c)).collect();
    assert_eq!(costs, [100, 33, 50, 25]);
    // The default capacity covers the channels of the agent's queues, as many as fit in 100.
    let capacity: Vec<(Channel, u8)> = config.agents[0].capacity.channels().collect();
    assert_eq!(capacity, [(Channel::Voice, 1), (Channel::Chat, 3)]);
    assert_eq!(config.alerts.longest_wait, secs(60));
    assert_eq!(config.alerts.webhook, None);
    assert!(!config.agents[0].auto_accept);
}

#[test]
fn auto_accept_is_true_or_false() {
    let body = "
queues: [{id: billing, channels: [chat], skills: {billing: 1, spanish: 1}}]
agents: [{id: alice, skills: {billing: 1, spanish: 1}, queues: [billing], auto_accept: true}]
";
    assert!(load(body).agents[0].auto_accept);
    let text = format!("{HEAD}{}", body.replace("auto_accept: true", "auto_accept: yes"));
    let report = sb_config::parse("test.yaml", &text).unwrap_err().to_string();
    assert!(report.contains("agents[0].auto_accept: expected true or false, found \"yes\""), "{report}");
}

#[test]
fn alerts_take_a_threshold_and_an_http_webhook() {
    let config = load(
        "
queues: [{id: billing, channels: [chat], skills: {billing: 1, spanish: 1}}]
agents: [{id: alice, skills: {billing: 1, spanish: 1}, queues: [billing]}]
alerts:
  longest_wait: 90s
  webhook: http://127.0.0.1:9000/hooks/switchboard?team=ops
",
    );
    assert_eq!(config.alerts.longest_wait, secs(90));
    let hook = config.alerts.webhook.unwrap();
    assert_eq!((hook.host.as_str(), hook.port, hook.path.as_str()), ("127.0.0.1", 9000, "/hooks/switchboard?team=ops"));
    let plain = sb_config::Webhook::parse("http://alerts.example.com").unwrap();
    assert_eq!((plain.port, plain.path.as_str()), (80, "/"));
    assert!(sb_config::Webhook::parse("http://host:http/").is_err());
    assert!(sb_config::Webhook::parse("ftp://host/").is_err());
}

#[test]
fn channel_costs_change_the_default_capacity() {
    let config = load(
        "
channels: {chat: 25, sms: 10}
queues:
  - id: billing
    channels: [chat, sms, email]
    skills: {billing: 1, spanish: 1}
agents:
  - id: alice
    skills: {billing: 1, spanish: 1}
    queues: [billing]
  - id: bob
    skills: {billing: 1, spanish: 1}
    queues: [billing]
    capacity: {chat: 4}
",
    );
    let capacity = |i: usize| config.agents[i].capacity.channels().collect::<Vec<_>>();
    assert_eq!(capacity(0), [(Channel::Chat, 4), (Channel::Email, 2), (Channel::Sms, 10)]);
    // An explicit capacity lists exactly the channels the agent takes.
    assert_eq!(capacity(1), [(Channel::Chat, 4)]);
}

#[test]
fn steps_apply_cumulatively() {
    let config = load(
        "
queues:
  - id: billing
    channels: [voice]
    skills: {billing: 4, spanish: 3}
    steps:
      - after: 30s
        require: {billing: 2}
      - after: 1m30s
        drop: [spanish]
        overflow_queues: [general]
      - after: 5m
        overflow_skills: {spanish: 5}
  - id: general
    channels: [voice]
    skills: {}
agents:
  - id: expert
    skills: {billing: 5, spanish: 3}
    queues: [billing]
  - id: junior
    skills: {billing: 2, spanish: 3}
    queues: [billing]
  - id: generalist
    skills: {billing: 2}
    queues: [general]
  - id: native
    skills: {spanish: 5}
    queues: [general]
",
    );
    let queue = &config.queues[0];
    let after: Vec<Duration> = queue.stages.iter().map(|s| s.after).collect();
    assert_eq!(after, [secs(0), secs(30), secs(90), secs(300)]);
    assert_eq!(queue.steps.len(), 3);

    // Which agents each stage admits, by id.
    let admitted = |waited: u64| {
        let stage = queue.stage_at(secs(waited));
        config.agents.iter().filter(|a| stage.admits(a)).map(|a| a.id.as_str()).collect::<Vec<_>>()
    };
    let cases: &[(u64, &[&str])] = &[
        (0, &["expert"]),
        (29, &["expert"]),
        (30, &["expert", "junior"]),
        (90, &["expert", "junior", "generalist"]),
        (299, &["expert", "junior", "generalist"]),
        (300, &["expert", "junior", "generalist", "native"]),
        (100_000, &["expert", "junior", "generalist", "native"]),
    ];
    for (waited, expect) in cases {
        assert_eq!(&admitted(*waited), expect, "after waiting {waited}s");
    }
    let general = config.queue_ix("general").expect("the queue exists");
    assert_eq!(queue.steps[1].overflow_queues, [general]);
}

#[test]
fn the_missed_reason_code_always_exists() {
    let base = "
queues:
  - id: billing
    channels: [voice]
    skills: {billing: 1, spanish: 1}
agents:
  - id: alice
    skills: {billing: 1, spanish: 1}
    queues: [billing]
";
    let added = load(&format!("reason_codes: [{{id: break}}]\n{base}"));
    let missed = added.reason_code(added.missed_reason);
    assert_eq!((missed.id.as_str(), missed.name.as_str()), ("missed", "Missed offer"));
    assert_eq!(added.reason_codes.len(), 2);
    assert_eq!(added.reason_code(added.reason_ix("break").unwrap()).name, "break");

    let kept = load(&format!("reason_codes: [{{id: missed, name: Offer not answered}}, {{id: break}}]\n{base}"));
    assert_eq!(kept.missed_reason, kept.reason_ix("missed").unwrap());
    assert_eq!(kept.reason_code(kept.missed_reason).name, "Offer not answered");
    assert_eq!(kept.reason_codes.len(), 2);
}

#[test]
fn business_hours_open_and_close() {
    let config = load(
        r#"
business_hours:
  - id: office
    time_zone: America/New_York
    weekly:
      mon-fri: "08:00-18:00"
      sat: ["09:00-12:00", "13:00-15:00"]
    holidays: ["2026-12-25"]
queues:
  - id: billing
    channels: [voice]
    skills: {billing: 1, spanish: 1}
    business_hours: office
agents:
  - id: alice
    skills: {billing: 1, spanish: 1}
    queues: [billing]
"#,
    );
    let hours = config.hours(config.queues[0].business_hours.expect("the queue has hours"));
    let cases = [
        // 2026-12-21 is a Monday; New York is at UTC-5 in December.
        ("2026-12-21T12:59:59Z", false),
        ("2026-12-21T13:00:00Z", true),
        ("2026-12-21T22:59:59Z", true),
        ("2026-12-21T23:00:00Z", false),
        ("2026-12-25T15:00:00Z", false),
        ("2026-12-26T14:30:00Z", true),
        ("2026-12-26T17:30:00Z", false),
        ("2026-12-26T18:00:00Z", true),
        ("2026-12-27T15:00:00Z", false),
        // In July New York is at UTC-4.
        ("2026-07-06T12:00:00Z", true),
        ("2026-07-06T22:30:00Z", false),
    ];
    for (at, open) in cases {
        let at: jiff::Timestamp = at.parse().expect("a valid timestamp");
        assert_eq!(hours.is_open(at), open, "at {at}");
    }
}

#[test]
fn the_demo_means_what_its_comments_say() {
    let (config, _) =
        sb_config::check_file(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/demo.yaml"))
            .expect("the demo loads");
    assert_eq!(config.tenant.id.as_str(), "demo");
    assert_eq!(config.tenant.time_zone.iana_name(), Some("Europe/Berlin"));
    let sales = config.queue(config.queue_ix("sales").unwrap());
    let anna = config.agent(config.agent_ix("anna").unwrap());
    assert!(!sales.stage_at(secs(59)).admits(anna));
    assert!(sales.stage_at(secs(60)).admits(anna));
    let david = config.agent(config.agent_ix("david").unwrap());
    assert_eq!(david.capacity.max(Channel::Voice), 0);
    assert_eq!(david.capacity.max(Channel::Chat), 2);
}

#[test]
fn phones_take_a_password_and_default_their_user_to_the_agent_id() {
    let config = load(
        "
queues: [{id: billing, channels: [voice], skills: {billing: 1, spanish: 1}}]
agents:
  - {id: alice, skills: {billing: 1, spanish: 1}, queues: [billing], phone: {password: wonderland}}
  - {id: bob, skills: {billing: 1, spanish: 1}, queues: [billing], phone: {user: '1002', password: builder}}
  - {id: carol, skills: {billing: 1, spanish: 1}, queues: [billing]}
",
    );
    let phones: Vec<Option<(&str, &str)>> =
        config.agents.iter().map(|a| a.phone.as_ref().map(|p| (p.user.as_str(), p.password.as_str()))).collect();
    assert_eq!(phones, [Some(("alice", "wonderland")), Some(("1002", "builder")), None]);
    assert!(!format!("{:?}", config.agents[0]).contains("wonderland"), "passwords stay out of debug output");
}
