//! `summary.json`'s `snapshot`, and its lines in `summary.md`: the preload,
//! the jobs' start, and per sink the snapshot's duration and rate, the first
//! streamed row, the streaming p99 during and after, duplicates; MySQL's
//! load meanwhile; the audit of the preloaded rows.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::audit::AuditReport;
use crate::model::Sink;

/// The snapshot phase of a run. Times are seconds since the load started
/// (negative: before it).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SnapshotReport {
    /// Rows preloaded (`[snapshot] rows`): sale lines and returns.
    pub rows: u64,
    /// Of them, sale lines.
    pub sales: u64,
    /// Of them, returns.
    pub returns: u64,
    /// The preload's ticket range (`a..b`), apart from the run's.
    pub tickets: String,
    /// Wall time of the preload (s) and its rate.
    pub preload_s: f64,
    /// Rows per second of the preload.
    pub preload_rows_per_s: f64,
    /// MySQL's rows per table when the jobs started: what the snapshot reads
    /// (earlier runs' rows included).
    pub table_rows: BTreeMap<String, u64>,
    /// When `restart-jobs --fresh` was called.
    pub jobs_submitted_s: f64,
    /// When it returned with every job RUNNING.
    pub jobs_running_s: f64,
    /// Per sink (Kafka, path 1, path 2).
    pub sinks: BTreeMap<Sink, SinkSnapshot>,
    /// What it cost MySQL, from the jobs' submission to the last sink's end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mysql: Option<SourceLoad>,
    /// The audit of the preloaded rows at every sink (`None`: not run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit: Option<AuditReport>,
    /// What bounds these figures.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// One sink's snapshot.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SinkSnapshot {
    /// Preloaded rows the sink holds (Kafka: messages of the preload's range).
    pub rows: u64,
    /// Preloaded keys it received more than once (Kafka; a warehouse
    /// table's primary key holds one row a key).
    pub duplicates: u64,
    /// When the first preloaded row became visible there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_s: Option<f64>,
    /// When the last one did: the snapshot's end at this sink.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_s: Option<f64>,
    /// From the jobs running (submitted, started) to the last preloaded row visible.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_s: Option<f64>,
    /// The table rows read per second of that duration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows_per_s: Option<f64>,
    /// The first second a streamed (run) row was seen, from the jobs running (1 s resolution).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_streamed_s: Option<f64>,
    /// Median of the one-second p99 of streamed rows while the snapshot ran (ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p99_during_ms: Option<f64>,
    /// The highest one-second p99 meanwhile (ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p99_during_max_ms: Option<f64>,
    /// The steady one-second p99 after it (ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p99_steady_ms: Option<f64>,
    /// Since the jobs ran, when every one-second p99 stayed under
    /// twice the steady level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steady_after_s: Option<f64>,
}

/// MySQL's load over the snapshot.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SourceLoad {
    /// Seconds measured over.
    pub over_s: f64,
    /// MySQL's CPU seconds (native stack).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_s: Option<f64>,
    /// Rows read over it (`Innodb_rows_read`, MariaDB's `Rows_read`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows_read: Option<u64>,
    /// `Bytes_sent` over it (the snapshot's reads and every binlog reader).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes_sent: Option<u64>,
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "–".to_string(), |x| format!("{x:.digits$}"))
}

impl SnapshotReport {
    /// The `summary.md` section.
    pub fn markdown(&self) -> String {
        let mut s = String::from("## Snapshot phase\n\n");
        let tables: Vec<String> = self
            .table_rows
            .iter()
            .map(|(t, n)| format!("{t} {n}"))
            .collect();
        s.push_str(&format!(
            "Preloaded {} rows ({} sale lines, {} returns; tickets {}) in {:.1} s ({:.0} rows/s) with the CDC jobs stopped; \
             the jobs were submitted anew at {:+.1} s and running at {:+.1} s (load time); MySQL then held {}.\n\n",
            self.rows,
            self.sales,
            self.returns,
            self.tickets,
            self.preload_s,
            self.preload_rows_per_s,
            self.jobs_submitted_s,
            self.jobs_running_s,
            tables.join(", ")
        ));
        s.push_str("| sink | preloaded rows | duplicates | snapshot done (s after the jobs ran) | rows/s | first streamed row (s) | p99 during (median / max ms) | steady p99 (ms) | p99 < 2× steady after (s) |\n");
        s.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (sink, x) in &self.sinks {
            s.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} | {} / {} | {} | {} |\n",
                sink.name(),
                x.rows,
                x.duplicates,
                opt(x.duration_s, 1),
                opt(x.rows_per_s, 0),
                opt(x.first_streamed_s, 0),
                opt(x.p99_during_ms, 0),
                opt(x.p99_during_max_ms, 0),
                opt(x.p99_steady_ms, 0),
                opt(x.steady_after_s, 0),
            ));
        }
        if let Some(m) = &self.mysql {
            s.push_str(&format!(
                "\nMySQL over the snapshot ({:.0} s): CPU {} s, {} rows read, {} bytes sent.\n",
                m.over_s,
                opt(m.cpu_s, 1),
                m.rows_read.map_or("–".into(), |n| n.to_string()),
                m.bytes_sent.map_or("–".into(), |n| n.to_string()),
            ));
        }
        if let Some(a) = &self.audit {
            let parts: Vec<String> = a
                .sinks
                .iter()
                .map(|(sink, x)| match &x.error {
                    Some(e) => format!("{}: not finished ({e})", sink.name()),
                    None => format!("{} {} rows, {} differ", sink.name(), x.rows, x.mismatched),
                })
                .collect();
            s.push_str(&format!(
                "\nAudit of the preloaded rows against MySQL: {}.\n",
                parts.join("; ")
            ));
        }
        for n in &self.notes {
            s.push_str(&format!("\n- {n}"));
        }
        if !self.notes.is_empty() {
            s.push('\n');
        }
        s
    }
}

/// `compare A B` of two snapshot runs: each sink's snapshot time, rate and
/// p99 during it, side by side, with the change.
pub fn compare_table(a: &SnapshotReport, b: &SnapshotReport) -> String {
    let mut s = format!(
        "### Snapshot phase\n\nA preloaded {} rows (MySQL held {}), B {} (MySQL held {}).\n\n",
        a.rows,
        a.table_rows.values().sum::<u64>(),
        b.rows,
        b.table_rows.values().sum::<u64>()
    );
    s.push_str("| sink | snapshot done A (s) | B (s) | B / A | rows/s A | B | p99 during A (median ms) | B |\n");
    s.push_str("|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for (sink, x) in &a.sinks {
        let Some(y) = b.sinks.get(sink) else { continue };
        let ratio = x
            .duration_s
            .zip(y.duration_s)
            .filter(|(p, _)| *p > 0.0)
            .map(|(p, q)| format!("{:.2}", q / p))
            .unwrap_or_else(|| "–".into());
        s.push_str(&format!(
            "| {} | {} | {} | {ratio} | {} | {} | {} | {} |\n",
            sink.name(),
            opt(x.duration_s, 1),
            opt(y.duration_s, 1),
            opt(x.rows_per_s, 0),
            opt(y.rows_per_s, 0),
            opt(x.p99_during_ms, 0),
            opt(y.p99_during_ms, 0),
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_section_lists_each_sink_and_round_trips_through_json() {
        let mut r = SnapshotReport {
            rows: 1000,
            sales: 910,
            returns: 90,
            tickets: "10..20".into(),
            preload_s: 2.0,
            preload_rows_per_s: 500.0,
            jobs_submitted_s: -30.5,
            jobs_running_s: -0.2,
            ..SnapshotReport::default()
        };
        r.table_rows.insert("store_sales".into(), 910);
        r.sinks.insert(
            Sink::Path2,
            SinkSnapshot {
                rows: 1000,
                duration_s: Some(41.25),
                rows_per_s: Some(24.2),
                p99_during_ms: Some(850.0),
                p99_during_max_ms: Some(2100.0),
                ..SinkSnapshot::default()
            },
        );
        r.notes.push("a note".into());
        let md = r.markdown();
        assert!(md.starts_with("## Snapshot phase"), "{md}");
        assert!(md.contains("submitted anew at -30.5 s"), "{md}");
        assert!(
            md.contains("| path2 | 1000 | 0 | 41.2 | 24 | – | 850 / 2100 | – | – |"),
            "{md}"
        );
        assert!(md.contains("- a note"), "{md}");
        let back: SnapshotReport =
            serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back, r);
    }
}
