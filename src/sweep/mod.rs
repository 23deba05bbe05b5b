//! `tpcds-bench sweep`: the scenario at a series of rates (or a search for the
//! highest rate every SLO holds at), each step an ordinary run directory, and
//! the sweep's own files: `sweep.json`, `sweep.csv`, `sweep.md`,
//! `report.html` and the latency–throughput charts. This module holds the
//! data and the pure decisions (verdict per sink, search, knee, bottleneck);
//! `cmd::sweep` runs the steps.

pub mod bottleneck;
pub mod chart;
pub mod knee;
pub mod load;
pub mod render;
pub mod resources;
pub mod search;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::Sink;
pub use search::Bracket;

/// `format` of `sweep.json`.
pub const SWEEP_FORMAT: &str = "tpcds-bench/sweep";
/// File name of the sweep's summary.
pub const SWEEP_FILE: &str = "sweep.json";
/// Default least achieved/target rows ratio of a passing step.
pub const DEFAULT_MIN_ACHIEVED: f64 = 0.98;

/// What a step must show for a sink to pass.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepSlo {
    /// p99 limit per judged sink (ms).
    pub p99_ms: BTreeMap<Sink, f64>,
    /// Most rows a sink may miss after the drain.
    pub max_missing: u64,
    /// Least achieved/target rows ratio of the step.
    pub min_achieved_ratio: f64,
    /// Most p99 send lateness of the harness (ms): beyond it the load was not offered as planned.
    pub max_lateness_ms: f64,
}

/// One sink at one step.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SinkStep {
    /// Latencies recorded after warmup.
    pub count: u64,
    /// Median end-to-end latency (µs).
    pub p50_us: u64,
    /// 99th percentile (µs).
    pub p99_us: u64,
    /// Rows still missing after the drain.
    pub missing: u64,
    /// The SLO verdict; `None` when the sink has no p99 limit.
    pub passed: Option<bool>,
    /// Why it failed (empty when it passed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub why: Vec<String>,
}

/// One step: one ordinary run at one target rate.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Step {
    /// 1-based position in the sweep.
    pub index: u32,
    /// Target rate (rows/s).
    pub target_rate: f64,
    /// Committed rows per second over the step's load.
    pub achieved_rate: f64,
    /// Rows committed.
    pub achieved_rows: u64,
    /// p99 of how late the harness sent rows after their intended time (µs).
    pub lateness_p99_us: u64,
    /// The step was interrupted.
    pub interrupted: bool,
    /// The run directory, relative to the sweep directory.
    pub run_dir: String,
    /// Wall-clock seconds the step took (preflight to report).
    pub took_s: f64,
    /// Per sink.
    pub sinks: BTreeMap<Sink, SinkStep>,
    /// What each component used, and Flink's view of its operators.
    pub resources: resources::Resources,
}

impl Step {
    /// achieved / target rate.
    pub fn achieved_ratio(&self) -> f64 {
        self.achieved_rate / self.target_rate.max(f64::MIN_POSITIVE)
    }

    /// Judges every sink with a p99 limit against `slo`.
    pub fn judge(&mut self, slo: &SweepSlo) {
        let ratio = self.achieved_ratio();
        let (interrupted, lateness) = (self.interrupted, self.lateness_p99_us);
        for (sink, s) in &mut self.sinks {
            let Some(limit) = slo.p99_ms.get(sink) else {
                s.passed = None;
                continue;
            };
            let mut why = Vec::new();
            if s.count == 0 {
                why.push("no latency measured".to_string());
            } else if s.p99_us as f64 > limit * 1000.0 {
                why.push(format!(
                    "p99 {:.0} ms > {limit} ms",
                    s.p99_us as f64 / 1000.0
                ));
            }
            if s.missing > slo.max_missing {
                why.push(format!("{} rows missing > {}", s.missing, slo.max_missing));
            }
            if ratio < slo.min_achieved_ratio {
                why.push(format!(
                    "achieved/target {ratio:.3} < {}",
                    slo.min_achieved_ratio
                ));
            }
            if lateness as f64 > slo.max_lateness_ms * 1000.0 {
                why.push(format!(
                    "send lateness p99 {:.0} ms > {} ms",
                    lateness as f64 / 1000.0,
                    slo.max_lateness_ms
                ));
            }
            if interrupted {
                why.push("interrupted".into());
            }
            s.passed = Some(why.is_empty());
            s.why = why;
        }
    }
}

/// The per-sink answer of a sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    /// The bracket the steps prove.
    #[serde(flatten)]
    pub bracket: Bracket,
    /// The bracket is as narrow as the resolution asks (or cannot move).
    pub resolved: bool,
    /// One line: "holds p99 ≤ 1000 ms up to 1414 rows/s (fails at 2000)".
    pub text: String,
}

/// A sink's knee: the last step before its latency runs away.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Knee {
    /// Step index (1-based).
    pub step: u32,
    /// Target rate at the knee.
    pub target_rate: f64,
    /// Achieved rate at the knee.
    pub achieved_rate: f64,
    /// p99 at the knee (µs).
    pub p99_us: u64,
    /// The likely bottleneck beyond the knee, with its evidence.
    pub bottleneck: String,
}

/// The whole of `sweep.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sweep {
    /// Always [`SWEEP_FORMAT`].
    pub format: String,
    /// Layout version.
    pub format_version: u32,
    /// Scenario name.
    pub scenario: String,
    /// `rates` (a fixed series) or `find-max` (the search).
    pub mode: String,
    /// Sweep start, RFC 3339 UTC.
    pub started_at: chrono::DateTime<chrono::Utc>,
    /// Wall-clock seconds the whole sweep took.
    pub took_s: f64,
    /// The sweep's settings as used.
    pub spec: serde_json::Value,
    /// What a step must show to pass.
    pub slo: SweepSlo,
    /// Every step in the order run.
    pub steps: Vec<Step>,
    /// Per judged sink: the highest sustainable rate and its bracket.
    pub answers: BTreeMap<Sink, Answer>,
    /// Per sink: the knee, where found.
    pub knees: BTreeMap<Sink, Knee>,
    /// The sweep stopped early (interrupt, step budget).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl Sweep {
    /// Each judged sink's `(target rate, passed)` steps, in sink order.
    pub fn outcomes(&self) -> Vec<(Sink, Vec<(f64, bool)>)> {
        self.slo
            .p99_ms
            .keys()
            .map(|&sink| {
                let steps = self
                    .steps
                    .iter()
                    .filter_map(|st| Some((st.target_rate, st.sinks.get(&sink)?.passed?)))
                    .collect();
                (sink, steps)
            })
            .collect()
    }

    /// Recomputes answers and knees from the steps.
    pub fn conclude(&mut self, resolution: f64) {
        self.answers = self
            .outcomes()
            .into_iter()
            .map(|(sink, steps)| (sink, answer(sink, &self.slo, &steps, resolution)))
            .collect();
        self.knees = knee::knees(&self.steps);
    }
}

fn answer(sink: Sink, slo: &SweepSlo, steps: &[(f64, bool)], resolution: f64) -> Answer {
    let b = Bracket::of(steps);
    let limit = slo.p99_ms.get(&sink).copied().unwrap_or_default();
    let mut text = match (b.last_pass, b.first_fail) {
        (Some(p), Some(f)) => {
            format!("{sink} holds p99 ≤ {limit} ms up to {p:.0} rows/s (fails at {f:.0})")
        }
        (Some(p), None) => {
            format!("{sink} holds p99 ≤ {limit} ms at every rate tried, up to {p:.0} rows/s")
        }
        (None, Some(f)) => {
            format!("{sink} fails its SLO at every rate tried, down to {f:.0} rows/s")
        }
        (None, None) => format!("{sink}: no step judged"),
    };
    if b.non_monotone {
        text.push_str("; a step above the first fail passed (noisy: repeat it)");
    }
    Answer {
        bracket: b,
        resolved: b.ratio().is_some_and(|r| r <= resolution * 1.0001),
        text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(rate: f64, achieved: f64, p99_ms: u64, missing: u64) -> Step {
        let mut sinks = BTreeMap::new();
        sinks.insert(
            Sink::Path2,
            SinkStep {
                count: 100,
                p50_us: 1000,
                p99_us: p99_ms * 1000,
                missing,
                ..SinkStep::default()
            },
        );
        Step {
            target_rate: rate,
            achieved_rate: achieved,
            sinks,
            ..Step::default()
        }
    }

    fn slo() -> SweepSlo {
        SweepSlo {
            p99_ms: [(Sink::Path2, 1000.0)].into(),
            max_missing: 0,
            min_achieved_ratio: 0.98,
            max_lateness_ms: 1000.0,
        }
    }

    #[test]
    fn a_step_fails_for_latency_loss_or_a_short_rate_and_says_why() {
        for (st, want) in [
            (step(500.0, 500.0, 900, 0), None),
            (step(500.0, 500.0, 1100, 0), Some("p99 1100 ms > 1000 ms")),
            (step(500.0, 500.0, 10, 3), Some("3 rows missing > 0")),
            (
                step(500.0, 450.0, 10, 0),
                Some("achieved/target 0.900 < 0.98"),
            ),
        ] {
            let mut st = st;
            st.judge(&slo());
            let s = &st.sinks[&Sink::Path2];
            assert_eq!(s.passed, Some(want.is_none()), "{s:?}");
            if let Some(w) = want {
                assert_eq!(s.why, vec![w.to_string()]);
            }
        }
    }

    #[test]
    fn the_answer_names_the_bracket() {
        let a = answer(
            Sink::Path2,
            &slo(),
            &[(500.0, true), (1000.0, false), (707.0, true)],
            1.5,
        );
        assert_eq!(a.bracket.last_pass, Some(707.0));
        assert!(a.resolved);
        assert_eq!(
            a.text,
            "path2 holds p99 ≤ 1000 ms up to 707 rows/s (fails at 1000)"
        );
    }
}
