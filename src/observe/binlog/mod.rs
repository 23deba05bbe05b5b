//! The binlog observer (optional sink `binlog`, the physical floor of CDC
//! latency): registers as a replica with a unique server id, streams MySQL's or
//! MariaDB's binlog from the file/position captured at start, and reports the
//! rows of `store_sales`/`store_returns` in the run's ticket range.
//!
//! Row events V1 (MariaDB writes these) and V2 are decoded against the table
//! map; the key and `bench_ts` positions come from `information_schema` at
//! start, so the observer needs no `binlog_row_metadata=FULL`. WRITE is an
//! `Insert`, UPDATE an `Update` (after image), DELETE a `Delete` (before image).
//! Row events of other tables count as `ignored` (one per event, undecoded).

mod image;
pub mod rows;
pub mod tally;

use std::collections::HashMap;
use std::ops::Range;
use std::time::{Duration, Instant};

use futures::{FutureExt, StreamExt};
use mysql_async::binlog::events::{Event, EventData, TableMapEvent};
use mysql_async::binlog::EventType;
use mysql_async::{BinlogStream, BinlogStreamRequest};
use serde::Serialize;
use tokio::sync::{mpsc, watch};

use super::preflight::{mysql as my, TargetReport};
use super::{in_range, ObserveError, ObserverStats};
use crate::model::{Observation, Sink, Table};
use crate::redact::{redact_text, redact_url};

pub use image::Columns;
pub use rows::{Layout, RowsKind};

/// table_id → our table and its fast-path columns (None: a table we do not track).
type TableMaps = HashMap<u64, Option<(Table, Option<image::Columns>)>>;

/// First wait before reopening a broken binlog stream.
const RECONNECT_MIN: Duration = Duration::from_millis(100);
/// Longest wait between attempts.
const RECONNECT_MAX: Duration = Duration::from_secs(2);

/// Where a broken stream is opened again: the end of the last whole
/// transaction read.
#[derive(Debug)]
struct Resume {
    at: BinlogPosition,
    /// Whether this stream has sent its format description yet.
    described: bool,
}

impl Resume {
    fn new(at: BinlogPosition) -> Self {
        Resume {
            at,
            described: false,
        }
    }

    /// A new stream (after a reconnect) starts undescribed again.
    fn reopened(&mut self) {
        self.described = false;
    }

    /// Moves the resume point: to a rotation's new file, and to the end of
    /// each committed transaction (a restart must not begin inside one: its
    /// table map would be missing).
    fn track(&mut self, event: &Event) {
        if event.header().event_type_raw() == EventType::FORMAT_DESCRIPTION_EVENT as u8 {
            self.described = true;
            return;
        }
        match event.read_data() {
            // The server's first event on a stream is a rotation to the file
            // asked for, sent before the format description, so the reader
            // does not yet know the checksum algorithm and MariaDB's CRC32
            // stays glued to the name ("mysql-bin.000002" + 4 bytes): every
            // reconnect at that name then gets ERROR 1236. It names the file
            // we asked for, so it is skipped; later rotations are read with
            // the checksum known.
            Ok(Some(EventData::RotateEvent(_))) if !self.described => {}
            Ok(Some(EventData::RotateEvent(r))) => {
                self.at.file = r.name().into_owned();
                self.at.pos = r.position();
            }
            Ok(Some(EventData::XidEvent(_))) => {
                let end = u64::from(event.header().log_pos());
                if end > 0 {
                    self.at.pos = end;
                }
            }
            _ => {}
        }
    }
}

/// What the binlog observer needs.
#[derive(Debug, Clone, PartialEq)]
pub struct BinlogConfig {
    /// `mysql://user:password@host:port/db`; the user needs REPLICATION SLAVE
    /// and REPLICATION CLIENT (root has them).
    pub url: String,
    /// The business database.
    pub database: String,
    /// The run's ticket numbers; other rows are ignored.
    pub tickets: Range<u64>,
    /// Replica server id; `None` picks a random one far from the usual ranges
    /// (it must differ from the server's and every CDC source's).
    pub server_id: Option<u32>,
    /// At most this many observations per batch.
    pub batch_max: usize,
    /// Connection timeout at start.
    pub connect_timeout: Duration,
    /// Keep a [`tally`] of MySQL's rows in the range for the end-of-run audit.
    pub tally: bool,
}

impl BinlogConfig {
    /// Defaults: database `business_db`, random server id, batches of 512.
    pub fn new(url: impl Into<String>, tickets: Range<u64>) -> Self {
        BinlogConfig {
            url: url.into(),
            database: "business_db".to_string(),
            tickets,
            server_id: None,
            batch_max: 512,
            connect_timeout: Duration::from_secs(10),
            tally: false,
        }
    }
}

/// Where the stream starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BinlogPosition {
    /// Binlog file name.
    pub file: String,
    /// Byte offset in it.
    pub pos: u64,
}

/// A replica connection positioned at the binlog's end: ready for the load.
pub struct BinlogObserver {
    cfg: BinlogConfig,
    target: String,
    stream: BinlogStream,
    layouts: HashMap<Table, Layout>,
    position: BinlogPosition,
    server_id: u32,
    version: String,
}

impl std::fmt::Debug for BinlogObserver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BinlogObserver")
            .field("target", &self.target)
            .field("position", &self.position)
            .field("server_id", &self.server_id)
            .field("version", &self.version)
            .finish()
    }
}

/// A replica id in `[1_000_000_000, 4_000_000_000)`: far above the ids servers
/// and Flink CDC sources are usually given (1, 5400-…).
fn random_server_id() -> u32 {
    rand::random_range(1_000_000_000..4_000_000_000)
}

impl BinlogObserver {
    /// Connects, checks the binlog settings (ROW, FULL, log_bin), reads the
    /// tables' column order, captures the current binlog position and starts
    /// streaming from it. When this returns, no row committed afterwards can be
    /// missed.
    pub async fn start(cfg: BinlogConfig) -> Result<Self, ObserveError> {
        let target = redact_url(&cfg.url);
        let mut conn = my::connect(&cfg.url, cfg.connect_timeout).await?;
        let unreachable = |e: mysql_async::Error| ObserveError::unreachable(&target, e);

        let mut report = TargetReport::new("mysql", &target);
        my::settings(&mut conn, true, &mut report)
            .await
            .map_err(unreachable)?;
        if let Some(d) = report.problems.into_iter().next() {
            return Err(d.into_error());
        }
        let version = report
            .facts
            .iter()
            .find(|(k, _)| k == "version")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();

        let mut layouts = HashMap::new();
        for table in Table::ALL {
            let cols = my::columns(&mut conn, &cfg.database, table.name())
                .await
                .map_err(unreachable)?;
            if cols.is_empty() {
                return Err(ObserveError::misconfigured(
                    &target,
                    format!("table {}.{table} does not exist", cfg.database),
                    "create it (mysql-init/01-init-tpcds-tables.sql; scripts/stack.sh up runs it)",
                ));
            }
            let layout = Layout::from_columns(table, &cols).map_err(|missing| {
                ObserveError::misconfigured(
                    &target,
                    format!("table {}.{table} has no column {missing}", cfg.database),
                    "use the schema of mysql-init/01-init-tpcds-tables.sql",
                )
            })?;
            layouts.insert(table, layout);
        }

        let (file, pos) = my::binlog_position(&mut conn)
            .await
            .map_err(unreachable)?
            .ok_or_else(|| {
                ObserveError::misconfigured(
                    &target,
                    "SHOW MASTER STATUS returned nothing: binary logging is off",
                    "start the server with log_bin and a server_id",
                )
            })?;
        let server_id = cfg.server_id.unwrap_or_else(random_server_id);
        let request = BinlogStreamRequest::new(server_id)
            .with_filename(file.as_bytes())
            .with_pos(pos);
        let stream = conn.get_binlog_stream(request).await.map_err(|e| {
            ObserveError::misconfigured(
                &target,
                format!("cannot stream the binlog: {e}"),
                "grant the user REPLICATION SLAVE and REPLICATION CLIENT, and check no replica uses this server id",
            )
        })?;
        Ok(BinlogObserver {
            cfg,
            target,
            stream,
            layouts,
            position: BinlogPosition { file, pos },
            server_id,
            version,
        })
    }

    /// Where the stream started.
    pub fn position(&self) -> &BinlogPosition {
        &self.position
    }

    /// The replica server id used.
    pub fn server_id(&self) -> u32 {
        self.server_id
    }

    /// The server's `VERSION()`.
    pub fn server_version(&self) -> &str {
        &self.version
    }

    /// Streams until `stop` is `true` (or its sender is dropped, or `tx` is
    /// closed). A stream that breaks (MySQL restarting, a lost connection) is
    /// counted (`poll_errors`) and opened again with backoff at the end of the
    /// last whole transaction read, so nothing is skipped (rows of a
    /// transaction cut in half may be reported twice: counted as duplicates).
    pub async fn run(
        mut self,
        tx: mpsc::Sender<Vec<Observation>>,
        mut stop: watch::Receiver<bool>,
    ) -> Result<ObserverStats, ObserveError> {
        let mut stats = ObserverStats::new(Sink::Binlog);
        stats.binlog_tally = self.cfg.tally.then(tally::Tally::default);
        // table_id → our table (None: a table we do not track).
        let mut tables: TableMaps = HashMap::new();
        let mut batch = Vec::new();
        let mut resume = Resume::new(self.position.clone());
        // Grows while reconnects keep failing; back to the minimum once an
        // event is read (a stream that opens and breaks at once must not spin).
        let mut wait = RECONNECT_MIN;
        loop {
            if *stop.borrow() {
                break;
            }
            let first = tokio::select! {
                ev = self.stream.next() => ev,
                changed = stop.changed() => {
                    if changed.is_err() || *stop.borrow() {
                        break;
                    }
                    continue;
                }
            };
            let mut next = Some(first);
            let mut broken = None;
            // Drain whatever else is already decoded, without waiting.
            while let Some(ev) = next.take() {
                let event = match ev {
                    Some(Ok(event)) => event,
                    Some(Err(e)) => {
                        broken = Some(e.to_string());
                        break;
                    }
                    None => {
                        broken = Some("the server ended the binlog stream".to_string());
                        break;
                    }
                };
                let seen_at = Instant::now();
                self.handle(&event, seen_at, &mut tables, &mut batch, &mut stats);
                resume.track(&event);
                wait = RECONNECT_MIN;
                if batch.len() < self.cfg.batch_max {
                    next = self.stream.next().now_or_never();
                }
            }
            if !batch.is_empty() {
                stats.batches += 1;
                if tx.send(std::mem::take(&mut batch)).await.is_err() {
                    break;
                }
            }
            if let Some(why) = broken {
                stats.poll_errors += 1;
                eprintln!(
                    "binlog observer: {}; reconnecting at {}:{}",
                    redact_text(&why.to_string()),
                    resume.at.file,
                    resume.at.pos
                );
                if !self
                    .reconnect(&resume.at, &mut wait, &mut stop, &mut stats)
                    .await
                {
                    break;
                }
                resume.reopened();
                tables.clear();
                // The open transaction is read again from its start.
                if let Some(t) = &mut stats.binlog_tally {
                    t.rollback();
                }
            }
        }
        let _ = self.stream.close().await;
        // A transaction is in the binlog only once committed, so one whose
        // XID was not read yet when the run stopped counts too.
        if let Some(t) = &mut stats.binlog_tally {
            t.commit();
            if stats.malformed > 0 {
                t.unusable.get_or_insert_with(|| {
                    format!("{} events the observer could not read", stats.malformed)
                });
            }
        }
        Ok(stats)
    }

    /// Opens the stream again at `at`, with backoff (`wait`, doubled after
    /// each wait up to `RECONNECT_MAX`), until it works (true) or `stop` turns
    /// true (false).
    async fn reconnect(
        &mut self,
        at: &BinlogPosition,
        wait: &mut Duration,
        stop: &mut watch::Receiver<bool>,
        stats: &mut ObserverStats,
    ) -> bool {
        loop {
            if *stop.borrow() {
                return false;
            }
            let attempt = async {
                let conn = my::connect(&self.cfg.url, self.cfg.connect_timeout)
                    .await
                    .map_err(|e| e.to_string())?;
                let request = BinlogStreamRequest::new(self.server_id)
                    .with_filename(at.file.as_bytes())
                    .with_pos(at.pos);
                conn.get_binlog_stream(request)
                    .await
                    .map_err(|e| e.to_string())
            };
            // Wait first: the stream just broke, and one that opens and
            // breaks again at once comes back here with a longer wait.
            tokio::select! {
                _ = tokio::time::sleep(*wait) => {}
                changed = stop.changed() => if changed.is_err() { return false },
            }
            *wait = (*wait * 2).min(RECONNECT_MAX);
            match attempt.await {
                Ok(stream) => {
                    self.stream = stream;
                    stats.reconnects += 1;
                    return true;
                }
                Err(_) => stats.poll_errors += 1,
            }
        }
    }

    fn handle(
        &self,
        event: &Event,
        seen_at: Instant,
        tables: &mut TableMaps,
        batch: &mut Vec<Observation>,
        stats: &mut ObserverStats,
    ) {
        let location = || format!("binlog event at log pos {}", event.header().log_pos());
        let data = match event.read_data() {
            Ok(Some(d)) => d,
            Ok(None) => return,
            Err(e) => {
                stats.record_malformed(location(), e.to_string(), b"");
                return;
            }
        };
        match data {
            // A table map comes before every transaction's rows; its columns
            // are read once per table id (a table altered gets a new id).
            EventData::TableMapEvent(tme) if !tables.contains_key(&tme.table_id()) => {
                let ours = self
                    .our_table(&tme)
                    .map(|t| (t, image::Columns::from_tme(&tme)));
                tables.insert(tme.table_id(), ours);
            }
            EventData::RowsEvent(rows) => {
                let Some((table, fast)) = tables.get(&rows.table_id()).and_then(Option::as_ref)
                else {
                    stats.ignored += 1;
                    return;
                };
                let layout = &self.layouts[table];
                let Some(tme) = self.stream.get_tme(rows.table_id()) else {
                    stats.record_malformed(location(), "rows event without its table map", b"");
                    return;
                };
                if tme.columns_count() as usize != layout.columns {
                    stats.record_malformed(
                        location(),
                        format!(
                            "{table} has {} columns in the binlog but {} in information_schema (altered during the run?)",
                            tme.columns_count(),
                            layout.columns
                        ),
                        b"",
                    );
                    return;
                }
                if let Some(t) = &mut stats.binlog_tally {
                    t.count_event(layout, tme, &rows, &self.cfg.tickets);
                }
                let changes = rows::decode(layout, tme, &rows, fast.as_ref());
                for change in changes {
                    stats.received += 1;
                    match change {
                        Ok(c) if in_range(&self.cfg.tickets, c.key.ticket) => {
                            stats.observed += 1;
                            batch.push(Observation {
                                sink: Sink::Binlog,
                                key: c.key,
                                op: c.op,
                                stamp: c.stamp,
                                seen_at,
                                server_arrival: None,
                                visible: None,
                            });
                        }
                        Ok(_) => stats.ignored += 1,
                        Err(reason) => stats.record_malformed(location(), reason, b""),
                    }
                }
            }
            EventData::XidEvent(_) => {
                if let Some(t) = &mut stats.binlog_tally {
                    t.commit();
                }
            }
            _ => {}
        }
    }

    fn our_table(&self, tme: &TableMapEvent<'_>) -> Option<Table> {
        if tme.database_name() != self.cfg.database.as_str() {
            return None;
        }
        let name = tme.table_name();
        Table::ALL.into_iter().find(|t| t.name() == name)
    }
}

/// Starts the observer and runs it until `stop` (both phases in one call).
pub async fn run(
    cfg: BinlogConfig,
    tx: mpsc::Sender<Vec<Observation>>,
    stop: watch::Receiver<bool>,
) -> Result<ObserverStats, ObserveError> {
    BinlogObserver::start(cfg).await?.run(tx, stop).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_server_ids_avoid_usual_ranges() {
        for _ in 0..1000 {
            let id = random_server_id();
            assert!((1_000_000_000..4_000_000_000).contains(&id));
        }
    }
}
