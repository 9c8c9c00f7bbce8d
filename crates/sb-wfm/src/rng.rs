//! A small seeded pseudo-random generator (SplitMix64, Steele, Lea and Flood 2014) and the
//! distributions drawn from it, for the synthetic-history generator, the simulator and the
//! benchmarks. The same seed gives the same numbers on every machine, which
//! is what tests and checked-in sample files need; it is not for cryptography.

/// SplitMix64: a 64-bit counter passed through a bijective mixing function.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1), with 53 random bits.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A number in `0..n` (`n` > 0), by multiplying rather than by a biased modulo.
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n.max(1))) >> 64) as u64
    }

    /// Exponential with the given mean, by inverting the distribution function.
    pub fn exponential(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.uniform()).ln()
    }

    /// Log-normal with the given mean and standard deviation of the variable itself.
    pub fn lognormal(&mut self, mean: f64, sd: f64) -> f64 {
        let variance = (sd * sd / (mean * mean)).ln_1p();
        let mu = mean.ln() - variance / 2.0;
        (mu + variance.sqrt() * self.normal()).exp()
    }

    /// Standard normal by the Box–Muller transform (the second number of the pair is
    /// discarded, which keeps the generator's state a single word).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform();
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_reference_sequence() {
        // The first outputs for seed 0 from the reference implementation
        // (https://prng.di.unimi.it/splitmix64.c).
        let mut rng = SplitMix64::new(0);
        assert_eq!(rng.next_u64(), 0xe220_a839_7b1d_cdaf);
        assert_eq!(rng.next_u64(), 0x6e78_9e6a_a1b9_65f4);
        assert_eq!(rng.next_u64(), 0x06c4_5d18_8009_454f);
    }

    fn mean_sd(samples: &[f64]) -> (f64, f64) {
        let n = samples.len() as f64;
        let mean = samples.iter().sum::<f64>() / n;
        let var = samples.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
        (mean, var.sqrt())
    }

    #[test]
    fn exponential_and_lognormal_have_their_moments() {
        let mut rng = SplitMix64::new(42);
        let exp: Vec<f64> = (0..200_000).map(|_| rng.exponential(3.0)).collect();
        let (m, sd) = mean_sd(&exp);
        assert!((m - 3.0).abs() < 0.05 && (sd - 3.0).abs() < 0.08, "exponential {m} {sd}");
        let logn: Vec<f64> = (0..200_000).map(|_| rng.lognormal(300.0, 120.0)).collect();
        let (m, sd) = mean_sd(&logn);
        assert!((m - 300.0).abs() < 3.0 && (sd - 120.0).abs() < 4.0, "lognormal {m} {sd}");
        assert!((0..10_000).all(|_| rng.below(7) < 7));
    }

    #[test]
    fn normal_has_mean_zero_and_unit_variance() {
        let mut rng = SplitMix64::new(7);
        let n = 100_000;
        let samples: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
        let mean = samples.iter().sum::<f64>() / n as f64;
        let variance = samples.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        // Standard errors are 1/√n ≈ 0.003 for the mean and √(2/n) ≈ 0.0045 for the variance.
        assert!(mean.abs() < 0.015, "{mean}");
        assert!((variance - 1.0).abs() < 0.025, "{variance}");
    }
}
