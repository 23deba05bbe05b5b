//! The warehouse observer: polls one schema (`path1` or `path2`) of Cloudberry
//! or PostgreSQL for rows of the run, by their server-side `arrived_at` stamp.
//!
//! One task (and one connection) per schema, polling both tables of that schema
//! in one pipelined round trip per tick: a schema is one sink, so its two
//! tables share the poll instant and the detection resolution, the connection
//! count stays at one per sink (two pollers on a 2-core machine), and the
//! sink's counters come from one place.
//!
//! Each poll reads `… WHERE arrived_at > bound AND ticket in range ORDER BY
//! arrived_at`; the bound trails the poll by only as much as open sink
//! transactions require (see [`window`]), and versions re-read inside that
//! overlap are dropped locally. `arrived_at` is reported as `server_arrival`.
//! A key seen for the first time is an `Insert`, a known key with a new
//! `bench_ts` an `Update` (the tracker resolves either way by stamp). Deletes,
//! and updates on Cloudberry (no row triggers there to move `arrived_at`), are
//! confirmed by key lookups of what the run registered in a [`ChangeWatch`]:
//! see [`changes`].
//!
//! The detection resolution of this sink is `poll_interval` (plus the poll's own
//! duration, reported as `max_poll_micros`).

pub mod changes;
pub mod conn;
mod poll;
mod present;
pub mod window;

use std::ops::Range;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::time::MissedTickBehavior;

use super::{ObserveError, ObserverStats};
use crate::model::{Observation, Sink};

pub use changes::ChangeWatch;
pub use conn::{WarehouseConn, WarehouseInfo, WarehouseKind, DERIVED_READER};

/// What a warehouse poller needs.
#[derive(Debug, Clone)]
pub struct WarehouseConfig {
    /// `postgres://user:password@host:port/database`.
    pub url: String,
    /// The sink this schema is (`Path1` or `Path2`).
    pub sink: Sink,
    /// The schema to poll (`path1`, `path2`).
    pub schema: String,
    /// The run's ticket numbers; other rows are ignored.
    pub tickets: Range<u64>,
    /// Time between polls: the detection resolution.
    pub poll_interval: Duration,
    /// Safety margin subtracted from each poll's lower bound. Open sink
    /// transactions extend the window on top of it when `pg_stat_activity` is
    /// readable; otherwise make it longer than the sink's longest transaction.
    pub overlap: Duration,
    /// The window never reaches further back than this (idle-in-transaction
    /// sessions would otherwise make every poll re-read the whole run).
    pub max_lookback: Duration,
    /// At most this many registered changes looked up per table per poll.
    pub lookup_batch: usize,
    /// Keys the run updated or deleted (see [`changes`]); `None` if it does neither.
    pub watch: Option<ChangeWatch>,
    /// Connection timeout at start.
    pub connect_timeout: Duration,
    /// How many keys' last stamps the poller keeps (oldest forgotten first):
    /// more than every worker's mutation pool together (see `present`).
    pub present_cap: usize,
}

impl WarehouseConfig {
    /// Defaults for `sink` (`Path1` → schema `path1`): poll every 100 ms, 100 ms
    /// margin, 60 s maximum lookback, 1000 key lookups per table per poll.
    pub fn new(url: impl Into<String>, sink: Sink, tickets: Range<u64>) -> Self {
        WarehouseConfig {
            url: url.into(),
            sink,
            schema: sink.name().to_string(),
            tickets,
            poll_interval: Duration::from_millis(100),
            overlap: Duration::from_millis(100),
            max_lookback: Duration::from_secs(60),
            lookup_batch: 1000,
            present_cap: 200_000,
            watch: None,
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// A connected poller with its starting bound fixed: ready for the load.
#[derive(Debug)]
pub struct WarehouseObserver {
    poller: poll::Poller,
}

impl WarehouseObserver {
    /// Connects, detects the server kind, checks the schema's tables and
    /// prepares the queries, and fixes the first lower bound at the server's
    /// current time (no row of the run can be older).
    pub async fn start(cfg: WarehouseConfig) -> Result<Self, ObserveError> {
        if cfg.poll_interval.is_zero() {
            return Err(ObserveError::misconfigured(
                crate::redact::redact_url(&cfg.url),
                "poll interval is 0",
                "set a poll interval of at least 1 ms (e.g. 100ms)",
            ));
        }
        let conn = WarehouseConn::connect(&cfg.url, cfg.connect_timeout).await?;
        conn.check_tables(&cfg.schema).await?;
        let poller = poll::Poller::new(conn, cfg).await?;
        Ok(WarehouseObserver { poller })
    }

    /// The sink this poller reports for.
    pub fn sink(&self) -> Sink {
        self.poller.cfg.sink
    }

    /// Server kind, version and whether open transactions are visible.
    pub fn info(&self) -> &WarehouseInfo {
        &self.poller.conn.info
    }

    /// Polls every `poll_interval` until `stop` is `true` (or its sender is
    /// dropped, or `tx` is closed). A failed poll (the warehouse restarting, a
    /// lost connection) is counted (`poll_errors`) and retried on a new
    /// connection with backoff ([`RECONNECT_MIN`] doubling to [`RECONNECT_MAX`]);
    /// the failed poll's window is read again, so nothing is skipped.
    pub async fn run(
        mut self,
        tx: mpsc::Sender<Vec<Observation>>,
        mut stop: watch::Receiver<bool>,
    ) -> Result<ObserverStats, ObserveError> {
        let mut ticker = tokio::time::interval(self.poller.cfg.poll_interval);
        // A slow poll delays the next one instead of firing a burst.
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            if *stop.borrow() {
                break;
            }
            tokio::select! {
                _ = ticker.tick() => {}
                changed = stop.changed() => {
                    if changed.is_err() || *stop.borrow() {
                        break;
                    }
                    continue;
                }
            }
            let batch = match self.poller.poll_once().await {
                Ok(b) => b,
                Err(e) => {
                    self.poller.stats.poll_errors += 1;
                    if self.poller.stats.poll_errors == 1
                        || self.poller.stats.poll_errors.is_multiple_of(50)
                    {
                        eprintln!(
                            "{} observer: poll failed ({e}); reconnecting",
                            self.poller.cfg.sink
                        );
                    }
                    self.reconnect(&mut stop).await;
                    continue;
                }
            };
            if !batch.is_empty() {
                self.poller.stats.batches += 1;
                if tx.send(batch).await.is_err() {
                    break;
                }
            }
        }
        Ok(self.poller.finish())
    }
}

impl WarehouseObserver {
    /// Reconnects with backoff until it works or `stop` turns true.
    async fn reconnect(&mut self, stop: &mut watch::Receiver<bool>) {
        let mut wait = RECONNECT_MIN;
        loop {
            if *stop.borrow() {
                return;
            }
            match self.poller.reconnect().await {
                Ok(()) => return,
                Err(_) => self.poller.stats.poll_errors += 1,
            }
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                changed = stop.changed() => if changed.is_err() { return },
            }
            wait = (wait * 2).min(RECONNECT_MAX);
        }
    }
}

/// First wait before reconnecting to the warehouse after a failure.
pub const RECONNECT_MIN: Duration = Duration::from_millis(100);
/// Longest wait between reconnect attempts.
pub const RECONNECT_MAX: Duration = Duration::from_secs(2);

/// Starts the poller and runs it until `stop` (both phases in one call).
pub async fn run(
    cfg: WarehouseConfig,
    tx: mpsc::Sender<Vec<Observation>>,
    stop: watch::Receiver<bool>,
) -> Result<ObserverStats, ObserveError> {
    WarehouseObserver::start(cfg).await?.run(tx, stop).await
}
