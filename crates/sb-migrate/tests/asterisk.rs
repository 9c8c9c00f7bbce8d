//! The Asterisk importer on a synthetic queues.conf: the tenant file and the report are
//! snapshots, and the tenant file must load as a valid configuration.

use sb_migrate::{TenantInfo, asterisk};
mod common;

fn tenant() -> TenantInfo {
    TenantInfo { id: "acme".into(), name: "Acme Support".into(), time_zone: "Europe/Berlin".into() }
}

#[test]
fn queues_conf_becomes_a_valid_tenant_with_a_report() {
    let text = include_str!("../test_data/asterisk/queues.conf");
    let import = asterisk::import_queues("queues.conf", text, &tenant());
    insta::assert_snapshot!("tenant", import.tenant_yaml);
    insta::assert_snapshot!("report", import.report.to_string());
    let (config, warnings) = sb_config::parse("imported.yaml", &import.tenant_yaml)
        .unwrap_or_else(|report| panic!("the imported tenant does not load:\n{report}\n{}", import.tenant_yaml));
    // billing has no member that could be read: left out.
    assert_eq!(config.queues.len(), 2, "{warnings}");
    assert_eq!(config.agents.len(), 4, "{}", import.tenant_yaml);
    // Malformed lines are reported with their line numbers, and do not stop the import.
    let rejected = common::rejected_lines(&import.report);
    assert_eq!(rejected, [28, 31, 34, 35, 36]);
}

#[test]
fn an_empty_file_gives_an_empty_but_valid_tenant() {
    let import = asterisk::import_queues("queues.conf", "", &tenant());
    assert!(sb_config::parse("imported.yaml", &import.tenant_yaml).is_ok(), "{}", import.tenant_yaml);
    assert!(import.report.items.is_empty());
}
