//! The run directory: `reports/<timestamp>-<scenario>/` rendered from a
//! [`RunData`] by one [`Exporter`] per output format, written atomically
//! (staged in a hidden sibling directory, then renamed), and read back by
//! [`load_run`] so `report` and `compare` need nothing but the directory.
//!
//! Files: `scenario.toml` (the input, verbatim), `summary.json` (the machine
//! contract, with the headline histograms embedded), `summary.md`, `latency.csv`,
//! `timeseries.csv`, `*.hlog` (standard HdrHistogram interval logs), the charts
//! (`*.png`, `*.svg`) and `report.html` (one self-contained page).

mod atomic;
pub mod charts;
mod data;
pub mod hlog;
pub mod html;
pub mod latency_csv;
pub mod markdown;
pub mod metrics_csv;
mod read;
pub mod summary_json;
mod tables;
#[cfg(test)]
pub(crate) mod testdata;
pub mod timeseries_csv;

use std::io;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::stats::StatsError;

pub use atomic::{rewrite_run_dir, run_dir_name, run_id, write_run_dir, write_run_dir_with};
pub use data::{
    HarnessMemory, RunData, ShardInfo, SinkAccounting, SinkRun, SinkVisibility, SloVerdict,
};
pub use read::{load_run, LoadedRun};
pub use summary_json::Summary;

/// File name of the copied scenario.
pub const SCENARIO_FILE: &str = "scenario.toml";

/// Errors while writing or reading a run directory.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Writing a file or directory failed.
    #[error("cannot write {}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// CSV serialization failed.
    #[error("cannot write {}", path.display())]
    Csv {
        /// The CSV file.
        path: PathBuf,
        /// Why.
        #[source]
        source: csv::Error,
    },
    /// JSON serialization failed.
    #[error("cannot serialize {}", path.display())]
    Json {
        /// The JSON file.
        path: PathBuf,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// A histogram could not be encoded.
    #[error("cannot encode histogram {what}")]
    Histogram {
        /// Which series.
        what: String,
        /// Why.
        #[source]
        source: StatsError,
    },
    /// An interval log could not be written.
    #[error("cannot write interval log {}: {message}", path.display())]
    Hlog {
        /// The log file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// A chart could not be drawn.
    #[error("cannot draw chart {name}: {message}")]
    Chart {
        /// The chart file.
        name: String,
        /// Why.
        message: String,
    },
    /// A file of a run directory could not be read.
    #[error(
        "cannot read {}; pass a run directory written by `tpcds-bench run` \
         (reports/<timestamp>-<scenario>/)",
        path.display()
    )]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// A file of a run directory is not what this build writes.
    #[error("{} is not a valid tpcds-bench run file: {message}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
}

impl ReportError {
    /// Exit-code class: 2 (bad input) when a run directory given by the user cannot
    /// be read; 4 (internal fault) when writing fails.
    pub fn exit_code(&self) -> i32 {
        match self {
            ReportError::Read { .. } | ReportError::Corrupt { .. } => 2,
            _ => 4,
        }
    }
}

/// One output format of the run directory (hyperfine's `export/` shape).
pub trait Exporter {
    /// The file (or file pattern) it writes, for logs and errors.
    fn name(&self) -> &'static str;
    /// Writes its file(s) for `run` into `dir` (an existing, staging directory).
    fn export(&self, run: &RunData, dir: &Path) -> Result<(), ReportError>;
}

/// Copies the scenario source (URL passwords and secret-looking values masked).
#[derive(Debug, Clone, Copy, Default)]
pub struct ScenarioExporter;

impl Exporter for ScenarioExporter {
    fn name(&self) -> &'static str {
        SCENARIO_FILE
    }

    fn export(&self, run: &RunData, dir: &Path) -> Result<(), ReportError> {
        // Verbatim except secrets (a scenario may carry a full DSN).
        let text = crate::redact::redact_text(&run.scenario_source);
        write_file(dir, SCENARIO_FILE, text.as_bytes())
    }
}

/// Every exporter of a full run directory, in writing order.
pub fn default_exporters() -> Vec<Box<dyn Exporter>> {
    vec![
        Box::new(ScenarioExporter),
        Box::new(summary_json::SummaryJsonExporter),
        Box::new(latency_csv::LatencyCsvExporter),
        Box::new(timeseries_csv::TimeseriesCsvExporter),
        Box::new(hlog::HlogExporter),
        Box::new(markdown::MarkdownExporter),
        Box::new(charts::ChartsExporter),
        Box::new(html::HtmlExporter),
        Box::new(metrics_csv::MetricsCsvExporter),
    ]
}

/// `count` per second over `over`, as `summary.json` holds a run's rates; 0
/// for a run that measured no time (interrupted before its load began, 200 ms
/// after the start), where `count / 0` is NaN: serde_json writes that as
/// `null`, and such a run directory could not be read back.
pub fn per_second(count: u64, over: std::time::Duration) -> f64 {
    let secs = over.as_secs_f64();
    if secs > 0.0 {
        count as f64 / secs
    } else {
        0.0
    }
}

/// Writes `bytes` to `dir/name`.
pub(crate) fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), ReportError> {
    let path = dir.join(name);
    std::fs::write(&path, bytes).map_err(|source| ReportError::Io { path, source })
}

/// Renders rows as CSV text with an explicit header (present even with no rows).
pub(crate) fn csv_text<R: Serialize>(
    name: &str,
    header: &[&str],
    rows: impl IntoIterator<Item = R>,
) -> Result<String, ReportError> {
    let err = |source| ReportError::Csv {
        path: name.into(),
        source,
    };
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    w.write_record(header).map_err(err)?;
    for row in rows {
        w.serialize(row).map_err(err)?;
    }
    let bytes = w.into_inner().map_err(|e| ReportError::Io {
        path: name.into(),
        source: e.into_error(),
    })?;
    Ok(String::from_utf8(bytes).expect("CSV of UTF-8 fields is UTF-8"))
}
