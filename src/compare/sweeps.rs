//! Sweeps side by side: the highest sustainable rate (last pass) per sink,
//! and the sweep gate: a sink regresses when its rate dropped below the
//! baselines' median by more than the floor plus the baselines' own relative
//! spread ((max − min) / median), so repeated sweeps' noise is not a regression.

use std::fmt::Write as _;

use crate::model::Sink;
use crate::sweep::Sweep;

/// The gate's verdict on one sink.
#[derive(Debug, Clone, PartialEq)]
pub struct RateVerdict {
    /// The sink.
    pub sink: Sink,
    /// Median of the baselines' highest passing rates (rows/s).
    pub baseline: Option<f64>,
    /// (max − min) / median of the baselines' rates (0 with one baseline).
    pub spread: f64,
    /// The current sweep's highest passing rate.
    pub current: Option<f64>,
    /// The drop that fails: floor + spread.
    pub threshold: f64,
    /// The current rate is lower by more than the threshold.
    pub failed: bool,
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// Judges every sink the current sweep and all baselines answered for.
pub fn judge(bases: &[Sweep], cur: &Sweep, floor: f64) -> Vec<RateVerdict> {
    cur.answers
        .iter()
        .filter(|(s, _)| bases.iter().all(|b| b.answers.contains_key(*s)))
        .map(|(&sink, a)| {
            let rates: Vec<f64> = bases
                .iter()
                .filter_map(|b| b.answers[&sink].bracket.last_pass)
                .collect();
            let spread = match (median(rates.clone()), rates.len()) {
                (Some(m), n) if n > 1 && m > 0.0 => {
                    let (lo, hi) = rates.iter().fold((f64::INFINITY, 0f64), |(lo, hi), r| {
                        (lo.min(*r), hi.max(*r))
                    });
                    (hi - lo) / m
                }
                _ => 0.0,
            };
            let baseline = median(rates);
            let current = a.bracket.last_pass;
            let threshold = floor + spread;
            let failed = match (baseline, current) {
                (Some(b), Some(c)) => c < b * (1.0 - threshold),
                (Some(_), None) => true,
                (None, _) => false,
            };
            RateVerdict {
                sink,
                baseline,
                spread,
                current,
                threshold,
                failed,
            }
        })
        .collect()
}

fn rate(r: Option<f64>) -> String {
    r.map_or("none".into(), |r| format!("{r:.0}"))
}

/// Markdown of the gate's verdict.
pub fn render_gate(v: &[RateVerdict], bases: &[String], current: &str) -> String {
    let failed = v.iter().any(|x| x.failed);
    let mut m = format!(
        "# Sweep gate: {}\n\nbaseline: {}\ncurrent: {current}\n\n\
         | sink | baseline rate (median) | spread | current rate | change | fails below | verdict |\n\
         |---|---|---|---|---|---|---|\n",
        if failed { "❌ regression" } else { "✅ pass" },
        bases.join(", ")
    );
    for x in v {
        let change = match (x.baseline, x.current) {
            (Some(b), Some(c)) if b > 0.0 => format!("{:+.1} %", (c / b - 1.0) * 100.0),
            _ => "–".into(),
        };
        let _ = writeln!(
            m,
            "| {} | {} | {:.0} % | {} | {change} | {} | {} |",
            x.sink,
            rate(x.baseline),
            x.spread * 100.0,
            rate(x.current),
            x.baseline
                .map_or("–".into(), |b| format!("{:.0}", b * (1.0 - x.threshold))),
            if x.failed { "❌ regression" } else { "✅" }
        );
    }
    m.push_str("\nrate = the highest rate every SLO held at (the bracket's last pass); a sink fails when it drops by more than the floor plus the baselines' spread.\n");
    m
}

/// Markdown of two sweeps side by side.
pub fn render_compare(a: &Sweep, b: &Sweep, a_dir: &str, b_dir: &str) -> String {
    let mut m = format!(
        "# Sweeps compared\n\nA: {a_dir} ({} steps)\nB: {b_dir} ({} steps)\n\n\
         | sink | A highest pass | A first fail | B highest pass | B first fail | B vs A |\n|---|---|---|---|---|---|\n",
        a.steps.len(),
        b.steps.len()
    );
    let sinks: std::collections::BTreeSet<Sink> =
        a.answers.keys().chain(b.answers.keys()).copied().collect();
    for s in sinks {
        let get = |x: &Sweep| x.answers.get(&s).map(|a| a.bracket).unwrap_or_default();
        let (x, y) = (get(a), get(b));
        let change = match (x.last_pass, y.last_pass) {
            (Some(p), Some(q)) => format!("{:+.1} %", (q / p - 1.0) * 100.0),
            _ => "–".into(),
        };
        let _ = writeln!(
            m,
            "| {s} | {} | {} | {} | {} | {change} |",
            rate(x.last_pass),
            rate(x.first_fail),
            rate(y.last_pass),
            rate(y.first_fail)
        );
    }
    for (name, x) in [("A", a), ("B", b)] {
        for (s, k) in &x.knees {
            let _ = writeln!(
                m,
                "\n{name} {s} knee at {:.0} rows/s: {}",
                k.achieved_rate, k.bottleneck
            );
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::{Answer, Bracket};

    fn sweep(rates: &[(Sink, f64)]) -> Sweep {
        let mut s: Sweep = serde_json::from_value(serde_json::json!({
            "format": crate::sweep::SWEEP_FORMAT, "format_version": 1, "scenario": "s",
            "mode": "find-max", "started_at": "2026-01-01T00:00:00Z", "took_s": 1.0,
            "spec": {}, "slo": {"p99_ms": {}, "max_missing": 0, "min_achieved_ratio": 0.98,
            "max_lateness_ms": 1000.0}, "steps": [], "answers": {}, "knees": {}
        }))
        .unwrap();
        for &(sink, r) in rates {
            s.answers.insert(
                sink,
                Answer {
                    bracket: Bracket {
                        last_pass: Some(r),
                        first_fail: Some(r * 1.2),
                        non_monotone: false,
                    },
                    resolved: true,
                    text: String::new(),
                },
            );
        }
        s
    }

    #[test]
    fn only_a_drop_beyond_floor_and_spread_fails() {
        let bases = vec![
            sweep(&[(Sink::Path1, 1000.0), (Sink::Path2, 2000.0)]),
            sweep(&[(Sink::Path1, 1100.0), (Sink::Path2, 2000.0)]),
            sweep(&[(Sink::Path1, 900.0), (Sink::Path2, 2000.0)]),
        ];
        // path1: spread 20 %, threshold 40 %: 650 is a 35 % drop, passes.
        // path2: spread 0, threshold 20 %: 1500 is a 25 % drop, fails.
        let cur = sweep(&[(Sink::Path1, 650.0), (Sink::Path2, 1500.0)]);
        let v = judge(&bases, &cur, 0.20);
        assert!(!v[0].failed, "{:?}", v[0]);
        assert!((v[0].spread - 0.2).abs() < 1e-9);
        assert!(v[1].failed, "{:?}", v[1]);
        let md = render_gate(&v, &["a".into()], "c");
        assert!(
            md.contains("| path2 | 2000 | 0 % | 1500 | -25.0 % | 1600 | ❌ regression |"),
            "{md}"
        );
    }

    #[test]
    fn a_sink_that_no_longer_passes_anywhere_fails() {
        let mut cur = sweep(&[(Sink::Path2, 1.0)]);
        cur.answers.get_mut(&Sink::Path2).unwrap().bracket.last_pass = None;
        let v = judge(&[sweep(&[(Sink::Path2, 1000.0)])], &cur, 0.2);
        assert!(v[0].failed);
    }
}
