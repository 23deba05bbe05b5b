//! The pipeline's own metrics, sampled once a second during a run onto the
//! run's timeline, so a latency spike can be read against its cause:
//! - Flink (REST): how many of the jobs are RUNNING, their restarts
//!   (`numRestarts` summed over jobs) and the latest completed checkpoint's
//!   end-to-end duration (the longest over jobs);
//! - Kafka: the consumer lag of path 1's group (`tpcds-path1`): high
//!   watermark − committed offset, summed over partitions. Flink's Kafka source
//!   commits offsets only when a checkpoint completes, so this lag moves in
//!   steps of the checkpoint interval: it bounds path 1's backlog from above,
//!   it is not a per-message figure;
//! - MySQL: the binlog position (`SHOW MASTER STATUS`), in bytes written.
//!
//! A source that does not answer leaves its columns empty for that second (and
//! counts an error); the sampler never stops the run. The report writes the
//! samples to `metrics.csv` ([`crate::report::metrics_csv`]).

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Offset, TopicPartitionList};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::caveat::Caveat;
use crate::targets::flink::get;

/// What a reader of the pipeline's metrics must know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetricsCaveat {
    /// Reads that failed (their seconds' columns are empty).
    ReadsFailed(u64),
    /// Path 1's Kafka lag moves in checkpoint-interval steps.
    LagInSteps,
}

impl fmt::Display for MetricsCaveat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ReadsFailed(n) => write!(
                f,
                "pipeline metrics (metrics.csv): {n} reads failed (Flink REST, Kafka or MySQL not answering that second; the columns are empty there)"
            ),
            Self::LagInSteps => f.write_str(
                "pipeline metrics: path 1's Kafka lag is high watermark − the offsets Flink commits at each checkpoint, \
                 so it moves in checkpoint-interval steps",
            ),
        }
    }
}

/// The caveats of a run's `samples` and its failed reads (`errors`; `None`:
/// the sampler did not stop in time).
pub fn caveats(samples: &[MetricsSample], errors: Option<u64>) -> Vec<Caveat> {
    let failed = errors.filter(|n| *n > 0).map(MetricsCaveat::ReadsFailed);
    let lag = (!samples.is_empty()).then_some(MetricsCaveat::LagInSteps);
    failed.into_iter().chain(lag).map(Caveat::new).collect()
}

/// Path 1's consumer group (`PATH1_GROUP_ID` of the stack).
pub const PATH1_GROUP: &str = "tpcds-path1";
/// Time between samples.
pub const SAMPLE_EVERY: Duration = Duration::from_secs(1);
/// Timeout of one request to a source.
const REQUEST_TIMEOUT: Duration = Duration::from_millis(800);

/// One second of pipeline metrics.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct MetricsSample {
    /// Run second of the sample.
    pub second: u32,
    /// Flink jobs RUNNING (newest job of each name).
    pub flink_running: Option<u32>,
    /// Flink jobs known (newest of each name).
    pub flink_jobs: Option<u32>,
    /// `numRestarts` summed over the running jobs.
    pub flink_restarts: Option<u64>,
    /// Longest latest-completed-checkpoint end-to-end duration over the jobs, ms.
    pub checkpoint_ms: Option<u64>,
    /// Path 1's consumer lag (messages; checkpoint granularity).
    pub kafka_lag: Option<i64>,
    /// MySQL binlog file.
    pub binlog_file: Option<String>,
    /// MySQL binlog position in that file.
    pub binlog_pos: Option<u64>,
}

/// Where the sampler reads from.
#[derive(Debug, Clone)]
pub struct MetricsConfig {
    /// Flink REST base URL.
    pub flink: String,
    /// Kafka bootstrap servers.
    pub brokers: String,
    /// Path 1's topics.
    pub topics: Vec<String>,
    /// MySQL URL (passwords never printed).
    pub mysql: String,
}

impl MetricsConfig {
    /// The sources of `scenario`'s targets.
    pub fn from_scenario(s: &crate::scenario::Scenario) -> Self {
        MetricsConfig {
            flink: s.targets.flink_rest.expose().to_string(),
            brokers: s.targets.kafka.brokers.clone(),
            topics: crate::model::Table::ALL
                .iter()
                .map(|&t| s.targets.kafka.topic(t))
                .collect(),
            mysql: s.targets.mysql.expose().to_string(),
        }
    }
}

/// Samples every second into `out` until `stop`; returns the failed reads.
/// The samples are shared so an interrupted run can report what is there
/// without waiting for a sample in progress.
pub async fn sample(
    cfg: MetricsConfig,
    start: Instant,
    mut stop: watch::Receiver<bool>,
    out: Arc<Mutex<Vec<MetricsSample>>>,
) -> u64 {
    let mut errors = 0u64;
    let mut mysql: Option<mysql_async::Conn> = None;
    let lag_consumer = lag_consumer(&cfg.brokers);
    let mut tick = tokio::time::interval_at((start + SAMPLE_EVERY / 2).into(), SAMPLE_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            changed = stop.changed() => if changed.is_err() || *stop.borrow() { break } else { continue },
        }
        let second = Instant::now().saturating_duration_since(start).as_secs() as u32;
        let mut s = MetricsSample {
            second,
            ..MetricsSample::default()
        };
        let (flink, lag, binlog) = tokio::join!(
            flink_sample(&cfg.flink),
            kafka_lag(lag_consumer.clone(), cfg.topics.clone()),
            binlog_position(&cfg.mysql, &mut mysql),
        );
        match flink {
            Some((running, jobs, restarts, ckpt)) => {
                s.flink_running = Some(running);
                s.flink_jobs = Some(jobs);
                s.flink_restarts = restarts;
                s.checkpoint_ms = ckpt;
            }
            None => errors += 1,
        }
        match lag {
            Some(l) => s.kafka_lag = Some(l),
            None => errors += 1,
        }
        match binlog {
            Some((f, p)) => {
                s.binlog_file = Some(f);
                s.binlog_pos = Some(p);
            }
            None => errors += 1,
        }
        if let Ok(mut o) = out.lock() {
            o.push(s);
        }
    }
    if let Some(c) = mysql {
        let _ = c.disconnect().await;
    }
    errors
}

fn json(body: &[u8]) -> Option<serde_json::Value> {
    serde_json::from_slice(body).ok()
}

/// (running, jobs, restarts, longest latest checkpoint ms), or `None` when
/// Flink does not answer.
async fn flink_sample(base: &str) -> Option<(u32, u32, Option<u64>, Option<u64>)> {
    let (status, body) = get(base, "/jobs/overview", REQUEST_TIMEOUT).await.ok()?;
    if status != 200 {
        return None;
    }
    let v = json(&body)?;
    let mut newest: std::collections::BTreeMap<String, (i64, String, String)> = Default::default();
    for j in v.get("jobs")?.as_array()? {
        let name = j.get("name")?.as_str()?.to_string();
        let start = j.get("start-time").and_then(|t| t.as_i64()).unwrap_or(0);
        let state = j.get("state")?.as_str()?.to_string();
        let jid = j.get("jid")?.as_str()?.to_string();
        if newest.get(&name).is_none_or(|(t, _, _)| *t <= start) {
            newest.insert(name, (start, state, jid));
        }
    }
    let running: Vec<&String> = newest
        .values()
        .filter(|(_, state, _)| state == "RUNNING")
        .map(|(_, _, jid)| jid)
        .collect();
    let mut restarts = Some(0u64);
    let mut ckpt: Option<u64> = None;
    for jid in &running {
        let r = get(
            base,
            &format!("/jobs/{jid}/metrics?get=numRestarts"),
            REQUEST_TIMEOUT,
        )
        .await
        .ok()
        .and_then(|(_, b)| json(&b))
        .and_then(|v| {
            v.as_array()?
                .first()?
                .get("value")?
                .as_str()?
                .parse::<u64>()
                .ok()
        });
        restarts = match (restarts, r) {
            (Some(a), Some(b)) => Some(a + b),
            _ => None,
        };
        let c = get(base, &format!("/jobs/{jid}/checkpoints"), REQUEST_TIMEOUT)
            .await
            .ok()
            .and_then(|(_, b)| json(&b))
            .and_then(|v| {
                v.get("latest")?
                    .get("completed")?
                    .get("end_to_end_duration")?
                    .as_u64()
            });
        if let Some(c) = c {
            ckpt = Some(ckpt.map_or(c, |m| m.max(c)));
        }
    }
    Some((running.len() as u32, newest.len() as u32, restarts, ckpt))
}

/// A consumer that only reads the group's committed offsets: it never joins
/// the group and never commits.
fn lag_consumer(brokers: &str) -> Option<std::sync::Arc<BaseConsumer>> {
    let mut c = rdkafka::ClientConfig::new();
    c.set("bootstrap.servers", brokers)
        .set("group.id", PATH1_GROUP)
        .set("client.id", "tpcds-bench-metrics")
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false");
    c.create::<BaseConsumer>().ok().map(std::sync::Arc::new)
}

async fn kafka_lag(
    consumer: Option<std::sync::Arc<BaseConsumer>>,
    topics: Vec<String>,
) -> Option<i64> {
    let consumer = consumer?;
    tokio::task::spawn_blocking(move || {
        let mut tpl = TopicPartitionList::new();
        for t in &topics {
            // The stack's topics have one partition; more would need metadata.
            tpl.add_partition(t, 0);
        }
        let committed = consumer.committed_offsets(tpl, REQUEST_TIMEOUT).ok()?;
        let mut lag = 0i64;
        for e in committed.elements() {
            let (_, high) = consumer
                .fetch_watermarks(e.topic(), e.partition(), REQUEST_TIMEOUT)
                .ok()?;
            let done = match e.offset() {
                Offset::Offset(o) => o,
                _ => 0,
            };
            lag += (high - done).max(0);
        }
        Some(lag)
    })
    .await
    .ok()
    .flatten()
}

async fn binlog_position(url: &str, conn: &mut Option<mysql_async::Conn>) -> Option<(String, u64)> {
    if conn.is_none() {
        let opts = crate::targets::mysql::opts(url).ok()?;
        *conn = tokio::time::timeout(REQUEST_TIMEOUT, mysql_async::Conn::new(opts))
            .await
            .ok()?
            .ok();
    }
    let c = conn.as_mut()?;
    let row: Option<mysql_async::Row> =
        match tokio::time::timeout(REQUEST_TIMEOUT, c.query_first("SHOW MASTER STATUS")).await {
            Ok(Ok(r)) => r,
            _ => {
                // A lost connection: open a new one next second.
                *conn = None;
                return None;
            }
        };
    let row = row?;
    let file: String = row.get(0)?;
    let pos: u64 = row.get(1)?;
    Some((file, pos))
}
