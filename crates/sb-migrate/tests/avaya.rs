//! The Avaya CM importer on a synthetic capture of SAT display screens: the tenant file,
//! the VDNs' flows and the report are snapshots; the tenant must load and every flow must
//! pass the flow checks against it.

use sb_migrate::{Outcome, TenantInfo, avaya};

#[test]
fn sat_screens_become_a_tenant_and_flows() {
    let tenant = TenantInfo { id: "avaya".into(), name: "From Avaya".into(), time_zone: "America/New_York".into() };
    let (import, dialplan) = avaya::import_sat("sat.txt", include_str!("../test_data/avaya/sat.txt"), &tenant);
    insta::assert_snapshot!("tenant", import.tenant_yaml);
    insta::assert_snapshot!("report", import.report.to_string());
    let (config, _) = sb_config::parse("imported.yaml", &import.tenant_yaml)
        .unwrap_or_else(|r| panic!("the imported tenant does not load:\n{r}\n{}", import.tenant_yaml));
    assert_eq!((config.skills.len(), config.queues.len(), config.agents.len()), (3, 3, 5));
    let known = sb_flow::KnownNames::from_config(&config);
    let ids: Vec<&str> = dialplan.flows.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(ids, ["vdn-3000", "vdn-3100"]);
    for flow in &dialplan.flows {
        insta::assert_snapshot!(flow.id.clone(), flow.yaml);
        let name = format!("{}.yaml", flow.id);
        sb_flow::parse(&name, &flow.yaml, &known)
            .unwrap_or_else(|r| panic!("{name} does not load:\n{r}\n{}", flow.yaml));
    }
    // Skill 9 is no hunt group; level 16 is proficiency 2.
    assert!(
        import
            .report
            .items
            .iter()
            .any(|i| i.outcome == Outcome::NotTranslated && i.detail.starts_with("skill 9 is not"))
    );
    let bob = config.agents.iter().find(|a| a.id.as_str() == "5002").unwrap();
    assert!(bob.skills.iter().any(|l| l.level.get() == 2), "{:?}", bob.skills);
}
