//! The shared vocabulary of the harness: tables, row keys, operations, sinks and
//! observations. Every stage (generator, workers, observers, tracker, stats) speaks
//! these types, so they stay small, `Copy` where possible, and free of I/O.
//! `keys`: a row key packed as one `u64`, which workers, the warehouse
//! observer and the tracker all key their tables by; `churn`: their hash
//! table that keeps its size under steady insert and remove churn.

pub(crate) mod churn;
pub(crate) mod keys;

use std::fmt;
use std::time::Instant;

use serde::{Deserialize, Serialize};

/// The two TPC-DS fact tables the pipeline carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Table {
    /// `store_sales`, key `(ss_item_sk, ss_ticket_number)`.
    StoreSales,
    /// `store_returns`, key `(sr_item_sk, sr_ticket_number)`.
    StoreReturns,
}

impl Table {
    /// Both tables, in a fixed order.
    pub const ALL: [Table; 2] = [Table::StoreSales, Table::StoreReturns];

    /// The table's name in MySQL, in the warehouse schemas and in topic suffixes.
    pub fn name(self) -> &'static str {
        match self {
            Table::StoreSales => "store_sales",
            Table::StoreReturns => "store_returns",
        }
    }

    /// Column prefix (`ss_` / `sr_`).
    pub fn prefix(self) -> &'static str {
        match self {
            Table::StoreSales => "ss_",
            Table::StoreReturns => "sr_",
        }
    }

    /// Index into fixed-size per-table arrays (`[T; 2]`), matching [`Table::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// Parses a table name as it appears in topics, schemas or changelog payloads
    /// (`store_sales`, `business_db.store_sales`, `tpcds.store_sales`, `path1.store_sales`).
    pub fn from_qualified(name: &str) -> Option<Table> {
        match name.rsplit('.').next()? {
            "store_sales" => Some(Table::StoreSales),
            "store_returns" => Some(Table::StoreReturns),
            _ => None,
        }
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The natural primary key of a row: `(item_sk, ticket_number)` plus its table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RowKey {
    /// Which table the row lives in.
    pub table: Table,
    /// `ss_ticket_number` / `sr_ticket_number`.
    pub ticket: u64,
    /// `ss_item_sk` / `sr_item_sk`.
    pub item: u32,
}

impl fmt::Display for RowKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}(ticket={}, item={})",
            self.table, self.ticket, self.item
        )
    }
}

/// What a write did to a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpKind {
    /// A new row.
    Insert,
    /// A new version of an existing row (a price correction).
    Update,
    /// A row removed (a voided ticket line).
    Delete,
}

impl OpKind {
    /// All operations, in report order.
    pub const ALL: [OpKind; 3] = [OpKind::Insert, OpKind::Update, OpKind::Delete];

    /// Lower-case name used in files and reports.
    pub fn name(self) -> &'static str {
        match self {
            OpKind::Insert => "insert",
            OpKind::Update => "update",
            OpKind::Delete => "delete",
        }
    }
}

impl fmt::Display for OpKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where a change can be observed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sink {
    /// MySQL's binlog, read directly: the physical floor of CDC latency.
    Binlog,
    /// The changelog topics `tpcds.store_sales` / `tpcds.store_returns`.
    Kafka,
    /// Warehouse schema `path1` (MySQL → CDC → Kafka → Flink → warehouse).
    Path1,
    /// Warehouse schema `path2` (MySQL → CDC → warehouse).
    Path2,
    /// The derived per-store daily relation over `path1` (`derived.store_daily_path1`,
    /// or its materialized view): freshness of probe sales.
    Path1View,
    /// The same over `path2`.
    Path2View,
    /// The streaming analytics topic `tpcds.sales_metrics`: probe commit → the
    /// first window result that includes it.
    Metrics,
    /// Read under load: per-store sales joined with returns over a date range.
    QStoreReturns,
    /// Read under load: top items by net profit over a date range.
    QTopItems,
}

impl Sink {
    /// All sinks, in report order.
    pub const ALL: [Sink; 9] = [
        Sink::Binlog,
        Sink::Kafka,
        Sink::Path1,
        Sink::Path2,
        Sink::Path1View,
        Sink::Path2View,
        Sink::Metrics,
        Sink::QStoreReturns,
        Sink::QTopItems,
    ];

    /// The sinks of the CDC pipeline itself (every row is expected at each).
    pub const CDC: [Sink; 4] = [Sink::Binlog, Sink::Kafka, Sink::Path1, Sink::Path2];

    /// Sinks that see only the run's probe rows (derived data), not the workload.
    pub const DERIVED: [Sink; 3] = [Sink::Path1View, Sink::Path2View, Sink::Metrics];

    /// Sinks that are analytical queries run during the load, not row observers.
    pub const QUERIES: [Sink; 2] = [Sink::QStoreReturns, Sink::QTopItems];

    /// The key used in `summary.json`, file names and CLI output.
    pub fn name(self) -> &'static str {
        match self {
            Sink::Binlog => "binlog",
            Sink::Kafka => "kafka",
            Sink::Path1 => "path1",
            Sink::Path2 => "path2",
            Sink::Path1View => "path1_view",
            Sink::Path2View => "path2_view",
            Sink::Metrics => "metrics",
            Sink::QStoreReturns => "q_store_returns",
            Sink::QTopItems => "q_top_items",
        }
    }

    /// True for the derived-data sinks ([`Sink::DERIVED`]).
    pub fn is_derived(self) -> bool {
        Sink::DERIVED.contains(&self)
    }

    /// True for the reads-under-load query series ([`Sink::QUERIES`]).
    pub fn is_query(self) -> bool {
        Sink::QUERIES.contains(&self)
    }

    /// True for sinks the harness polls (the warehouse schemas and derived
    /// relations): a poll tells *that* a row is visible; *when* comes from the
    /// sink's own [`Visible`] stamp where it has one.
    pub fn is_polled(self) -> bool {
        matches!(
            self,
            Sink::Path1 | Sink::Path2 | Sink::Path1View | Sink::Path2View
        )
    }

    /// Index into fixed-size per-sink arrays (`[T; Sink::ALL.len()]`), matching [`Sink::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Sink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Wall-clock microseconds since the Unix epoch, UTC. The harness writes it into
/// the `bench_ts DATETIME(6)` column of every row version it writes; together with
/// the key it identifies one version of one row at every sink.
pub type StampMicros = i64;

/// One change seen at a sink, as an observer reports it to the tracker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observation {
    /// Where it was seen.
    pub sink: Sink,
    /// Which row.
    pub key: RowKey,
    /// What the change was, as the sink tells it (an upsert reads as `Insert`
    /// or `Update`; the tracker resolves which from what it wrote).
    pub op: OpKind,
    /// `bench_ts` of the row version seen (the before-image's for a delete, when the
    /// format carries one); `None` when the sink does not carry it.
    pub stamp: Option<StampMicros>,
    /// When the harness saw it (monotonic clock, the same one commit acks use).
    pub seen_at: Instant,
    /// The sink's own arrival stamp on the sink server's clock, when it has one
    /// (warehouse `arrived_at`, Kafka LogAppendTime), wall-clock µs.
    pub server_arrival: Option<StampMicros>,
    /// When the sink itself says the change became visible, already moved onto
    /// the harness's clock; `None` when the sink cannot say (the poll's
    /// `seen_at` is then all there is).
    pub visible: Option<Visible>,
}

/// Where a sink's "became visible" moment comes from, best first.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum VisibleSource {
    /// The warehouse's commit timestamp of the row version
    /// (`pg_xact_commit_timestamp(xmin)`): the moment it became visible.
    CommitTs,
    /// The row's `arrived_at` stamp: taken inside the sink's transaction, so it
    /// precedes the commit by up to that transaction's length.
    ArrivedAt,
    /// Kafka's LogAppendTime: the broker's append, in whole milliseconds.
    LogAppendTime,
    /// The harness's own sighting (a poll's answer): visible at most one
    /// detection window earlier.
    #[default]
    Detected,
}

impl VisibleSource {
    /// Every source, best first.
    pub const ALL: [VisibleSource; 4] = [
        VisibleSource::CommitTs,
        VisibleSource::ArrivedAt,
        VisibleSource::LogAppendTime,
        VisibleSource::Detected,
    ];

    /// The key in `summary.json` and fingerprints.
    pub fn name(self) -> &'static str {
        match self {
            VisibleSource::CommitTs => "commit_ts",
            VisibleSource::ArrivedAt => "arrived_at",
            VisibleSource::LogAppendTime => "log_append_time",
            VisibleSource::Detected => "detected",
        }
    }
}

impl fmt::Display for VisibleSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A sink's own "became visible" moment on the harness's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Visible {
    /// The moment (server reading − measured clock offset).
    pub at: Instant,
    /// What the server read.
    pub source: VisibleSource,
    /// Error bound of `at` (µs): the clock offset's uncertainty, plus a coarse
    /// clock's own.
    pub uncertainty_us: u32,
}

/// A stretch of a row's way through the pipeline, between two moments on the
/// harness's clock: the commit ack, the binlog event read, the Kafka broker's
/// append, and each path's warehouse commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Hop {
    /// MySQL commit ack → the binlog event read by the harness (both paths).
    AckToBinlog,
    /// Binlog event → Kafka broker append (path 1: Flink CDC and the Kafka sink).
    BinlogToKafka,
    /// Kafka broker append → path 1 warehouse commit (Flink's Kafka source and JDBC sink).
    KafkaToPath1,
    /// Binlog event → path 2 warehouse commit (Flink CDC and the JDBC sink).
    BinlogToPath2,
}

impl Hop {
    /// Every hop, in report order.
    pub const ALL: [Hop; 4] = [
        Hop::AckToBinlog,
        Hop::BinlogToKafka,
        Hop::KafkaToPath1,
        Hop::BinlogToPath2,
    ];

    /// The hops of path 1, in order (they add up to its warehouse latency).
    pub const PATH1: [Hop; 3] = [Hop::AckToBinlog, Hop::BinlogToKafka, Hop::KafkaToPath1];

    /// The hops of path 2, in order.
    pub const PATH2: [Hop; 2] = [Hop::AckToBinlog, Hop::BinlogToPath2];

    /// The key in `summary.json` and files (`ack_to_binlog`, `binlog_to_kafka`, …).
    pub fn key(self) -> &'static str {
        match self {
            Hop::AckToBinlog => "ack_to_binlog",
            Hop::BinlogToKafka => "binlog_to_kafka",
            Hop::KafkaToPath1 => "kafka_to_path1",
            Hop::BinlogToPath2 => "binlog_to_path2",
        }
    }

    /// How a report labels it.
    pub fn label(self) -> &'static str {
        match self {
            Hop::AckToBinlog => "commit ack → binlog",
            Hop::BinlogToKafka => "binlog → Kafka append",
            Hop::KafkaToPath1 => "Kafka append → path1 commit",
            Hop::BinlogToPath2 => "binlog → path2 commit",
        }
    }

    /// The sinks at its two ends (`None`: the commit ack).
    pub fn ends(self) -> (Option<Sink>, Sink) {
        match self {
            Hop::AckToBinlog => (None, Sink::Binlog),
            Hop::BinlogToKafka => (Some(Sink::Binlog), Sink::Kafka),
            Hop::KafkaToPath1 => (Some(Sink::Kafka), Sink::Path1),
            Hop::BinlogToPath2 => (Some(Sink::Binlog), Sink::Path2),
        }
    }
}

impl fmt::Display for Hop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}
