//! The stores through their real boundary: `sb_storage::open` on a fresh SQLite file in a
//! fresh temporary directory, and on a fresh PostgreSQL database (at 127.0.0.1:5432, user
//! `postgres` without a password, as the README says). Each test is written once, taking a
//! [`TestDb`], and [`on_both_backends!`] runs it on both.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use sb_storage::{
    AccountChange, AgentRow, AuditRecord, Batch, InteractionRecord, InteractionRow, InteractionState, LogEvent,
    LogRecord, PresenceRecord, Snapshot, Store, StoreError, StoredEvent, TokenRecord, UserRecord,
};

/// The database that PostgreSQL tests connect to in order to create and drop their own.
const PG_ADMIN: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A name no other test of this run, nor of a concurrent run, uses.
fn unique_name() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    format!("{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// A fresh, empty database, removed when dropped (also when the test fails).
enum TestDb {
    Sqlite { dir: PathBuf },
    Postgres { name: String },
}

impl TestDb {
    fn sqlite() -> TestDb {
        let dir = std::env::temp_dir().join(format!("sb-storage-test-{}", unique_name()));
        std::fs::create_dir(&dir).expect("creating a temporary directory");
        TestDb::Sqlite { dir }
    }

    fn postgres() -> TestDb {
        let name = format!("sb_storage_test_{}", unique_name());
        let mut admin = admin();
        // Left over by a killed run of a process with the same id, perhaps.
        admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).unwrap();
        admin.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
        TestDb::Postgres { name }
    }

    fn file(&self) -> PathBuf {
        match self {
            TestDb::Sqlite { dir } => dir.join("switchboard.db"),
            TestDb::Postgres { .. } => unreachable!("PostgreSQL databases have no file"),
        }
    }

    fn address(&self) -> String {
        match self {
            TestDb::Sqlite { .. } => format!("sqlite:{}", self.file().display()),
            TestDb::Postgres { name } => format!("postgres://postgres@127.0.0.1:5432/{name}"),
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            TestDb::Sqlite { .. } => "sqlite",
            TestDb::Postgres { .. } => "postgres",
        }
    }

    fn open(&self) -> Box<dyn Store> {
        match sb_storage::open(&self.address()) {
            Ok(store) => store,
            Err(e) => panic!("opening {}: {e}", self.address()),
        }
    }

    /// Runs SQL directly, behind the store's back.
    fn execute(&self, sql: &str) {
        match self {
            TestDb::Sqlite { .. } => {
                rusqlite::Connection::open(self.file()).unwrap().execute_batch(sql).unwrap();
            }
            TestDb::Postgres { .. } => {
                postgres::Client::connect(&self.address(), postgres::NoTls).unwrap().batch_execute(sql).unwrap();
            }
        }
    }

    /// Runs a query directly whose columns are all integers.
    fn rows(&self, sql: &str) -> Vec<Vec<i64>> {
        match self {
            TestDb::Sqlite { .. } => {
                let conn = rusqlite::Connection::open(self.file()).unwrap();
                let mut stmt = conn.prepare(sql).unwrap();
                let width = stmt.column_count();
                stmt.query_map([], |row| (0..width).map(|i| row.get(i)).collect())
                    .unwrap()
                    .collect::<Result<_, _>>()
                    .unwrap()
            }
            TestDb::Postgres { .. } => {
                let mut client = postgres::Client::connect(&self.address(), postgres::NoTls).unwrap();
                let rows = client.query(sql, &[]).unwrap();
                rows.iter().map(|row| (0..row.len()).map(|i| row.get(i)).collect()).collect()
            }
        }
    }

    fn count(&self, sql: &str) -> i64 {
        self.rows(sql)[0][0]
    }
}

fn admin() -> postgres::Client {
    postgres::Client::connect(PG_ADMIN, postgres::NoTls)
        .unwrap_or_else(|e| panic!("PostgreSQL must accept {PG_ADMIN} for the tests: {e}"))
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match self {
            TestDb::Sqlite { dir } => {
                let _ = std::fs::remove_dir_all(dir);
            }
            TestDb::Postgres { name } => {
                // FORCE: a store that a failing test still holds must not keep it alive.
                if let Err(e) = admin().batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")) {
                    eprintln!("dropping the test database {name}: {e}");
                }
            }
        }
    }
}

/// Runs each named test function on a fresh SQLite file and on a fresh PostgreSQL database.
macro_rules! on_both_backends {
    ($($test:ident),* $(,)?) => {
        mod on_sqlite {
            $( #[test] fn $test() { super::$test(&super::TestDb::sqlite()); } )*
        }
        mod on_postgres {
            $( #[test] fn $test() { super::$test(&super::TestDb::postgres()); } )*
        }
    };
}

on_both_backends!(
    migrations_are_idempotent,
    every_event_kind_round_trips,
    events_are_paged_by_sequence_number,
    projection_follows_a_realistic_sequence,
    agent_presence_time_changes_only_with_the_presence,
    next_interaction_id_survives_reopening,
    a_failing_append_stores_nothing,
    tenants_are_isolated,
    a_newer_schema_is_refused,
    every_record_survives_dropping_the_store,
    messages_follow_their_interaction,
    accounts_and_audit_are_stored_with_their_batch,
    legacy_contacts_are_stored_once,
    migration_state_and_interactions_since,
    legacy_intervals_are_stored_once,
    legacy_recordings_are_stored_once_by_content,
);

const T: &str = "acme";

fn record(id: u64, channel: &str, created_at_ms: i64) -> InteractionRecord {
    InteractionRecord {
        id,
        channel: channel.into(),
        queue: "support".into(),
        priority: 5,
        requirements: vec![("english".into(), 2), ("billing".into(), 7)],
        attributes: vec![("name".into(), "Zoë \"Z\" O'Neil".into()), ("crm".into(), "C-42".into())],
        created_at_ms,
    }
}

fn at(at_ms: i64, event: LogEvent) -> LogRecord {
    LogRecord { at_ms, event }
}

fn created(at_ms: i64, id: u64) -> LogRecord {
    at(at_ms, LogEvent::Created(record(id, "chat", at_ms)))
}

fn presence(at_ms: i64, agent: &str, activity: &str, presence: PresenceRecord) -> LogRecord {
    at(at_ms, LogEvent::AgentState { agent: agent.into(), activity: activity.into(), presence })
}

fn all_events(store: &mut dyn Store, tenant: &str) -> Vec<StoredEvent> {
    store.events(tenant, 0, u32::MAX).unwrap()
}

fn assert_increasing(events: &[StoredEvent]) {
    assert!(events.windows(2).all(|w| w[0].seq < w[1].seq), "sequence numbers must increase: {events:?}");
}

/// What was appended, without the sequence numbers.
fn as_records(events: &[StoredEvent]) -> Vec<LogRecord> {
    events.iter().map(|e| LogRecord { at_ms: e.at_ms, event: e.event.clone() }).collect()
}

/// One record of every kind, and of every presence, in an order the projection accepts.
fn one_of_each() -> Vec<LogRecord> {
    vec![
        created(1_000, 1),
        at(1_001, LogEvent::StepReached { interaction: 1, step: 3 }),
        at(1_002, LogEvent::Offered { interaction: 1, agent: "alice".into(), expires_at_ms: 16_002 }),
        at(1_003, LogEvent::Rejected { interaction: 1, agent: "alice".into() }),
        at(1_004, LogEvent::Offered { interaction: 1, agent: "bob".into(), expires_at_ms: 16_004 }),
        at(1_005, LogEvent::OfferTimedOut { interaction: 1, agent: "bob".into() }),
        at(1_006, LogEvent::Offered { interaction: 1, agent: "carol".into(), expires_at_ms: 16_006 }),
        at(
            1_007,
            LogEvent::OfferCancelled { interaction: 1, agent: "carol".into(), reason: "agent_unavailable".into() },
        ),
        at(1_008, LogEvent::Offered { interaction: 1, agent: "dave".into(), expires_at_ms: 16_008 }),
        at(1_009, LogEvent::Accepted { interaction: 1, agent: "dave".into() }),
        at(1_010, LogEvent::Completed { interaction: 1, agent: "dave".into(), wrap_up_until_ms: Some(31_010) }),
        at(1_011, LogEvent::WrapUpEnded { interaction: 1, agent: "dave".into() }),
        created(1_012, 2),
        at(1_013, LogEvent::Abandoned { interaction: 2, waited_ms: 1 }),
        created(1_014, 3),
        at(1_015, LogEvent::Offered { interaction: 3, agent: "dave".into(), expires_at_ms: 16_015 }),
        at(1_016, LogEvent::Accepted { interaction: 3, agent: "dave".into() }),
        at(1_017, LogEvent::Completed { interaction: 3, agent: "dave".into(), wrap_up_until_ms: None }),
        at(1_018, LogEvent::Created(record(4, "voice", 1_018))),
        at(1_019, LogEvent::Lost { interaction: 4, reason: "a call cannot survive a restart of the server".into() }),
        presence(1_020, "alice", "available", PresenceRecord::Available),
        presence(1_021, "bob", "not_ready", PresenceRecord::NotReady("lunch".into())),
        presence(1_022, "carol", "offline", PresenceRecord::Offline),
        at(1_023, LogEvent::Message { interaction: 1, sender: "customer".into(), author: None, text: "hi".into() }),
        at(
            1_024,
            LogEvent::Disposition {
                interaction: 1,
                agent: "dave".into(),
                code: Some("sale".into()),
                notes: "two seats".into(),
            },
        ),
        at(1_025, LogEvent::Survey { interaction: 1, score: 4 }),
    ]
}

fn migrations_are_idempotent(db: &TestDb) {
    let store = db.open();
    assert_eq!(store.kind(), db.kind());
    drop(store);
    let first = db.rows("SELECT version, applied_at_ms FROM schema_migrations ORDER BY version");
    let versions: Vec<i64> = first.iter().map(|r| r[0]).collect();
    assert!(!versions.is_empty());
    assert_eq!(versions, (1..=versions.len() as i64).collect::<Vec<_>>(), "each version once, none missing");

    let mut store = db.open();
    let second = db.rows("SELECT version, applied_at_ms FROM schema_migrations ORDER BY version");
    assert_eq!(second, first, "opening an up-to-date database applies nothing");
    // And the schema in place is usable.
    store.append(T, &[created(1, 1)]).unwrap();
    assert_eq!(store.snapshot(T).unwrap().interactions.len(), 1);
}

fn every_event_kind_round_trips(db: &TestDb) {
    let mut store = db.open();
    let records = one_of_each();
    let (first, rest) = records.split_at(5);
    store.append(T, first).unwrap();
    store.append(T, rest).unwrap();
    let stored = all_events(&mut *store, T);
    assert_increasing(&stored);
    assert_eq!(as_records(&stored), records);
    // The same after reopening, read by a new connection.
    drop(store);
    assert_eq!(all_events(&mut *db.open(), T), stored);
}

fn events_are_paged_by_sequence_number(db: &TestDb) {
    let mut store = db.open();
    let records = one_of_each();
    store.append(T, &records).unwrap();
    let all = all_events(&mut *store, T);
    assert_eq!(all.len(), records.len());
    assert_eq!(store.events(T, all[2].seq, 3).unwrap(), all[3..6]);
    assert_eq!(store.events(T, all[all.len() - 2].seq, 10).unwrap(), all[all.len() - 1..]);
    assert_eq!(store.events(T, all[all.len() - 1].seq, 10).unwrap(), []);
    assert_eq!(store.events(T, 0, 0).unwrap(), []);
    assert_eq!(store.events(T, -5, 1).unwrap(), all[..1]);
    // Paging through in pages of 4 yields everything once.
    let mut paged = Vec::new();
    let mut after = 0;
    loop {
        let page = store.events(T, after, 4).unwrap();
        let Some(last) = page.last() else { break };
        after = last.seq;
        paged.extend(page);
    }
    assert_eq!(paged, all);
}

/// The row of interaction 1 in this test, as it should be after each step.
fn row(
    state: InteractionState,
    agent: Option<&str>,
    connected_at_ms: Option<i64>,
    ended_at_ms: Option<i64>,
) -> InteractionRow {
    InteractionRow {
        record: record(1, "chat", 1_000),
        state,
        agent: agent.map(Into::into),
        connected_at_ms,
        ended_at_ms,
    }
}

fn projection_follows_a_realistic_sequence(db: &TestDb) {
    use InteractionState::*;
    let mut store = db.open();
    store
        .append(
            T,
            &[
                presence(900, "alice", "available", PresenceRecord::Available),
                presence(901, "bob", "available", PresenceRecord::Available),
            ],
        )
        .unwrap();

    // Interaction 1, record by record, each appended on its own.
    let steps = [
        (created(1_000, 1), row(Waiting, None, None, None)),
        (at(1_100, LogEvent::StepReached { interaction: 1, step: 1 }), row(Waiting, None, None, None)),
        (
            at(1_200, LogEvent::Offered { interaction: 1, agent: "alice".into(), expires_at_ms: 16_200 }),
            row(Offered, Some("alice"), None, None),
        ),
        (at(1_300, LogEvent::Rejected { interaction: 1, agent: "alice".into() }), row(Waiting, None, None, None)),
        (
            at(1_400, LogEvent::Offered { interaction: 1, agent: "bob".into(), expires_at_ms: 16_400 }),
            row(Offered, Some("bob"), None, None),
        ),
        (
            at(1_500, LogEvent::Accepted { interaction: 1, agent: "bob".into() }),
            row(Connected, Some("bob"), Some(1_500), None),
        ),
        (
            at(2_000, LogEvent::Completed { interaction: 1, agent: "bob".into(), wrap_up_until_ms: Some(9_000) }),
            row(WrapUp, Some("bob"), Some(1_500), None),
        ),
        (
            at(3_000, LogEvent::WrapUpEnded { interaction: 1, agent: "bob".into() }),
            row(Completed, Some("bob"), Some(1_500), Some(3_000)),
        ),
    ];
    for (record, expected) in steps {
        store.append(T, std::slice::from_ref(&record)).unwrap();
        assert_eq!(store.interaction(T, 1).unwrap().as_ref(), Some(&expected), "after {:?}", record.event);
        let snapshot = store.snapshot(T).unwrap();
        let listed = snapshot.interactions.iter().find(|r| r.record.id == 1);
        let expected_listed = (!expected.state.is_ended()).then_some(&expected);
        assert_eq!(listed, expected_listed, "snapshot after {:?}", record.event);
    }

    // Interaction 2 is abandoned after an offer withdrawn; 3 waits; 4 is lost while
    // connected; and the agents change their presence, all in one batch.
    store
        .append(
            T,
            &[
                created(4_000, 2),
                at(4_100, LogEvent::Offered { interaction: 2, agent: "alice".into(), expires_at_ms: 19_100 }),
                at(
                    4_200,
                    LogEvent::OfferCancelled { interaction: 2, agent: "alice".into(), reason: "customer_left".into() },
                ),
                at(4_200, LogEvent::Abandoned { interaction: 2, waited_ms: 200 }),
                at(4_500, LogEvent::Created(record(3, "email", 4_500))),
                at(4_600, LogEvent::Created(record(4, "voice", 4_600))),
                at(4_700, LogEvent::Offered { interaction: 4, agent: "carol".into(), expires_at_ms: 19_700 }),
                at(4_800, LogEvent::Accepted { interaction: 4, agent: "carol".into() }),
                presence(5_000, "alice", "not_ready", PresenceRecord::NotReady("lunch".into())),
                presence(5_100, "carol", "offline", PresenceRecord::Offline),
                at(5_200, LogEvent::Lost { interaction: 4, reason: "a call cannot survive a restart".into() }),
            ],
        )
        .unwrap();

    let waiting_3 = InteractionRow {
        record: record(3, "email", 4_500),
        state: Waiting,
        agent: None,
        connected_at_ms: None,
        ended_at_ms: None,
    };
    let snapshot = store.snapshot(T).unwrap();
    let last_seq = all_events(&mut *store, T).last().unwrap().seq;
    assert_eq!(
        snapshot,
        Snapshot {
            interactions: vec![waiting_3.clone()],
            agents: vec![
                AgentRow {
                    agent: "alice".into(),
                    presence: PresenceRecord::NotReady("lunch".into()),
                    changed_at_ms: 5_000,
                    skills: None,
                },
                AgentRow { agent: "bob".into(), presence: PresenceRecord::Available, changed_at_ms: 901, skills: None },
                AgentRow {
                    agent: "carol".into(),
                    presence: PresenceRecord::Offline,
                    changed_at_ms: 5_100,
                    skills: None,
                },
            ],
            next_interaction_id: 5,
            last_seq,
        }
    );
    assert_eq!(store.interaction(T, 1).unwrap(), Some(row(Completed, Some("bob"), Some(1_500), Some(3_000))));
    assert_eq!(
        store.interaction(T, 2).unwrap(),
        Some(InteractionRow {
            record: record(2, "chat", 4_000),
            state: Abandoned,
            agent: None,
            connected_at_ms: None,
            ended_at_ms: Some(4_200),
        })
    );
    assert_eq!(store.interaction(T, 3).unwrap(), Some(waiting_3));
    assert_eq!(
        store.interaction(T, 4).unwrap(),
        Some(InteractionRow {
            record: record(4, "voice", 4_600),
            state: Lost,
            agent: Some("carol".into()),
            connected_at_ms: Some(4_800),
            ended_at_ms: Some(5_200),
        })
    );
    assert_eq!(store.interaction(T, 5).unwrap(), None);
    assert_eq!(store.interaction(T, u64::MAX).unwrap(), None);
}

fn agent_presence_time_changes_only_with_the_presence(db: &TestDb) {
    let mut store = db.open();
    let alice = |store: &mut dyn Store| store.snapshot(T).unwrap().agents;
    store.append(T, &[presence(1_000, "alice", "available", PresenceRecord::Available)]).unwrap();
    // Busy and wrap-up are activities; her presence stays available since 1000.
    store
        .append(
            T,
            &[
                presence(2_000, "alice", "busy", PresenceRecord::Available),
                presence(3_000, "alice", "wrap_up", PresenceRecord::Available),
            ],
        )
        .unwrap();
    let available_since_1000 = vec![AgentRow {
        agent: "alice".into(),
        presence: PresenceRecord::Available,
        changed_at_ms: 1_000,
        skills: None,
    }];
    assert_eq!(alice(&mut *store), available_since_1000);
    // A new reason is a new presence.
    store
        .append(
            T,
            &[
                presence(4_000, "alice", "not_ready", PresenceRecord::NotReady("lunch".into())),
                presence(5_000, "alice", "not_ready", PresenceRecord::NotReady("lunch".into())),
                presence(6_000, "alice", "not_ready", PresenceRecord::NotReady("training".into())),
            ],
        )
        .unwrap();
    assert_eq!(
        alice(&mut *store),
        vec![AgentRow {
            agent: "alice".into(),
            presence: PresenceRecord::NotReady("training".into()),
            changed_at_ms: 6_000,
            skills: None,
        }]
    );
    // Skills set at run time are kept with the agent, whatever its presence does next; an
    // agent without a row yet gets one, offline.
    let skills = vec![("billing".to_string(), 4), ("french".to_string(), 2)];
    let set = |agent: &str| LogRecord {
        at_ms: 7_000,
        event: LogEvent::AgentSkills { agent: agent.into(), skills: skills.clone() },
    };
    store.append(T, &[set("alice"), set("zoe")]).unwrap();
    store.append(T, &[presence(8_000, "alice", "available", PresenceRecord::Available)]).unwrap();
    let agents = store.snapshot(T).unwrap().agents;
    assert_eq!(agents[0].skills.as_ref(), Some(&skills));
    assert_eq!(agents[0].presence, PresenceRecord::Available);
    assert_eq!(
        (agents[1].agent.as_str(), &agents[1].presence, agents[1].skills.as_ref()),
        ("zoe", &PresenceRecord::Offline, Some(&skills))
    );
}

fn next_interaction_id_survives_reopening(db: &TestDb) {
    let mut store = db.open();
    assert_eq!(
        store.snapshot(T).unwrap(),
        Snapshot { interactions: vec![], agents: vec![], next_interaction_id: 1, last_seq: 0 }
    );
    store
        .append(
            T,
            &[
                created(1_000, 1),
                created(1_001, 2),
                created(1_002, 7),
                at(1_003, LogEvent::Abandoned { interaction: 7, waited_ms: 1 }),
            ],
        )
        .unwrap();
    let before = store.snapshot(T).unwrap();
    drop(store);

    let mut store = db.open();
    let after = store.snapshot(T).unwrap();
    assert_eq!(after, before);
    // The largest id belongs to an ended interaction, and still counts.
    assert_eq!(after.next_interaction_id, 8);
    assert_eq!(after.interactions.iter().map(|r| r.record.id).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(after.last_seq, all_events(&mut *store, T)[3].seq);
}

fn a_failing_append_stores_nothing(db: &TestDb) {
    let mut store = db.open();
    store.append(T, &[created(1_000, 1), presence(1_000, "alice", "available", PresenceRecord::Available)]).unwrap();
    let snapshot = store.snapshot(T).unwrap();
    let events = all_events(&mut *store, T);
    let tables = || {
        (
            db.count("SELECT COUNT(*) FROM events"),
            db.count("SELECT COUNT(*) FROM interactions"),
            db.count("SELECT COUNT(*) FROM agents"),
        )
    };
    let counts = tables();
    assert_eq!(counts, (2, 1, 1));

    let refused = [
        // The second record creates interaction 1 again.
        (vec![created(2_000, 2), created(2_001, 1)], "interaction 1 of tenant \"acme\" already exists"),
        // The second record names an interaction that does not exist.
        (
            vec![
                at(2_000, LogEvent::Offered { interaction: 1, agent: "alice".into(), expires_at_ms: 17_000 }),
                at(2_001, LogEvent::Accepted { interaction: 99, agent: "alice".into() }),
            ],
            "accepted names interaction 99",
        ),
        (
            vec![
                presence(2_000, "alice", "not_ready", PresenceRecord::NotReady("lunch".into())),
                at(2_001, LogEvent::StepReached { interaction: 42, step: 1 }),
            ],
            "step_reached names interaction 42",
        ),
        (vec![created(2_000, 3), at(2_001, LogEvent::Lost { interaction: 4, reason: "x".into() })], "interaction 4"),
        (vec![at(2_000, LogEvent::Abandoned { interaction: u64::MAX, waited_ms: 1 })], "larger than"),
    ];
    for (batch, message) in refused {
        match store.append(T, &batch) {
            Err(e @ StoreError::Corrupt { .. }) => assert!(e.to_string().contains(message), "{e}"),
            other => panic!("appending {batch:?} should be refused, got {other:?}"),
        }
        assert_eq!(tables(), counts, "after appending {batch:?}");
        assert_eq!(store.snapshot(T).unwrap(), snapshot, "after appending {batch:?}");
        assert_eq!(all_events(&mut *store, T), events, "after appending {batch:?}");
        assert_eq!(store.interaction(T, 2).unwrap(), None);
    }

    // The store is still usable, and the log goes on after what was stored before.
    store.append(T, &[created(3_000, 2)]).unwrap();
    let now = all_events(&mut *store, T);
    assert_eq!(now.len(), 3);
    assert!(now[2].seq > events[1].seq);
    assert_eq!(store.snapshot(T).unwrap().next_interaction_id, 3);
}

fn tenants_are_isolated(db: &TestDb) {
    let mut store = db.open();
    let in_queue = |id: u64, queue: &str| {
        let mut r = record(id, "chat", 1_000);
        r.queue = queue.into();
        at(1_000, LogEvent::Created(r))
    };
    store
        .append(
            "acme",
            &[
                in_queue(1, "acme-sales"),
                in_queue(2, "acme-sales"),
                presence(1_000, "alice", "available", PresenceRecord::Available),
            ],
        )
        .unwrap();
    store
        .append(
            "globex",
            &[in_queue(1, "globex-support"), presence(1_000, "alice", "offline", PresenceRecord::Offline)],
        )
        .unwrap();
    // Same ids and agent names, different rows.
    store
        .append("globex", &[at(1_100, LogEvent::Offered { interaction: 1, agent: "alice".into(), expires_at_ms: 9 })])
        .unwrap();

    let acme = store.snapshot("acme").unwrap();
    let globex = store.snapshot("globex").unwrap();
    assert_eq!(
        acme.interactions.iter().map(|r| (r.record.id, r.record.queue.as_str(), r.state)).collect::<Vec<_>>(),
        [(1, "acme-sales", InteractionState::Waiting), (2, "acme-sales", InteractionState::Waiting)]
    );
    assert_eq!(
        globex.interactions.iter().map(|r| (r.record.id, r.record.queue.as_str(), r.state)).collect::<Vec<_>>(),
        [(1, "globex-support", InteractionState::Offered)]
    );
    assert_eq!(acme.agents[0].presence, PresenceRecord::Available);
    assert_eq!(globex.agents[0].presence, PresenceRecord::Offline);
    assert_eq!((acme.next_interaction_id, globex.next_interaction_id), (3, 2));

    let acme_events = all_events(&mut *store, "acme");
    let globex_events = all_events(&mut *store, "globex");
    assert_eq!(acme_events.len(), 3);
    assert_eq!(globex_events.len(), 3);
    assert_eq!(acme.last_seq, acme_events[2].seq);
    assert_eq!(globex.last_seq, globex_events[2].seq);
    assert!(acme_events.iter().all(|e| !globex_events.iter().any(|g| g.seq == e.seq)));
    assert_eq!(store.interaction("acme", 1).unwrap().unwrap().record.queue, "acme-sales");
    assert_eq!(store.interaction("globex", 2).unwrap(), None);

    // Globex cannot touch acme's interaction 2, and an unknown tenant has nothing.
    assert!(store.append("globex", &[at(2_000, LogEvent::Abandoned { interaction: 2, waited_ms: 1 })]).is_err());
    assert_eq!(store.interaction("acme", 2).unwrap().unwrap().state, InteractionState::Waiting);
    assert_eq!(
        store.snapshot("initech").unwrap(),
        Snapshot { interactions: vec![], agents: vec![], next_interaction_id: 1, last_seq: 0 }
    );
    assert_eq!(all_events(&mut *store, "initech"), []);
}

fn a_newer_schema_is_refused(db: &TestDb) {
    drop(db.open());
    let supported = db.count("SELECT MAX(version) FROM schema_migrations");
    db.execute("INSERT INTO schema_migrations (version, applied_at_ms) VALUES (999, 0)");
    let before = db.rows("SELECT version, applied_at_ms FROM schema_migrations ORDER BY version");
    match sb_storage::open(&db.address()) {
        Err(e @ StoreError::SchemaTooNew { .. }) => {
            assert!(matches!(e, StoreError::SchemaTooNew { found: 999, supported: s } if s == supported), "{e}");
            assert!(e.to_string().contains("upgrade Switchboard"), "{e}");
        }
        Err(e) => panic!("expected SchemaTooNew, got {e}"),
        Ok(_) => panic!("a database of schema version 999 was opened"),
    }
    assert_eq!(db.rows("SELECT version, applied_at_ms FROM schema_migrations ORDER BY version"), before);
}

/// Dropping the store is all a crashing process does; nothing is left to a close.
fn every_record_survives_dropping_the_store(db: &TestDb) {
    let mut store = db.open();
    let mut appended = Vec::new();
    for id in 1..=50 {
        let batch = [created(id as i64, id), at(id as i64, LogEvent::StepReached { interaction: id, step: 1 })];
        store.append(T, &batch).unwrap();
        appended.extend(batch);
    }
    drop(store);
    let mut store = db.open();
    assert_eq!(as_records(&all_events(&mut *store, T)), appended);
    assert_eq!(store.snapshot(T).unwrap().interactions.len(), 50);
}

/// The files that a killed process leaves: the store is never dropped, so SQLite neither
/// checkpoints the WAL nor deletes it. A copy of the files taken then must hold every
/// committed append.
#[test]
fn sqlite_commits_are_in_the_files_before_any_close() {
    let db = TestDb::sqlite();
    let mut store = db.open();
    let mut appended = Vec::new();
    for id in 1..=20 {
        let batch = [created(id as i64, id), presence(id as i64, "alice", "busy", PresenceRecord::Available)];
        store.append(T, &batch).unwrap();
        appended.extend(batch);
    }
    let wal = PathBuf::from(format!("{}-wal", db.file().display()));
    assert!(wal.exists(), "the database is in WAL mode and the WAL holds the commits");

    let copy = TestDb::sqlite();
    std::fs::copy(db.file(), copy.file()).unwrap();
    std::fs::copy(&wal, format!("{}-wal", copy.file().display())).unwrap();
    // Never closed, like a killed process's connection.
    std::mem::forget(store);

    let mut reopened = copy.open();
    assert_eq!(as_records(&all_events(&mut *reopened, T)), appended);
    assert_eq!(reopened.snapshot(T).unwrap().next_interaction_id, 21);
}

#[test]
fn sqlite_files_are_in_wal_mode() {
    let db = TestDb::sqlite();
    drop(db.open());
    let conn = rusqlite::Connection::open(db.file()).unwrap();
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn a_plain_path_is_an_sqlite_file() {
    let db = TestDb::sqlite();
    let mut store = sb_storage::open(db.file().to_str().unwrap()).map_err(|e| e.to_string()).unwrap();
    assert_eq!(store.kind(), "sqlite");
    store.append(T, &[created(1, 1)]).unwrap();
    drop(store);
    assert_eq!(db.count("SELECT COUNT(*) FROM events"), 1);
}

#[test]
fn other_addresses_are_refused_clearly() {
    for address in ["mysql://x", "", "sqlite:", "sqlite://relative.db", "redis://localhost:6379"] {
        match sb_storage::open(address) {
            Err(e @ StoreError::BadAddress(_)) => {
                let message = e.to_string();
                assert!(message.contains(&format!("{address:?}")), "{message}");
                assert!(message.contains("sqlite:PATH") && message.contains("postgres://"), "{message}");
            }
            Err(e) => panic!("{address}: expected BadAddress, got {e}"),
            Ok(_) => panic!("{address} was opened"),
        }
    }
}

#[test]
fn unreachable_databases_are_errors_of_their_backend() {
    let dir = TestDb::sqlite();
    let missing_dir = dir.file().join("no/such/dir/x.db");
    assert!(matches!(sb_storage::open(missing_dir.to_str().unwrap()), Err(StoreError::Sqlite(_))));
    let missing_db = format!("postgres://postgres@127.0.0.1:5432/sb_storage_no_such_db_{}", unique_name());
    assert!(matches!(sb_storage::open(&missing_db), Err(StoreError::Postgres(_))));
}

/// Closes every connection to the test database from the server's side, as a restart of
/// PostgreSQL would, and waits until they are gone.
fn terminate_connections(name: &str) {
    let mut admin = admin();
    admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", &[&name]).unwrap();
    for _ in 0..500 {
        let row = admin.query_one("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = $1", &[&name]).unwrap();
        if row.get::<_, i64>(0) == 0 {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("the connections to {name} did not end");
}

#[test]
fn a_postgres_connection_closed_by_the_server_is_opened_again() {
    let db = TestDb::postgres();
    let TestDb::Postgres { name } = &db else { unreachable!() };
    let mut store = db.open();
    store.append(T, &[created(1_000, 1)]).unwrap();

    // The first call learns that the connection is gone; the next one connects again.
    terminate_connections(name);
    assert!(store.events(T, 0, 10).is_err(), "the first call after the server closed the connection fails");
    assert_eq!(store.events(T, 0, 10).unwrap().len(), 1);

    terminate_connections(name);
    assert!(store.append(T, &[created(2_000, 2)]).is_err());
    store.append(T, &[created(3_000, 3)]).unwrap();
    let ids: Vec<u64> = store.snapshot(T).unwrap().interactions.iter().map(|r| r.record.id).collect();
    assert_eq!(ids, [1, 3], "the failed append stored nothing");
}

fn message(at_ms: i64, interaction: u64, sender: &str, text: &str) -> LogRecord {
    let author = (sender == "agent").then(|| "alice".to_string());
    at(at_ms, LogEvent::Message { interaction, sender: sender.into(), author, text: text.into() })
}

fn messages_follow_their_interaction(db: &TestDb) {
    let mut store = db.open();
    store.append(T, &[created(1_000, 1), created(1_000, 2)]).unwrap();
    store
        .append(
            T,
            &[
                message(1_001, 1, "customer", "Hello"),
                message(1_002, 2, "customer", "Other chat"),
                message(1_003, 1, "agent", "Hi, Alice here \u{1F44B}"),
            ],
        )
        .unwrap();
    store.append("globex", &[created(1_000, 1)]).unwrap();
    let texts = |store: &mut dyn Store, tenant: &str, id: u64| {
        store.messages(tenant, id).unwrap().into_iter().map(|m| (m.sender, m.author, m.text)).collect::<Vec<_>>()
    };
    assert_eq!(
        texts(&mut *store, T, 1),
        [
            ("customer".to_string(), None, "Hello".to_string()),
            ("agent".to_string(), Some("alice".to_string()), "Hi, Alice here \u{1F44B}".to_string())
        ]
    );
    assert_eq!(texts(&mut *store, "globex", 1), []);
    // A message to an interaction the tenant does not have is refused with its whole batch.
    let err = store.append(T, &[message(1_004, 1, "customer", "lost?"), message(1_005, 9, "customer", "x")]);
    assert!(err.is_err());
    assert_eq!(store.messages(T, 1).unwrap().len(), 2, "nothing of the failed batch");
    // Ordered by acceptance, and the same after reopening.
    let seqs: Vec<i64> = store.messages(T, 1).unwrap().iter().map(|m| m.seq).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]));
    drop(store);
    assert_eq!(texts(&mut *db.open(), T, 2), [("customer".to_string(), None, "Other chat".to_string())]);
}

fn user(name: &str, role: &str) -> UserRecord {
    UserRecord {
        username: name.into(),
        display_name: name.to_uppercase(),
        role: role.into(),
        agent: (role == "agent").then(|| name.to_string()),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        disabled: false,
        created_at_ms: 1_000,
    }
}

fn token(hash: &str, user: &str, expires_at_ms: Option<i64>) -> TokenRecord {
    TokenRecord {
        hash: hash.into(),
        username: user.into(),
        kind: "session".into(),
        label: "browser".into(),
        interaction: None,
        created_at_ms: 1_000,
        expires_at_ms,
    }
}

fn audit(action: &str, target: &str) -> AuditRecord {
    AuditRecord {
        at_ms: 1_000,
        actor: "root".into(),
        source: "127.0.0.1".into(),
        action: action.into(),
        target: target.into(),
        detail: String::new(),
    }
}

fn accounts_and_audit_are_stored_with_their_batch(db: &TestDb) {
    let mut store = db.open();
    let changes = [
        AccountChange::PutUser(user("root", "admin")),
        AccountChange::PutUser(user("alice", "agent")),
        AccountChange::PutToken(token("aa", "root", None)),
        AccountChange::PutToken(token("bb", "alice", Some(5_000))),
        AccountChange::PutToken(token("cc", "alice", Some(50_000))),
    ];
    let entries = [audit("user.create", "user:root"), audit("user.create", "user:alice")];
    store
        .commit(T, Batch { records: &[created(1_000, 1)], accounts: &changes, audit: &entries, ..Batch::default() })
        .unwrap();
    // Another tenant's users and tokens are its own.
    store
        .commit("globex", Batch { accounts: &[AccountChange::PutUser(user("root", "agent"))], ..Batch::default() })
        .unwrap();

    let accounts = store.accounts(T, 10_000).unwrap();
    assert_eq!(
        accounts.users.iter().map(|u| (&*u.username, &*u.role)).collect::<Vec<_>>(),
        [("alice", "agent"), ("root", "admin")]
    );
    assert_eq!(accounts.users[0], user("alice", "agent"));
    // bb expired at 5,000.
    assert_eq!(accounts.tokens.iter().map(|t| &*t.hash).collect::<Vec<_>>(), ["aa", "cc"]);
    assert_eq!(store.accounts("globex", 0).unwrap().users[0].role, "agent");

    // Replacing a user, revoking a token.
    let mut disabled = user("alice", "agent");
    disabled.disabled = true;
    store
        .commit(
            T,
            Batch {
                accounts: &[
                    AccountChange::PutUser(disabled.clone()),
                    AccountChange::RevokeToken { hash: "cc".into(), at_ms: 2_000 },
                ],
                audit: &[audit("user.disable", "user:alice")],
                ..Batch::default()
            },
        )
        .unwrap();
    let accounts = store.accounts(T, 10_000).unwrap();
    assert_eq!(accounts.users[0], disabled);
    assert_eq!(accounts.tokens.iter().map(|t| &*t.hash).collect::<Vec<_>>(), ["aa"]);

    // Audit: newest first, paged by id, per tenant.
    let log = store.audit(T, None, 10).unwrap();
    assert_eq!(
        log.iter().map(|e| &*e.record.action).collect::<Vec<_>>(),
        ["user.disable", "user.create", "user.create"]
    );
    assert_eq!(log[0].record, audit("user.disable", "user:alice"));
    let older = store.audit(T, Some(log[0].id), 1).unwrap();
    assert_eq!(older, [log[1].clone()]);
    assert_eq!(store.audit("globex", None, 10).unwrap(), []);

    // A failing batch keeps none of its account changes or audit entries.
    let failing = store.commit(
        T,
        Batch {
            records: &[at(3_000, LogEvent::Abandoned { interaction: 99, waited_ms: 1 })],
            accounts: &[AccountChange::PutUser(user("mallory", "admin"))],
            audit: &[audit("user.create", "user:mallory")],
            migration: Some(&sb_storage::MigrationRecord {
                phase: None,
                switchboard_percent: None,
                phase_since_ms: None,
                agents: Vec::new(),
                rolled_back: true,
                frozen: false,
                changed_at_ms: 3_000,
                actor: "mallory".into(),
            }),
        },
    );
    assert!(failing.is_err());
    assert_eq!(store.migration(T).unwrap(), None, "nor its migration state");
    assert_eq!(store.accounts(T, 10_000).unwrap().users.len(), 2);
    assert_eq!(store.audit(T, None, 10).unwrap().len(), 3);
    // A token hash is unique across the database.
    let again = store.commit(
        "globex",
        Batch { accounts: &[AccountChange::PutToken(token("aa", "root", None))], ..Batch::default() },
    );
    assert!(again.is_err());
}

fn legacy_contacts_are_stored_once(db: &TestDb) {
    let row = |id: &str, at: i64| sb_storage::LegacyRow {
        id: id.into(),
        queue: "support".into(),
        caller: Some("4930111".into()),
        dnis: None,
        arrived_ms: at,
        wait_ms: (id != "c3").then_some(12_000),
        talk_ms: Some(180_000),
        agent: None,
        outcome: "answered".into(),
    };
    let mut store = db.open();
    assert_eq!(store.put_legacy(T, "queue_log", &[row("c2", 2000), row("c1", 1000)]).unwrap(), 2);
    // The same import again, and a resumed one with one more contact: only that one is new.
    assert_eq!(store.put_legacy(T, "queue_log", &[row("c1", 1000), row("c2", 2000)]).unwrap(), 0);
    assert_eq!(store.put_legacy(T, "queue_log", &[row("c2", 2000), row("c3", 3000)]).unwrap(), 1);
    // Another source may use the same ids; another tenant sees none of it.
    assert_eq!(store.put_legacy(T, "cucm", &[row("c1", 500)]).unwrap(), 1);
    assert!(store.legacy("other").unwrap().is_empty());
    drop(store);
    let ids: Vec<String> = db.open().legacy(T).unwrap().into_iter().map(|r| r.id).collect();
    assert_eq!(ids, ["c1", "c1", "c2", "c3"], "by arrival");
    assert_eq!(db.open().legacy(T).unwrap()[1], row("c1", 1000));
    assert_eq!(db.open().legacy(T).unwrap()[3], row("c3", 3000), "an unknown wait stays unknown");
}

fn migration_state_and_interactions_since(db: &TestDb) {
    let mut store = db.open();
    assert_eq!(store.migration(T).unwrap(), None);
    let pilot = sb_storage::MigrationRecord {
        phase: Some("pilot".into()),
        switchboard_percent: Some(10),
        phase_since_ms: Some(5_000),
        agents: vec!["alice".into(), "bob".into()],
        rolled_back: false,
        frozen: true,
        changed_at_ms: 5_000,
        actor: "root".into(),
    };
    store.commit(T, Batch { migration: Some(&pilot), ..Batch::default() }).unwrap();
    let rolled_back = sb_storage::MigrationRecord { rolled_back: true, changed_at_ms: 9_000, ..pilot.clone() };
    store.commit(T, Batch { migration: Some(&rolled_back), ..Batch::default() }).unwrap();
    assert_eq!(store.migration("other").unwrap(), None);
    drop(store);
    let mut store = db.open();
    assert_eq!(store.migration(T).unwrap(), Some(rolled_back), "the last state, after reopening");
    store
        .append(
            T,
            &[
                created(1_000, 1),
                created(2_000, 2),
                at(2_500, LogEvent::Accepted { interaction: 2, agent: "dave".into() }),
                at(3_000, LogEvent::Completed { interaction: 2, agent: "dave".into(), wrap_up_until_ms: None }),
                created(4_000, 3),
            ],
        )
        .unwrap();
    let since: Vec<(u64, Option<i64>, Option<i64>)> = store
        .interactions_since(T, 2_000)
        .unwrap()
        .into_iter()
        .map(|r| (r.record.id, r.connected_at_ms, r.ended_at_ms))
        .collect();
    assert_eq!(since, [(2, Some(2_500), Some(3_000)), (3, None, None)]);
}

fn legacy_intervals_are_stored_once(db: &TestDb) {
    let row = |queue: &str, start_ms: i64| sb_storage::IntervalRow {
        queue: queue.into(),
        start_ms,
        minutes: 30,
        offered: 12,
        answered: 11,
        abandoned: 1,
        answered_within: 10,
        within_s: 20,
        answer_s: 99,
        talk_s: 2640,
    };
    let mut store = db.open();
    assert_eq!(store.put_legacy_intervals(T, "cms", &[row("1", 2000), row("1", 1000)]).unwrap(), 2);
    assert_eq!(store.put_legacy_intervals(T, "cms", &[row("1", 1000), row("2", 1000)]).unwrap(), 1);
    assert!(store.legacy_intervals("other").unwrap().is_empty());
    drop(store);
    let rows = db.open().legacy_intervals(T).unwrap();
    let keys: Vec<(&str, i64)> = rows.iter().map(|r| (r.queue.as_str(), r.start_ms)).collect();
    assert_eq!(keys, [("1", 1000), ("2", 1000), ("1", 2000)], "by start");
    assert_eq!(rows[0], row("1", 1000));
}

fn legacy_recordings_are_stored_once_by_content(db: &TestDb) {
    let row = |sha: &str, path: &str| sb_storage::RecordingRow {
        sha256: sha.into(),
        size: 4800,
        source_path: path.into(),
        stored_path: format!("ab/{sha}.sealed"),
        call_id: Some("1700000000.42".into()),
        started_ms: Some(1_700_000_000_000),
        agent: Some("1001".into()),
        caller: None,
        queue: Some("support".into()),
    };
    let mut store = db.open();
    assert!(store.put_legacy_recording(T, &row("ab12", "b.wav")).unwrap());
    assert!(store.put_legacy_recording(T, &row("cd34", "a.wav")).unwrap());
    assert!(!store.put_legacy_recording(T, &row("ab12", "copy-of-b.wav")).unwrap(), "the same content");
    assert!(store.legacy_recordings("other").unwrap().is_empty());
    drop(store);
    let rows = db.open().legacy_recordings(T).unwrap();
    assert_eq!(rows, [row("cd34", "a.wav"), row("ab12", "b.wav")]);
}
