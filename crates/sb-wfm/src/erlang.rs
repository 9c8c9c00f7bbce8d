//! Queueing formulas for one group of identical agents serving one queue: Erlang B (loss),
//! Erlang C (M/M/N, callers wait forever) and Erlang A (M/M/N+M, callers abandon after an
//! exponentially distributed patience), and the search for the smallest staffing that meets
//! a target.
//!
//! Everything is computed in `f64` without factorials or powers: Erlang B by its recurrence,
//! Erlang C from Erlang B, Erlang A from its birth–death chain normalised at the chain's mode
//! so that every term lies in (0, 1]. An overloaded Erlang C queue (offered load at least the
//! number of agents) grows without bound; that is the value [`Performance::Unstable`], never a
//! NaN. `docs/wfm.md` derives the formulas.

use std::time::Duration;

use crate::WfmError;
use crate::units::{Aht, Erlangs, Fraction, Patience, ServiceLevelTarget};

/// Which queueing model describes the callers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Model {
    /// M/M/N: callers wait as long as it takes.
    ErlangC,
    /// M/M/N+M: each caller abandons after an exponentially distributed patience of this mean.
    ErlangA { patience: Patience },
}

/// What a caller experiences, averaged over callers, in steady state.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Metrics {
    /// Probability that an arriving caller finds every agent busy and has to wait.
    pub p_wait: f64,
    /// Probability that an arriving caller abandons before being answered (0 for Erlang C).
    pub p_abandon: f64,
    /// Fraction of all offered callers answered within the target time. Callers who abandon
    /// count as not answered within the target time, however early they hang up.
    pub service_level: f64,
    /// Average speed of answer: mean wait of the callers who are answered, in seconds,
    /// counting those answered at once as zero (0 when nobody is answered).
    pub asa_seconds: f64,
    /// Fraction of the agents' time spent handling calls: carried load divided by agents.
    pub occupancy: f64,
}

impl Metrics {
    /// No traffic: nobody waits, and every (absent) caller counts as answered in time.
    pub const IDLE: Metrics =
        Metrics { p_wait: 0.0, p_abandon: 0.0, service_level: 1.0, asa_seconds: 0.0, occupancy: 0.0 };
}

/// The steady state of a queue, if it has one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Performance {
    Stable(Metrics),
    /// The offered load is at least the number of agents and nobody abandons: the queue grows
    /// without bound, every caller waits, and no service level is reached.
    Unstable,
}

impl Performance {
    pub fn metrics(&self) -> Option<&Metrics> {
        match self {
            Performance::Stable(metrics) => Some(metrics),
            Performance::Unstable => None,
        }
    }
}

/// Erlang C's probability of waiting.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ErlangC {
    Stable(f64),
    /// Offered load ≥ agents: the queue grows without bound and every caller waits.
    Unstable,
}

impl ErlangC {
    /// The probability of waiting, which is 1 for an unstable queue.
    pub fn p_wait(self) -> f64 {
        match self {
            ErlangC::Stable(p) => p,
            ErlangC::Unstable => 1.0,
        }
    }
}

/// Erlang B: the probability that a call offered `offered` Erlangs finds all `servers`
/// busy in a loss system (M/M/N/N).
///
/// Uses the recurrence `B(0) = 1`, `B(n) = A·B(n−1) / (n + A·B(n−1))`, whose every step
/// stays in [0, 1]; the cost is O(N).
pub fn erlang_b(servers: u32, offered: Erlangs) -> f64 {
    let a = offered.get();
    (1..=servers).fold(1.0, |b, n| next_erlang_b(b, n, a))
}

fn next_erlang_b(previous: f64, n: u32, a: f64) -> f64 {
    let ab = a * previous;
    ab / (f64::from(n) + ab)
}

/// Erlang C: the probability that a caller waits, from Erlang B as
/// `C = N·B / (N − A·(1 − B))`.
pub fn erlang_c(servers: u32, offered: Erlangs) -> ErlangC {
    c_from_b(servers, offered.get(), erlang_b(servers, offered))
}

fn c_from_b(servers: u32, a: f64, b: f64) -> ErlangC {
    let n = f64::from(servers);
    if a == 0.0 {
        ErlangC::Stable(0.0)
    } else if a >= n {
        ErlangC::Unstable
    } else {
        ErlangC::Stable((n * b / (n - a * (1.0 - b))).clamp(0.0, 1.0))
    }
}

/// Erlang C's service level, ASA and occupancy for callers who must be answered within
/// `answer_within`:
/// `SL = 1 − C·exp(−(N − A)·T / AHT)`, `ASA = C·AHT / (N − A)`, occupancy `A / N`.
pub fn erlang_c_metrics(servers: u32, offered: Erlangs, aht: Aht, answer_within: Duration) -> Performance {
    metrics_from_b(servers, offered.get(), erlang_b(servers, offered), aht, answer_within)
}

fn metrics_from_b(servers: u32, a: f64, b: f64, aht: Aht, answer_within: Duration) -> Performance {
    if a == 0.0 {
        return Performance::Stable(Metrics::IDLE);
    }
    let c = match c_from_b(servers, a, b) {
        ErlangC::Stable(c) => c,
        ErlangC::Unstable => return Performance::Unstable,
    };
    let n = f64::from(servers);
    let spare = n - a;
    Performance::Stable(Metrics {
        p_wait: c,
        p_abandon: 0.0,
        service_level: (1.0 - c * (-spare * answer_within.as_secs_f64() / aht.seconds()).exp()).clamp(0.0, 1.0),
        asa_seconds: c * aht.seconds() / spare,
        occupancy: a / n,
    })
}

/// Terms of the Erlang A chain smaller than this share of the sum so far (bounding the rest
/// of the tail geometrically) are dropped.
const TAIL: f64 = 1e-15;

/// The most states the Erlang A computation walks before giving up; 20 million states take
/// about a tenth of a second.
const MAX_STATES: u64 = 20_000_000;

/// Erlang A (M/M/N+M, Garnett, Mandelbaum and Reiman 2002): `servers` agents, `offered`
/// Erlangs, exponential handle times of mean `aht` and exponential patience of mean
/// `patience`.
///
/// The queue is always stable, because waiting callers leave. The stationary distribution of
/// the number in system (birth rate λ, death rate `min(n, N)·μ + max(n − N, 0)·θ`) is
/// computed from its mode outwards with ratios at most 1 and truncated where the remaining
/// tail is below 1e-15 of the sum. An arrival that finds `k` callers queued is answered
/// within T with probability `N/(N + (k+1)γ) · P(J ≥ k + 1)`, where γ = AHT/patience and J
/// is negative binomial (see `docs/wfm.md`); this closed form is summed in one pass.
pub fn erlang_a(
    servers: u32,
    offered: Erlangs,
    aht: Aht,
    patience: Patience,
    answer_within: Duration,
) -> Result<Metrics, WfmError> {
    let gamma = aht.seconds() / patience.seconds();
    let tau = answer_within.as_secs_f64() / aht.seconds();
    let mut metrics = erlang_a_in_aht_units(servers, offered.get(), gamma, tau)?;
    metrics.asa_seconds *= aht.seconds();
    Ok(metrics)
}

/// Erlang A with time measured in handle times: μ = 1, θ = `gamma`, T = `tau`. The
/// returned ASA is in handle times too.
fn erlang_a_in_aht_units(servers: u32, a: f64, gamma: f64, tau: f64) -> Result<Metrics, WfmError> {
    if a == 0.0 {
        return Ok(Metrics::IDLE);
    }
    if servers == 0 {
        return Ok(Metrics { p_wait: 1.0, p_abandon: 1.0, service_level: 0.0, asa_seconds: 0.0, occupancy: 0.0 });
    }
    let too_large = || WfmError::StateSpaceTooLarge { offered: a, agents: servers, limit: MAX_STATES };
    let nn = u64::from(servers);
    let nf = f64::from(servers);
    let death = |k: u64| if k <= nn { k as f64 } else { nf + gamma * (k - nn) as f64 };

    // The mode: the last state whose death rate does not exceed the arrival rate. Ratios of
    // neighbouring probabilities fall on both sides of it, so starting there keeps every
    // term in (0, 1].
    let mode = if a <= nf {
        a.floor() as u64
    } else {
        let excess = ((a - nf) / gamma).floor();
        if excess > MAX_STATES as f64 {
            return Err(too_large());
        }
        nn + excess as u64
    };

    // First pass: find the window [lo, hi] that holds all but 1e-15 of the mass.
    let mut sum = 1.0;
    let mut term = 1.0;
    let mut lo = mode;
    while lo > 0 {
        let ratio = death(lo) / a;
        let next = term * ratio;
        if ratio < 1.0 && next / (1.0 - ratio) < TAIL * sum {
            break;
        }
        term = next;
        sum += term;
        lo -= 1;
    }
    let term_at_lo = term;
    let mut term = 1.0;
    let mut hi = mode;
    loop {
        let ratio = a / death(hi + 1);
        let next = term * ratio;
        if ratio < 1.0 && next / (1.0 - ratio) < TAIL * sum {
            break;
        }
        term = next;
        sum += term;
        hi += 1;
        if hi - mode > MAX_STATES {
            return Err(too_large());
        }
    }
    let start = lo.min(nn);
    if hi - start > MAX_STATES {
        return Err(too_large());
    }

    // Second pass, upwards, so that the queue-length sums (H_k and the negative binomial
    // distribution function) can be built incrementally from k = 0.
    let x = -(-gamma * tau).exp_m1();
    let x_over_gamma = x / gamma;
    let mut nb_mantissa = 1.0;
    let mut nb_log_scale = -(nf + gamma) * tau;
    let mut nb_scale = nb_log_scale.exp();
    let mut nb_cdf = 0.0;
    let mut harmonic = 0.0;

    let (mut total, mut below, mut busy, mut waiting, mut abandon, mut asa_sum, mut queued_in_time) =
        (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    let mut p = 0.0;
    for k in start..=hi {
        p = match k.cmp(&lo) {
            std::cmp::Ordering::Less => 0.0,
            std::cmp::Ordering::Equal => term_at_lo,
            std::cmp::Ordering::Greater => p * a / death(k),
        };
        total += p;
        if k < nn {
            below += p;
            busy += k as f64 * p;
            continue;
        }
        busy += nf * p;
        waiting += p;
        // An arrival in state k finds q callers ahead of it in the queue.
        let q = (k - nn) as f64;
        let advance = nf + (q + 1.0) * gamma;
        let served = nf / advance;
        abandon += p * (q + 1.0) * gamma / advance;
        harmonic += 1.0 / advance;
        asa_sum += p * served * harmonic;
        if q > 0.0 {
            nb_mantissa *= (nf * x_over_gamma + q * x) / q;
            if nb_mantissa > 0.0 && !(1e-150..=1e150).contains(&nb_mantissa) {
                nb_log_scale += nb_mantissa.ln();
                nb_mantissa = 1.0;
                nb_scale = nb_log_scale.exp();
            }
        }
        nb_cdf += nb_mantissa * nb_scale;
        queued_in_time += p * served * (1.0 - nb_cdf).max(0.0);
    }

    let p_abandon = (abandon / total).clamp(0.0, 1.0);
    let answered = 1.0 - p_abandon;
    Ok(Metrics {
        p_wait: (waiting / total).clamp(0.0, 1.0),
        p_abandon,
        service_level: ((below + queued_in_time) / total).clamp(0.0, 1.0),
        asa_seconds: if answered > 0.0 { asa_sum / total / answered } else { 0.0 },
        occupancy: (busy / total / nf).clamp(0.0, 1.0),
    })
}

/// The metrics of `model` with `servers` agents.
pub fn evaluate(
    model: &Model,
    servers: u32,
    offered: Erlangs,
    aht: Aht,
    answer_within: Duration,
) -> Result<Performance, WfmError> {
    match model {
        Model::ErlangC => Ok(erlang_c_metrics(servers, offered, aht, answer_within)),
        Model::ErlangA { patience } => {
            erlang_a(servers, offered, aht, *patience, answer_within).map(Performance::Stable)
        }
    }
}

/// What a staffing level must achieve: a service level, and optionally an occupancy ceiling
/// and a maximum ASA.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Target {
    pub service_level: ServiceLevelTarget,
    pub max_occupancy: Option<Fraction>,
    pub max_asa: Option<Duration>,
}

/// Slack in comparisons with a target, so that a figure equal to the target up to binary
/// rounding meets it.
const SLACK: f64 = 1e-12;

impl Target {
    /// A service-level target with no occupancy or ASA limit.
    pub fn new(service_level: ServiceLevelTarget) -> Target {
        Target { service_level, max_occupancy: None, max_asa: None }
    }

    pub fn meets(&self, metrics: &Metrics) -> bool {
        metrics.service_level >= self.service_level.fraction().get() - SLACK
            && self.max_occupancy.is_none_or(|max| metrics.occupancy <= max.get() + SLACK)
            && self.max_asa.is_none_or(|max| metrics.asa_seconds <= max.as_secs_f64() * (1.0 + SLACK) + SLACK)
    }
}

/// The smallest staffing that meets a target, and what it achieves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Requirement {
    pub agents: u32,
    pub metrics: Metrics,
}

/// The largest staffing the search considers.
const MAX_AGENTS: u64 = 50_000_000;

/// The smallest number of agents on the phones for which `model` meets `target` with
/// `offered` Erlangs of mean handle time `aht` (shrinkage is applied by the caller, see
/// [`Shrinkage::scheduled`](crate::Shrinkage::scheduled)). No traffic needs no agents.
///
/// Erlang C starts at the first stable staffing (or at the occupancy ceiling's bound) and
/// steps up, updating Erlang B in O(1) per step. Erlang A starts at the offered load,
/// gallops (1, 2, 4, … agents) until the answer is bracketed and then bisects, relying on the
/// service level and occupancy rising and the ASA falling with the number of agents. Either
/// search gives up, with [`WfmError::TargetUnreachable`], beyond
/// `A / max occupancy + A + 60·√A + 100` agents, which is far past any attainable target.
pub fn required_agents(model: &Model, offered: Erlangs, aht: Aht, target: &Target) -> Result<Requirement, WfmError> {
    let a = offered.get();
    if a == 0.0 {
        return Ok(Requirement { agents: 0, metrics: Metrics::IDLE });
    }
    let occupancy_bound = match target.max_occupancy {
        None => 0.0,
        Some(max) if max.get() > 0.0 => (a / max.get()).floor(),
        Some(_) => f64::INFINITY,
    };
    let limit_f = occupancy_bound + a.ceil() + (60.0 * a.sqrt()).ceil() + 100.0;
    let limit = limit_f.min(MAX_AGENTS as f64) as u32;
    let unreachable = || WfmError::TargetUnreachable { offered: a, agents: limit };
    if occupancy_bound > limit_f.min(MAX_AGENTS as f64) {
        return Err(unreachable());
    }
    let within = target.service_level.within();
    match model {
        Model::ErlangC => {
            let first = occupancy_bound.max(a.floor() + 1.0) as u32;
            let mut b = erlang_b(first, offered);
            for n in first..=limit {
                if let Performance::Stable(metrics) = metrics_from_b(n, a, b, aht, within) {
                    if target.meets(&metrics) {
                        return Ok(Requirement { agents: n, metrics });
                    }
                }
                b = next_erlang_b(b, n + 1, a);
            }
            Err(unreachable())
        }
        Model::ErlangA { patience } => {
            let check = |n: u32| -> Result<Option<Metrics>, WfmError> {
                let metrics = erlang_a(n, offered, aht, *patience, within)?;
                Ok(target.meets(&metrics).then_some(metrics))
            };
            let start = (occupancy_bound.max(a.round()) as u32).clamp(1, limit);
            smallest_meeting(start, limit, check)?.ok_or_else(unreachable)
        }
    }
}

/// The smallest `n` in 0..=`limit` for which `check` gives metrics, assuming that once a
/// staffing meets the target every larger one does: galloping from `start`, then bisection.
fn smallest_meeting(
    start: u32,
    limit: u32,
    mut check: impl FnMut(u32) -> Result<Option<Metrics>, WfmError>,
) -> Result<Option<Requirement>, WfmError> {
    // `ok` meets the target; `fail`, if any, is a smaller staffing that does not.
    let (mut ok, mut fail) = match check(start)? {
        Some(metrics) => {
            let mut ok = Requirement { agents: start, metrics };
            let mut step = 1;
            loop {
                if ok.agents == 0 {
                    return Ok(Some(ok));
                }
                let candidate = ok.agents.saturating_sub(step);
                match check(candidate)? {
                    Some(metrics) => ok = Requirement { agents: candidate, metrics },
                    None => break (ok, candidate),
                }
                step = step.saturating_mul(2);
            }
        }
        None => {
            let mut fail = start;
            let mut step = 1u32;
            loop {
                if fail >= limit {
                    return Ok(None);
                }
                let candidate = fail.saturating_add(step).min(limit);
                match check(candidate)? {
                    Some(metrics) => break (Requirement { agents: candidate, metrics }, fail),
                    None => fail = candidate,
                }
                step = step.saturating_mul(2);
            }
        }
    };
    while ok.agents - fail > 1 {
        let middle = fail + (ok.agents - fail) / 2;
        match check(middle)? {
            Some(metrics) => ok = Requirement { agents: middle, metrics },
            None => fail = middle,
        }
    }
    Ok(Some(ok))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smallest_meeting_finds_the_threshold_from_either_side() {
        for threshold in [0u32, 1, 2, 3, 7, 8, 9, 100, 1000] {
            for start in [1u32, 5, 8, 50, 999, 1000] {
                let mut calls = 0;
                let found = smallest_meeting(start, 1000, |n| {
                    calls += 1;
                    Ok((n >= threshold).then_some(Metrics::IDLE))
                })
                .unwrap();
                assert_eq!(found.map(|r| r.agents), Some(threshold), "threshold {threshold}, start {start}");
                assert!(calls <= 40, "{calls} evaluations for threshold {threshold}, start {start}");
            }
        }
        assert_eq!(smallest_meeting(5, 1000, |_| Ok(None)).unwrap(), None);
    }

    #[test]
    fn erlang_a_with_no_agents_abandons_everyone() {
        let metrics = erlang_a_in_aht_units(0, 3.0, 0.5, 0.1).unwrap();
        assert_eq!((metrics.p_wait, metrics.p_abandon, metrics.service_level), (1.0, 1.0, 0.0));
    }

    #[test]
    fn erlang_a_refuses_an_overloaded_queue_with_near_infinite_patience() {
        // 10 Erlangs on 5 agents with a patience 10^9 handle times: the mean queue would be
        // about 5·10^9 callers.
        let result = erlang_a_in_aht_units(5, 10.0, 1e-9, 0.1);
        assert!(matches!(result, Err(WfmError::StateSpaceTooLarge { .. })), "{result:?}");
    }
}
