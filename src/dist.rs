//! Distributions a scenario can name: key choices (uniform, zipf), counts
//! (uniform integer ranges) and time lags (fixed, uniform, exponential,
//! lognormal). The scenario parser builds these; the generator samples them.

use std::time::Duration;

use rand::Rng;
use rand_distr::{Distribution, Exp, LogNormal, Zipf};
use serde::Serialize;

/// How a surrogate key in `1..=n` is chosen.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "dist", rename_all = "snake_case")]
pub enum KeyDist {
    /// Every key equally likely (dsdgen's choice).
    Uniform {
        /// Keys are `1..=n`.
        n: u64,
    },
    /// Key `k` with probability ∝ `1 / k^s`: a few hot keys.
    Zipf {
        /// Keys are `1..=n`.
        n: u64,
        /// Skew exponent, `s > 0`.
        s: f64,
    },
}

impl KeyDist {
    /// Number of distinct keys.
    pub fn n(&self) -> u64 {
        match self {
            KeyDist::Uniform { n } | KeyDist::Zipf { n, .. } => *n,
        }
    }

    /// A sampler; build once, sample many times.
    pub fn sampler(&self) -> KeySampler {
        match *self {
            KeyDist::Uniform { n } => KeySampler::Uniform(n),
            KeyDist::Zipf { n, s } => {
                KeySampler::Zipf(Zipf::new(n as f64, s).expect("validated: n >= 1, s > 0"))
            }
        }
    }
}

/// A ready-to-sample [`KeyDist`].
#[derive(Debug, Clone)]
pub enum KeySampler {
    /// Uniform over `1..=n`.
    Uniform(u64),
    /// Zipf over `1..=n`.
    Zipf(Zipf<f64>),
}

impl KeySampler {
    /// A key in `1..=n`.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> u64 {
        match self {
            KeySampler::Uniform(n) => rng.random_range(1..=*n),
            KeySampler::Zipf(z) => z.sample(rng) as u64,
        }
    }
}

/// An inclusive integer range sampled uniformly (items per ticket, for example).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CountRange {
    /// Smallest value, inclusive.
    pub min: u32,
    /// Largest value, inclusive.
    pub max: u32,
}

impl CountRange {
    /// A value in `min..=max`.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> u32 {
        rng.random_range(self.min..=self.max)
    }
}

/// A random delay (the wall-clock lag between a sale and its return, say).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "dist", rename_all = "snake_case")]
pub enum LagDist {
    /// Always the same.
    Fixed {
        /// The delay.
        #[serde(with = "humantime_serde_compat")]
        value: Duration,
    },
    /// Uniform between `min` and `max`.
    Uniform {
        /// Shortest delay.
        #[serde(with = "humantime_serde_compat")]
        min: Duration,
        /// Longest delay.
        #[serde(with = "humantime_serde_compat")]
        max: Duration,
    },
    /// Exponential with the given mean.
    Exponential {
        /// Mean delay.
        #[serde(with = "humantime_serde_compat")]
        mean: Duration,
    },
    /// Lognormal with the given median and shape `sigma` (of the underlying normal).
    Lognormal {
        /// Median delay (`exp(mu)`).
        #[serde(with = "humantime_serde_compat")]
        median: Duration,
        /// Shape, `sigma >= 0`.
        sigma: f64,
    },
}

impl LagDist {
    /// A delay drawn from the distribution.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> Duration {
        let secs = match *self {
            LagDist::Fixed { value } => return value,
            LagDist::Uniform { min, max } => {
                rng.random_range(min.as_secs_f64()..=max.as_secs_f64())
            }
            LagDist::Exponential { mean } => {
                let m = mean.as_secs_f64();
                if m <= 0.0 {
                    0.0
                } else {
                    Exp::new(1.0 / m).expect("validated: mean > 0").sample(rng)
                }
            }
            LagDist::Lognormal { median, sigma } => {
                let mu = median.as_secs_f64().max(1e-9).ln();
                LogNormal::new(mu, sigma)
                    .expect("validated: sigma >= 0")
                    .sample(rng)
            }
        };
        Duration::from_secs_f64(secs.clamp(0.0, 86_400.0 * 365.0))
    }
}

/// Serialises durations as humantime strings ("2s", "150ms") in reports.
mod humantime_serde_compat {
    use std::time::Duration;

    use serde::Serializer;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(*d).to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn keys_stay_in_range() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for d in [KeyDist::Uniform { n: 10 }, KeyDist::Zipf { n: 10, s: 1.1 }] {
            let s = d.sampler();
            for _ in 0..10_000 {
                let k = s.sample(&mut rng);
                assert!((1..=10).contains(&k), "{d:?} gave {k}");
            }
        }
    }

    #[test]
    fn zipf_is_skewed_towards_key_one() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let s = KeyDist::Zipf { n: 1000, s: 1.2 }.sampler();
        let ones = (0..10_000).filter(|_| s.sample(&mut rng) == 1).count();
        // P(1) for s=1.2, n=1000 is about 0.2; uniform would give 0.001.
        assert!(ones > 1_000, "key 1 drawn {ones} times");
    }

    #[test]
    fn lognormal_median_is_close() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let d = LagDist::Lognormal {
            median: Duration::from_secs(2),
            sigma: 1.0,
        };
        let mut v: Vec<f64> = (0..20_001).map(|_| d.sample(&mut rng).as_secs_f64()).collect();
        v.sort_by(f64::total_cmp);
        let median = v[v.len() / 2];
        assert!((1.8..2.2).contains(&median), "median {median}");
    }
}
