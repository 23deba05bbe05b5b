//! `tpcds-bench compare A [B]`: two runs side by side per sink (p50 and p99,
//! deltas with block-bootstrap confidence intervals), or path 1 vs path 2 of
//! one run: its percentiles paired by second, and the per-row difference
//! (each row's path 2 latency minus its path 1 latency).
//!
//! Differing fingerprint entries are listed, not refused, with one exception:
//! a polled sink whose latencies end at different moments in the two runs
//! (see [`check_sources`]) is refused (exit 2) unless `--force`.

use std::path::Path;

use crate::cli::{BootstrapArgs, CompareArgs};
use crate::compare::bootstrap::BootstrapOptions;
use crate::compare::fingerprint::{check_sources, differences};
use crate::compare::render::{compare_paths, compare_runs, SinkRow};
use crate::compare::{paths_change, row_deltas, run_change};
use crate::exit::{fail, Classified, Exit};
use crate::model::Sink;
use crate::report::{load_run, LoadedRun, ReportError};

/// The percentiles `compare` shows.
const QUANTILES: [f64; 2] = [0.50, 0.99];

/// The percentiles of the per-row path 2 − path 1 difference.
const ROW_QUANTILES: [f64; 5] = [0.01, 0.10, 0.50, 0.90, 0.99];

/// Loads a run directory; an unreadable or corrupt one is bad input.
pub fn load(dir: &Path) -> anyhow::Result<LoadedRun> {
    load_run(dir)
        .map_err(|e: ReportError| Classified::new(Exit::from_code(e.exit_code()), e).into())
}

/// Validated interval settings for `quantile`.
pub fn options(args: &BootstrapArgs, quantile: f64) -> anyhow::Result<BootstrapOptions> {
    if !(args.confidence > 0.0 && args.confidence < 1.0) {
        return fail(
            Exit::BadInput,
            anyhow::anyhow!(
                "--confidence {}: must be between 0 and 1, e.g. 0.95",
                args.confidence
            ),
        );
    }
    if args.replicates < 100 {
        return fail(
            Exit::BadInput,
            anyhow::anyhow!(
                "--replicates {}: must be at least 100 (default 2000)",
                args.replicates
            ),
        );
    }
    if args.block_seconds == Some(0) {
        return fail(
            Exit::BadInput,
            anyhow::anyhow!("--block-seconds 0: must be at least 1"),
        );
    }
    Ok(BootstrapOptions {
        quantile,
        confidence: args.confidence,
        replicates: args.replicates,
        seed: args.seed,
        block_len: args.block_seconds,
    })
}

/// The sinks both runs measured, in report order.
pub fn common_sinks(a: &LoadedRun, b: &LoadedRun) -> Vec<Sink> {
    a.run
        .sink_list()
        .into_iter()
        .filter(|s| b.run.sinks.contains_key(s))
        .collect()
}

/// Prints the comparison; exit 0 (it informs, the gate decides), or 2 when
/// the runs' visibility sources differ without `--force`.
pub fn compare(args: CompareArgs) -> anyhow::Result<Exit> {
    let dirs = std::iter::once(&args.a).chain(args.b.as_ref());
    if super::sweep::compare::any_sweep(dirs.map(|d| d.as_path())) {
        return super::sweep::compare::compare(&args);
    }
    let opts = QUANTILES
        .iter()
        .map(|&q| options(&args.bootstrap, q))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let a = load(&args.a)?;
    let text = match &args.b {
        None => {
            let sinks = &a.run.sinks;
            if !(sinks.contains_key(&Sink::Path1) && sinks.contains_key(&Sink::Path2)) {
                return fail(
                    Exit::BadInput,
                    anyhow::anyhow!(
                        "{}: comparing paths needs a run that observed path1 and path2; \
                         give a second run directory to compare two runs",
                        args.a.display()
                    ),
                );
            }
            let changes: Vec<_> = opts.iter().map(|o| paths_change(&a.run, o)).collect();
            let rows = row_deltas(&a.run, &ROW_QUANTILES, &opts[0]);
            compare_paths(
                &a.dir.display().to_string(),
                &QUANTILES,
                &changes,
                rows.as_ref(),
                args.bootstrap.confidence,
            )
        }
        Some(b_dir) => {
            let b = load(b_dir)?;
            let base = [(format!("baseline {}", args.a.display()), &a.run)];
            let current = format!("current {}", b_dir.display());
            match check_sources(&base, (&current, &b.run), args.force) {
                Ok(warnings) => warnings.iter().for_each(|w| eprintln!("{w}")),
                Err(refusal) => return fail(Exit::BadInput, anyhow::anyhow!(refusal)),
            }
            let rows: Vec<SinkRow> = common_sinks(&a, &b)
                .into_iter()
                .map(|sink| SinkRow {
                    sink,
                    changes: opts
                        .iter()
                        .map(|o| run_change(&a.run, &b.run, sink, o))
                        .collect(),
                })
                .collect();
            let mut text = compare_runs(
                &a.dir.display().to_string(),
                &b.dir.display().to_string(),
                &rows,
                &QUANTILES,
                &differences(&a.run, &b.run),
                args.bootstrap.confidence,
            );
            // Snapshot runs: their snapshots side by side.
            if let (Some(x), Some(y)) = (&a.run.snapshot, &b.run.snapshot) {
                text.push('\n');
                text.push_str(&crate::snapshot::compare_table(x, y));
            }
            text
        }
    };
    print!("{text}");
    Ok(Exit::Ok)
}
