//! Simulation scenarios: the example loads against the demo tenant, and each kind of
//! mistake is reported with file, line, column and field (snapshots).

use std::path::Path;

fn demo() -> sb_config::TenantConfig {
    sb_config::load(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/demo.yaml"))).unwrap()
}

#[test]
fn the_demo_scenario_loads() {
    let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/demo-scenario.yaml"));
    let spec = sb_config::load_scenario(path, &demo()).unwrap_or_else(|r| panic!("{r}"));
    assert_eq!(spec.intervals, 16);
    assert_eq!(spec.streams.len(), 5);
    assert_eq!(spec.shifts.len(), 2);
    assert!(
        matches!(&spec.streams[1].arrivals, sb_config::ArrivalPattern::PerInterval(v) if v.len() == 16 && v[0] == 2.0)
    );
    assert!(spec.streams[4].patience.is_none());
    // Sales callers are offered a call back, which waits in their own queue.
    let callback = spec.streams[2].callback.expect("the sales stream offers call backs");
    assert_eq!((callback.accept_percent, callback.when_wait_over), (40, std::time::Duration::from_secs(120)));
    assert_eq!(callback.queue, spec.streams[2].queue);
    assert!(spec.streams[0].callback.is_none());
}

#[test]
fn bad_scenarios() {
    let config = demo();
    insta::glob!("../test_data/scenarios/bad", "*.yaml", |path| {
        let text = std::fs::read_to_string(path).unwrap();
        let name = format!("test_data/scenarios/bad/{}", path.file_name().unwrap().to_string_lossy());
        let base = path.parent().unwrap();
        let report = sb_config::parse_scenario(&name, &text, &config, base).expect_err("the scenario is invalid");
        let text = report.to_string().replace(&base.display().to_string(), "test_data/scenarios/bad");
        insta::assert_snapshot!(text);
    });
}
