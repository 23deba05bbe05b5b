//! Properties of profiles and schedules: counts match the integral, the
//! per-worker split adds up to the whole, times never go backwards.

use std::time::Duration;

use proptest::prelude::*;

use super::*;
use crate::scenario::{RateSpec, RateStep, StepSpec};

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

/// One profile of every kind (and both step forms, both ramp forms).
fn every_kind() -> Vec<(&'static str, RateSpec)> {
    vec![
        ("constant", RateSpec::Constant { per_second: 200.0 }),
        (
            "ramp over the run",
            RateSpec::Ramp {
                from: 0.0,
                to: 1000.0,
                over: None,
            },
        ),
        (
            "ramp then hold",
            RateSpec::Ramp {
                from: 400.0,
                to: 50.0,
                over: Some(secs(20.0)),
            },
        ),
        (
            "step list with a pause",
            RateSpec::Step(StepSpec::List {
                steps: vec![
                    RateStep {
                        at: secs(0.0),
                        per_second: 100.0,
                    },
                    RateStep {
                        at: secs(10.0),
                        per_second: 0.0,
                    },
                    RateStep {
                        at: secs(20.0),
                        per_second: 333.3,
                    },
                ],
            }),
        ),
        (
            "staircase up",
            RateSpec::Step(StepSpec::Every {
                start: 50.0,
                step: 50.0,
                every: secs(7.0),
            }),
        ),
        (
            "staircase down",
            RateSpec::Step(StepSpec::Every {
                start: 500.0,
                step: -80.0,
                every: secs(10.0),
            }),
        ),
        (
            "spike",
            RateSpec::Spike {
                base: 100.0,
                peak: 1000.0,
                at: secs(20.0),
                length: secs(5.0),
            },
        ),
        (
            "sine",
            RateSpec::Sine {
                mean: 200.0,
                amplitude: 200.0,
                period: secs(17.0),
            },
        ),
    ]
}

const RUN: Duration = Duration::from_secs(60);

#[test]
fn integral_matches_the_rate_numerically() {
    for (name, spec) in every_kind() {
        let p = RateProfile::new(&spec, RUN);
        let steps = 120_000;
        let h = RUN.as_secs_f64() / steps as f64;
        // Midpoint rule; steps and ramps are exact, the sine converges fast.
        let numeric: f64 = (0..steps)
            .map(|k| p.rate_at(secs((k as f64 + 0.5) * h)) * h)
            .sum();
        let exact = p.total_rows();
        assert!(
            (numeric - exact).abs() < 1e-3 * exact.max(1.0),
            "{name}: numeric {numeric} vs integral {exact}"
        );
        assert_eq!(p.rows_by(RUN), exact, "{name}");
        assert_eq!(p.rows_by(RUN * 2), exact, "{name}: flat after the run");
        assert_eq!(p.rate_at(RUN), 0.0, "{name}: zero after the run");
    }
}

#[test]
fn time_of_row_inverts_rows_by() {
    for (name, spec) in every_kind() {
        let p = RateProfile::new(&spec, RUN);
        let total = p.total_rows();
        for k in 0..=1000 {
            let x = total * k as f64 / 1000.0;
            let t = p
                .time_of_row(x)
                .unwrap_or_else(|| panic!("{name}: {x} of {total}"));
            let back = p.rows_by(t);
            // Duration keeps nanoseconds: the error is at most rate × 1 ns.
            assert!(
                (back - x).abs() < 1e-3,
                "{name}: row {x} at {t:?} gives {back}"
            );
        }
        assert!(p.time_of_row(total + 0.01).is_none(), "{name}");
    }
}

#[test]
fn time_of_row_is_earliest_across_a_pause() {
    let (_, spec) = &every_kind()[3];
    let p = RateProfile::new(spec, RUN);
    // 1000 rows are due by 10s, then nothing until 20s.
    assert_eq!(p.time_of_row(1000.0), Some(secs(10.0)));
    assert!(p.time_of_row(1000.5).unwrap() > secs(20.0));
}

/// All rows of all workers, merged and sorted.
fn all_rows(plan: &Plan) -> Vec<Duration> {
    let mut v: Vec<Duration> = (0..plan.workers).flat_map(|w| plan.schedule(w)).collect();
    v.sort();
    v
}

fn plan(spec: &RateSpec, workers: u32, arrivals: Arrivals, seed: u64) -> Plan {
    Plan {
        profile: RateProfile::new(spec, RUN),
        workers,
        batch_rows: 10,
        arrivals,
        seed,
        max_lag: secs(30.0),
        shard: Shard::ALONE,
    }
}

#[test]
fn shards_together_write_the_single_runs_rows() {
    let spec = RateSpec::Constant { per_second: 600.0 };
    let whole = plan(&spec, 6, Arrivals::Poisson, 7);
    let mut split: Vec<Duration> = (0..3)
        .flat_map(|index| {
            let shard = whole.clone().with_shard(Shard { index, count: 3 });
            shard
                .local_workers()
                .flat_map(|w| shard.schedule(w))
                .collect::<Vec<_>>()
        })
        .collect();
    split.sort();
    assert_eq!(split, all_rows(&whole));
    let thirds: f64 = (0..3)
        .map(|index| {
            whole
                .clone()
                .with_shard(Shard { index, count: 3 })
                .expected_rows(RUN)
        })
        .sum();
    assert!((thirds - whole.expected_rows(RUN)).abs() < 1e-6);
}

/// `|rows intended in [0, T]| − ∫₀ᵀ rate` for T on a fine grid; the worst gap.
fn worst_gap(plan: &Plan, rows: &[Duration]) -> f64 {
    (0..=6000)
        .map(|k| {
            let t = secs(k as f64 * 0.01);
            let count = rows.partition_point(|r| *r <= t) as f64;
            (count - plan.expected_rows(t)).abs()
        })
        .fold(0.0, f64::max)
}

#[test]
fn uniform_counts_match_the_integral_within_one_row() {
    for (name, spec) in every_kind() {
        for workers in [1, 3, 8] {
            let plan = plan(&spec, workers, Arrivals::Uniform, 1);
            let rows = all_rows(&plan);
            let gap = worst_gap(&plan, &rows);
            assert!(gap <= 1.0, "{name}, {workers} workers: off by {gap}");
            assert_eq!(
                rows.len() as f64,
                plan.profile.total_rows().round(),
                "{name}"
            );
            assert!(rows.last().unwrap() <= &RUN, "{name}: ends at the duration");
        }
    }
}

#[test]
fn worker_split_adds_up_to_the_single_worker_schedule() {
    for (name, spec) in every_kind() {
        let one = all_rows(&plan(&spec, 1, Arrivals::Uniform, 1));
        let five = all_rows(&plan(&spec, 5, Arrivals::Uniform, 1));
        assert_eq!(one, five, "{name}");
        let p = plan(&spec, 5, Arrivals::Uniform, 1);
        let sizes: Vec<usize> = (0..5).map(|w| p.schedule(w).count()).collect();
        let (min, max) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
        assert!(max - min <= 1, "{name}: round-robin shares {sizes:?}");
    }
}

#[test]
fn intended_times_never_go_backwards() {
    for (name, spec) in every_kind() {
        for arrivals in [Arrivals::Uniform, Arrivals::Poisson] {
            let p = plan(&spec, 3, arrivals, 9);
            for w in 0..3 {
                let v: Vec<Duration> = p.schedule(w).collect();
                assert!(
                    v.windows(2).all(|x| x[0] <= x[1]),
                    "{name} {arrivals:?} w{w}"
                );
            }
        }
    }
}

#[test]
fn poisson_counts_are_within_a_statistical_bound() {
    for (name, spec) in every_kind() {
        for seed in [1, 2, 3] {
            let plan = plan(&spec, 4, Arrivals::Poisson, seed);
            let rows = all_rows(&plan);
            let expected = plan.profile.total_rows();
            // N ~ Poisson(Λ): 5 standard deviations, fixed seeds (not flaky).
            let bound = 5.0 * expected.sqrt();
            let n = rows.len() as f64;
            assert!(
                (n - expected).abs() < bound,
                "{name} seed {seed}: {n} vs {expected}"
            );
            // And in every 10 s window, against that window's own integral.
            for k in 0..6 {
                let (a, b) = (secs(10.0 * k as f64), secs(10.0 * (k + 1) as f64));
                let lam = plan.profile.expected_rows_between(a, b);
                let got = rows.iter().filter(|r| **r > a && **r <= b).count() as f64;
                assert!(
                    (got - lam).abs() < 5.0 * lam.sqrt() + 1.0,
                    "{name} seed {seed} window {k}: {got} vs {lam}"
                );
            }
        }
    }
}

#[test]
fn poisson_gaps_look_exponential() {
    // Constant rate: inter-arrival gaps of the merged stream have CV ≈ 1
    // (uniform spacing would give 0).
    let spec = RateSpec::Constant { per_second: 500.0 };
    let rows = all_rows(&plan(&spec, 4, Arrivals::Poisson, 5));
    let gaps: Vec<f64> = rows
        .windows(2)
        .map(|w| (w[1] - w[0]).as_secs_f64())
        .collect();
    let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
    let var = gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / gaps.len() as f64;
    let cv = var.sqrt() / mean;
    assert!((0.95..1.05).contains(&cv), "coefficient of variation {cv}");
    assert!((mean - 1.0 / 500.0).abs() < 1e-4, "mean gap {mean}");
}

#[test]
fn poisson_is_deterministic_per_seed_and_worker() {
    let spec = RateSpec::Constant { per_second: 100.0 };
    let a: Vec<_> = plan(&spec, 2, Arrivals::Poisson, 7)
        .schedule(0)
        .take(50)
        .collect();
    let b: Vec<_> = plan(&spec, 2, Arrivals::Poisson, 7)
        .schedule(0)
        .take(50)
        .collect();
    let c: Vec<_> = plan(&spec, 2, Arrivals::Poisson, 7)
        .schedule(1)
        .take(50)
        .collect();
    let d: Vec<_> = plan(&spec, 2, Arrivals::Poisson, 8)
        .schedule(0)
        .take(50)
        .collect();
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_ne!(a, d);
}

#[test]
fn batches_cover_the_schedule_in_order() {
    let spec = RateSpec::Constant { per_second: 95.0 };
    let p = plan(&spec, 3, Arrivals::Uniform, 1);
    let whole: Vec<Duration> = p.schedule(1).collect();
    let mut s = p.schedule(1);
    let mut joined = Vec::new();
    while let Some(b) = s.next_batch(7) {
        assert!(!b.rows.is_empty() && b.rows.len() <= 7);
        assert_eq!(b.first_index as usize, joined.len());
        assert_eq!(b.due(), *b.rows.last().unwrap());
        joined.extend(b.rows);
    }
    assert_eq!(joined, whole);
    assert!(s.next_batch(7).is_none(), "stays exhausted");
}

#[test]
fn skip_before_drops_and_counts_overdue_rows() {
    let spec = RateSpec::Constant { per_second: 100.0 };
    let p = plan(&spec, 1, Arrivals::Uniform, 1);
    let mut s = p.schedule(0);
    // Rows at 5ms, 15ms, …: 100 of them before 1s.
    assert_eq!(s.skip_before(secs(1.0)), 100);
    assert_eq!(s.next_index(), 100);
    assert_eq!(s.next(), Some(secs(1.005)));
    assert_eq!(s.skip_before(secs(0.5)), 0, "nothing earlier left");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn uniform_within_one_row_for_random_profiles(
        kind in 0usize..4,
        a in 0.0f64..500.0,
        b in 1.0f64..500.0,
        t1 in 1.0f64..59.0,
        workers in 1u32..12,
    ) {
        let spec = match kind {
            0 => RateSpec::Constant { per_second: b },
            1 => RateSpec::Ramp { from: a, to: b, over: Some(secs(t1)) },
            2 => RateSpec::Spike { base: a.min(b), peak: a.max(b), at: secs(t1 / 2.0), length: secs(t1 / 2.0) },
            _ => RateSpec::Sine { mean: b, amplitude: a.min(b), period: secs(t1) },
        };
        let plan = plan(&spec, workers, Arrivals::Uniform, 1);
        let rows = all_rows(&plan);
        prop_assert!(worst_gap(&plan, &rows) <= 1.0);
        prop_assert!(rows.windows(2).all(|w| w[0] <= w[1]));
    }
}
