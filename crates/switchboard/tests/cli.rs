//! The command line as a user meets it: help texts and `config check` results and exit codes.

use std::process::Command;

fn switchboard(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .output()
        .expect("the binary runs");
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn config_check_accepts_the_examples() {
    let (code, out) = switchboard(&["config", "check", "examples/demo.yaml", "examples/large-500.yaml"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("examples/demo.yaml: ok ("), "{out}");
    assert!(out.contains("500 agents"), "{out}");
}

#[test]
fn config_check_reports_every_error_and_fails() {
    let (code, out) = switchboard(&["config", "check", "crates/sb-config/test_data/bad/several-errors.yaml"]);
    assert_eq!(code, 1, "{out}");
    let errors = out.lines().filter(|l| l.contains(": error: ")).count();
    assert!(errors >= 5, "every problem is reported, not just the first: {out}");
    assert!(out.contains("several-errors.yaml:13:5: error: queues[0].skils"), "{out}");
}

#[test]
fn config_check_of_a_missing_file_names_it() {
    let (code, out) = switchboard(&["config", "check", "no/such/file.yaml"]);
    assert_eq!(code, 1);
    assert!(out.contains("no/such/file.yaml"), "{out}");
}

#[test]
fn help_explains_each_command() {
    let (code, out) = switchboard(&["--help"]);
    assert_eq!(code, 0);
    for command in ["serve", "config", "bench"] {
        assert!(out.contains(command), "--help lists {command}: {out}");
    }
    let (_, serve) = switchboard(&["serve", "--help"]);
    assert!(serve.contains("--database") && serve.contains("postgres://"), "{serve}");
    let (_, bench) = switchboard(&["bench", "routing", "--help"]);
    assert!(bench.contains("--waiting") && bench.contains("naive"), "{bench}");
}
