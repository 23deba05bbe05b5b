//! The analytics-topic observer: reads `tpcds.sales_metrics` (the streaming
//! analytics job's windowed per-store results, one record per window and
//! store) from its high watermark at the start of the run.
//!
//! Two measurements:
//! - **window end → result**, for every window result of the run: when the
//!   harness read it − its `window_end` (the job's processing-time clock, UTC;
//!   same host here, otherwise subject to the clock offset). Recorded as the
//!   `metrics.server` series.
//! - **probe commit → first result that includes it** (`metrics` sink): the
//!   job groups by store, so a window result of [`PROBE_STORE`] counts only
//!   probes, in `change_events`. The job reads one partition in order and
//!   windows on processing time, so the probes a window result covers are the
//!   next `change_events` probes in commit order: those are reported seen when
//!   the result is read.
//!
//! Results whose window ended before the observer started are ignored (they
//! cannot hold this run's probes).
//!
//! Its consumer is assigned explicitly, like the Kafka observer's, so it can
//! hit the same librdkafka stall after a broker restart; the same stall watch
//! replaces it at its own offsets.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::Message;
use serde::Deserialize;
use tokio::sync::{mpsc, watch};

use super::{Probe, ProbeBoard, PROBE_STORE};
use crate::model::{Observation, OpKind, Sink};
use crate::observe::feed::FeedReader;
use crate::observe::kafka::stall::{self, StallWatch};
use crate::observe::kafka::{
    assign_topics_at_high_watermarks, client_config, target_name, unique_group_id, KafkaConfig,
    StartOffset,
};
use crate::observe::{ObserveError, ObserverStats};
use crate::stats::{Recorder, Series, SnapshotSender};

/// The analytics topic, after the topic prefix.
pub const METRICS_TOPIC: &str = "sales_metrics";

/// One record of `tpcds.sales_metrics` (the fields used).
#[derive(Debug, Deserialize)]
struct WindowResult {
    window_end: String,
    store_sk: Option<i64>,
    change_events: Option<i64>,
}

/// Parses Flink's JSON `TIMESTAMP(3)` (`2026-12-01 20:00:10` or with
/// milliseconds, `T` or space) as UTC µs.
fn parse_window_time(s: &str) -> Option<i64> {
    ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .map(|t| t.and_utc().timestamp_micros())
}

/// A metrics observer assigned at the topic's high watermarks.
pub struct MetricsObserver {
    consumer: BaseConsumer,
    cfg: KafkaConfig,
    group_id: String,
    starts: Vec<StartOffset>,
    probes: FeedReader<Probe>,
    started_wall_us: i64,
}

impl MetricsObserver {
    /// Connects and assigns every partition of `{prefix}sales_metrics` at its end.
    pub async fn start(
        brokers: String,
        topic_prefix: String,
        board: ProbeBoard,
    ) -> Result<Self, ObserveError> {
        tokio::task::spawn_blocking(move || {
            let cfg = KafkaConfig::new(brokers.clone(), 0..0);
            let group_id = unique_group_id();
            let consumer: BaseConsumer = client_config(&cfg, &group_id)
                .create()
                .map_err(|e| ObserveError::unreachable(target_name(&brokers), e))?;
            let topic = format!("{topic_prefix}{METRICS_TOPIC}");
            let starts = assign_topics_at_high_watermarks(&consumer, &cfg, &[topic])?;
            Ok(MetricsObserver {
                consumer,
                cfg,
                group_id,
                starts,
                // Registered now, before the first probe: sees every one.
                probes: board.reader(),
                started_wall_us: chrono::Utc::now().timestamp_micros(),
            })
        })
        .await
        .map_err(|e| ObserveError::fault("metrics observer", e))?
    }

    /// Reads until `stop`: probe observations to `tx`, window-end latencies to `stats_tx`.
    pub async fn run(
        self,
        tx: mpsc::Sender<Vec<Observation>>,
        stats_tx: SnapshotSender,
        run_start: Instant,
        stop: watch::Receiver<bool>,
    ) -> Result<ObserverStats, ObserveError> {
        tokio::task::spawn_blocking(move || self.run_blocking(&tx, &stats_tx, run_start, &stop))
            .await
            .map_err(|e| ObserveError::fault("metrics observer", e))?
    }

    fn run_blocking(
        mut self,
        tx: &mpsc::Sender<Vec<Observation>>,
        stats_tx: &SnapshotSender,
        run_start: Instant,
        stop: &watch::Receiver<bool>,
    ) -> Result<ObserverStats, ObserveError> {
        let mut stats = ObserverStats::new(Sink::Metrics);
        let mut rec = Recorder::new(run_start);
        let mut queue: VecDeque<Probe> = VecDeque::new();
        let mut last_flush = Instant::now();
        let mut watch = StallWatch::new(&self.starts, self.cfg.stall_after, Instant::now());
        while !*stop.borrow() {
            let msg = match self.consumer.poll(Duration::from_millis(100)) {
                None => None,
                Some(Err(e)) => {
                    if let Some((code, reason)) = self.consumer.client().fatal_error() {
                        return Err(ObserveError::fault(
                            target_name(&self.cfg.brokers),
                            format!("{code:?}: {reason}; {e}"),
                        ));
                    }
                    // librdkafka reconnects by itself; the report counts the retries.
                    stats.poll_errors += 1;
                    None
                }
                Some(Ok(m)) => {
                    let seen_at = Instant::now();
                    if let Some(s) = watch.delivered(m.topic(), m.partition(), m.offset(), seen_at)
                    {
                        stall::record(&mut stats, "metrics observer", &s);
                    }
                    Some((seen_at, m.payload().map(<[u8]>::to_vec)))
                }
            };
            if let Some((seen_at, payload)) = msg {
                stats.received += 1;
                let seen_wall = chrono::Utc::now().timestamp_micros();
                let parsed = payload
                    .as_deref()
                    .map(serde_json::from_slice::<WindowResult>);
                match parsed {
                    Some(Ok(w)) => match parse_window_time(&w.window_end) {
                        Some(end) if end > self.started_wall_us => {
                            rec.record_at(
                                Series::SinkServer(Sink::Metrics),
                                seen_at,
                                (seen_wall - end).max(0) as u64,
                            );
                            if w.store_sk == Some(i64::from(PROBE_STORE)) {
                                let new = self.probes.take();
                                queue.extend(new);
                                let n = w.change_events.unwrap_or(0).max(0) as usize;
                                let out: Vec<Observation> = queue
                                    .drain(..n.min(queue.len()))
                                    .map(|p| Observation {
                                        sink: Sink::Metrics,
                                        key: p.key,
                                        op: OpKind::Insert,
                                        stamp: Some(p.stamp),
                                        seen_at,
                                        server_arrival: None,
                                        visible: None,
                                    })
                                    .collect();
                                stats.observed += out.len() as u64;
                                if !out.is_empty() {
                                    stats.batches += 1;
                                    if tx.blocking_send(out).is_err() {
                                        break;
                                    }
                                }
                            }
                        }
                        Some(_) => stats.ignored += 1,
                        None => stats.record_malformed(
                            METRICS_TOPIC.to_string(),
                            format!("window_end {:?} is not a timestamp", w.window_end),
                            payload.as_deref().unwrap_or_default(),
                        ),
                    },
                    Some(Err(e)) => stats.record_malformed(
                        METRICS_TOPIC.to_string(),
                        e.to_string(),
                        payload.as_deref().unwrap_or_default(),
                    ),
                    None => stats.ignored += 1,
                }
            }
            let group = (&self.cfg, self.group_id.as_str());
            stall::check(
                &mut self.consumer,
                &mut watch,
                group,
                &mut stats,
                "metrics observer",
            );
            if last_flush.elapsed() >= Duration::from_millis(500) {
                last_flush = Instant::now();
                let _ = stats_tx.blocking_send(rec.take_interval());
            }
        }
        let _ = stats_tx.blocking_send(rec.take_interval());
        Ok(stats)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flink_window_times_parse_as_utc() {
        let a = parse_window_time("2026-12-01 20:00:10").unwrap();
        let b = parse_window_time("2026-12-01 20:00:10.000").unwrap();
        let c = parse_window_time("2026-12-01T20:00:10.5").unwrap();
        assert_eq!(a, b);
        assert_eq!(c - a, 500_000);
        assert_eq!(a % 1_000_000, 0);
        assert!(parse_window_time("yesterday").is_none());
    }
}
