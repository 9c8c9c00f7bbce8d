//! Call backs offered instead of waiting: every caller is accounted for, call backs are
//! made, they take load off the queue's abandons, and an offer nobody qualifies for changes
//! nothing at all.

use std::time::Duration;

use sb_routing::QueueId;
use sb_sim::{CallbackOffer, Dist, RunResult, Scenario, SimTenant};

/// Ten agents at 110% load (AHT 3 minutes) with callers who wait a minute on average: the
/// queue builds up during the day and empties in the drain.
fn overloaded(callback: Option<CallbackOffer>) -> (SimTenant, Scenario) {
    let tenant = SimTenant::single_queue(10, Duration::from_secs(20));
    let per_hour = 1.1 * 10.0 * 3600.0 / 180.0;
    let patience = Some(Dist::Exponential { mean: Duration::from_secs(60) });
    let mut scenario =
        Scenario::single_queue(Duration::from_secs(3600), 8, per_hour, Duration::from_secs(180), patience);
    scenario.streams[0].callback = callback;
    (tenant, scenario)
}

fn offer(when_wait_over: Duration) -> Option<CallbackOffer> {
    Some(CallbackOffer { when_wait_over, accept: 0.5, queue: QueueId(0) })
}

fn runs(callback: Option<CallbackOffer>) -> Vec<RunResult> {
    let (tenant, scenario) = overloaded(callback);
    (1..=5).map(|seed| sb_sim::run(&tenant, &scenario, seed)).collect()
}

#[test]
fn every_caller_is_answered_abandoned_called_back_or_waiting() {
    for run in runs(offer(Duration::from_secs(60))) {
        let t = run.total();
        assert!(t.called_back > 50 && t.callbacks_answered > 50, "{t:?}");
        assert_eq!(t.offered, t.answered + t.abandoned + t.called_back + run.still_waiting, "{t:?}");
        assert_eq!(t.called_back, t.callbacks_answered + run.callbacks_waiting, "{t:?}");
        // A call back waits for an agent like any call: some time, but it is made.
        assert!(t.callback_wait().is_some_and(|w| w > 0.0), "{t:?}");
        // Callers who took a call back are left out of the service level, like short abandons.
        let base = t.offered - t.short_abandoned - t.called_back;
        assert_eq!(t.service_level(), Some(t.answered_within as f64 / base as f64));
    }
}

#[test]
fn call_backs_take_callers_out_of_the_queue_before_they_abandon() {
    let abandoned = |runs: &[RunResult]| runs.iter().map(|r| r.total().abandoned).sum::<u64>();
    // The call backs wait in the same queue and still need the same agents, so the queue
    // stays long; but a caller who took one no longer abandons (13% fewer here).
    let without = runs(None);
    let with = runs(offer(Duration::from_secs(60)));
    assert!(
        abandoned(&with) * 100 < abandoned(&without) * 95,
        "abandoned with call backs {} against {} without",
        abandoned(&with),
        abandoned(&without)
    );
}

#[test]
fn an_offer_nobody_qualifies_for_changes_nothing() {
    // The estimated wait never reaches a day: no caller is offered a call back, and the run
    // is the same as one without any offer, draw for draw.
    let never = runs(offer(Duration::from_secs(86_400)));
    let without = runs(None);
    for (a, b) in never.iter().zip(&without) {
        assert_eq!(a.total(), b.total());
        assert_eq!(a.total().called_back, 0);
        assert_eq!((a.busy_ms.clone(), a.staffed_ms.clone()), (b.busy_ms.clone(), b.staffed_ms.clone()));
    }
}
