//! The simulator against queueing theory, where theory is exact: an M/M/N queue (Poisson
//! arrivals, exponential handle times, one skill, no abandonment) must agree with Erlang C
//! within the confidence interval of its replications; and every run conserves contacts.

use std::time::Duration;

use sb_sim::{Dist, Scenario, SimTenant};

fn tenant(agents: usize, within: Duration) -> SimTenant {
    SimTenant::single_queue(agents as u32, within)
}

fn scenario(per_interval: f64, intervals: u32, aht: Duration, patience: Option<Dist>) -> Scenario {
    Scenario::single_queue(Duration::from_secs(1800), intervals, per_interval, aht, patience)
}

#[test]
fn mmn_agrees_with_erlang_c() {
    // 10 Erlangs: 100 calls per 30 minutes with a mean handle time of 180 s, 12 agents,
    // target 20 s. Erlang C: P(wait) = 0.4494, SL = 1 - P(wait)·exp(-(12-10)·20/180) = 0.6397,
    // ASA = P(wait)·180/(12-10) = 40.4 s.
    let (n, a) = (12u32, 10.0);
    let within = Duration::from_secs(20);
    let aht = sb_wfm::Aht::from_secs(180.0).unwrap();
    let offered = sb_wfm::Erlangs::new(a).unwrap();
    let theory = *sb_wfm::erlang_c_metrics(n, offered, aht, within).metrics().expect("a stable queue");
    let (sl, asa) = (theory.service_level, theory.asa_seconds);
    assert!((theory.p_wait - 0.4494).abs() < 0.001, "Erlang C itself: {theory:?}");

    let tenant = tenant(n as usize, within);
    let scenario = scenario(100.0, 192, Duration::from_secs(180), None);
    let result = sb_sim::replicate(&tenant, &scenario, 11, 40, &mut |_| {});
    let total = result.total();
    let sim_sl = total.service_level.unwrap();
    let sim_asa = total.asa.unwrap();
    eprintln!("Erlang C: SL {sl:.4}, ASA {asa:.2}; simulated: SL {sim_sl:?}, ASA {sim_asa:?}");
    assert!(sim_sl.contains(sl), "service level: simulated {sim_sl:?}, Erlang C {sl:.4}");
    assert!(sim_asa.contains(asa), "ASA: simulated {sim_asa:?}, Erlang C {asa:.2}");
    let occupancy = result.occupancy(None).unwrap();
    assert!(
        occupancy.contains(a / f64::from(n)),
        "occupancy: simulated {occupancy:?}, Erlang C {:.4}",
        a / f64::from(n)
    );
}

#[test]
fn mmn_with_exponential_patience_agrees_with_erlang_a() {
    // 10 Erlangs offered to 10 agents: without abandonment the queue would grow without
    // bound; customers with a mean patience of 2 minutes keep it stable. Erlang A
    // (Garnett, Mandelbaum and Reiman, 2002) gives the steady state. Service level here
    // counts every abandon against the target, as Erlang A does (short_abandon 0).
    let (n, a) = (10u32, 10.0);
    let within = Duration::from_secs(20);
    let aht = sb_wfm::Aht::from_secs(180.0).unwrap();
    let patience = sb_wfm::Patience::from_secs(120.0).unwrap();
    let theory = sb_wfm::erlang_a(n, sb_wfm::Erlangs::new(a).unwrap(), aht, patience, within).unwrap();

    let tenant = tenant(n as usize, within);
    let patience = Some(Dist::Exponential { mean: Duration::from_secs(120) });
    let scenario = scenario(100.0, 192, Duration::from_secs(180), patience);
    let result = sb_sim::replicate(&tenant, &scenario, 21, 40, &mut |_| {});
    let total = result.total();
    let (sl, abandon, asa) = (total.service_level.unwrap(), total.abandon_rate.unwrap(), total.asa.unwrap());
    eprintln!("Erlang A: {theory:?}; simulated: SL {sl:?}, abandon {abandon:?}, ASA {asa:?}");
    assert!(sl.contains(theory.service_level), "service level: simulated {sl:?}, Erlang A {}", theory.service_level);
    assert!(abandon.contains(theory.p_abandon), "abandon rate: simulated {abandon:?}, Erlang A {}", theory.p_abandon);
    assert!(asa.contains(theory.asa_seconds), "ASA: simulated {asa:?}, Erlang A {}", theory.asa_seconds);
}

#[test]
fn every_contact_is_answered_abandoned_or_still_waiting() {
    let tenant = tenant(3, Duration::from_secs(20));
    let patience = Some(Dist::Exponential { mean: Duration::from_secs(60) });
    let mut scenario = scenario(60.0, 4, Duration::from_secs(240), patience);
    scenario.drain = Duration::from_secs(600);
    for seed in 0..5 {
        let run = sb_sim::run(&tenant, &scenario, seed);
        let t = run.total();
        assert!(t.offered > 0 && t.abandoned > 0, "the scenario is overloaded: {t:?}");
        assert_eq!(t.offered, run.contacts);
        assert_eq!(t.offered, t.answered + t.abandoned + run.still_waiting, "seed {seed}: {t:?}");
    }
}

#[test]
fn the_same_seed_gives_the_same_run() {
    let tenant = tenant(5, Duration::from_secs(20));
    let scenario = scenario(
        80.0,
        6,
        Duration::from_secs(200),
        Some(Dist::LogNormal { mean: Duration::from_secs(90), sd: Duration::from_secs(40) }),
    );
    let a = sb_sim::run(&tenant, &scenario, 3);
    let b = sb_sim::run(&tenant, &scenario, 3);
    assert_eq!(a.queues, b.queues);
    let c = sb_sim::run(&tenant, &scenario, 4);
    assert_ne!(a.queues, c.queues, "another seed gives another run");
}

#[test]
fn replications_do_not_depend_on_how_they_are_scheduled() {
    let tenant = tenant(4, Duration::from_secs(20));
    let scenario =
        scenario(50.0, 4, Duration::from_secs(200), Some(Dist::Exponential { mean: Duration::from_secs(60) }));
    let parallel = sb_sim::replicate(&tenant, &scenario, 5, 6, &mut |_| {});
    for (r, run) in parallel.runs.iter().enumerate() {
        let alone = sb_sim::run(&tenant, &scenario, 5 + r as u64);
        assert_eq!(run.queues, alone.queues, "replication {r} equals the same seed run alone");
    }
}
