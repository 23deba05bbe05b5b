//! Markdown for `compare` and `gate`: tables a CI job summary shows as they
//! are, each with the method line that says how the intervals were made.

use std::fmt::Write as _;

use super::bootstrap::{Change, RowDeltas, MIN_DF};
use super::fingerprint::Difference;
use super::fmt_delta;
use super::slo::Objective;
use super::verdict::{per_sink_confidence, quantile_label, Floors, Outcome, SinkVerdict};
use crate::model::Sink;
use crate::stats::fmt_latency;

/// One sink of `compare A B`: the p50 and p99 change.
#[derive(Debug, Clone, PartialEq)]
pub struct SinkRow {
    /// The sink.
    pub sink: Sink,
    /// Changes of the compared percentiles (p50, p99); `None` without samples.
    pub changes: Vec<Option<Change>>,
}

fn pct(x: f64) -> String {
    format!("{:+.0} %", (x - 1.0) * 100.0)
}

/// `Δ` with its interval, and the ratio's interval; runs too short for an
/// interval say so instead of printing an infinite one.
fn change_cells(c: &Change) -> [String; 5] {
    let (ci, ratio) = if c.too_few_blocks() {
        (
            format!("none: {} df < {MIN_DF}, run longer", c.df),
            pct(c.ratio),
        )
    } else {
        (
            format!("{} … {}", fmt_delta(c.diff_ci.0), fmt_delta(c.diff_ci.1)),
            format!(
                "{} ({} … {})",
                pct(c.ratio),
                pct(c.ratio_ci.0),
                pct(c.ratio_ci.1)
            ),
        )
    };
    [
        fmt_latency(c.baseline_us),
        fmt_latency(c.current_us),
        fmt_delta(c.diff_us),
        ci,
        ratio,
    ]
}

/// The method line under every table; `changes` gives the block lengths used.
fn method<'a>(changes: impl IntoIterator<Item = &'a Change>, paired: bool) -> String {
    let changes: Vec<&Change> = changes.into_iter().collect();
    let Some(first) = changes.first() else {
        return "No sink had latency samples on both sides.".into();
    };
    let (lo, hi) = changes
        .iter()
        .map(|c| c.block_len)
        .fold((usize::MAX, 0), |(lo, hi), l| (lo.min(l), hi.max(l)));
    let blocks = if lo == hi {
        format!("{lo} s")
    } else {
        format!("{lo}–{hi} s")
    };
    let (dlo, dhi) = changes
        .iter()
        .map(|c| c.df)
        .fold((u32::MAX, 0), |(lo, hi), d| (lo.min(d), hi.max(d)));
    let df = if dlo == dhi {
        format!("{dlo}")
    } else {
        format!("{dlo}–{dhi}")
    };
    let o = first.options;
    format!(
        "Intervals: {} % circular block bootstrap over the 1 s interval histograms after warmup{} \
         ({} replicates, blocks of {blocks}: twice the autocorrelation time of per-second p99 and counts, \
         at least √n; seed {:#x}); percentiles recomputed from the merged resampled histograms; \
         interval = estimate ± t(df) × the replicates' standard deviation, Student's t exact, df = \
         independent blocks (seconds ÷ block length) less one per side, rounded down (here {}); \
         no interval below {MIN_DF} df.",
        quantile_label(o.confidence),
        if paired {
            ", both paths resampled by the same seconds (paired: noise shared by a second cancels)"
        } else {
            ", each run resampled independently"
        },
        o.replicates,
        o.seed,
        df
    )
}

/// `95 % CI` for a confidence of 0.95: the intervals' level as the user set it.
fn ci_label(confidence: f64) -> String {
    format!("{} % CI", quantile_label(confidence))
}

fn header(out: &mut String, first: &str, a: &str, b: &str, confidence: f64) {
    let ci = ci_label(confidence);
    let _ = writeln!(
        out,
        "| {first} | pct | {a} | {b} | Δ | {ci} of Δ | ratio (CI) | seconds |"
    );
    out.push_str("|---|---|---:|---:|---:|---|---|---|\n");
}

fn row(out: &mut String, first: &str, q: f64, c: &Option<Change>) {
    let label = format!("p{}", quantile_label(q));
    match c {
        Some(c) => {
            let [a, b, d, ci, r] = change_cells(c);
            let _ = writeln!(
                out,
                "| {first} | {label} | {a} | {b} | {d} | {ci} | {r} | {} / {} |",
                c.seconds.0, c.seconds.1
            );
        }
        None => {
            let _ = writeln!(
                out,
                "| {first} | {label} | – | – | – | no samples | – | – |"
            );
        }
    }
}

fn differences_list(out: &mut String, title: &str, diffs: &[Difference]) {
    if diffs.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n{title}\n");
    for d in diffs {
        let _ = writeln!(out, "- `{d}`");
    }
}

/// `compare A B`: each sink's p50 and p99 in both runs with the change.
pub fn compare_runs(
    a: &str,
    b: &str,
    rows: &[SinkRow],
    quantiles: &[f64],
    diffs: &[Difference],
    confidence: f64,
) -> String {
    let mut out = format!("## tpcds-bench compare · `{a}` → `{b}`\n\n");
    header(&mut out, "sink", "A", "B", confidence);
    for r in rows {
        for (q, c) in quantiles.iter().zip(&r.changes) {
            row(&mut out, r.sink.name(), *q, c);
        }
    }
    let all = rows.iter().flat_map(|r| r.changes.iter().flatten());
    let _ = writeln!(out, "\n{}", method(all, false));
    differences_list(
        &mut out,
        "The runs differ in these fingerprint entries (their latencies may not be comparable):",
        diffs,
    );
    out
}

/// `compare RUN`: path 1 vs path 2 of one run, paired by second.
pub fn compare_paths(
    run: &str,
    quantiles: &[f64],
    changes: &[Option<Change>],
    rows: Option<&RowDeltas>,
    confidence: f64,
) -> String {
    let mut out = format!("## tpcds-bench compare · path 1 vs path 2 in `{run}`\n\n");
    header(&mut out, "run", "path1", "path2", confidence);
    for (q, c) in quantiles.iter().zip(changes) {
        row(&mut out, run, *q, c);
    }
    let _ = writeln!(out, "\n{}", method(changes.iter().flatten(), true));
    out.push_str("Δ = path 2 − path 1: negative means path 2 shows rows sooner.\n");
    out.push_str("\n### Paired per row: path 2 − path 1 of the same row\n\n");
    match rows {
        None => out.push_str(
            "This run recorded no per-row pairs (a run of an older tpcds-bench, or \
             latency sampling left none seen on both paths).\n",
        ),
        Some(d) => {
            let _ = writeln!(
                out,
                "| pct | path 2 − path 1 | {} |\n|---|---:|---|",
                ci_label(confidence)
            );
            for p in &d.percentiles {
                let _ = writeln!(
                    out,
                    "| p{} | {} | {} … {} |",
                    quantile_label(p.quantile),
                    fmt_delta(p.value_us),
                    fmt_delta(p.ci.0),
                    fmt_delta(p.ci.1)
                );
            }
            let _ = writeln!(
                out,
                "\n{} rows seen on both paths, over {} s after warmup; intervals from the \
                 same block bootstrap (blocks of {} s). Each row is its own control: what \
                 MySQL, the binlog and the harness add to both paths cancels, so this \
                 isolates what lies after the fork (Kafka and the path-1 job vs the \
                 path-2 job). Both paths are polled, so each row's difference carries up \
                 to ± one poll interval of resolution.",
                d.rows, d.seconds, d.block_len
            );
        }
    }
    out
}

/// Everything the gate decided.
#[derive(Debug, Clone)]
pub struct GateReport<'a> {
    /// Baseline run directories (as given; several are pooled).
    pub baselines: &'a [String],
    /// Current run directory (as given).
    pub current: &'a str,
    /// Per sink.
    pub sinks: &'a [SinkVerdict],
    /// The current run's SLO objectives.
    pub slos: &'a [Objective],
    /// The floors applied.
    pub floors: Floors,
    /// Fingerprint differences accepted with `--force`.
    pub forced: &'a [Difference],
    /// Warnings (an interrupted run, ...).
    pub notes: &'a [String],
    /// The level asked for the whole gate (`--confidence`, 0.95); each sink's
    /// intervals were made at [`per_sink_confidence`] of it.
    pub confidence: f64,
}

impl GateReport<'_> {
    /// True when any sink regressed or any objective failed.
    pub fn failed(&self) -> bool {
        self.sinks.iter().any(|v| v.outcome.failed()) || self.slos.iter().any(|o| !o.passed)
    }

    /// True when any sink was too short to judge: not a pass.
    pub fn refused(&self) -> bool {
        self.sinks.iter().any(|v| v.outcome.refused())
    }
}

/// The gate's Markdown verdict.
pub fn gate(r: &GateReport) -> String {
    let verdict = if r.failed() {
        "❌ failed"
    } else if r.refused() {
        "⛔ no verdict (runs too short)"
    } else {
        "✅ passed"
    };
    let per_sink = per_sink_confidence(r.confidence, r.sinks.len());
    let names: Vec<String> = r.baselines.iter().map(|b| format!("`{b}`")).collect();
    let baseline = match names.len() {
        1 => format!("Baseline {}", names[0]),
        n => format!("Baselines {} ({n} runs, pooled)", names.join(", ")),
    };
    let mut out = format!(
        "## tpcds-bench gate · {verdict}\n\n{baseline} → current `{}`. A sink fails when the \
         interval of its p99 change excludes zero **and** the change exceeds {:.0} % and the \
         absolute floor (max of {} and the sink's resolution). Each sink's interval is at {} %, \
         so that the chance of a false alarm at any of the {} sinks is at most {} % overall.\n\n",
        r.current,
        r.floors.relative * 100.0,
        fmt_latency(r.floors.absolute_us),
        quantile_label(per_sink),
        r.sinks.len(),
        quantile_label(1.0 - r.confidence),
    );
    let _ = writeln!(
        out,
        "| sink | baseline p99 | current p99 | Δ | {} of Δ | ratio (CI) | floor | verdict |",
        ci_label(per_sink)
    );
    out.push_str("|---|---:|---:|---:|---|---|---:|---|\n");
    for v in r.sinks {
        let mark = match v.outcome {
            Outcome::Pass(_) => "✅",
            Outcome::Regression(_) => "❌",
            Outcome::Refused(_) => "⛔",
            Outcome::Skipped(_) => "–",
        };
        let cells = v
            .change
            .as_ref()
            .map(change_cells)
            .unwrap_or_else(|| std::array::from_fn(|_| "–".to_string()));
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {mark} {} |",
            v.sink,
            cells[0],
            cells[1],
            cells[2],
            cells[3],
            cells[4],
            fmt_latency(v.absolute_floor_us),
            v.outcome.reason()
        );
    }
    let _ = writeln!(
        out,
        "\n{}",
        method(r.sinks.iter().filter_map(|v| v.change.as_ref()), false)
    );
    between_runs(&mut out, r.sinks);
    if !r.slos.is_empty() {
        out.push_str("\nSLOs of the current run:\n\n");
        for o in r.slos {
            let _ = writeln!(out, "- {} {}", if o.passed { "✅" } else { "❌" }, o.detail);
        }
    }
    differences_list(
        &mut out,
        "⚠️ Compared with `--force` although these fingerprint entries differ:",
        r.forced,
    );
    for n in r.notes {
        let _ = writeln!(out, "\n⚠️ {n}");
    }
    out
}

/// With several baselines: each sink's per-run p99 spread and whether its
/// prediction interval for one more run widened the sink's interval.
fn between_runs(out: &mut String, sinks: &[SinkVerdict]) {
    let spreads: Vec<_> = sinks
        .iter()
        .filter_map(|v| Some((v.sink, v.change.as_ref()?.between_runs?)))
        .collect();
    let Some((_, first)) = spreads.first() else {
        return;
    };
    let _ = writeln!(
        out,
        "\nBetween the {} baseline runs (each run's p99; the interval is at least ± t({}) · SD · √(1 + 1/{}), \
         the prediction interval of one more baseline run):\n",
        first.runs,
        first.runs - 1,
        first.runs
    );
    for (sink, b) in spreads {
        let _ = writeln!(
            out,
            "- {sink}: {} … {}, SD {}: ± {}{}",
            fmt_latency(b.range_us.0),
            fmt_latency(b.range_us.1),
            fmt_latency(b.sd_us.round() as u64),
            fmt_latency(b.half_width_us.round() as u64),
            if b.widened {
                ", wider than the bootstrap's: it set the interval"
            } else {
                ", within the bootstrap's"
            }
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_headers_name_the_confidence_level_asked_for() {
        let runs = compare_runs("a", "b", &[], &[0.5, 0.99], &[], 0.9);
        assert!(runs.contains("| 90 % CI of Δ |"), "{runs}");
        let paths = compare_paths("r", &[0.99], &[None], None, 0.975);
        assert!(paths.contains("| 97.5 % CI of Δ |"), "{paths}");
        let gate = gate(&GateReport {
            baselines: &["a".to_string()],
            current: "b",
            sinks: &[],
            slos: &[],
            floors: Floors {
                relative: 0.25,
                absolute_us: 20_000,
            },
            forced: &[],
            notes: &[],
            confidence: 0.95,
        });
        assert!(gate.contains("| 95 % CI of Δ |"), "{gate}");
        assert!(!runs.contains("95 %") && !paths.contains("95 %"));
    }

    #[test]
    fn several_baselines_are_named_with_their_spread_per_sink() {
        use crate::compare::runs::widen;
        use crate::compare::verdict::judge;
        let change = Change::fixture(240_000, 330_000, (60_000.0, 120_000.0));
        let change = widen(change, &[200_000, 240_000, 280_000]);
        let floors = Floors {
            relative: 0.25,
            absolute_us: 20_000,
        };
        let sinks = [judge(
            Sink::Path2,
            Some(change),
            (3000, 1000),
            &floors,
            Some(100_000),
        )];
        let md = gate(&GateReport {
            baselines: &["a".to_string(), "b".to_string(), "c".to_string()],
            current: "d",
            sinks: &sinks,
            slos: &[],
            floors,
            forced: &[],
            notes: &[],
            confidence: 0.95,
        });
        assert!(
            md.contains("Baselines `a`, `b`, `c` (3 runs, pooled) → current `d`"),
            "{md}"
        );
        assert!(md.contains("Between the 3 baseline runs"), "{md}");
        assert!(
            md.contains("- path2: 200 ms … 280 ms, SD 40 ms: ± 199 ms, wider than the bootstrap's"),
            "{md}"
        );
        assert!(md.contains("✅ passed"), "{md}");
    }
}
