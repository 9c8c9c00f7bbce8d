//! Latency samples and their quantiles.

use std::time::Duration;

/// Every sample, in nanoseconds; quantiles are read off the sorted samples.
#[derive(Clone, Debug, Default)]
pub struct Latencies {
    samples: Vec<u64>,
    sorted: bool,
}

impl Latencies {
    pub fn with_capacity(n: usize) -> Latencies {
        Latencies { samples: Vec::with_capacity(n), sorted: true }
    }

    pub fn record(&mut self, d: Duration) {
        self.samples.push(d.as_nanos().try_into().unwrap_or(u64::MAX));
        self.sorted = false;
    }

    pub fn len(&self) -> usize {
        self.samples.len()
    }

    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// The `q` quantile (0.0..=1.0) by the nearest-rank method; zero without samples.
    pub fn quantile(&self, q: f64) -> Duration {
        if self.samples.is_empty() {
            return Duration::ZERO;
        }
        let mut sorted = self.samples.clone();
        if !self.sorted {
            sorted.sort_unstable();
        }
        let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
        Duration::from_nanos(sorted[rank - 1])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_quantiles() {
        let mut l = Latencies::default();
        for n in 1..=100 {
            l.record(Duration::from_nanos(n));
        }
        assert_eq!(l.quantile(0.5), Duration::from_nanos(50));
        assert_eq!(l.quantile(0.99), Duration::from_nanos(99));
        assert_eq!(l.quantile(1.0), Duration::from_nanos(100));
        assert_eq!(Latencies::default().quantile(0.5), Duration::ZERO);
    }
}
