//! The example configurations in `examples/` load without a single diagnostic.
//!
//! They are what new users copy from, so a warning in them would teach a bad habit.

use std::path::Path;

fn check_clean(relative: &str) -> sb_config::TenantConfig {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let path = root.join(relative);
    let text = std::fs::read_to_string(&path).expect("the example exists");
    match sb_config::parse(relative, &text) {
        Ok((config, report)) => {
            assert!(report.is_empty(), "{relative} has warnings:\n{report}");
            config
        }
        Err(report) => panic!("{relative} does not load:\n{report}"),
    }
}

#[test]
fn the_demo_loads_cleanly() {
    let config = check_clean("examples/demo.yaml");
    assert_eq!(config.summary(), "5 skills, 3 queues, 8 agents, 5 reason codes, 2 business-hours schedules");
}

#[test]
fn the_large_example_loads_cleanly() {
    let config = check_clean("examples/large-500.yaml");
    assert_eq!(config.agents.len(), 500);
    assert_eq!(config.skills.len(), 40);
    assert_eq!(config.queues.len(), 30);
}
