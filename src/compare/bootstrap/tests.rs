//! Tests of the block bootstrap on synthetic, autocorrelated latency data.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal, Normal};

use super::*;
use crate::stats::new_histogram;

/// One synthetic run: `n` seconds of `per_second` latencies (µs), lognormal
/// around a level that follows an AR(1) process in log space (coefficient
/// `phi`): slow stretches last several seconds, as on a real pipeline.
fn run(seed: u64, n: usize, per_second: usize, phi: f64, scale: f64) -> Vec<Hist> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let shock = Normal::new(0.0, 0.25).unwrap();
    let spread = LogNormal::new(0.0, 0.5).unwrap();
    let mut level = 0.0f64;
    (0..n)
        .map(|_| {
            level = phi * level + shock.sample(&mut rng);
            let mut h = new_histogram();
            for _ in 0..per_second {
                let v = 100_000.0 * scale * level.exp() * spread.sample(&mut rng);
                h.record(v.max(1.0) as u64).unwrap();
            }
            h
        })
        .collect()
}

fn opts(replicates: usize) -> BootstrapOptions {
    BootstrapOptions {
        replicates,
        ..BootstrapOptions::default()
    }
}

#[test]
fn identical_inputs_have_zero_change_inside_the_interval() {
    let a = run(1, 40, 100, 0.7, 1.0);
    let c = change(&a, &a, &opts(400)).unwrap();
    assert_eq!(c.diff_us, 0.0);
    assert_eq!(c.ratio, 1.0);
    assert!(c.diff_ci.0 <= 0.0 && c.diff_ci.1 >= 0.0, "{:?}", c.diff_ci);
    assert!(!c.significant());
}

#[test]
fn a_fifty_percent_slowdown_is_detected() {
    let base = run(2, 60, 100, 0.5, 1.0);
    let cur = run(3, 60, 100, 0.5, 1.5);
    let c = change(&base, &cur, &opts(400)).unwrap();
    assert!(c.significantly_slower(), "{c:?}");
    assert!(c.ratio_ci.0 > 1.0, "{:?}", c.ratio_ci);
}

#[test]
fn same_seed_same_interval() {
    let base = run(4, 30, 50, 0.5, 1.0);
    let cur = run(5, 30, 50, 0.5, 1.0);
    assert_eq!(
        change(&base, &cur, &opts(200)),
        change(&base, &cur, &opts(200))
    );
}

#[test]
fn block_length_grows_with_autocorrelation() {
    let white = run(6, 120, 50, 0.0, 1.0);
    let sticky = run(6, 120, 50, 0.95, 1.0);
    let (w, s) = (block_length(&white), block_length(&sticky));
    assert!(w >= 11, "√n floor: {w}"); // ceil(√120) = 11
    assert!(s > w, "autocorrelated {s} vs white {w}");
}

#[test]
fn empty_sides_have_no_change() {
    let empty = vec![new_histogram(); 5];
    let some = run(7, 5, 10, 0.0, 1.0);
    assert!(change(&empty, &some, &opts(50)).is_none());
    assert!(change(&some, &[], &opts(50)).is_none());
}

/// Coverage: pairs of runs of the same autocorrelated process; the 95 %
/// interval of the p99 change must contain zero in most of them. Deterministic
/// seeds; nominal coverage is 95 %, the margin absorbs bootstrap bias on
/// 60-second runs (and this is the property a gate needs: no false alarms).
/// Measured with these seeds: 35/40 at AR(1) φ = 0.5 (iid blocks of 1 s:
/// 31/40). At φ = 0.8 (slow stretches of ~10 s) 60 s hold about seven
/// independent seconds and coverage falls to 31/40: such a pipeline needs
/// longer runs, and the gate's practical floors are what keep it quiet.
#[test]
fn interval_covers_zero_on_autocorrelated_runs_of_one_process() {
    let trials = 40;
    let mut covered = 0;
    let mut iid_covered = 0;
    for t in 0..trials {
        let a = run(100 + 2 * t, 60, 60, 0.5, 1.0);
        let b = run(101 + 2 * t, 60, 60, 0.5, 1.0);
        let c = change(&a, &b, &opts(300)).unwrap();
        covered += u32::from(!c.significant());
        let iid = BootstrapOptions {
            block_len: Some(1),
            ..opts(300)
        };
        iid_covered += u32::from(!change(&a, &b, &iid).unwrap().significant());
    }
    eprintln!("covered {covered}/{trials}, iid {iid_covered}/{trials}");
    assert!(covered >= 34, "covered {covered}/{trials}");
    // Resampling single seconds ignores the dependence and covers less often.
    assert!(
        iid_covered <= covered,
        "iid {iid_covered} vs block {covered}"
    );
}

#[test]
fn pairing_by_second_cancels_shared_noise() {
    // Path 2 = path 1 + 20 ms in every second, on top of heavy shared noise.
    let a = run(8, 60, 60, 0.9, 1.0);
    let b: Vec<Hist> = a
        .iter()
        .map(|h| {
            let mut out = new_histogram();
            for v in h.iter_recorded() {
                out.record_n(v.value_iterated_to() + 20_000, v.count_at_value())
                    .unwrap();
            }
            out
        })
        .collect();
    let paired = paired_change(&a, &b, &opts(300)).unwrap();
    let unpaired = change(&a, &b, &opts(300)).unwrap();
    let width = |c: &Change| c.diff_ci.1 - c.diff_ci.0;
    assert!(paired.significantly_slower(), "{paired:?}");
    assert!(
        width(&paired) < width(&unpaired) / 2.0,
        "{paired:?} vs {unpaired:?}"
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
    /// Identical inputs are never a significant change, whatever their shape.
    #[test]
    fn identical_inputs_are_never_significant(
        seed in 0u64..10_000,
        n in 1usize..40,
        per_second in 1usize..40,
        phi in 0.0f64..0.95,
    ) {
        let a = run(seed, n, per_second, phi, 1.0);
        let c = change(&a, &a, &opts(200)).unwrap();
        proptest::prop_assert_eq!(c.diff_us, 0.0);
        proptest::prop_assert!(!c.significant(), "{:?}", c);
    }
}

#[test]
fn quantile_rule_matches_hdrhistogram() {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let mut h = new_histogram();
    for _ in 0..5000 {
        h.record(rng.random_range(1..2_000_000)).unwrap();
    }
    let compact = Compact::new(&[std::slice::from_ref(&h)]);
    let mut counts = vec![0; compact.values.len()];
    for q in [0.5, 0.9, 0.99, 0.999] {
        let got = compact.quantile(0, &[0], q, &mut counts).unwrap();
        assert_eq!(got, h.value_at_quantile(q), "q={q}");
    }
}

#[test]
fn signed_row_deltas_read_both_histograms_in_signed_order() {
    // 30 seconds; per second 90 rows 10 ms later on path 2 and 10 rows 5 ms earlier.
    let mut later = Vec::new();
    let mut earlier = Vec::new();
    for _ in 0..30 {
        let mut l = new_histogram();
        l.record_n(10_000, 90).unwrap();
        let mut e = new_histogram();
        e.record_n(5_000, 10).unwrap();
        later.push(l);
        earlier.push(e);
    }
    let d = row_deltas(&later, &earlier, &[0.05, 0.10, 0.11, 0.5, 0.99], &opts(200)).unwrap();
    let v: Vec<f64> = d.percentiles.iter().map(|p| p.value_us).collect();
    let near = |x: f64, want: f64| (x - want).abs() <= want.abs() * 0.001 + 1.0;
    assert!(near(v[0], -5_000.0) && near(v[1], -5_000.0), "{v:?}");
    assert!(
        near(v[2], 10_000.0) && near(v[3], 10_000.0) && near(v[4], 10_000.0),
        "{v:?}"
    );
    assert_eq!(d.rows, 3_000);
    // Every second is identical, so every replicate agrees with the point value.
    for p in &d.percentiles {
        assert!(
            near(p.ci.0, p.value_us) && near(p.ci.1, p.value_us),
            "{p:?}"
        );
    }
    assert!(row_deltas(&later, &earlier[1..], &[0.5], &opts(200)).is_none());
}

/// The interval's t is the exact one at the true degrees of freedom, not an
/// approximation floored at 3 (which made two blocks look like four).
#[test]
fn intervals_use_the_exact_t_at_the_true_degrees_of_freedom() {
    let xs = [-2.0, -1.0, 0.0, 1.0, 2.0];
    let sd = (10.0f64 / 4.0).sqrt();
    for (df, t) in [(2, 4.303), (3, 3.182), (10, 2.228)] {
        let (lo, hi) = t_interval(0.0, &xs, 0.95, df);
        assert!(
            (hi - t * sd).abs() < 2e-3 * sd && lo == -hi,
            "df {df}: {hi}"
        );
    }
    assert_eq!(
        t_interval(0.0, &xs, 0.95, 1),
        (f64::NEG_INFINITY, f64::INFINITY)
    );
}

/// Runs that leave fewer than two degrees of freedom get no interval, so
/// nothing downstream can read a verdict into them.
#[test]
fn too_few_blocks_give_no_interval() {
    let base = run(10, 15, 50, 0.5, 1.0);
    let cur = run(11, 15, 50, 0.5, 3.0);
    // Blocks of 10 s: 1.5 independent blocks a side, 1 degree of freedom.
    let long_blocks = BootstrapOptions {
        block_len: Some(10),
        ..opts(200)
    };
    let c = change(&base, &cur, &long_blocks).unwrap();
    assert_eq!(c.df, 1);
    assert!(c.too_few_blocks() && !c.significant(), "{c:?}");
    assert_eq!(c.diff_ci, (f64::NEG_INFINITY, f64::INFINITY));
    // Blocks of 5 s: 3 a side, 4 degrees of freedom, a finite interval.
    let short_blocks = BootstrapOptions {
        block_len: Some(5),
        ..opts(200)
    };
    let c = change(&base, &cur, &short_blocks).unwrap();
    assert_eq!(c.df, 4);
    assert!(!c.too_few_blocks() && c.diff_ci.0.is_finite(), "{c:?}");
}
