//! Snapshot tests of the reports a flow check prints, and of the outlines
//! of valid flows.
//!
//! Each file in `test_data/bad/` shows one kind of error (one file shows several at once) and
//! must fail to load; each file in `test_data/warn/` loads but draws warnings; each file in
//! `test_data/good/` loads without a diagnostic, and its snapshot is the flow's outline. All
//! are checked against the names in [`known`]. To add a case, drop a YAML file into one of
//! the folders, run `INSTA_UPDATE=always cargo test -p sb-flow`, and read the new snapshot
//! before keeping it.

use std::path::Path;

use sb_flow::{Flow, KnownNames, Report};

/// The tenant the fixtures are checked against.
fn known() -> KnownNames {
    let names = |list: &[&str]| Some(list.iter().map(|s| s.to_string()).collect());
    KnownNames {
        queues: names(&["billing", "sales", "support"]),
        skills: names(&["billing", "german", "english"]),
        schedules: names(&["office", "extended"]),
    }
}

/// Parses the fixture at `path`, naming it relative to the crate in diagnostics.
fn parse_fixture(path: &Path) -> (String, Result<(Flow, Report), Report>) {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let relative =
        path.strip_prefix(crate_dir).expect("fixtures live in the crate").to_string_lossy().replace('\\', "/");
    let text = std::fs::read_to_string(path).expect("fixtures are readable");
    let result = sb_flow::parse(&relative, &text, &known());
    (relative, result)
}

#[test]
fn bad_files() {
    insta::glob!("../test_data/bad", "*.yaml", |path| {
        let (name, result) = parse_fixture(path);
        let report = match result {
            Ok((_, report)) => panic!("{name} should not load, but it does:\n{report}"),
            Err(report) => report,
        };
        assert!(report.has_errors(), "{name}: a failed load reports an error");
        insta::assert_snapshot!(report.to_string());
    });
}

#[test]
fn files_with_warnings() {
    insta::glob!("../test_data/warn", "*.yaml", |path| {
        let (name, result) = parse_fixture(path);
        let report = match result {
            Ok((_, report)) => report,
            Err(report) => panic!("{name} should load, but it does not:\n{report}"),
        };
        assert!(report.warning_count() > 0, "{name}: the file is meant to draw warnings");
        insta::assert_snapshot!(report.to_string());
    });
}

#[test]
fn good_files() {
    insta::glob!("../test_data/good", "*.yaml", |path| {
        let (name, result) = parse_fixture(path);
        let flow = match result {
            Ok((flow, report)) => {
                assert!(report.is_empty(), "{name} draws diagnostics:\n{report}");
                flow
            }
            Err(report) => panic!("{name} should load, but it does not:\n{report}"),
        };
        insta::assert_snapshot!(flow.to_string());
    });
}

#[test]
fn without_known_names_queues_skills_and_schedules_are_not_checked() {
    let text = "flow: f\nversion: 1\nstart: hours\nnodes:\n  \
                hours: {business_hours: nowhere, open: q, closed: q}\n  \
                q: {queue: nobody, skills: {klingon: 5}}\n";
    let (flow, report) = sb_flow::parse("f.yaml", text, &KnownNames::default()).expect("no names to check");
    assert!(report.is_empty(), "{report}");
    assert_eq!(flow.nodes.len(), 2);

    let report = sb_flow::parse("f.yaml", text, &known()).expect_err("unknown names");
    assert_eq!(report.error_count(), 3, "{report}");

    // A tenant without schedules knows no schedule at all.
    let no_schedules = KnownNames { schedules: Some(Vec::new()), ..KnownNames::default() };
    let report = sb_flow::parse("f.yaml", text, &no_schedules).expect_err("unknown schedule");
    assert_eq!(
        report.to_string(),
        "f.yaml:5:27: error: nodes.hours.business_hours: unknown business-hours schedule \"nowhere\"\n1 error"
    );
}

#[test]
fn a_missing_file_is_a_diagnostic() {
    let report = sb_flow::check_file(Path::new("no/such/flow.yaml"), &KnownNames::default())
        .expect_err("the file does not exist");
    let text = report.to_string();
    assert!(text.starts_with("no/such/flow.yaml: error: cannot read the file: "), "{text}");
    assert!(text.ends_with("\n1 error"), "{text}");
}

#[test]
fn load_carries_the_report() {
    let error = sb_flow::load(Path::new("no/such/flow.yaml"), &KnownNames::default()).expect_err("missing file");
    assert_eq!(error.report.error_count(), 1);
    assert!(error.to_string().starts_with("invalid contact flow\nno/such/flow.yaml: error:"));
}

#[test]
fn regression_a_misspelt_branch_does_not_also_make_its_target_unreachable() {
    // The only branch to "billing" is misspelt: that is one problem, reported once, and not
    // a second time as an unreachable "billing".
    let text = "flow: f\nversion: 1\nstart: menu\nnodes:\n  \
                menu: {menu: {prompt: m.wav}, options: {\"1\": biling}, fallback: end}\n  \
                billing: {queue: billing}\n  end: {hangup: true}\n";
    let report = sb_flow::parse("f.yaml", text, &known()).expect_err("a misspelt branch");
    assert_eq!(
        report.to_string(),
        "f.yaml:5:48: error: nodes.menu.options.1: unknown node \"biling\" (did you mean \"billing\"?)\n1 error"
    );
}
