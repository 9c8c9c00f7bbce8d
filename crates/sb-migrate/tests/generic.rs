//! The generic CSV importer on synthetic files: the tenant file and the report are
//! snapshots, the tenant must load, and every malformed row or cell is reported with its
//! file and line.

use sb_migrate::{Outcome, TenantInfo, generic};

#[test]
fn csv_files_become_a_valid_tenant_with_a_report() {
    let files = generic::Files {
        skills: Some(("skills.csv", include_str!("../test_data/generic/skills.csv"))),
        queues: Some(("queues.csv", include_str!("../test_data/generic/queues.csv"))),
        agents: Some(("agents.csv", include_str!("../test_data/generic/agents.csv"))),
    };
    let tenant = TenantInfo { id: "mitel".into(), name: "From Mitel".into(), time_zone: "UTC".into() };
    let import = generic::import(files, &tenant);
    insta::assert_snapshot!("tenant", import.tenant_yaml);
    insta::assert_snapshot!("report", import.report.to_string());
    let (config, _) = sb_config::parse("imported.yaml", &import.tenant_yaml)
        .unwrap_or_else(|r| panic!("the imported tenant does not load:\n{r}\n{}", import.tenant_yaml));
    assert_eq!((config.skills.len(), config.queues.len(), config.agents.len()), (3, 3, 3));
    let rejected: Vec<(String, usize)> = import
        .report
        .items
        .iter()
        .filter(|i| i.outcome == Outcome::Rejected)
        .filter_map(|i| i.source.clone())
        .collect();
    let at = |file: &str, line: usize| rejected.contains(&(file.to_owned(), line));
    assert!(at("skills.csv", 6), "a repeated skill id: {rejected:?}");
    assert!(at("queues.csv", 4) && at("queues.csv", 5), "bad strategy, priority, channel, level");
    assert!(at("queues.csv", 6) && at("queues.csv", 7), "an open quote and a short row");
    assert!(
        at("agents.csv", 4) && at("agents.csv", 5) && at("agents.csv", 6),
        "unknown skill and queue, level 9, a repeated id"
    );
}
