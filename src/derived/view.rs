//! The derived-view observer: polls the per-store daily relation over one path
//! (`derived.store_daily_path1`, its materialized view, or the `path2` ones)
//! for the groups of the probes committed so far, and reports each probe as
//! seen at its sink (`path1_view` / `path2_view`) on the first poll whose
//! result shows the probe's group with at least one sale.
//!
//! Resolution: the poll interval (plus one poll's duration, reported as
//! `max_poll_micros`); `seen_at` is when the poll's answer arrived, like the
//! path pollers.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch};
use tokio::time::MissedTickBehavior;

use super::{Probe, ProbeBoard, PROBE_STORE};
use crate::model::{Observation, OpKind, Sink};
use crate::observe::feed::FeedReader;
use crate::observe::warehouse::{WarehouseConn, DERIVED_READER};
use crate::observe::{ObserveError, ObserverStats};

/// What a view observer needs.
#[derive(Debug, Clone)]
pub struct ViewConfig {
    /// `postgres://…` of the warehouse.
    pub url: String,
    /// `Path1View` or `Path2View`.
    pub sink: Sink,
    /// The relation polled, e.g. `derived.store_daily_path1_mv`.
    pub relation: String,
    /// Time between polls: the resolution.
    pub poll_interval: Duration,
}

/// A connected view observer whose relation answered once: ready for the load.
pub struct ViewObserver {
    cfg: ViewConfig,
    conn: WarehouseConn,
    probes: FeedReader<Probe>,
}

impl ViewObserver {
    /// Connects and checks that the relation exists and has the expected columns.
    pub async fn start(cfg: ViewConfig, board: ProbeBoard) -> Result<Self, ObserveError> {
        let conn =
            WarehouseConn::connect_as(&cfg.url, Duration::from_secs(10), DERIVED_READER).await?;
        let sql = format!(
            "SELECT store_sk, date_sk, sales FROM {} WHERE store_sk = -1 LIMIT 1",
            cfg.relation
        );
        conn.client.query(&sql, &[]).await.map_err(|e| {
            ObserveError::misconfigured(
                conn.target(),
                format!("cannot read the derived relation {}: {e}", cfg.relation),
                "create it with warehouse-init/apply.sh (scripts/stack.sh up runs it)",
            )
        })?;
        // Registered now, before the first probe: this observer sees every one.
        let probes = board.reader();
        Ok(ViewObserver { cfg, conn, probes })
    }

    /// The sink it reports.
    pub fn sink(&self) -> Sink {
        self.cfg.sink
    }

    /// Polls until `stop`; reports each probe once.
    pub async fn run(
        mut self,
        tx: mpsc::Sender<Vec<Observation>>,
        mut stop: watch::Receiver<bool>,
    ) -> Result<ObserverStats, ObserveError> {
        let mut stats = ObserverStats::new(self.cfg.sink);
        let sql = format!(
            "SELECT date_sk, sales FROM {} WHERE store_sk = $1 AND date_sk = ANY($2)",
            self.cfg.relation
        );
        let stmt = self
            .conn
            .client
            .prepare(&sql)
            .await
            .map_err(|e| ObserveError::fault(self.conn.target(), e))?;
        let mut pending: HashMap<i32, Probe> = HashMap::new();
        let mut tick = tokio::time::interval(self.cfg.poll_interval);
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stop.wait_for(|s| *s) => break,
            }
            let new = self.probes.take();
            pending.extend(new.into_iter().map(|p| (p.date_sk, p)));
            if pending.is_empty() {
                continue;
            }
            let started = Instant::now();
            let dates: Vec<i32> = pending.keys().copied().collect();
            let rows = self
                .conn
                .client
                .query(&stmt, &[&PROBE_STORE, &dates])
                .await
                .map_err(|e| ObserveError::fault(self.conn.target(), e))?;
            let seen_at = Instant::now();
            stats.polls += 1;
            stats.max_poll_micros = stats
                .max_poll_micros
                .max(seen_at.duration_since(started).as_micros() as u64);
            let mut out = Vec::new();
            for row in rows {
                stats.received += 1;
                let date: i32 = row.get(0);
                let sales: i64 = row.get(1);
                if sales < 1 {
                    continue;
                }
                if let Some(p) = pending.remove(&date) {
                    stats.observed += 1;
                    out.push(Observation {
                        sink: self.cfg.sink,
                        key: p.key,
                        op: OpKind::Insert,
                        stamp: Some(p.stamp),
                        seen_at,
                        server_arrival: None,
                        visible: None,
                    });
                }
            }
            if !out.is_empty() {
                stats.batches += 1;
                if tx.send(out).await.is_err() {
                    break;
                }
            }
        }
        Ok(stats)
    }
}
