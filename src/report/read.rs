//! Reads a run directory back into a [`RunData`]: `summary.json` for the figures,
//! headline histograms and per-second counters, `*.hlog` for the per-second
//! histograms, `scenario.toml` for the input.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::caveat::Caveat;
use crate::stats::{decode_histogram, IntervalStats, RunStats, Series, SeriesHistograms};

use super::data::{RunData, SinkRun};
use super::hlog;
use super::summary_json::{Summary, SUMMARY_FILE, SUMMARY_FORMAT, SUMMARY_VERSION};
use super::{ReportError, SCENARIO_FILE};

/// A run directory read back.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedRun {
    /// Where it was read from.
    pub dir: PathBuf,
    /// `summary.json` as written.
    pub summary: Summary,
    /// Everything needed to re-render or compare the run.
    pub run: RunData,
}

fn read(path: PathBuf) -> Result<Vec<u8>, ReportError> {
    fs::read(&path).map_err(|source| ReportError::Read { path, source })
}

fn corrupt(path: &Path, message: impl Into<String>) -> ReportError {
    ReportError::Corrupt {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// Seconds as written in `summary.json`, back to a µs-exact duration.
fn secs(s: f64, path: &Path, field: &str) -> Result<Duration, ReportError> {
    if !(s.is_finite() && s >= 0.0) {
        return Err(corrupt(
            path,
            format!("{field} must be a non-negative number"),
        ));
    }
    Ok(Duration::from_micros((s * 1e6).round() as u64))
}

/// Runs interrupted before their load began were written with `null` rates
/// (0 / 0 s, which JSON cannot hold) before [`super::per_second`]: read
/// those as the 0 rows per second they were.
fn zero_null_rates(summary: &mut serde_json::Value) {
    for key in ["target_rate", "achieved_rate"] {
        if let Some(v) = summary.get_mut(key).filter(|v| v.is_null()) {
            *v = 0.0.into();
        }
    }
}

/// Reads the run directory `dir` (as written by [`super::write_run_dir`]).
pub fn load_run(dir: &Path) -> Result<LoadedRun, ReportError> {
    let summary_path = dir.join(SUMMARY_FILE);
    let mut value: serde_json::Value = serde_json::from_slice(&read(summary_path.clone())?)
        .map_err(|e| corrupt(&summary_path, e.to_string()))?;
    zero_null_rates(&mut value);
    let summary: Summary =
        serde_json::from_value(value).map_err(|e| corrupt(&summary_path, e.to_string()))?;
    if summary.format != SUMMARY_FORMAT {
        return Err(corrupt(
            &summary_path,
            format!(
                "format is {:?}, expected {SUMMARY_FORMAT:?}",
                summary.format
            ),
        ));
    }
    if summary.format_version > SUMMARY_VERSION {
        return Err(corrupt(
            &summary_path,
            format!(
                "format_version {} is newer than this build reads ({SUMMARY_VERSION}); \
                 upgrade tpcds-bench",
                summary.format_version
            ),
        ));
    }
    let scenario_path = dir.join(SCENARIO_FILE);
    let scenario_source = String::from_utf8(read(scenario_path.clone())?)
        .map_err(|_| corrupt(&scenario_path, "not UTF-8"))?;

    let mut totals = SeriesHistograms::new();
    for (key, text) in &summary.histograms {
        let series = Series::from_key(key)
            .ok_or_else(|| corrupt(&summary_path, format!("unknown histogram {key:?}")))?;
        let h = decode_histogram(text)
            .map_err(|e| corrupt(&summary_path, format!("histogram {key}: {e}")))?;
        totals.set(series, h);
    }

    let mut intervals: BTreeMap<u32, IntervalStats> = BTreeMap::new();
    for row in &summary.intervals {
        intervals.entry(row.second).or_default().counters = row.to_counters();
    }
    let groups = std::iter::once("client").chain(summary.sinks.keys().map(|s| s.name()));
    for group in groups {
        let path = dir.join(hlog::file_name(group));
        let text = read(path.clone())?;
        hlog::read_into(&path, &text, group, &mut intervals).map_err(|e| match e {
            ReportError::Hlog { path, message } => ReportError::Corrupt { path, message },
            other => other,
        })?;
    }

    let sinks = summary
        .sinks
        .iter()
        .map(|(&sink, s)| {
            (
                sink,
                SinkRun {
                    accounting: s.accounting.clone(),
                    resolution_us: s.resolution_us,
                    detection_window_us: s.detection_window_us,
                    clock_offset_us: s.clock_offset_us,
                    visibility: s.visibility.clone(),
                },
            )
        })
        .collect();
    let run = RunData {
        scenario: summary.scenario.clone(),
        scenario_source,
        resolved_scenario: summary.resolved_scenario.clone(),
        run_id: summary.run_id.clone(),
        started_at: summary.started_at,
        duration: secs(summary.duration_s, &summary_path, "duration_s")?,
        warmup: secs(summary.warmup_s, &summary_path, "warmup_s")?,
        interrupted: summary.interrupted,
        target_rows: summary.target_rows,
        target_rate: summary.target_rate,
        achieved_rows: summary.achieved_rows,
        achieved_rate: summary.achieved_rate,
        late: summary.late,
        dropped: summary.dropped,
        failed: summary.failed,
        sinks,
        environment: summary.environment.clone(),
        slo: summary.slo.clone(),
        caveats: summary.caveats.iter().cloned().map(Caveat::from).collect(),
        stats: RunStats::from_parts(summary.warmup_intervals, totals, intervals),
        faults: summary.faults.clone(),
        metrics: summary.pipeline_metrics.clone(),
        clock_offsets: summary.clock_offsets.clone(),
        shards: summary.shards.clone(),
        memory: summary.harness_memory,
        audit: summary.audit.clone(),
        snapshot: summary.snapshot.clone(),
    };
    Ok(LoadedRun {
        dir: dir.to_path_buf(),
        summary,
        run,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{OpKind, Sink};
    use crate::report::summary_json::Summary;
    use crate::report::testdata::tiny_run;
    use crate::report::write_run_dir;

    /// A run stopped before its first scheduled row: no time, no rows, no
    /// samples. It renders, reads back and re-renders.
    #[test]
    fn a_run_interrupted_before_its_load_began_renders_and_reads_back() {
        use crate::report::{per_second, rewrite_run_dir};
        use crate::stats::Collector;
        use std::time::Duration;
        let tmp = tempfile::tempdir().unwrap();
        let mut run = tiny_run();
        run.duration = Duration::ZERO;
        run.interrupted = true;
        (run.target_rows, run.achieved_rows, run.late) = (0, 0, 0);
        run.target_rate = per_second(0, Duration::ZERO);
        run.achieved_rate = per_second(0, Duration::ZERO);
        run.stats = Collector::new(Duration::from_secs(1)).into_stats();
        for s in run.sinks.values_mut() {
            s.accounting = Default::default();
        }
        assert_eq!(run.achieved_rate, 0.0);
        let dir = write_run_dir(tmp.path(), &run).unwrap();
        let v: serde_json::Value =
            serde_json::from_slice(&fs::read(dir.join(SUMMARY_FILE)).unwrap()).unwrap();
        assert_eq!(v["target_rate"], 0.0, "{v}");
        assert_eq!(v["achieved_rate"], 0.0, "{v}");
        let loaded = load_run(&dir).unwrap();
        assert_eq!(loaded.run.achieved_rate, 0.0);
        rewrite_run_dir(&dir, &loaded.run).unwrap();
        load_run(&dir).unwrap();
    }

    #[test]
    fn null_rates_of_older_runs_read_as_zero() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = write_run_dir(tmp.path(), &tiny_run()).unwrap();
        let path = dir.join(SUMMARY_FILE);
        let mut v: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
        v["target_rate"] = serde_json::Value::Null;
        v["achieved_rate"] = serde_json::Value::Null;
        fs::write(&path, serde_json::to_vec(&v).unwrap()).unwrap();
        let loaded = load_run(&dir).unwrap();
        assert_eq!(
            (loaded.run.target_rate, loaded.run.achieved_rate),
            (0.0, 0.0)
        );
    }

    /// Fault analyses written before `run_missing` had the name `lost`.
    #[test]
    fn older_runs_fault_loss_still_reads() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = write_run_dir(tmp.path(), &tiny_run()).unwrap();
        let path = dir.join(SUMMARY_FILE);
        let mut v: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
        v["faults"] = serde_json::json!([{
            "action": "restart", "target": "kafka", "control": "native",
            "at_s": 1.0, "duration_s": 1.0, "started_s": 1.0, "ended_s": 2.0,
            "sinks": [{ "sink": "kafka", "rows_delayed": 4, "lost": 3 }]
        }]);
        fs::write(&path, serde_json::to_vec(&v).unwrap()).unwrap();
        let loaded = load_run(&dir).unwrap();
        assert_eq!(loaded.run.faults[0].sinks[0].run_missing, 3);
    }

    #[test]
    fn round_trips_through_the_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let run = tiny_run();
        let dir = write_run_dir(tmp.path(), &run).unwrap();
        assert_eq!(dir.file_name().unwrap(), "20260301T120000Z-tiny");
        let loaded = load_run(&dir).unwrap();
        assert_eq!(loaded.summary, Summary::from_run(&run).unwrap());
        // Field by field first, for a readable failure, then the whole.
        assert_eq!(loaded.run.stats.totals(), run.stats.totals());
        assert_eq!(loaded.run.stats.intervals(), run.stats.intervals());
        assert_eq!(loaded.run, run);
        // A second write of the same run does not overwrite the first.
        let again = write_run_dir(tmp.path(), &loaded.run).unwrap();
        assert_eq!(again.file_name().unwrap(), "20260301T120000Z-tiny-2");
        for f in [
            "summary.json",
            "latency.csv",
            "timeseries.csv",
            "kafka.hlog",
            "summary.md",
        ] {
            assert_eq!(
                fs::read(dir.join(f)).unwrap(),
                fs::read(again.join(f)).unwrap(),
                "{f} re-rendered from the directory differs"
            );
        }
    }

    #[test]
    fn summary_json_has_the_documented_contract() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = write_run_dir(tmp.path(), &tiny_run()).unwrap();
        let v: serde_json::Value =
            serde_json::from_slice(&fs::read(dir.join("summary.json")).unwrap()).unwrap();
        for key in [
            "scenario",
            "target_rate",
            "achieved_rate",
            "sinks",
            "client",
            "slo",
            "environment",
            "run_id",
            "started_at",
            "duration_s",
            "interrupted",
            "caveats",
            "histograms",
        ] {
            assert!(v.get(key).is_some(), "missing {key}");
        }
        assert_eq!(v["started_at"], "2026-03-01T12:00:00Z");
        assert_eq!(v["interrupted"], false);
        let path1 = &v["sinks"]["path1"];
        for key in [
            "seen",
            "missing",
            "duplicates",
            "unexpected",
            "resolution_us",
        ] {
            assert!(path1.get(key).is_some(), "path1.{key}");
        }
        assert_eq!(path1["missing"], 2);
        assert_eq!(path1["resolution_us"], 100_000);
        assert_eq!(
            v["sinks"]["kafka"]["resolution_us"],
            serde_json::Value::Null
        );
        for key in ["p50", "p90", "p99", "p999", "max", "mean"] {
            assert!(path1["latency_us"].get(key).is_some(), "latency_us.{key}");
        }
        assert_eq!(path1["latency_us"]["p50"], 150_015);
        assert_eq!(v["sinks"]["kafka"]["ops"]["update"]["count"], 1);
        assert_eq!(v["client"]["latency_us"]["count"], 4);
        assert_eq!(v["slo"]["passed"], false);
        assert!(v["sinks"].get("binlog").is_none(), "binlog only when on");
        assert!(v["histograms"].get("kafka.insert").is_some());
    }

    #[test]
    fn reading_back_rebuilds_percentiles_from_histograms() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = write_run_dir(tmp.path(), &tiny_run()).unwrap();
        let loaded = load_run(&dir).unwrap();
        let s = loaded
            .run
            .stats
            .summary(Series::Sink(Sink::Kafka, OpKind::Insert));
        assert_eq!((s.count, s.p50, s.max), (3, 12_007, 30_015));
        // The warmup interval is back from kafka.hlog even though totals exclude it.
        let warm = loaded.run.stats.interval(0).unwrap();
        let h = warm
            .histograms
            .get(Series::Sink(Sink::Kafka, OpKind::Insert))
            .unwrap();
        assert_eq!(h.max(), 20_015);
    }

    #[test]
    fn not_a_run_directory_is_bad_input() {
        let tmp = tempfile::tempdir().unwrap();
        let e = load_run(tmp.path()).unwrap_err();
        assert!(matches!(e, ReportError::Read { .. }), "{e}");
        assert_eq!(e.exit_code(), 2);
        fs::write(tmp.path().join("summary.json"), "{\"format\": 1}").unwrap();
        let e = load_run(tmp.path()).unwrap_err();
        assert!(matches!(e, ReportError::Corrupt { .. }), "{e}");
        assert_eq!(e.exit_code(), 2);
    }

    #[test]
    fn corrupt_interval_log_is_reported_with_its_path() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = write_run_dir(tmp.path(), &tiny_run()).unwrap();
        fs::write(dir.join("path1.hlog"), "Tag=bogus,0.000,1.000,1.0,AAAA\n").unwrap();
        match load_run(&dir).unwrap_err() {
            ReportError::Corrupt { path, message } => {
                assert!(path.ends_with("path1.hlog"), "{}", path.display());
                assert!(message.contains("bogus"), "{message}");
            }
            e => panic!("unexpected {e}"),
        }
    }
}
