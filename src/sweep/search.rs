//! The find-max search, as pure functions of the steps so far: grow
//! geometrically until every judged sink has failed once, then bisect each
//! sink's bracket (last pass, first fail) on a log scale until its ratio is
//! at most the resolution. Every step measures every sink, so one step can
//! narrow several brackets; the next rate always serves the widest one.

use serde::{Deserialize, Serialize};

use crate::scenario::SweepSpec;

/// What the steps so far prove about one sink.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Bracket {
    /// The highest passing rate below the first fail (rows/s).
    pub last_pass: Option<f64>,
    /// The lowest failing rate (rows/s).
    pub first_fail: Option<f64>,
    /// A step passed above the first fail (noise, or a transient at the failing step).
    pub non_monotone: bool,
}

impl Bracket {
    /// The bracket of `(target rate, passed)` steps.
    pub fn of(steps: &[(f64, bool)]) -> Bracket {
        let first_fail = steps
            .iter()
            .filter(|s| !s.1)
            .map(|s| s.0)
            .min_by(f64::total_cmp);
        let below = |r: f64| first_fail.is_none_or(|f| r < f);
        let last_pass = steps
            .iter()
            .filter(|s| s.1 && below(s.0))
            .map(|s| s.0)
            .max_by(f64::total_cmp);
        let non_monotone = steps.iter().any(|s| s.1 && !below(s.0));
        Bracket {
            last_pass,
            first_fail,
            non_monotone,
        }
    }

    /// first fail / last pass, when both exist.
    pub fn ratio(&self) -> Option<f64> {
        Some(self.first_fail? / self.last_pass?)
    }
}

/// The rate to try next, or `None` when every bracket is as narrow as
/// `spec.resolution` allows (or cannot move within `spec.from..=spec.to`).
/// `per_sink` holds each judged sink's `(target rate, passed)` steps.
pub fn next_rate(spec: &SweepSpec, per_sink: &[Vec<(f64, bool)>]) -> Option<f64> {
    let done: Vec<f64> = per_sink.iter().flatten().map(|s| s.0).collect::<Vec<_>>();
    let Some(highest) = done.iter().copied().max_by(f64::total_cmp) else {
        return Some(spec.from.round().max(1.0));
    };
    let tried = |r: f64| done.iter().any(|d| (d - r).abs() < 0.5);
    // (priority, rate): growing or shrinking to find a bracket beats narrowing one.
    let mut best: Option<(f64, f64)> = None;
    for steps in per_sink {
        let b = Bracket::of(steps);
        let candidate = match (b.last_pass, b.first_fail) {
            (_, None) if highest < spec.to => {
                Some((f64::INFINITY, (highest * spec.factor).min(spec.to)))
            }
            (_, None) => None,
            (None, Some(f)) => Some((f64::INFINITY, f / spec.factor)).filter(|c| c.1 >= 1.0),
            (Some(p), Some(f)) if f / p > spec.resolution => Some((f / p, (p * f).sqrt())),
            (Some(_), Some(_)) => None,
        };
        if let Some((prio, rate)) = candidate {
            let rate = rate.round().max(1.0);
            if tried(rate) {
                continue;
            }
            if best.is_none_or(|(bp, _)| prio > bp) {
                best = Some((prio, rate));
            }
        }
    }
    best.map(|(_, r)| r)
}

/// The explicit series: `spec.rates` as given, else `from`, `from·factor`, …
/// up to `to` (the last step is `to` itself when the factor overshoots it).
pub fn series(spec: &SweepSpec) -> Vec<f64> {
    if !spec.rates.is_empty() {
        return spec.rates.clone();
    }
    let mut out = vec![spec.from];
    while let Some(&last) = out.last() {
        if last >= spec.to || out.len() >= spec.max_steps as usize {
            break;
        }
        out.push((last * spec.factor).min(spec.to));
    }
    out.iter().map(|r| (r * 1000.0).round() / 1000.0).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> SweepSpec {
        SweepSpec {
            from: 250.0,
            to: 8000.0,
            factor: 2.0,
            resolution: 1.25,
            ..SweepSpec::default()
        }
    }

    /// Runs the search against a sink that passes below `limit`.
    fn search(limits: &[f64]) -> (Vec<f64>, Vec<Bracket>) {
        let s = spec();
        let mut per_sink: Vec<Vec<(f64, bool)>> = vec![Vec::new(); limits.len()];
        let mut rates = Vec::new();
        while let Some(r) = next_rate(&s, &per_sink) {
            rates.push(r);
            for (steps, limit) in per_sink.iter_mut().zip(limits) {
                steps.push((r, r < *limit));
            }
            assert!(rates.len() < 30, "the search does not end: {rates:?}");
        }
        (rates, per_sink.iter().map(|s| Bracket::of(s)).collect())
    }

    #[test]
    fn grows_until_a_fail_then_bisects_to_the_resolution() {
        let (rates, b) = search(&[1500.0]);
        assert_eq!(&rates[..4], &[250.0, 500.0, 1000.0, 2000.0]);
        let b = b[0];
        assert!(
            b.last_pass.unwrap() < 1500.0 && b.first_fail.unwrap() >= 1500.0,
            "{b:?}"
        );
        assert!(b.ratio().unwrap() <= 1.25, "{b:?}");
        assert!(rates.len() <= 6, "{rates:?}");
    }

    #[test]
    fn every_sink_gets_its_own_bracket() {
        let (_, b) = search(&[700.0, 3000.0]);
        assert!(b[0].last_pass.unwrap() < 700.0 && b[0].first_fail.unwrap() >= 700.0);
        assert!(b[1].last_pass.unwrap() < 3000.0 && b[1].first_fail.unwrap() >= 3000.0);
        assert!(b.iter().all(|b| b.ratio().unwrap() <= 1.25), "{b:?}");
    }

    #[test]
    fn a_sink_that_never_fails_stops_at_to_and_one_that_always_fails_goes_down() {
        let (rates, b) = search(&[1e9]);
        assert_eq!(*rates.last().unwrap(), 8000.0);
        assert_eq!(b[0].first_fail, None);
        let (rates, b) = search(&[100.0]);
        assert_eq!(&rates[..2], &[250.0, 125.0]);
        assert!(b[0].last_pass.unwrap() < 100.0, "{rates:?} {b:?}");
    }

    #[test]
    fn a_pass_above_the_first_fail_is_flagged_not_used() {
        let b = Bracket::of(&[(250.0, true), (500.0, false), (1000.0, true)]);
        assert_eq!(b.last_pass, Some(250.0));
        assert_eq!(b.first_fail, Some(500.0));
        assert!(b.non_monotone);
    }

    #[test]
    fn the_series_climbs_by_the_factor_and_ends_at_to() {
        let s = SweepSpec {
            from: 100.0,
            to: 700.0,
            ..spec()
        };
        assert_eq!(series(&s), vec![100.0, 200.0, 400.0, 700.0]);
        let s = SweepSpec {
            rates: vec![5.0, 1.0],
            ..spec()
        };
        assert_eq!(series(&s), vec![5.0, 1.0]);
    }
}
