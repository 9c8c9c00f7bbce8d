//! Dry runs of the example flow and of a few small flows, compared with snapshots.
//!
//! Each case names the digits the caller presses and whether the business hours are open;
//! the snapshot is the transcript `run_text` returns.

use std::path::Path;

use sb_flow::{Flow, Hours, KnownNames, run_text};

fn main_menu() -> Flow {
    let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/flows/main-menu.yaml"));
    sb_flow::load(path, &KnownNames::default()).expect("the example flow loads")
}

fn flow(text: &str) -> Flow {
    match sb_flow::parse("test.yaml", text, &KnownNames::default()) {
        Ok((flow, _)) => flow,
        Err(report) => panic!("the test flow does not load:\n{report}"),
    }
}

fn digits(keys: &str) -> Vec<char> {
    keys.chars().filter(|c| !c.is_whitespace()).collect()
}

#[test]
fn main_menu_dry_runs() {
    let flow = main_menu();
    let cases: &[(&str, &str, Hours)] = &[
        // Billing with an account number: the lookup fails in a dry run, billing takes the
        // call anyway, and the caller rates it afterwards.
        ("billing_with_account", "1 1234# 5", Hours::Open),
        // Closed: the caller goes to voicemail without being asked anything.
        ("closed_voicemail", "", Hours::Closed),
        // Silence: the menu is retried twice, then support takes the call; the survey
        // times out without a score.
        ("silence_falls_back", "", Hours::Open),
        // Wrong keys count like silence.
        ("wrong_keys_fall_back", "7 8 0", Hours::Open),
        // A call back instead of waiting; the key left over is reported.
        ("callback_accepted", "3 1 9", Hours::Open),
        // Declining the call back leads to sales.
        ("callback_declined", "3 2 4", Hours::Open),
        // German support: a variable is set and goes along with the transfer.
        ("german_support", "4 3", Hours::Open),
        // Too few digits of an account number: billing without a lookup.
        ("short_account_number", "1 12#", Hours::Open),
    ];
    for (name, keys, hours) in cases {
        insta::assert_snapshot!(*name, run_text(&flow, &digits(keys), *hours));
    }
}

#[test]
fn a_flow_that_keeps_going_without_the_caller_is_stopped() {
    let hold = flow(
        "flow: hold\nversion: 1\nstart: music\nnodes:\n  \
         music: {play: prompts/music.wav, next: still}\n  \
         still:\n    menu: {prompt: prompts/still-there.wav, retries: 0}\n    \
         options: {\"1\": agent}\n    fallback: music\n  \
         agent: {queue: support}\n",
    );
    let transcript = run_text(&hold, &[], Hours::Open);
    let last = transcript.lines().last().expect("a transcript");
    assert_eq!(last, "830.000 still: the dry run stops after 500 steps: the flow goes on without end");
}

#[test]
fn a_queue_without_after_call_ends_the_run() {
    let simple =
        flow("flow: q\nversion: 1\nstart: q\nnodes:\n  q: {queue: billing, priority: 3, skills: {german: 2}}\n");
    assert_eq!(
        run_text(&simple, &['1'], Hours::Closed),
        "  0.000 q: transfer to queue billing (priority 3, skills german:2)\n\
         \x20 0.000 q: the call waits for an agent; the dry run ends here\n\
         \x20 0.000 q: digits not used: 1\n"
    );
}
