//! `tpcds-bench gate --baseline A [B …] --current C`: the CI regression gate. Fails
//! (exit 1) when a sink's p99 got worse beyond noise and the practical floors,
//! or an SLO of the current run failed, or a sink recorded nothing in the
//! current run; refuses (exit 2) to compare runs whose fingerprints differ
//! unless `--force` (among them runs whose polled sinks' latencies end at
//! different moments: commit timestamp, `arrived_at`, poll sighting, the
//! baselines among themselves included), and to judge runs too short for an
//! interval.

use std::path::Path;

use anyhow::Context;

use crate::cli::GateArgs;
use crate::cmd::compare::{common_sinks, load, options};
use crate::compare::bootstrap::{self, BootstrapOptions};
use crate::compare::fingerprint::{check_sources, differences};
use crate::compare::render::{gate as render_gate, GateReport};
use crate::compare::runs::widen;
use crate::compare::slo::objectives;
use crate::compare::verdict::{judge, per_sink_confidence, Floors, SinkVerdict};
use crate::compare::{junit, sink_seconds};
use crate::exit::{fail, Exit};
use crate::model::Sink;
use crate::report::LoadedRun;
use crate::scenario::Slo;
use crate::stats::Hist;

/// Writes `text` to `path` through a temporary sibling, so a reader never sees half a file.
fn write_atomic(path: &Path, text: &str) -> anyhow::Result<()> {
    let tmp = path.with_extension("xml.partial");
    std::fs::write(&tmp, text).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

/// Judges `sink`: the change of its p99 from the baseline runs (their
/// seconds pooled) to `cur`; with several baselines its interval is widened
/// to their spread.
///
/// The block length comes from each run alone, not from the pooled series:
/// pooled runs sit at different levels, which reads as long autocorrelation
/// and stretched the blocks to half the pooled seconds, leaving the current
/// run less than one block and the interval no degrees of freedom. The
/// runs' spread is what [`widen`] accounts for.
fn judge_sink(
    bases: &[LoadedRun],
    cur: &LoadedRun,
    sink: Sink,
    opts: &BootstrapOptions,
    floors: &Floors,
) -> SinkVerdict {
    let per_run: Vec<Vec<Hist>> = bases.iter().map(|b| sink_seconds(&b.run, sink)).collect();
    let pooled: Vec<Hist> = per_run.iter().flatten().cloned().collect();
    let current = sink_seconds(&cur.run, sink);
    let count = |s: &[Hist]| s.iter().map(Hist::len).sum::<u64>();
    let samples = (count(&pooled), count(&current));
    let opts = &BootstrapOptions {
        block_len: opts.block_len.or_else(|| {
            let runs = per_run.iter().chain([&current]);
            runs.map(|s| bootstrap::block_length(s)).max()
        }),
        ..*opts
    };
    let change = bootstrap::change(&pooled, &current, opts).map(|change| {
        let p99s: Vec<u64> = per_run
            .iter()
            .filter_map(|s| bootstrap::percentile(s, opts.quantile))
            .collect();
        widen(change, &p99s)
    });
    judge(
        sink,
        change,
        samples,
        floors,
        cur.run.sinks[&sink].resolution_us,
    )
}

/// Runs the gate and prints its Markdown verdict.
pub fn gate(args: GateArgs) -> anyhow::Result<Exit> {
    let dirs = args.baseline.iter().chain([&args.current]);
    if super::sweep::compare::any_sweep(dirs.map(|d| d.as_path())) {
        return super::sweep::compare::gate(&args);
    }
    let opts = options(&args.bootstrap, 0.99)?;
    if !(args.min_relative >= 0.0 && args.min_relative.is_finite()) {
        return fail(
            Exit::BadInput,
            anyhow::anyhow!(
                "--min-relative {}: must be a fraction ≥ 0, e.g. 0.25",
                args.min_relative
            ),
        );
    }
    if !(args.min_absolute_ms >= 0.0 && args.min_absolute_ms.is_finite()) {
        return fail(
            Exit::BadInput,
            anyhow::anyhow!(
                "--min-absolute-ms {}: must be ≥ 0, e.g. 20",
                args.min_absolute_ms
            ),
        );
    }
    let bases = args
        .baseline
        .iter()
        .map(|d| load(d))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let cur = load(&args.current)?;
    let labelled: Vec<(String, &crate::report::RunData)> = args
        .baseline
        .iter()
        .zip(&bases)
        .map(|(d, b)| (format!("baseline {}", d.display()), &b.run))
        .collect();
    let current_label = format!("current {}", args.current.display());
    match check_sources(&labelled, (&current_label, &cur.run), args.force) {
        Ok(warnings) => warnings.iter().for_each(|w| eprintln!("{w}")),
        Err(refusal) => return fail(Exit::BadInput, anyhow::anyhow!(refusal)),
    }
    let mut diffs = Vec::new();
    for (dir, base) in args.baseline.iter().zip(&bases) {
        let these = differences(&base.run, &cur.run);
        if !these.is_empty() && !args.force {
            let list: Vec<String> = these.iter().map(|d| format!("  {d}")).collect();
            return fail(
                Exit::BadInput,
                anyhow::anyhow!(
                    "refusing to compare {} with {}: their fingerprints differ in {} entr{}:\n{}\n\
                     latencies of differently configured runs are not comparable; rerun the baseline \
                     with the same settings, or pass --force to compare anyway",
                    dir.display(),
                    args.current.display(),
                    these.len(),
                    if these.len() == 1 { "y" } else { "ies" },
                    list.join("\n")
                ),
            );
        }
        for d in these {
            if !diffs.contains(&d) {
                diffs.push(d);
            }
        }
    }
    let floors = Floors {
        relative: args.min_relative,
        absolute_us: (args.min_absolute_ms * 1000.0).round() as u64,
    };
    // Sinks every baseline and the current run measured.
    let mut common = common_sinks(&bases[0], &cur);
    common.retain(|s| bases.iter().all(|b| b.run.sinks.contains_key(s)));
    // The gate fails when any sink regresses: each sink's interval is made at
    // the level that keeps the whole gate's false-alarm chance within --confidence.
    let opts = BootstrapOptions {
        confidence: per_sink_confidence(opts.confidence, common.len()),
        ..opts
    };
    let sinks: Vec<_> = common
        .into_iter()
        .map(|sink| judge_sink(&bases, &cur, sink, &opts, &floors))
        .collect();
    let slo: Slo = match cur.run.resolved_scenario.get("slo") {
        Some(v) => serde_json::from_value(v.clone())
            .with_context(|| {
                format!(
                    "{}: summary.json has an unreadable slo",
                    args.current.display()
                )
            })
            .map_err(|e| crate::exit::Classified::new(Exit::BadInput, e))?,
        None => Slo::default(),
    };
    let ratio = cur.run.achieved_rate / cur.run.target_rate.max(f64::MIN_POSITIVE);
    let slos = objectives(
        &slo,
        &cur.run.stats,
        &cur.run.sinks,
        ratio,
        cur.run.audit.as_ref(),
    );
    let mut notes = Vec::new();
    let runs = args
        .baseline
        .iter()
        .zip(&bases)
        .map(|(d, r)| ("baseline", d, r));
    for (what, dir, r) in runs.chain([("current", &args.current, &cur)]) {
        if r.run.interrupted {
            notes.push(format!(
                "the {what} run {} was interrupted: it measured a shorter time",
                dir.display()
            ));
        }
    }
    let b: Vec<String> = args
        .baseline
        .iter()
        .map(|d| d.display().to_string())
        .collect();
    let c = args.current.display().to_string();
    let report = GateReport {
        baselines: &b,
        current: &c,
        sinks: &sinks,
        slos: &slos,
        floors,
        forced: &diffs,
        notes: &notes,
        confidence: args.bootstrap.confidence,
    };
    print!("{}", render_gate(&report));
    if let Some(path) = &args.junit {
        write_atomic(path, &junit::render("tpcds-bench gate", &sinks, &slos))?;
    }
    Ok(if report.failed() {
        Exit::Breach
    } else if report.refused() {
        eprintln!(
            "error: the gate refused a verdict: the runs are too short for an interval \
             at some sinks (the verdict says which and how long to run)"
        );
        Exit::BadInput
    } else {
        Exit::Ok
    })
}
