//! When storage fails, the dispatcher answers every request of the batch with an error,
//! keeps nothing of it, and rebuilds the engine from what is stored, so that memory never
//! runs ahead of the database; once storage works again, so does the tenant.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use sb_routing::{AgentId, Channel, Command, Presence, QueueId};
use sb_server::dispatcher::{Dispatcher, NewRequest, Request, RequestError};
use sb_storage::{Accounts, AuditEntry, Batch, InteractionRow, MessageRow, Snapshot, Store, StoreError, StoredEvent};
use tokio::sync::oneshot;

/// A real SQLite store that refuses appends while `failing` is set.
struct Flaky {
    inner: Box<dyn Store>,
    failing: Arc<AtomicBool>,
}

impl Store for Flaky {
    fn commit(&mut self, tenant: &str, batch: Batch<'_>) -> Result<(), StoreError> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(StoreError::BadAddress("the disk is full (simulated)".into()));
        }
        self.inner.commit(tenant, batch)
    }
    fn accounts(&mut self, tenant: &str, now_ms: i64) -> Result<Accounts, StoreError> {
        self.inner.accounts(tenant, now_ms)
    }
    fn audit(&mut self, tenant: &str, before: Option<i64>, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
        self.inner.audit(tenant, before, limit)
    }
    fn messages(&mut self, tenant: &str, interaction: u64) -> Result<Vec<MessageRow>, StoreError> {
        self.inner.messages(tenant, interaction)
    }
    fn snapshot(&mut self, tenant: &str) -> Result<Snapshot, StoreError> {
        self.inner.snapshot(tenant)
    }
    fn events(&mut self, tenant: &str, after: i64, limit: u32) -> Result<Vec<StoredEvent>, StoreError> {
        self.inner.events(tenant, after, limit)
    }
    fn interaction(&mut self, tenant: &str, id: u64) -> Result<Option<InteractionRow>, StoreError> {
        self.inner.interaction(tenant, id)
    }
    fn put_legacy(&mut self, tenant: &str, source: &str, rows: &[sb_storage::LegacyRow]) -> Result<u64, StoreError> {
        self.inner.put_legacy(tenant, source, rows)
    }
    fn legacy(&mut self, tenant: &str) -> Result<Vec<sb_storage::LegacyRow>, StoreError> {
        self.inner.legacy(tenant)
    }
    fn put_legacy_intervals(
        &mut self,
        tenant: &str,
        source: &str,
        rows: &[sb_storage::IntervalRow],
    ) -> Result<u64, StoreError> {
        self.inner.put_legacy_intervals(tenant, source, rows)
    }
    fn legacy_intervals(&mut self, tenant: &str) -> Result<Vec<sb_storage::IntervalRow>, StoreError> {
        self.inner.legacy_intervals(tenant)
    }
    fn tenants(&mut self) -> Result<Vec<String>, StoreError> {
        self.inner.tenants()
    }
    fn put_legacy_recording(&mut self, tenant: &str, row: &sb_storage::RecordingRow) -> Result<bool, StoreError> {
        self.inner.put_legacy_recording(tenant, row)
    }
    fn legacy_recordings(&mut self, tenant: &str) -> Result<Vec<sb_storage::RecordingRow>, StoreError> {
        self.inner.legacy_recordings(tenant)
    }
    fn interactions_since(
        &mut self,
        tenant: &str,
        since_ms: i64,
    ) -> Result<Vec<sb_storage::InteractionRow>, StoreError> {
        self.inner.interactions_since(tenant, since_ms)
    }
    fn migration(&mut self, tenant: &str) -> Result<Option<sb_storage::MigrationRecord>, StoreError> {
        self.inner.migration(tenant)
    }
    fn kind(&self) -> &'static str {
        "flaky"
    }
}

const TENANT: &str = "
tenant: {id: flaky, name: Flaky, time_zone: UTC}
skills: [{id: help}]
queues: [{id: chat, channels: [chat], skills: {help: 1}}]
agents: [{id: ann, skills: {help: 2}, queues: [chat]}]
";

fn create(d: &mut Dispatcher) -> Result<u64, RequestError> {
    let (tx, mut rx) = oneshot::channel();
    let new = NewRequest {
        channel: Channel::Chat,
        queue: QueueId(0),
        priority: None,
        requirements: vec![],
        attributes: vec![],
        customer: None,
        voice_call: None,
    };
    d.step(vec![Request::Create { new, reply: tx }]);
    rx.try_recv().expect("answered within the step").map(|v| v.record.id)
}

fn waiting(d: &mut Dispatcher) -> Vec<u64> {
    let (tx, mut rx) = oneshot::channel();
    d.step(vec![Request::Waiting { queue: QueueId(0), reply: tx }]);
    rx.try_recv().expect("answered within the step")
}

/// A dispatcher of the test tenant on a fresh SQLite file whose appends fail while the
/// returned flag is set; the directory is removed when the guard is dropped.
fn flaky_dispatcher(name: &str) -> (Dispatcher, Arc<AtomicBool>, Scratch) {
    let dir = std::env::temp_dir().join(format!("sb-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (config, _) = sb_config::parse("tenant.yaml", TENANT).unwrap();
    let (setup, directory) = sb_server::tenant::build(&config);
    let failing = Arc::new(AtomicBool::new(false));
    let store = sb_storage::open(&format!("sqlite:{}", dir.join("s.db").display())).unwrap();
    let flaky = Box::new(Flaky { inner: store, failing: failing.clone() });
    let (d, _) = Dispatcher::open(setup, directory, flaky, Default::default()).unwrap();
    (d, failing, Scratch(dir))
}

/// A directory removed when dropped.
struct Scratch(std::path::PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn a_failed_append_keeps_nothing_and_the_tenant_recovers() {
    let (mut d, failing, _scratch) = flaky_dispatcher("flaky");

    let first = create(&mut d).unwrap();
    failing.store(true, Ordering::SeqCst);
    let refused = create(&mut d);
    assert!(matches!(refused, Err(RequestError::Storage(_))), "{refused:?}");
    let (tx, mut rx) = oneshot::channel();
    d.step(vec![Request::Apply {
        then: Vec::new(),
        audit: None,
        command: Command::SetPresence { agent: AgentId(0), presence: Presence::NotReady(sb_routing::ReasonId(0)) },
        reply: tx,
    }]);
    assert!(matches!(rx.try_recv().unwrap(), Err(RequestError::Storage(_))));

    failing.store(false, Ordering::SeqCst);
    assert_eq!(waiting(&mut d), vec![first], "the refused chat is not in the engine either");
    let next = create(&mut d).unwrap();
    assert_eq!(waiting(&mut d), vec![first, next]);
    // The refused presence change did not stick: Ann is still offline, so nothing is offered.
    let (tx, mut rx) = oneshot::channel();
    d.step(vec![Request::Agents { reply: tx }]);
    assert_eq!(rx.try_recv().unwrap()[0].presence, Presence::Offline);
}

/// Today's figures count only what was stored, and a rebuild after a failed append keeps
/// them.
#[test]
fn a_failed_append_keeps_todays_figures() {
    let (mut d, failing, _scratch) = flaky_dispatcher("flaky-today");
    let offered = |d: &mut Dispatcher| {
        let (tx, mut rx) = oneshot::channel();
        d.step(vec![Request::Queues { reply: tx }]);
        rx.try_recv().unwrap()[0].today.offered
    };
    create(&mut d).unwrap();
    create(&mut d).unwrap();
    assert_eq!(offered(&mut d), 2);
    failing.store(true, Ordering::SeqCst);
    assert!(create(&mut d).is_err());
    failing.store(false, Ordering::SeqCst);
    assert_eq!(offered(&mut d), 2, "kept through the rebuild, and the refused chat not counted");
}

/// Two requests of one batch that change the same user, each from what it read: the second
/// finds the user changed and is refused, so neither overwrites the other unseen.
#[test]
fn concurrent_changes_to_one_user_conflict() {
    use sb_storage::{AccountChange, UserRecord};
    let (mut d, _, _scratch) = flaky_dispatcher("users");
    let user = |name: &str, hash: &str| UserRecord {
        username: name.into(),
        display_name: name.into(),
        role: "agent".into(),
        agent: Some("ann".into()),
        password_hash: hash.into(),
        disabled: false,
        created_at_ms: 0,
    };
    let create = |hash: &str| {
        let (tx, rx) = oneshot::channel();
        let request = Request::Accounts {
            changes: vec![AccountChange::PutUser(user("ann", hash))],
            audit: vec![],
            expected: vec![("ann".into(), None)],
            reply: tx,
        };
        (request, rx)
    };
    let (first, mut first_rx) = create("first");
    let (second, mut second_rx) = create("second");
    d.step(vec![first, second]);
    assert!(first_rx.try_recv().unwrap().is_ok());
    assert!(matches!(second_rx.try_recv().unwrap(), Err(RequestError::Conflict(_))));
    // A change based on what is stored now goes through; one based on an old read does not.
    let (tx, mut rx) = oneshot::channel();
    let mut disabled = user("ann", "first");
    disabled.disabled = true;
    d.step(vec![Request::Accounts {
        changes: vec![AccountChange::PutUser(disabled.clone())],
        audit: vec![],
        expected: vec![("ann".into(), Some(user("ann", "first")))],
        reply: tx,
    }]);
    assert!(rx.try_recv().unwrap().is_ok());
    let (tx, mut rx) = oneshot::channel();
    d.step(vec![Request::Accounts {
        changes: vec![AccountChange::PutUser(user("ann", "stale"))],
        audit: vec![],
        expected: vec![("ann".into(), Some(user("ann", "first")))],
        reply: tx,
    }]);
    assert!(matches!(rx.try_recv().unwrap(), Err(RequestError::Conflict(_))), "the stale change would re-enable Ann");
}
