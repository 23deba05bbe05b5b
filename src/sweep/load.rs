//! Reading back: a step's figures from its run directory, and a sweep
//! directory's `sweep.json`.

use std::path::Path;

use crate::report::load_run;
use crate::report::ReportError;

use super::{SinkStep, Step, Sweep, SWEEP_FILE, SWEEP_FORMAT};

/// The step figures of the run directory `dir` (resources are filled in by the caller).
pub fn step_from_run(dir: &Path) -> Result<Step, ReportError> {
    let loaded = load_run(dir)?;
    let s = &loaded.summary;
    let sinks = s
        .sinks
        .iter()
        .map(|(&sink, x)| {
            (
                sink,
                SinkStep {
                    count: x.latency_us.count,
                    p50_us: x.latency_us.p50,
                    p99_us: x.latency_us.p99,
                    missing: x.accounting.missing,
                    ..SinkStep::default()
                },
            )
        })
        .collect();
    let mut step = Step {
        target_rate: s.target_rate,
        achieved_rate: s.achieved_rate,
        achieved_rows: s.achieved_rows,
        lateness_p99_us: s.client.lateness_us.p99,
        interrupted: s.interrupted,
        sinks,
        ..Step::default()
    };
    step.resources.kafka_lag_max = s.pipeline_metrics.iter().filter_map(|m| m.kafka_lag).max();
    step.resources.checkpoint_ms_max = s
        .pipeline_metrics
        .iter()
        .filter_map(|m| m.checkpoint_ms)
        .max();
    Ok(step)
}

/// Whether `dir` is a sweep directory (it holds `sweep.json`).
pub fn is_sweep_dir(dir: &Path) -> bool {
    dir.join(SWEEP_FILE).is_file()
}

/// Reads `dir/sweep.json`.
pub fn load_sweep(dir: &Path) -> Result<Sweep, ReportError> {
    let path = dir.join(SWEEP_FILE);
    let bytes = std::fs::read(&path).map_err(|source| ReportError::Read {
        path: path.clone(),
        source,
    })?;
    let sweep: Sweep = serde_json::from_slice(&bytes).map_err(|e| ReportError::Corrupt {
        path: path.clone(),
        message: e.to_string(),
    })?;
    if sweep.format != SWEEP_FORMAT {
        return Err(ReportError::Corrupt {
            path,
            message: format!("format is {:?}, expected {SWEEP_FORMAT:?}", sweep.format),
        });
    }
    Ok(sweep)
}
