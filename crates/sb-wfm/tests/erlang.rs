//! Oracles for the queueing formulas: published worked examples, values derived by hand,
//! exact rational arithmetic, limits that Erlang A must reach (Erlang C, M/M/∞, Erlang B),
//! an independent Erlang A implementation by uniformisation, and property tests.

use std::time::Duration;

use proptest::prelude::*;
use sb_wfm::*;

fn erlangs(a: f64) -> Erlangs {
    Erlangs::new(a).unwrap()
}

fn aht(seconds: f64) -> Aht {
    Aht::from_secs(seconds).unwrap()
}

fn secs(seconds: f64) -> Duration {
    Duration::from_secs_f64(seconds)
}

fn target(percent: f64, within: f64) -> Target {
    Target::new(ServiceLevelTarget::new(Fraction::from_percent(percent).unwrap(), secs(within)))
}

fn stable(performance: Performance) -> Metrics {
    match performance {
        Performance::Stable(metrics) => metrics,
        Performance::Unstable => panic!("expected a stable queue"),
    }
}

fn close(what: &str, got: f64, expect: f64, tolerance: f64) {
    assert!((got - expect).abs() <= tolerance, "{what}: got {got}, expected {expect} ± {tolerance}");
}

/// Erlang C metrics for `servers`, checked against expected (p_wait, service level, ASA
/// seconds, occupancy).
fn check_erlang_c(
    servers: u32,
    a: f64,
    aht_s: f64,
    within: f64,
    expect: (f64, f64, f64, f64),
    tolerance: (f64, f64, f64, f64),
) {
    let m = stable(erlang_c_metrics(servers, erlangs(a), aht(aht_s), secs(within)));
    let what = format!("N={servers} A={a}");
    close(&format!("{what} p_wait"), m.p_wait, expect.0, tolerance.0);
    close(&format!("{what} service level"), m.service_level, expect.1, tolerance.1);
    close(&format!("{what} ASA"), m.asa_seconds, expect.2, tolerance.2);
    close(&format!("{what} occupancy"), m.occupancy, expect.3, tolerance.3);
    assert_eq!(m.p_abandon, 0.0);
}

#[test]
fn erlang_b_known_values() {
    // Standard Erlang B table values (e.g. any Erlang B table; 4 decimals).
    for (servers, a, expect) in [(10, 10.0, 0.2146), (100, 100.0, 0.0757), (5, 2.0, 0.0367), (1, 1.0, 0.5)] {
        close(&format!("B({servers}, {a})"), erlang_b(servers, erlangs(a)), expect, 5e-5);
    }
    // By hand: B(1) = 1·1/(1 + 1) = 1/2, B(2) = 1·(1/2)/(2 + 1/2) = 1/5.
    close("B(2, 1)", erlang_b(2, erlangs(1.0)), 0.2, 1e-15);
    assert_eq!(erlang_b(0, erlangs(3.0)), 1.0);
    assert_eq!(erlang_b(3, erlangs(0.0)), 0.0);
}

#[test]
fn erlang_c_derived_by_hand() {
    // A = 1 Erlang, N = 2, AHT 60 s. From B(2, 1) = 1/5 (above):
    // C = N·B / (N − A·(1 − B)) = (2/5) / (2 − 4/5) = 1/3 (M/M/2 with ρ = 1/2: 2ρ²/(1+ρ) = 1/3).
    // T = 0: SL = 1 − C = 2/3. ASA = C·AHT/(N − A) = 60/3 = 20 s. Occupancy = A/N = 1/2.
    check_erlang_c(2, 1.0, 60.0, 0.0, (1.0 / 3.0, 2.0 / 3.0, 20.0, 0.5), (1e-15, 1e-15, 1e-12, 0.0));
    // T = 60·ln 2 s: SL = 1 − (1/3)·exp(−(2 − 1)·ln 2) = 1 − 1/6 = 5/6. (A `Duration` holds
    // whole nanoseconds, so T is off by up to 0.5 ns: hence 1e-10.)
    let within = 60.0 * std::f64::consts::LN_2;
    check_erlang_c(2, 1.0, 60.0, within, (1.0 / 3.0, 5.0 / 6.0, 20.0, 0.5), (1e-15, 1e-10, 1e-12, 0.0));
}

#[test]
fn erlang_c_callcentrehelper_worked_example() {
    // Call Centre Helper, "Erlang C Formula – Made Simple With an Easy Worked Example"
    // (callcentrehelper.com): 100 calls in 30 minutes, AHT 180 s, target 80 % answered in
    // 20 s. Traffic intensity A = 100 × 180 / 1800 = 10 Erlangs, and the article's answer is
    // 14 agents. The figures below are what the formulas give (recomputed, and checked
    // against exact rational arithmetic for C); the article's rounded figures, as remembered,
    // are P(wait) ≈ 17.4 %, SL ≈ 88.8 % and ASA ≈ 7.8 s.
    let a = Erlangs::from_volume(100.0, aht(180.0), "30m".parse().unwrap()).unwrap();
    assert_eq!(a.get(), 10.0);
    check_erlang_c(
        14,
        10.0,
        180.0,
        20.0,
        (0.174_131_933_6, 0.888_350_019_2, 7.835_937_01, 10.0 / 14.0),
        (1e-10, 1e-10, 1e-8, 1e-15),
    );
    // 13 agents miss the target (SL 79.56 %), so 14 is the smallest staffing.
    check_erlang_c(
        13,
        10.0,
        180.0,
        20.0,
        (0.285_270_453_0, 0.795_594_788_4, 17.116_227_18, 10.0 / 13.0),
        (1e-10, 1e-10, 1e-8, 1e-15),
    );
    let requirement = required_agents(&Model::ErlangC, a, aht(180.0), &target(80.0, 20.0)).unwrap();
    assert_eq!(requirement.agents, 14);
    close("SL at the requirement", requirement.metrics.service_level, 0.888_350_019_2, 1e-10);
}

#[test]
fn erlang_c_erlang_com_worked_example() {
    // The step-by-step Erlang-C example reproduced from erlang.com / Westbay ("The Erlang-C
    // formula"): 360 calls per half hour, average call duration 4 minutes, 55 agents,
    // target answer time 15 s. A = 360 × 240 / 1800 = 48 Erlangs; occupancy 48/55 = 0.873.
    // Recomputed (C checked with exact rationals): C = 0.2387, SL(15 s) = 84.59 %,
    // ASA = 0.2387 × 240 / 7 = 8.18 s.
    check_erlang_c(
        55,
        48.0,
        240.0,
        15.0,
        (0.238_700_936_4, 0.845_883_092_2, 8.184_032_10, 48.0 / 55.0),
        (1e-10, 1e-10, 1e-8, 1e-15),
    );
    // The same traffic with a target of 80/20s needs 54 agents (SL 81.72 %); 53 miss it.
    let requirement = required_agents(&Model::ErlangC, erlangs(48.0), aht(240.0), &target(80.0, 20.0)).unwrap();
    assert_eq!(requirement.agents, 54);
    close("SL with 54 agents", requirement.metrics.service_level, 0.817_247_521_0, 1e-10);
    close("P(wait) with 54 agents", requirement.metrics.p_wait, 0.301_307_899_4, 1e-10);
    assert!(stable(erlang_c_metrics(53, erlangs(48.0), aht(240.0), secs(20.0))).service_level < 0.8);
}

#[test]
fn erlang_c_overload_is_a_value_not_a_nan() {
    assert_eq!(erlang_c(10, erlangs(10.0)), ErlangC::Unstable);
    assert_eq!(erlang_c(10, erlangs(12.5)).p_wait(), 1.0);
    assert_eq!(erlang_c_metrics(3, erlangs(4.0), aht(60.0), secs(20.0)), Performance::Unstable);
    assert_eq!(erlang_c(0, erlangs(0.0)), ErlangC::Stable(0.0));
}

#[test]
fn erlang_c_is_stable_for_thousands_of_erlangs() {
    // Exact rational arithmetic (A^N/N! as a fraction) gives C(4100, 4000) = 0.07280189438903982.
    let m = stable(erlang_c_metrics(4100, erlangs(4000.0), aht(300.0), secs(20.0)));
    close("C(4100, 4000)", m.p_wait, 0.072_801_894_389_039_82, 1e-12);
    for value in [m.p_wait, m.service_level, m.occupancy] {
        assert!(value.is_finite() && (0.0..=1.0).contains(&value), "{m:?}");
    }
    assert!(m.asa_seconds.is_finite() && m.asa_seconds > 0.0);
    let b = erlang_b(100_000, erlangs(99_000.0));
    assert!(b.is_finite() && b > 0.0 && b < 1.0, "{b}");
}

#[test]
fn required_agents_for_five_thousand_erlangs() {
    let started = std::time::Instant::now();
    let a = erlangs(5000.0);
    let goal = Target { max_occupancy: Some(Fraction::from_percent(95.0).unwrap()), ..target(80.0, 20.0) };
    let c = required_agents(&Model::ErlangC, a, aht(300.0), &goal).unwrap();
    assert!(c.agents > 5000 && c.agents < 5400, "{c:?}");
    assert!(goal.meets(&c.metrics));
    let below = stable(erlang_c_metrics(c.agents - 1, a, aht(300.0), secs(20.0)));
    assert!(!goal.meets(&below), "{} agents already meet the target", c.agents - 1);

    let patience = Model::ErlangA { patience: Patience::from_secs(120.0).unwrap() };
    let abandoning = required_agents(&patience, a, aht(300.0), &goal).unwrap();
    assert!(abandoning.agents > 5000 && abandoning.agents <= c.agents, "{abandoning:?} vs {c:?}");
    // Generous even for an unoptimised build; a quadratic search would take minutes.
    assert!(started.elapsed() < Duration::from_secs(20), "{:?}", started.elapsed());
}

#[test]
fn required_agents_honours_occupancy_and_asa_limits() {
    let a = erlangs(10.0);
    // Occupancy ≤ 70 % needs N ≥ 10/0.7 = 14.3, so 15 although 14 meet 80/20.
    let occupancy = Target { max_occupancy: Some(Fraction::from_percent(70.0).unwrap()), ..target(80.0, 20.0) };
    assert_eq!(required_agents(&Model::ErlangC, a, aht(180.0), &occupancy).unwrap().agents, 15);
    // ASA ≤ 5 s: 14 agents give 7.84 s; 15 give C·180/5 with C(15, 10) = 0.1020, 3.67 s.
    let asa = Target { max_asa: Some(secs(5.0)), ..target(80.0, 20.0) };
    let r = required_agents(&Model::ErlangC, a, aht(180.0), &asa).unwrap();
    assert_eq!(r.agents, 15);
    assert!(r.metrics.asa_seconds <= 5.0);
    // No traffic needs nobody.
    assert_eq!(required_agents(&Model::ErlangC, erlangs(0.0), aht(180.0), &asa).unwrap().agents, 0);
    // An ASA of zero is met, in floating point, only once waiting has become negligible.
    let instant = Target { max_asa: Some(Duration::ZERO), ..target(80.0, 20.0) };
    let r = required_agents(&Model::ErlangC, a, aht(180.0), &instant).unwrap();
    assert!(r.metrics.p_wait < 1e-12 && r.agents < 100, "{r:?}");
    // No staffing reaches an occupancy of 0 %.
    let idle = Target { max_occupancy: Some(Fraction::new(0.0).unwrap()), ..target(80.0, 20.0) };
    assert!(matches!(required_agents(&Model::ErlangC, a, aht(180.0), &idle), Err(WfmError::TargetUnreachable { .. })));
}

/// An independent Erlang A, in handle-time units (μ = 1, θ = `gamma`, T = `tau`): the
/// stationary distribution by plain products on a truncated chain, abandonment by
/// P(ab) = θ·E[queue]/λ, and P(answered within T | q ahead) by uniformisation of the
/// tagged caller's phases. Returns (P(wait), P(abandon), SL, occupancy).
fn reference_erlang_a(n: usize, a: f64, gamma: f64, tau: f64) -> (f64, f64, f64, f64) {
    let states = n + 400;
    let death = |k: usize| if k <= n { k as f64 } else { n as f64 + gamma * (k - n) as f64 };
    let mut p = vec![1.0];
    for k in 1..states {
        p.push(p[k - 1] * a / death(k));
    }
    let total: f64 = p.iter().sum();
    p.iter_mut().for_each(|x| *x /= total);
    let p_wait: f64 = p[n..].iter().sum();
    let queue: f64 = p.iter().enumerate().skip(n).map(|(k, x)| (k - n) as f64 * x).sum();
    let p_abandon = gamma * queue / a;
    let busy: f64 = p.iter().enumerate().map(|(k, x)| k.min(n) as f64 * x).sum();
    let mut sl: f64 = p[..n].iter().sum();
    for (q, weight) in p[n..].iter().enumerate() {
        if *weight < 1e-16 {
            continue;
        }
        sl += weight * served_within(n as f64, gamma, q, tau);
    }
    (p_wait, p_abandon, sl, busy / n as f64)
}

/// P(answered within `tau`) for a caller with `ahead` callers in front, by uniformisation:
/// phase i (callers ahead) advances at rate n + iγ, the caller abandons at rate γ.
fn served_within(n: f64, gamma: f64, ahead: usize, tau: f64) -> f64 {
    let rate = n + (ahead as f64 + 1.0) * gamma;
    let mean = rate * tau;
    // phase[i] = probability of being in phase i (i ahead); `served` is absorbing.
    let mut phase = vec![0.0; ahead + 1];
    phase[ahead] = 1.0;
    let mut served = 0.0;
    let mut poisson = (-mean).exp();
    let mut cumulative = poisson;
    let mut result = poisson * served;
    let mut m = 0;
    while 1.0 - cumulative > 1e-15 && m < 100_000 {
        let mut next = vec![0.0; ahead + 1];
        for i in 0..=ahead {
            let advance = (n + i as f64 * gamma) / rate;
            let stay = 1.0 - (n + (i as f64 + 1.0) * gamma) / rate;
            next[i] += phase[i] * stay;
            if i == 0 {
                served += phase[0] * advance;
            } else {
                next[i - 1] += phase[i] * advance;
            }
        }
        phase = next;
        m += 1;
        poisson *= mean / m as f64;
        cumulative += poisson;
        result += poisson * served;
    }
    result
}

#[test]
fn erlang_a_matches_an_independent_uniformisation() {
    // (agents, Erlangs, AHT/patience, T/AHT)
    for (n, a, gamma, tau) in
        [(3, 2.5, 0.5, 0.3), (5, 6.0, 2.0, 0.1), (1, 0.8, 0.1, 1.0), (8, 7.0, 0.05, 0.2), (4, 4.0, 1.0, 0.0)]
    {
        let m =
            erlang_a(n as u32, erlangs(a), aht(100.0), Patience::from_secs(100.0 / gamma).unwrap(), secs(100.0 * tau))
                .unwrap();
        let (p_wait, p_abandon, sl, occupancy) = reference_erlang_a(n, a, gamma, tau);
        let what = format!("N={n} A={a} γ={gamma} τ={tau}");
        close(&format!("{what} p_wait"), m.p_wait, p_wait, 1e-12);
        close(&format!("{what} p_abandon"), m.p_abandon, p_abandon, 1e-12);
        close(&format!("{what} service level"), m.service_level, sl, 1e-10);
        close(&format!("{what} occupancy"), m.occupancy, occupancy, 1e-12);
        // Flow balance: carried load = offered load × (1 − P(abandon)).
        close(&format!("{what} occupancy = A(1 − P(ab))/N"), m.occupancy, a * (1.0 - m.p_abandon) / n as f64, 1e-12);
    }
}

#[test]
fn erlang_a_asa_matches_first_step_analysis() {
    // A caller with i callers ahead holds its phase for an Exp(n + (i+1)γ) time, then
    // advances with probability r_i/(r_i + γ), r_i = n + iγ, or abandons. First-step
    // analysis gives P_i = P(answered | i) = r_i/(r_i + γ)·P_{i−1} and
    // M_i = E[wait·1{answered} | i] = P_i/(r_i + γ) + r_i/(r_i + γ)·M_{i−1}, with P_{−1} = 1,
    // M_{−1} = 0; ASA = Σ_q p_{n+q} M_q / P(answered).
    for (n, a, gamma) in [(3usize, 2.5, 0.5), (5, 6.0, 2.0), (8, 7.0, 0.05)] {
        let states = n + 400;
        let death = |k: usize| if k <= n { k as f64 } else { n as f64 + gamma * (k - n) as f64 };
        let mut p = vec![1.0];
        for k in 1..states {
            p.push(p[k - 1] * a / death(k));
        }
        let total: f64 = p.iter().sum();
        let (mut answered_wait, mut abandoned) = (0.0, 0.0);
        let (mut answered, mut mean) = (1.0, 0.0);
        for (q, weight) in p[n..].iter().enumerate() {
            let r = n as f64 + q as f64 * gamma;
            answered *= r / (r + gamma);
            mean = answered / (r + gamma) + r / (r + gamma) * mean;
            answered_wait += weight / total * mean;
            abandoned += weight / total * (1.0 - answered);
        }
        let m = erlang_a(n as u32, erlangs(a), aht(1.0), Patience::from_secs(1.0 / gamma).unwrap(), secs(0.0)).unwrap();
        close(&format!("N={n} A={a} P(abandon)"), m.p_abandon, abandoned, 1e-12);
        close(&format!("N={n} A={a} ASA"), m.asa_seconds, answered_wait / (1.0 - abandoned), 1e-12);
    }
}

#[test]
fn erlang_a_tends_to_erlang_c_as_patience_grows() {
    let (n, a, handle, within) = (14, 10.0, 180.0, 20.0);
    let c = stable(erlang_c_metrics(n, erlangs(a), aht(handle), secs(within)));
    for (patience_in_aht, tolerance) in [(1e4, 1e-3), (1e7, 1e-6)] {
        let patience = Patience::from_secs(handle * patience_in_aht).unwrap();
        let m = erlang_a(n, erlangs(a), aht(handle), patience, secs(within)).unwrap();
        close("p_wait", m.p_wait, c.p_wait, tolerance);
        close("service level", m.service_level, c.service_level, tolerance);
        close("ASA (relative)", m.asa_seconds / c.asa_seconds, 1.0, tolerance * 10.0);
        close("occupancy", m.occupancy, c.occupancy, tolerance);
        assert!(m.p_abandon < tolerance, "{m:?}");
    }
}

#[test]
fn erlang_a_with_patience_equal_to_handle_time_is_m_m_infinity() {
    // θ = μ: the death rate is k·μ in every state, so the number in system is Poisson(A)
    // and P(wait) = P(Poisson(A) ≥ N), P(abandon) = E[(n − N)⁺]/A.
    for (n, a) in [(5u32, 4.0), (12, 10.0), (30, 20.0), (2, 6.0)] {
        let m = erlang_a(n, erlangs(a), aht(200.0), Patience::from_secs(200.0).unwrap(), secs(10.0)).unwrap();
        let mut term = (-a).exp();
        let (mut below, mut excess) = (0.0, 0.0);
        for k in 0..400u32 {
            if k < n {
                below += term;
            } else {
                excess += f64::from(k - n) * term;
            }
            term *= a / f64::from(k + 1);
        }
        close(&format!("N={n} A={a} p_wait"), m.p_wait, 1.0 - below, 1e-12);
        close(&format!("N={n} A={a} p_abandon"), m.p_abandon, excess / a, 1e-12);
    }
}

#[test]
fn erlang_a_with_no_patience_is_erlang_b() {
    // As patience → 0 nobody waits: every caller who finds all agents busy is lost, and
    // P(abandon) → B(N, A).
    for (n, a) in [(10u32, 10.0), (3, 1.0), (50, 60.0)] {
        let m = erlang_a(n, erlangs(a), aht(300.0), Patience::from_secs(300.0 * 1e-7).unwrap(), secs(20.0)).unwrap();
        close(&format!("N={n} A={a}"), m.p_abandon, erlang_b(n, erlangs(a)), 1e-5);
    }
}

#[test]
fn erlang_a_is_stable_for_thousands_of_erlangs_and_overload() {
    for (n, a) in [(4100u32, 4000.0), (3500, 4000.0), (5000, 5000.0)] {
        let m = erlang_a(n, erlangs(a), aht(300.0), Patience::from_secs(180.0).unwrap(), secs(20.0)).unwrap();
        for value in [m.p_wait, m.p_abandon, m.service_level, m.occupancy] {
            assert!(value.is_finite() && (0.0..=1.0).contains(&value), "N={n} A={a}: {m:?}");
        }
        assert!(m.asa_seconds.is_finite() && m.asa_seconds >= 0.0);
        close(&format!("N={n} A={a} flow balance"), m.occupancy, a * (1.0 - m.p_abandon) / f64::from(n), 1e-9);
    }
    // 4,000 Erlangs on 3,500 agents: at least 500/4000 of the callers must abandon.
    let m = erlang_a(3500, erlangs(4000.0), aht(300.0), Patience::from_secs(180.0).unwrap(), secs(20.0)).unwrap();
    assert!(m.p_abandon >= 0.125 - 1e-9, "{m:?}");
}

#[test]
fn erlang_a_staffing_is_the_smallest_that_meets_the_target() {
    let model = Model::ErlangA { patience: Patience::from_secs(60.0).unwrap() };
    for a in [0.3, 2.0, 10.0, 48.0, 300.0] {
        let goal = target(80.0, 20.0);
        let r = required_agents(&model, erlangs(a), aht(240.0), &goal).unwrap();
        assert!(goal.meets(&r.metrics), "A={a}: {r:?}");
        if r.agents > 0 {
            let below = evaluate(&model, r.agents - 1, erlangs(a), aht(240.0), secs(20.0)).unwrap();
            assert!(!goal.meets(below.metrics().unwrap()), "A={a}: {} agents suffice", r.agents - 1);
        }
    }
}

proptest! {
    #[test]
    fn erlang_c_service_level_rises_with_agents(a in 0.05f64..300.0, within in 0.0f64..120.0, handle in 10.0f64..900.0) {
        let first = a.floor() as u32 + 1;
        let mut previous = 0.0;
        for n in first..first + 30 {
            let m = stable(erlang_c_metrics(n, erlangs(a), aht(handle), secs(within)));
            prop_assert!((0.0..=1.0).contains(&m.p_wait) && (0.0..=1.0).contains(&m.service_level));
            prop_assert!(m.service_level >= previous - 1e-12, "N={}: {} < {}", n, m.service_level, previous);
            previous = m.service_level;
        }
    }

    #[test]
    fn erlang_c_p_wait_is_a_probability(n in 0u32..2000, a in 0.0f64..2500.0) {
        let p = erlang_c(n, erlangs(a)).p_wait();
        prop_assert!((0.0..=1.0).contains(&p), "C({}, {}) = {}", n, a, p);
        let b = erlang_b(n, erlangs(a));
        prop_assert!((0.0..=1.0).contains(&b));
        if a > 0.0 && a < f64::from(n) {
            // Waiting is likelier than blocking: C ≥ B.
            prop_assert!(p >= b - 1e-15);
        }
    }

    #[test]
    fn erlang_a_abandonment_and_asa_fall_and_service_level_rises_with_agents(
        a in 0.1f64..200.0,
        patience_in_aht in 0.05f64..20.0,
        within_in_aht in 0.0f64..1.0,
    ) {
        let handle = 200.0;
        let patience = Patience::from_secs(handle * patience_in_aht).unwrap();
        let start = (a * 0.7).floor() as u32;
        let (mut abandon, mut sl, mut asa) = (1.0, 0.0, f64::INFINITY);
        for n in start..start + 25 {
            let m = erlang_a(n, erlangs(a), aht(handle), patience, secs(handle * within_in_aht)).unwrap();
            for value in [m.p_wait, m.p_abandon, m.service_level, m.occupancy] {
                prop_assert!((0.0..=1.0).contains(&value), "N={}: {:?}", n, m);
            }
            prop_assert!(m.p_abandon <= abandon + 1e-12, "N={}: abandonment rose to {}", n, m.p_abandon);
            prop_assert!(m.service_level >= sl - 1e-12, "N={}: service level fell to {}", n, m.service_level);
            // With no agents nobody is answered and the ASA is 0 by definition.
            prop_assert!(n <= 1 || m.asa_seconds <= asa * (1.0 + 1e-12), "N={}: ASA rose to {}", n, m.asa_seconds);
            abandon = m.p_abandon;
            sl = m.service_level;
            asa = m.asa_seconds;
        }
    }
}
