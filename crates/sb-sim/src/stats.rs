//! Replications and confidence intervals: the mean of a figure over independent runs, with
//! a 95 % confidence interval from Student's t distribution.

/// A figure over replications.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    pub mean: f64,
    /// Half the width of the 95 % confidence interval; zero with a single replication.
    pub half_width: f64,
    pub samples: usize,
}

impl Estimate {
    /// The estimate of `values`, leaving out runs where the figure is undefined.
    pub fn of(values: impl IntoIterator<Item = Option<f64>>) -> Option<Estimate> {
        let xs: Vec<f64> = values.into_iter().flatten().collect();
        if xs.is_empty() {
            return None;
        }
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let half_width = if xs.len() < 2 {
            0.0
        } else {
            let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
            t_975(xs.len() - 1) * (var / n).sqrt()
        };
        Some(Estimate { mean, half_width, samples: xs.len() })
    }

    pub fn low(&self) -> f64 {
        self.mean - self.half_width
    }

    pub fn high(&self) -> f64 {
        self.mean + self.half_width
    }

    /// Whether `x` lies within the confidence interval.
    pub fn contains(&self, x: f64) -> bool {
        self.low() <= x && x <= self.high()
    }
}

/// The 97.5 % quantile of Student's t distribution with `df` degrees of freedom.
pub fn t_975(df: usize) -> f64 {
    const TABLE: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
        2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
    ];
    match df {
        0 => f64::INFINITY,
        1..=30 => TABLE[df - 1],
        31..=60 => 2.000,
        61..=120 => 1.980,
        _ => 1.960,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_interval() {
        let e = Estimate::of([Some(1.0), Some(2.0), Some(3.0), None]).unwrap();
        assert_eq!(e.samples, 3);
        assert!((e.mean - 2.0).abs() < 1e-12);
        // sd = 1, n = 3, t(2) = 4.303: half width = 4.303 / sqrt(3).
        assert!((e.half_width - 4.303 / 3f64.sqrt()).abs() < 1e-9);
        assert!(e.contains(4.0) && !e.contains(4.6));
        assert_eq!(Estimate::of([None, None]), None);
        assert_eq!(Estimate::of([Some(5.0)]).unwrap().half_width, 0.0);
    }
}
