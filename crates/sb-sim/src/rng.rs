//! A small, seeded pseudo-random generator (SplitMix64) and the distributions the simulator
//! samples from. The same seed gives the same run on every machine.

/// SplitMix64: fast, statistically sound for simulation, and trivially seedable.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n.max(1))) >> 64) as u64
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Exponential with the given mean.
    pub fn exponential(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.uniform()).ln()
    }

    /// Standard normal (Box–Muller; one of the pair is discarded for simplicity).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform();
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Log-normal with the given mean and standard deviation of the variable itself.
    pub fn lognormal(&mut self, mean: f64, sd: f64) -> f64 {
        let variance = (sd * sd / (mean * mean)).ln_1p();
        let mu = mean.ln() - variance / 2.0;
        (mu + variance.sqrt() * self.normal()).exp()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mean_sd(samples: &[f64]) -> (f64, f64) {
        let n = samples.len() as f64;
        let mean = samples.iter().sum::<f64>() / n;
        let var = samples.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
        (mean, var.sqrt())
    }

    #[test]
    fn distributions_have_their_moments() {
        let mut rng = Rng::new(42);
        let exp: Vec<f64> = (0..200_000).map(|_| rng.exponential(3.0)).collect();
        let (m, sd) = mean_sd(&exp);
        assert!((m - 3.0).abs() < 0.05 && (sd - 3.0).abs() < 0.08, "exponential {m} {sd}");
        let logn: Vec<f64> = (0..200_000).map(|_| rng.lognormal(300.0, 120.0)).collect();
        let (m, sd) = mean_sd(&logn);
        assert!((m - 300.0).abs() < 3.0 && (sd - 120.0).abs() < 4.0, "lognormal {m} {sd}");
        let u: Vec<f64> = (0..100_000).map(|_| rng.uniform()).collect();
        assert!(u.iter().all(|x| (0.0..1.0).contains(x)));
    }

    #[test]
    fn the_same_seed_gives_the_same_numbers() {
        let a: Vec<u64> = {
            let mut r = Rng::new(7);
            (0..5).map(|_| r.next_u64()).collect()
        };
        let b: Vec<u64> = {
            let mut r = Rng::new(7);
            (0..5).map(|_| r.next_u64()).collect()
        };
        assert_eq!(a, b);
    }
}
