//! The Cisco UCCX importer on a synthetic export of the admin API's JSON: the tenant file
//! and the report are snapshots, and the tenant must load.

use sb_migrate::{Outcome, TenantInfo, uccx};

#[test]
fn uccx_json_becomes_a_valid_tenant_with_a_report() {
    let document: serde_json::Value =
        serde_json::from_str(include_str!("../test_data/cisco/uccx.json")).expect("the fixture is JSON");
    let answers = uccx::Answers::from_document(&document);
    let tenant = TenantInfo { id: "cisco".into(), name: "From UCCX".into(), time_zone: "America/Chicago".into() };
    let import = uccx::import("uccx.json", &answers, &tenant);
    insta::assert_snapshot!("tenant", import.tenant_yaml);
    insta::assert_snapshot!("report", import.report.to_string());
    let (config, _) = sb_config::parse("imported.yaml", &import.tenant_yaml)
        .unwrap_or_else(|r| panic!("the imported tenant does not load:\n{r}\n{}", import.tenant_yaml));
    assert_eq!((config.skills.len(), config.queues.len(), config.agents.len()), (4, 3, 5));
    // Competence 7 is proficiency 4; 10 (given as a single object, not a list) is 5.
    let jdoe = config.agents.iter().find(|a| a.id.as_str() == "jdoe").unwrap();
    let billing = config.skill_ix("billing").unwrap();
    assert!(jdoe.skills.iter().any(|l| l.skill == billing && l.level.get() == 4), "{:?}", jdoe.skills);
    // The reference to skill 99 is reported, not fatal.
    assert_eq!(import.report.count(Outcome::Rejected), 1, "{}", import.report);
}
