//! The Asterisk dialplan importer on a synthetic extensions.conf: the flows and the report
//! are snapshots, and every flow must load and pass the flow checks against the tenant
//! imported from the synthetic queues.conf.

use sb_migrate::{Report, TenantInfo, asterisk, dialplan};
mod common;

#[test]
fn ivr_menus_become_flows_that_load() {
    let tenant = TenantInfo { id: "acme".into(), name: "Acme".into(), time_zone: "UTC".into() };
    let queues = asterisk::import_queues("queues.conf", include_str!("../test_data/asterisk/queues.conf"), &tenant);
    let (config, _) = sb_config::parse("acme.yaml", &queues.tenant_yaml).unwrap();
    let known = sb_flow::KnownNames::from_config(&config);
    let mut report = Report::default();
    let text = include_str!("../test_data/asterisk/extensions.conf");
    let imported = dialplan::import_extensions("extensions.conf", text, &mut report);
    let ids: Vec<&str> = imported.flows.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(ids, ["ivr-main", "ivr-billing"], "in file order");
    assert_eq!(imported.numbers, [("5550100".to_owned(), "ivr-main".to_owned())]);
    for flow in &imported.flows {
        insta::assert_snapshot!(flow.id.clone(), flow.yaml);
        let name = format!("{}.yaml", flow.id);
        sb_flow::parse(&name, &flow.yaml, &known)
            .unwrap_or_else(|r| panic!("{name} does not load:\n{r}\n{}", flow.yaml));
    }
    insta::assert_snapshot!("report", report.to_string());
    let rejected = common::rejected_lines(&report);
    assert_eq!(rejected, [44, 45, 46], "{report}");
}
