//! Migration plans: the example loads against the demo tenant, and each kind of mistake is
//! reported with file, line, column and field (snapshots).

use std::path::Path;

fn demo() -> sb_config::TenantConfig {
    sb_config::load(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/demo.yaml"))).unwrap()
}

#[test]
fn the_example_plan_loads() {
    let config = demo();
    let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/migration-plan.yaml"));
    let plan = sb_config::load_plan(path, &config).unwrap_or_else(|r| panic!("{r}"));
    assert_eq!(plan.tenant, "demo");
    assert_eq!(plan.within, std::time::Duration::from_secs(20));
    let ids: Vec<&str> = plan.phases.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["pilot", "half", "full"]);
    let percents: Vec<u8> = plan.phases.iter().map(|p| p.switchboard_percent).collect();
    assert_eq!(percents, [10, 50, 100]);
    let pilot = &plan.phases[0];
    let agents: Vec<&str> = pilot.agents.iter().map(|a| config.agent(*a).id.as_str()).collect();
    assert_eq!(agents, ["anna", "ben"]);
    let gate = pilot.gate.as_ref().unwrap();
    assert_eq!((gate.days, gate.min_calls, gate.conditions.len()), (3, 20, 3));
    assert!(plan.phases[2].gate.is_none());
    assert_eq!(plan.readiness.len(), 7);
    // Nothing blocks the pilot (its steps are done); integrations blocks the second phase.
    assert_eq!(plan.blocking(0).count(), 0);
    let blocking: Vec<&str> = plan.blocking(1).map(|r| r.step.name()).collect();
    assert_eq!(blocking, ["integrations"]);
}

#[test]
fn bad_plans() {
    let config = demo();
    insta::glob!("../test_data/plans/bad", "*.yaml", |path| {
        let text = std::fs::read_to_string(path).unwrap();
        let name = format!("test_data/plans/bad/{}", path.file_name().unwrap().to_string_lossy());
        let report = sb_config::parse_plan(&name, &text, &config).expect_err("the plan is invalid");
        insta::assert_snapshot!(report.to_string());
    });
}

#[test]
fn a_roster_loads_and_its_mistakes_are_named() {
    let config = demo();
    let text = "shifts:\n  - {agents: [anna, ben], days: mon-fri, hours: \"08:00-16:00\"}\n  - {agents: [clara], hours: \"12:00-20:00\"}\n";
    let roster = sb_config::parse_roster("roster.yaml", text, &config).unwrap_or_else(|r| panic!("{r}"));
    assert_eq!(roster.shifts.len(), 2);
    assert_eq!(roster.shifts[0].days, [0, 1, 2, 3, 4]);
    assert_eq!(roster.shifts[1].days.len(), 7, "every day when days are left out");
    assert_eq!(roster.shifts[0].hours.to_string(), "08:00-16:00");
    insta::glob!("../test_data/rosters/bad", "*.yaml", |path| {
        let text = std::fs::read_to_string(path).unwrap();
        let name = format!("test_data/rosters/bad/{}", path.file_name().unwrap().to_string_lossy());
        let report = sb_config::parse_roster(&name, &text, &config).expect_err("the roster is invalid");
        insta::assert_snapshot!(report.to_string());
    });
}
