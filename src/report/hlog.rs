//! `*.hlog`: HdrHistogram interval logs in the standard text format, one file per
//! sink (`kafka.hlog`, tags `insert`/`update`/`delete`/`server`) and one for the
//! client (`client.hlog`, tags `insert`/`update`/`delete`/`lateness`). One entry
//! per series per 1-second interval; timestamps are seconds since run start
//! (`BaseTime`), so HdrHistogram's own tools (HistogramLogProcessor,
//! HdrHistogramVisualizer) read them directly.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::time::SystemTime;

use hdrhistogram::serialization::interval_log::{
    IntervalLogIterator, IntervalLogWriterBuilder, LogEntry,
};
use hdrhistogram::serialization::V2DeflateSerializer;

use crate::stats::{decode_histogram, encode_v2, IntervalStats, Series};

use super::data::RunData;
use super::{write_file, Exporter, ReportError};

/// The Java writer's legend line; readers skip it, humans like it.
const LEGEND: &str =
    "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"\n";

/// The log groups of a run: `client` plus every sink measured.
pub fn groups(run: &RunData) -> Vec<&'static str> {
    std::iter::once("client")
        .chain(run.sinks.keys().map(|s| s.name()))
        .collect()
}

/// File name of a group's log.
pub fn file_name(group: &str) -> String {
    format!("{group}.hlog")
}

fn series_of(group: &str) -> Vec<Series> {
    Series::ALL
        .into_iter()
        .filter(|s| s.group() == group)
        .collect()
}

/// Renders the interval log of one group.
pub fn render(run: &RunData, group: &str) -> Result<Vec<u8>, ReportError> {
    let start = SystemTime::from(run.started_at);
    let mut buf = Vec::new();
    let mut serializer = V2DeflateSerializer::new();
    let io = |source| ReportError::Io {
        path: file_name(group).into(),
        source,
    };
    {
        let mut header = IntervalLogWriterBuilder::new();
        header
            .add_comment(&format!(
                "tpcds-bench run {} scenario {}: {} latency, values in microseconds",
                run.run_id, run.scenario, group
            ))
            .add_comment(&format!(
                "1-second intervals since run start; the first {} are warmup \
                 (excluded from summary.json totals)",
                run.stats.warmup_intervals()
            ))
            .with_start_time(start)
            .with_base_time(start);
        header
            .begin_log_with(&mut buf, &mut serializer)
            .map_err(io)?;
    }
    buf.extend_from_slice(LEGEND.as_bytes());
    // Lines are written here, not by the crate's writer: it would decode each
    // packed second only to serialize it again (most of a report's time after
    // an hour). Same text: `Tag=t,start,length,max,base64 of V2-deflate`.
    let series = series_of(group);
    for (second, interval) in run.stats.intervals().iter() {
        for s in &series {
            if let Some((v2, max)) = interval.histograms.v2(*s) {
                let encoded = encode_v2(&v2).map_err(|e| ReportError::Hlog {
                    path: file_name(group).into(),
                    message: e.to_string(),
                })?;
                writeln!(
                    buf,
                    "Tag={},{:.3},{:.3},{:.3},{encoded}",
                    s.tag(),
                    f64::from(second),
                    1.0,
                    max as f64
                )
                .expect("writes to a Vec do not fail");
            }
        }
    }
    Ok(buf)
}

/// Writes every group's `*.hlog`.
#[derive(Debug, Clone, Copy, Default)]
pub struct HlogExporter;

impl Exporter for HlogExporter {
    fn name(&self) -> &'static str {
        "*.hlog"
    }

    fn export(&self, run: &RunData, dir: &Path) -> Result<(), ReportError> {
        for group in groups(run) {
            write_file(dir, &file_name(group), &render(run, group)?)?;
        }
        Ok(())
    }
}

/// Reads one group's log back into per-second histograms, merging into `out`.
pub fn read_into(
    path: &Path,
    text: &[u8],
    group: &str,
    out: &mut BTreeMap<u32, IntervalStats>,
) -> Result<(), ReportError> {
    let bad = |message: String| ReportError::Hlog {
        path: path.to_path_buf(),
        message,
    };
    let known = series_of(group);
    for entry in IntervalLogIterator::new(text) {
        let entry = entry.map_err(|e| bad(format!("unparsable line: {e:?}")))?;
        let LogEntry::Interval(ilh) = entry else {
            continue;
        };
        let tag = ilh.tag().map(|t| t.as_str()).unwrap_or_default();
        let series = known
            .iter()
            .copied()
            .find(|s| s.tag() == tag)
            .ok_or_else(|| bad(format!("unknown tag {tag:?} in the {group} log")))?;
        let h = decode_histogram(ilh.encoded_histogram())
            .map_err(|e| bad(format!("interval {:?}: {e}", ilh.start_timestamp())))?;
        let second = u32::try_from(ilh.start_timestamp().as_secs())
            .map_err(|_| bad("interval timestamp out of range".into()))?;
        let histograms = &mut out.entry(second).or_default().histograms;
        // Keep the decoded histogram as is when it is the first for its slot, so a
        // re-rendered log is byte-identical (its header carries the tracked range).
        if histograms.get(series).is_some() {
            let merged = histograms.get_or_create(series).add(&h);
            merged.map_err(|e| bad(format!("cannot merge interval {second}: {e:?}")))?;
        } else {
            histograms.set(series, h);
        }
        // Packed as the run kept them: an hour's log decoded into live
        // histograms took 5 GB.
        histograms.pack();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::read::load_run;

    /// The lines written from packed bytes are the ones the hdrhistogram
    /// crate's writer wrote for this stored run (every second there is packed
    /// as it is read back).
    #[test]
    fn a_stored_run_re_renders_byte_for_byte() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/runs/quickstart");
        let loaded = load_run(&dir).unwrap();
        for group in groups(&loaded.run) {
            let stored = std::fs::read(dir.join(file_name(group))).unwrap();
            let rendered = render(&loaded.run, group).unwrap();
            assert!(
                rendered == stored,
                "{group}.hlog differs from the stored one:\n{}",
                String::from_utf8_lossy(&rendered[..rendered.len().min(2000)])
            );
        }
    }
}
