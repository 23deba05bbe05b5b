//! What the mid-run audits found (`[audit] every`), as `summary.json`'s
//! `audit.periodic` holds it, and the one line per sink summary.md and
//! report.html print from it: how many audits, when the contents first
//! diverged from MySQL's and when they converged again.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::Sink;

/// One sink in one mid-run audit.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PeriodicSink {
    /// The ticket ranges compared (`a..b`, one per worker that had closed
    /// tickets the sink had shown in full).
    pub tickets: Vec<String>,
    /// MySQL's rows in those ranges, both tables.
    pub rows: u64,
    /// Keys whose rows differ, both tables.
    pub mismatched: u64,
    /// The first differing keys, one line each (at most [`KEYS_LISTED`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<String>,
    /// How long the sink's comparison took (ms).
    pub took_ms: u64,
    /// Why this sink's audit could not finish.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Differing keys a mid-run audit lists per sink (the end-of-run audit lists 20).
pub const KEYS_LISTED: usize = 3;

/// One mid-run audit: a consistent cut, compared at every audited sink.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PeriodicAudit {
    /// When the cut was taken, ms since the load started.
    pub at_ms: u64,
    /// How long the audit took (ms), the cut included.
    pub took_ms: u64,
    /// Per audited sink.
    pub sinks: BTreeMap<Sink, PeriodicSink>,
}

/// The mid-run audits of a run, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Series {
    /// The audits.
    pub audits: Vec<PeriodicAudit>,
    /// Cuts skipped because the previous audit was still running.
    pub skipped: u64,
}

impl Series {
    /// One line per sink: how many audits, how many rows the last compared,
    /// when the contents first diverged and when they converged again.
    pub fn lines(&self) -> Vec<String> {
        self.sinks().iter().map(|s| self.line(*s)).collect()
    }

    /// Every mid-run audit in one row: when its cut was taken (s since the
    /// load started), how long it took, and per sink the rows compared and
    /// the keys that differed (or that it failed). The header comes first.
    pub fn table(&self) -> Vec<Vec<String>> {
        let sinks = self.sinks();
        let mut head = vec!["at".to_string(), "took".to_string()];
        head.extend(sinks.iter().map(|s| format!("{s}: rows, differ")));
        let mut out = vec![head];
        for a in &self.audits {
            let mut row = vec![
                format!("{:.1} s", a.at_ms as f64 / 1000.0),
                format!("{} ms", a.took_ms),
            ];
            row.extend(sinks.iter().map(|s| match a.sinks.get(s) {
                None => "–".to_string(),
                Some(x) if x.error.is_some() => "failed".to_string(),
                Some(x) => format!("{}, {}", x.rows, x.mismatched),
            }));
            out.push(row);
        }
        out
    }

    fn sinks(&self) -> Vec<Sink> {
        let mut sinks: Vec<Sink> = self
            .audits
            .iter()
            .flat_map(|a| a.sinks.keys().copied())
            .collect();
        sinks.sort_unstable();
        sinks.dedup();
        sinks
    }

    fn line(&self, sink: Sink) -> String {
        let at = |ms: u64| format!("{:.1} s", ms as f64 / 1000.0);
        let mine: Vec<(u64, &PeriodicSink)> = self
            .audits
            .iter()
            .filter_map(|a| a.sinks.get(&sink).map(|s| (a.at_ms, s)))
            .collect();
        let failed = mine.iter().filter(|(_, s)| s.error.is_some()).count();
        let last_rows = mine.last().map_or(0, |(_, s)| s.rows);
        let mut out = format!(
            "{sink}: {} audits during the run ({} skipped, {failed} failed), the last over {last_rows} rows",
            mine.len(),
            self.skipped
        );
        // Divergence episodes: from an audit with differences to the next
        // audit without (a failed audit says nothing either way).
        let mut episodes: Vec<(u64, Option<u64>, u64)> = Vec::new();
        for (t, s) in mine.iter().filter(|(_, s)| s.error.is_none()) {
            match episodes.last_mut() {
                Some((_, end @ None, worst)) => {
                    if s.mismatched == 0 {
                        *end = Some(*t);
                    } else {
                        *worst = (*worst).max(s.mismatched);
                    }
                }
                _ if s.mismatched > 0 => episodes.push((*t, None, s.mismatched)),
                _ => {}
            }
        }
        match episodes.first() {
            None => out.push_str("; the contents agreed with MySQL's in every one"),
            Some((from, to, worst)) => {
                out.push_str(&format!(
                    "; contents first diverged at {} ({worst} keys at most)",
                    at(*from)
                ));
                match to {
                    Some(t) => out.push_str(&format!(" and converged again at {}", at(*t))),
                    None => out.push_str(" and had not converged by the last audit"),
                }
                if episodes.len() > 1 {
                    out.push_str(&format!(" ({} episodes in all)", episodes.len()));
                }
                if let Some(k) = mine.iter().find_map(|(_, s)| s.keys.first()) {
                    out.push_str(&format!("; first: {k}"));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn audit(at_ms: u64, path1: u64) -> PeriodicAudit {
        let sink = |mismatched: u64| PeriodicSink {
            rows: 100,
            mismatched,
            keys: (mismatched > 0)
                .then(|| "store_sales(ticket=7, item=3): …".to_string())
                .into_iter()
                .collect(),
            ..PeriodicSink::default()
        };
        PeriodicAudit {
            at_ms,
            took_ms: 5,
            sinks: [(Sink::Kafka, sink(0)), (Sink::Path1, sink(path1))].into(),
        }
    }

    #[test]
    fn a_line_says_when_a_sink_diverged_and_converged_again() {
        let s = Series {
            audits: vec![audit(5_000, 0), audit(10_000, 1), audit(15_000, 0)],
            skipped: 1,
        };
        let lines = s.lines();
        assert_eq!(lines.len(), 2);
        assert!(
            lines[0].starts_with("kafka: 3 audits during the run (1 skipped, 0 failed)")
                && lines[0].ends_with("agreed with MySQL's in every one"),
            "{}",
            lines[0]
        );
        assert!(
            lines[1].contains(
                "first diverged at 10.0 s (1 keys at most) and converged again at 15.0 s"
            ) && lines[1].contains("first: store_sales(ticket=7"),
            "{}",
            lines[1]
        );
        let open = Series {
            audits: vec![audit(5_000, 2)],
            skipped: 0,
        };
        assert!(open.lines()[1].contains("had not converged by the last audit"));
        let t = s.table();
        assert_eq!(
            t[0],
            ["at", "took", "kafka: rows, differ", "path1: rows, differ"]
        );
        assert_eq!(t[2], ["10.0 s", "5 ms", "100, 0", "100, 1"]);
        assert_eq!(t.len(), 4);
    }
}
