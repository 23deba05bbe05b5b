//! Starting the scenario's observers (each ready before the load starts),
//! running them, and collecting what they report at the end.

use std::collections::BTreeMap;
use std::ops::Range;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::model::{Observation, Sink};
use crate::observe::binlog::{BinlogConfig, BinlogObserver};
use crate::observe::kafka::{KafkaConfig, KafkaObserver};
use crate::observe::preflight::{check_all, PreflightConfig, PreflightReport};
use crate::observe::warehouse::ChangeWatch;
use crate::observe::warehouse::{WarehouseConfig, WarehouseObserver};
use crate::observe::{ObserveError, ObserverStats};
use crate::scenario::Scenario;

/// Checks the targets the scenario's sinks need (always MySQL with its binlog
/// settings: the pipeline is CDC).
///
/// With `expect_format`, the scenario's `targets.kafka.format` must be the one
/// the running jobs declare (when Kafka is observed); without, it is only reported.
pub async fn preflight(s: &Scenario, expect_format: bool) -> PreflightReport {
    let wants = |sink| s.observe.sinks.contains(&sink);
    let warehouse = wants(Sink::Path1) || wants(Sink::Path2);
    let mut schemas = Vec::new();
    for sink in [Sink::Path1, Sink::Path2] {
        if wants(sink) {
            schemas.push(sink.name().to_string());
        }
    }
    let cfg = PreflightConfig {
        mysql_url: Some(s.targets.mysql.expose().to_string()),
        mysql_database: s
            .targets
            .mysql
            .database()
            .unwrap_or("business_db")
            .to_string(),
        require_binlog: true,
        kafka_brokers: wants(Sink::Kafka).then(|| s.targets.kafka.brokers.clone()),
        topic_prefix: s.targets.kafka.topic_prefix.clone(),
        warehouse_url: warehouse.then(|| s.targets.warehouse.expose().to_string()),
        schemas,
        flink_url: Some(s.targets.flink_rest.expose().to_string()),
        kafka_format: (expect_format && wants(Sink::Kafka))
            .then(|| s.targets.kafka.format.name().to_string()),
        ..PreflightConfig::default()
    };
    check_all(&cfg).await
}

/// Observers connected and positioned, not yet reading.
pub struct Ready {
    kafka: Option<KafkaObserver>,
    warehouse: Vec<WarehouseObserver>,
    binlog: Option<BinlogObserver>,
    /// Keys updated or deleted, shared with the warehouse pollers.
    pub changes: Option<ChangeWatch>,
    /// What the observers learned about their targets (versions, positions).
    pub environment: BTreeMap<String, String>,
}

/// The highest peak rate (rows/s) at which the binlog observer keeps the
/// audit's tally: it decodes every value with the driver's decoder, ~17 µs a
/// row change (`cargo bench --bench binlog`), on the observer's own task,
/// where the observer reads only keys and stamps otherwise (0.1 µs): ~5 % of
/// a core at 3,000 rows/s, a third of one at 20,000, which would delay the
/// binlog sink's own `seen_at`. Above it, the audit computes MySQL's side in
/// MySQL.
pub const TALLY_MAX_RATE: f64 = 3_000.0;

/// Connects every observer the scenario asks for. Any failure is returned
/// before a single row is written.
pub async fn start(s: &Scenario, tickets: Range<u64>) -> Result<Ready, ObserveError> {
    let wants = |sink| s.observe.sinks.contains(&sink);
    let mut env = BTreeMap::new();
    let kafka = if wants(Sink::Kafka) {
        let mut cfg = KafkaConfig::new(s.targets.kafka.brokers.clone(), tickets.clone());
        cfg.topic_prefix = s.targets.kafka.topic_prefix.clone();
        cfg.format = s.targets.kafka.format.into();
        // The end-of-run audit compares the observer's tally (the run's own
        // changelog, counted as it went by) before reading the topics back.
        cfg.tally = s.audit.enabled;
        let k = KafkaObserver::start(cfg).await?;
        env.insert("kafka.format".into(), s.targets.kafka.format.name().into());
        Some(k)
    } else {
        None
    };
    let changes = (wants(Sink::Path1) || wants(Sink::Path2)).then(ChangeWatch::new);
    let mut warehouse = Vec::new();
    for sink in [Sink::Path1, Sink::Path2] {
        if !wants(sink) {
            continue;
        }
        let mut cfg = WarehouseConfig::new(s.targets.warehouse.expose(), sink, tickets.clone());
        cfg.poll_interval = s.observe.poll_interval;
        cfg.overlap = s.observe.arrival_overlap;
        cfg.watch = changes.clone();
        // Twice every worker's pool of mutable lines when the mix mutates
        // any (see observe::warehouse::present; the pool is sized from the
        // rate, `plan::mutation_pool`); else only re-reads need it.
        let mutates = s.mix.update_probability > 0.0 || s.mix.delete_probability > 0.0;
        if mutates {
            cfg.present_cap = 2 * s.load.workers as usize * crate::plan::mutation_pool(s);
        }
        let w = WarehouseObserver::start(cfg).await?;
        let info = w.info();
        env.insert("warehouse.kind".into(), info.kind.name().into());
        env.insert("warehouse.version".into(), info.version.clone());
        warehouse.push(w);
    }
    let binlog = if wants(Sink::Binlog) {
        let mut cfg = BinlogConfig::new(s.targets.mysql.expose(), tickets);
        cfg.database = s
            .targets
            .mysql
            .database()
            .unwrap_or("business_db")
            .to_string();
        // The end-of-run audit takes MySQL's side from the binlog's changes,
        // counted as they went by, instead of computing it in MySQL; up to
        // a rate where that costs the observer little (see TALLY_MAX_RATE).
        cfg.tally = s.audit.enabled
            && crate::plan::Plan::from_scenario(s).peak_rate(s.duration) <= TALLY_MAX_RATE;
        let b = BinlogObserver::start(cfg).await?;
        env.insert("mysql.version".into(), b.server_version().to_string());
        Some(b)
    } else {
        None
    };
    Ok(Ready {
        kafka,
        warehouse,
        binlog,
        changes,
        environment: env,
    })
}

/// A running observer.
pub type ObserverTask = (Sink, JoinHandle<Result<ObserverStats, ObserveError>>);

impl Ready {
    /// Starts reading; every observer gets its own clone of `tx` and `stop`.
    pub fn spawn(
        self,
        tx: mpsc::Sender<Vec<Observation>>,
        stop: watch::Receiver<bool>,
    ) -> Vec<ObserverTask> {
        let mut tasks = Vec::new();
        if let Some(k) = self.kafka {
            tasks.push((Sink::Kafka, tokio::spawn(k.run(tx.clone(), stop.clone()))));
        }
        for w in self.warehouse {
            let sink = w.sink();
            tasks.push((sink, tokio::spawn(w.run(tx.clone(), stop.clone()))));
        }
        if let Some(b) = self.binlog {
            tasks.push((Sink::Binlog, tokio::spawn(b.run(tx.clone(), stop.clone()))));
        }
        tasks
    }
}

/// Waits for every observer; a failed observer becomes a fault message.
pub async fn join(tasks: Vec<ObserverTask>) -> Vec<(Sink, Result<ObserverStats, String>)> {
    let mut out = Vec::new();
    for (sink, task) in tasks {
        let r = match task.await {
            Ok(Ok(stats)) => Ok(stats),
            Ok(Err(e)) => Err(e.to_string()),
            Err(e) => Err(format!("observer task failed: {e}")),
        };
        out.push((sink, r));
    }
    out
}

/// Each server's clock offset as the observers measured it: `warehouse` from
/// whichever path's poller had the tighter bound, `kafka` from its observer.
pub fn clock_offsets(
    results: &[(Sink, Result<ObserverStats, String>)],
) -> BTreeMap<String, crate::clock::ClockOffset> {
    let mut out: BTreeMap<String, crate::clock::ClockOffset> = BTreeMap::new();
    for (sink, r) in results {
        let Some(offset) = r.as_ref().ok().and_then(|st| st.clock_offset) else {
            continue;
        };
        let server = match sink {
            Sink::Path1 | Sink::Path2 => "warehouse",
            Sink::Kafka => "kafka",
            _ => continue,
        };
        let better = out
            .get(server)
            .is_none_or(|o| offset.uncertainty_us < o.uncertainty_us);
        if better {
            out.insert(server.to_string(), offset);
        }
    }
    out
}

/// After the drain, checks the warehouse for rows whose delete no poll could
/// confirm (the sink never showed the row between two polls): a row that is
/// absent now counts its delete as seen, without a latency. Returns how many
/// were confirmed; a query failure leaves them missing and says why.
pub async fn confirm_absent_deletes(
    s: &Scenario,
    ledger: &mut crate::track::Ledger,
) -> Result<u64, ObserveError> {
    let mut confirmed = 0;
    for sink in [Sink::Path1, Sink::Path2] {
        if !s.observe.sinks.contains(&sink) {
            continue;
        }
        let keys = ledger.unseen_deletes(sink);
        if keys.is_empty() {
            continue;
        }
        let conn = crate::observe::warehouse::WarehouseConn::connect(
            s.targets.warehouse.expose(),
            std::time::Duration::from_secs(10),
        )
        .await?;
        let items: Vec<i64> = keys.iter().map(|k| k.item as i64).collect();
        let tickets: Vec<i64> = keys.iter().map(|k| k.ticket as i64).collect();
        let sql = format!(
            "SELECT ss_item_sk::bigint, ss_ticket_number::bigint FROM {}.store_sales \
             WHERE (ss_item_sk, ss_ticket_number) IN (SELECT * FROM unnest($1::bigint[], $2::bigint[]))",
            sink.name()
        );
        let rows = conn
            .client
            .query(&sql, &[&items, &tickets])
            .await
            .map_err(|e| ObserveError::fault(s.targets.warehouse.redacted(), e))?;
        let present: std::collections::HashSet<(i64, i64)> =
            rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        for k in keys {
            if !present.contains(&(k.item as i64, k.ticket as i64)) {
                ledger.confirm_deleted(sink, &k);
                confirmed += 1;
            }
        }
    }
    Ok(confirmed)
}
