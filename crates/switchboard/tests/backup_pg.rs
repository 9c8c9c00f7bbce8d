//! `switchboard migrate backup` and `verify` of a PostgreSQL store: pg_dump's archive in the
//! manifest, restored into a scratch database and read back; a damaged archive is found.

mod common;

use common::{PgDatabase, Scratch, switchboard};

#[test]
fn a_postgres_backup_restores_into_a_scratch_database_and_a_damaged_dump_is_found() {
    let scratch = Scratch::new();
    let db = PgDatabase::new();
    let url = db.url();
    let log = "crates/sb-migrate/test_data/asterisk/queue_log";
    let (code, out) =
        switchboard(&["migrate", "history", "asterisk", "--queue-log", log, "-d", &url, "--tenant", "acme"]);
    assert_eq!(code, 0, "{out}");
    let backup = scratch.0.join("backup");
    let (code, out) = switchboard(&["migrate", "backup", "-d", &url, "-o", backup.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("1 files"), "{out}");
    let manifest = std::fs::read_to_string(backup.join("MANIFEST.sha256")).unwrap();
    assert!(manifest.trim_end().ends_with("  database.pgdump"), "{manifest}");
    // Without a server, pg_restore checks the archive's table of contents.
    let (code, out) = switchboard(&["migrate", "verify", backup.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("give --restore-into to prove a restore"), "{out}");
    let admin = "postgres://postgres@127.0.0.1:5432/test";
    let verify = || switchboard(&["migrate", "verify", backup.to_str().unwrap(), "--restore-into", admin]);
    let (code, out) = verify();
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("database.pgdump restores: tenants acme"), "{out}");
    // A damaged archive fails both the manifest and the restore.
    let dump = backup.join("database.pgdump");
    let mut bytes = std::fs::read(&dump).unwrap();
    let middle = bytes.len() / 2;
    bytes.truncate(middle);
    std::fs::write(&dump, bytes).unwrap();
    let (code, out) = verify();
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAILED database.pgdump: SHA-256"), "{out}");
    assert!(out.contains("FAILED database.pgdump does not restore"), "{out}");
}
