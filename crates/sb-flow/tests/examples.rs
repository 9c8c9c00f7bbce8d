//! The example flow in `examples/flows/` loads without a single diagnostic, checked against
//! the demo tenant it is written for.
//!
//! New users copy from it, so a warning in it would teach a bad habit.

use std::path::Path;

use sb_flow::{Flow, KnownNames};

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// The example flow, checked against the demo tenant's names.
fn main_menu() -> Flow {
    let config = sb_config::load(&root().join("examples/demo.yaml")).expect("the demo tenant loads");
    let known = KnownNames::from_config(&config);
    let relative = "examples/flows/main-menu.yaml";
    let text = std::fs::read_to_string(root().join(relative)).expect("the example exists");
    match sb_flow::parse(relative, &text, &known) {
        Ok((flow, report)) => {
            assert!(report.is_empty(), "{relative} has warnings:\n{report}");
            flow
        }
        Err(report) => panic!("{relative} does not load:\n{report}"),
    }
}

#[test]
fn the_main_menu_loads_cleanly_against_the_demo_tenant() {
    let flow = main_menu();
    assert_eq!(flow.id.as_str(), "main-menu");
    assert_eq!(flow.version, 3);
    assert_eq!(flow.node(flow.start).id, "welcome");
    assert_eq!(flow.nodes.len(), 17);
}

#[test]
fn the_demo_tenant_knows_the_names_the_flow_uses() {
    let config = sb_config::load(&root().join("examples/demo.yaml")).expect("the demo tenant loads");
    let known = KnownNames::from_config(&config);
    assert_eq!(known.queues, Some(vec!["billing".into(), "sales".into(), "support".into()]));
    assert!(known.skills.as_ref().is_some_and(|s| s.iter().any(|s| s == "german")));
    assert_eq!(known.schedules, Some(vec!["office".into(), "extended".into()]));
}

/// The text of the first fenced block after `marker` in `docs/flows.md`.
fn docs_block(marker: &str) -> String {
    let docs = std::fs::read_to_string(root().join("docs/flows.md")).expect("the docs exist");
    let after = &docs[docs.find(marker).expect("the marker is in the docs")..];
    let start = after.find("```").expect("a fenced block");
    let body = &after[start..];
    let body = &body[body.find('\n').expect("a fence line") + 1..];
    body[..body.find("```").expect("a closing fence")].to_owned()
}

#[test]
fn the_complete_example_in_the_docs_loads_cleanly() {
    let config = sb_config::load(&root().join("examples/demo.yaml")).expect("the demo tenant loads");
    let text = docs_block("## A complete example");
    match sb_flow::parse("docs/flows.md", &text, &KnownNames::from_config(&config)) {
        Ok((flow, report)) => {
            assert!(report.is_empty(), "the docs' example has warnings:\n{report}");
            // The docs' example is the example file, written compactly.
            assert_eq!(flow.to_string(), main_menu().to_string());
        }
        Err(report) => panic!("the docs' example does not load:\n{report}"),
    }
}

#[test]
fn the_dry_run_in_the_docs_is_what_a_dry_run_prints() {
    let transcript = sb_flow::run_text(&main_menu(), &['4'], sb_flow::Hours::Open);
    assert_eq!(transcript, docs_block("## Dry runs"));
}
