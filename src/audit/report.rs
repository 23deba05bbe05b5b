//! What the audit found, as `summary.json`'s `audit` holds it, and the
//! lines the terminal, summary.md and report.html print from it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::{Sink, Table};

/// How a key differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiffKind {
    /// In MySQL, not at the sink.
    Missing,
    /// At the sink, not in MySQL.
    Extra,
    /// At both, with different values.
    Changed,
}

/// One column of a changed row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnDiff {
    /// Column name.
    pub column: String,
    /// MySQL's canonical value.
    pub mysql: String,
    /// The sink's.
    pub sink: String,
}

/// One differing key, with both sides' canonical text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyDiff {
    /// `item_sk`.
    pub item: u32,
    /// `ticket_number`.
    pub ticket: u64,
    /// Missing, extra or changed.
    pub kind: DiffKind,
    /// MySQL's row (canonical text), if it has one.
    pub mysql: Option<String>,
    /// The sink's row, if it has one.
    pub sink: Option<String>,
    /// For a changed row: the columns that differ.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<ColumnDiff>,
}

/// A money column whose sum differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SumDiff {
    /// Column name.
    pub column: String,
    /// MySQL's sum.
    pub mysql: String,
    /// The sink's.
    pub sink: String,
}

/// One table at one sink.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TableAudit {
    /// Rows MySQL holds in the range.
    pub rows_mysql: u64,
    /// Rows the sink holds in the range.
    pub rows_sink: u64,
    /// Keys whose rows differ (missing, extra or changed).
    pub mismatched: u64,
    /// The first [`super::narrow::LISTED`] differing keys, by ticket.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<KeyDiff>,
    /// Differing keys not listed.
    #[serde(default)]
    pub more_keys: u64,
    /// Money columns whose sums differ.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sums_differ: Vec<SumDiff>,
    /// How long this table's comparison took (ms).
    pub took_ms: u64,
}

/// One sink.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SinkAudit {
    /// Rows compared (MySQL's rows in the range, both tables).
    pub rows: u64,
    /// Differing keys, both tables.
    pub mismatched: u64,
    /// How long the sink's audit took (ms), both tables.
    pub took_ms: u64,
    /// Per table.
    pub tables: BTreeMap<Table, TableAudit>,
    /// Why the audit of this sink could not finish.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The audit of a run: `summary.json`'s `audit`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AuditReport {
    /// The ticket range compared (`a..b`).
    pub tickets: String,
    /// Per audited sink.
    pub sinks: BTreeMap<Sink, SinkAudit>,
    /// The whole audit's wall time (ms), every sink and table.
    #[serde(default)]
    pub took_ms: u64,
    /// MySQL's side of it (ms): its totals, computed once for every sink,
    /// while the sinks computed theirs.
    #[serde(default)]
    pub mysql_ms: u64,
    /// The audits during the run (`[audit] every`), oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub periodic: Vec<super::PeriodicAudit>,
    /// Mid-run cuts skipped because the previous audit was still running.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub periodic_skipped: u64,
    /// What the Kafka read-back found of the range (when the topics were read back).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kafka_read: Option<super::kafka::KafkaRead>,
    /// The Kafka observer's tally, when the run kept one (see
    /// [`crate::observe::kafka::tally`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kafka_tally: Option<KafkaTallied>,
    /// The binlog observer's tally, when the run kept one (see
    /// [`crate::audit::source`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mysql_tally: Option<MysqlTallied>,
}

/// How the binlog observer's tally served as MySQL's side.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MysqlTallied {
    /// Row changes of the run's range it counted.
    pub changes: u64,
    /// MySQL's totals came from it for every table (MySQL's row count
    /// agreed, and no sink differed from it).
    pub used: bool,
    /// Why MySQL's totals were computed in MySQL after all (the first reason).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sql_because: Option<String>,
}

/// How the Kafka observer's tally served the audit.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct KafkaTallied {
    /// Messages of the run's range it counted.
    pub messages: u64,
    /// It agreed with MySQL for every table, so the topics were not read back.
    pub agreed: bool,
    /// Why it could not be used (the topics were read back).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unusable: Option<String>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl AuditReport {
    /// Differing keys over every sink (an unfinished sink counts as one).
    pub fn mismatched(&self) -> u64 {
        self.sinks
            .values()
            .map(|s| s.mismatched + u64::from(s.error.is_some()))
            .sum()
    }

    /// The mid-run audits as a [`super::Series`].
    pub fn series(&self) -> super::Series {
        super::Series {
            audits: self.periodic.clone(),
            skipped: self.periodic_skipped,
        }
    }

    /// One line per sink, for the terminal and summary.md; then one line
    /// per sink for the mid-run audits, if any.
    pub fn lines(&self) -> Vec<String> {
        let mut out = self.end_lines();
        if !self.periodic.is_empty() {
            out.extend(
                self.series()
                    .lines()
                    .into_iter()
                    .map(|l| format!("during the run, {l}")),
            );
        }
        out
    }

    fn end_lines(&self) -> Vec<String> {
        if self.sinks.is_empty() {
            return vec!["no audit after the drain (the run was interrupted)".into()];
        }
        let mut out = vec![format!(
            "the audit took {} ms in all; MySQL's side {} ms, taken once for every sink \
             while the sinks computed theirs (the warehouse paths one after the other)",
            self.took_ms, self.mysql_ms
        )];
        if let Some(t) = &self.mysql_tally {
            out.push(match &t.sql_because {
                None => format!(
                    "mysql: totals from the binlog observer's tally of {} row changes (MySQL's row count agreed); not computed in MySQL",
                    t.changes
                ),
                Some(why) => format!(
                    "mysql: totals computed in MySQL ({why}; the binlog's tally counted {} row changes)",
                    t.changes
                ),
            });
        }
        if let Some(t) = &self.kafka_tally {
            out.push(match (&t.unusable, t.agreed) {
                (Some(why), _) => format!("kafka: the observer's tally was not usable ({why}); the topics were read back"),
                (None, true) => format!(
                    "kafka: compared by the observer's tally of {} messages (each key's last image, summed as they went by); not read back",
                    t.messages
                ),
                (None, false) => format!(
                    "kafka: the observer's tally of {} messages differed from MySQL; the topics were read back and compared key by key",
                    t.messages
                ),
            });
        }
        for (sink, a) in &self.sinks {
            if let Some(e) = &a.error {
                out.push(format!("{sink}: audit failed: {e}"));
                continue;
            }
            let tables: Vec<String> = a
                .tables
                .iter()
                .map(|(t, x)| {
                    format!(
                        "{t} {}/{} rows, {} differ",
                        x.rows_sink, x.rows_mysql, x.mismatched
                    )
                })
                .collect();
            out.push(format!(
                "{sink}: {} rows compared with MySQL, {} differ ({}), {} ms",
                a.rows,
                a.mismatched,
                tables.join("; "),
                a.took_ms
            ));
            for (t, x) in &a.tables {
                for k in &x.keys {
                    out.push(format!("  {sink} {}", describe(*t, k)));
                }
                if x.more_keys > 0 {
                    out.push(format!("  {sink} {t}: … and {} more keys", x.more_keys));
                }
            }
        }
        out
    }
}

/// One differing key in one line.
pub fn describe(table: Table, k: &KeyDiff) -> String {
    let key = format!("{table}(ticket={}, item={})", k.ticket, k.item);
    match k.kind {
        DiffKind::Missing => format!("{key}: missing at the sink (MySQL: {})", show(&k.mysql)),
        DiffKind::Extra => format!("{key}: not in MySQL (sink: {})", show(&k.sink)),
        DiffKind::Changed if !k.columns.is_empty() => format!(
            "{key}: {}",
            k.columns
                .iter()
                .map(|c| format!("{} MySQL {} ≠ sink {}", c.column, c.mysql, c.sink))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        DiffKind::Changed => format!(
            "{key}: differs (MySQL: {}; sink: {})",
            show(&k.mysql),
            show(&k.sink)
        ),
    }
}

fn show(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("(gone)")
}
