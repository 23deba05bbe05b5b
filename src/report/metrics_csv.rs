//! `metrics.csv`: the pipeline's own metrics, one row per run second (see
//! [`crate::pipeline_metrics`] for what each column means and its resolution).

use std::path::Path;

use super::{csv_text, write_file, Exporter, ReportError, RunData};

/// File name in the run directory.
pub const METRICS_FILE: &str = "metrics.csv";

/// Column names, in the order of [`crate::pipeline_metrics::MetricsSample`]'s fields.
pub const HEADER: [&str; 8] = [
    "second",
    "flink_running",
    "flink_jobs",
    "flink_restarts",
    "checkpoint_ms",
    "kafka_lag",
    "binlog_file",
    "binlog_pos",
];

/// Renders the CSV text.
pub fn render(run: &RunData) -> Result<String, ReportError> {
    csv_text(METRICS_FILE, &HEADER, run.metrics.iter().cloned())
}

/// Writes `metrics.csv` (only when the run sampled metrics).
#[derive(Debug, Clone, Copy, Default)]
pub struct MetricsCsvExporter;

impl Exporter for MetricsCsvExporter {
    fn name(&self) -> &'static str {
        METRICS_FILE
    }

    fn export(&self, run: &RunData, dir: &Path) -> Result<(), ReportError> {
        if run.metrics.is_empty() {
            return Ok(());
        }
        write_file(dir, METRICS_FILE, render(run)?.as_bytes())
    }
}
