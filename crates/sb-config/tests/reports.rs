//! Snapshot tests of the reports that `switchboard config check` prints.
//!
//! Each file in `test_data/bad/` shows one kind of error (one file shows several at once) and
//! must fail to load; each file in `test_data/warn/` loads but draws warnings. The snapshot of
//! a file holds its full report, with the file named relative to the crate. To add a case, drop
//! a YAML file into one of the folders, run `INSTA_UPDATE=always cargo test -p sb-config`, and
//! read the new snapshot before keeping it.

use std::path::Path;

/// Parses the fixture at `path`, naming it relative to the crate in diagnostics.
fn parse_fixture(path: &Path) -> (String, Result<(sb_config::TenantConfig, sb_config::Report), sb_config::Report>) {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let relative =
        path.strip_prefix(crate_dir).expect("fixtures live in the crate").to_string_lossy().replace('\\', "/");
    let text = std::fs::read_to_string(path).expect("fixtures are readable");
    let result = sb_config::parse(&relative, &text);
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
fn a_missing_file_is_a_diagnostic() {
    let report = sb_config::check_file(Path::new("no/such/file.yaml")).expect_err("the file does not exist");
    let text = report.to_string();
    assert!(text.starts_with("no/such/file.yaml: error: cannot read the file: "), "{text}");
    assert!(text.ends_with("\n1 error"), "{text}");
}

#[test]
fn load_carries_the_report() {
    let error = sb_config::load(Path::new("no/such/file.yaml")).expect_err("missing file");
    assert_eq!(error.report.error_count(), 1);
    assert!(error.to_string().starts_with("invalid configuration\nno/such/file.yaml: error:"));
}
