//! The snapshot phase (`[snapshot]`): how long a CDC pipeline takes to copy
//! what a table already holds, what that costs the source, and what it does
//! to streaming latency meanwhile.
//!
//! Before the load ([`Phase::prepare`]): the CDC jobs are cancelled (no
//! savepoint), `rows` rows are [`preload`]ed into MySQL in a ticket slot of
//! their own. Once the observers are ready ([`Phase::start_jobs`]): the jobs
//! are submitted anew (`scan.startup.mode = initial`: Flink CDC reads every
//! table in chunks while it follows the binlog, then streams), and the load
//! starts at once. After the drain ([`Phase::measure`]): per sink, when the
//! preloaded rows became visible (the warehouse's commit timestamps, Kafka's
//! LogAppendTime), duplicates, the streamed rows' latency around it
//! ([`figures`]), MySQL's load ([`source`]), and an audit of the preloaded
//! rows. The streamed rows are the ledger's as in every run.

pub mod figures;
pub mod preload;
mod report;
pub mod source;

pub use report::{compare_table, SinkSnapshot, SnapshotReport, SourceLoad};

use std::collections::BTreeMap;
use std::ops::Range;
use std::time::{Duration, Instant};

use crate::audit::{Targets, AUDITED};
use crate::faults::control::Controller;
use crate::model::Sink;
use crate::scenario::{Scenario, Snapshot};
use crate::stats::RunStats;
use preload::Preloaded;

pub use crate::faults::control::CDC_JOBS;

/// Why the snapshot phase could not run.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// The stack's controls refused or failed.
    #[error("snapshot: {0}")]
    Control(#[from] crate::faults::control::ControlError),
    /// Writing the preload failed.
    #[error("snapshot: the preload failed: {0}")]
    Preload(String),
    /// MySQL could not be counted.
    #[error("snapshot: cannot count MySQL's tables: {0}")]
    Count(String),
}

/// A snapshot phase under way.
pub struct Phase {
    ctrl: Controller,
    preloaded: Preloaded,
    table_rows: Vec<(crate::model::Table, u64)>,
    submitted_us: i64,
    running_us: i64,
    sampler: Option<source::Sampler>,
}

impl Phase {
    /// Cancels the CDC jobs and preloads the rows over `tickets` (a slot
    /// the run does not use).
    pub async fn prepare(
        scenario: &Scenario,
        spec: &Snapshot,
        ctrl: Controller,
        tickets: Range<u64>,
    ) -> Result<Phase, SnapshotError> {
        eprintln!(
            "snapshot: cancelling {} (no savepoint)",
            CDC_JOBS.join(" and ")
        );
        let mut args = vec!["cancel-jobs"];
        args.extend(CDC_JOBS);
        ctrl.stack(&args).await?;
        // From here on the jobs are down: a failure drops the phase, whose
        // `Drop` submits them again.
        let mut phase = Phase {
            ctrl,
            preloaded: Preloaded {
                tickets: tickets.clone(),
                sales: 0,
                returns: 0,
                took: Duration::ZERO,
            },
            table_rows: Vec::new(),
            submitted_us: 0,
            running_us: 0,
            sampler: None,
        };
        eprintln!(
            "snapshot: preloading {} rows into tickets {}..{} ({} connections, {} rows a statement)",
            spec.rows, tickets.start, tickets.end, spec.connections, spec.batch_rows
        );
        phase.preloaded = preload::preload(scenario, spec, tickets).await?;
        eprintln!(
            "snapshot: preloaded {} rows in {:.1} s",
            phase.preloaded.sales + phase.preloaded.returns,
            phase.preloaded.took.as_secs_f64()
        );
        Ok(phase)
    }

    /// Counts what the snapshot will read, starts sampling MySQL, and
    /// submits the CDC jobs anew (returns once they run).
    pub async fn start_jobs(&mut self, scenario: &Scenario) -> Result<(), SnapshotError> {
        let url = scenario.targets.mysql.expose().to_string();
        self.table_rows = source::table_rows(&url)
            .await
            .map_err(|e| SnapshotError::Count(crate::redact::redact_text(&e).into_owned()))?;
        self.sampler = Some(source::Sampler::start(url));
        eprintln!(
            "snapshot: submitting {} anew (startup mode initial)",
            CDC_JOBS.join(" and ")
        );
        self.submitted_us = chrono::Utc::now().timestamp_micros();
        let mut args = vec!["restart-jobs", "--fresh"];
        args.extend(CDC_JOBS);
        let result = self.ctrl.stack(&args).await;
        self.running_us = chrono::Utc::now().timestamp_micros();
        result?;
        Ok(())
    }

    /// After the drain: waits at most `wait` for the preloaded rows at every
    /// warehouse path, then measures each sink and audits the preload.
    pub async fn measure(mut self, m: Measure<'_>) -> SnapshotReport {
        let rel = |us: i64| (us - m.wall_start_us) as f64 / 1e6;
        let p = &self.preloaded;
        let rows = p.sales + p.returns;
        let mut r = SnapshotReport {
            rows,
            sales: p.sales,
            returns: p.returns,
            tickets: format!("{}..{}", p.tickets.start, p.tickets.end),
            preload_s: p.took.as_secs_f64(),
            preload_rows_per_s: rows as f64 / p.took.as_secs_f64().max(1e-3),
            table_rows: self
                .table_rows
                .iter()
                .map(|(t, n)| (t.name().to_string(), *n))
                .collect(),
            jobs_submitted_s: rel(self.submitted_us),
            jobs_running_s: rel(self.running_us),
            ..SnapshotReport::default()
        };
        let snapshot_rows: u64 = self.table_rows.iter().map(|(_, n)| n).sum();
        let sinks: Vec<Sink> = AUDITED
            .into_iter()
            .filter(|s| m.scenario.observe.sinks.contains(s))
            .collect();
        // The warehouse paths' copies, once complete (or at the deadline).
        let copies = warehouse_copies(m.scenario, &sinks, &p.tickets, rows, m.wait).await;
        let audit = crate::audit::audit(&Targets::of(m.scenario, m.started_at), &p.tickets, &sinks)
            .await
            .unwrap_or_else(|e| crate::audit::failed(&p.tickets, &sinks, &e));
        let mut ends = Vec::new();
        for sink in &sinks {
            let (count, dups, first_ms, last_ms) = match sink {
                Sink::Kafka => match audit.kafka_read {
                    // Distinct keys: a repeated message is a duplicate, not a row.
                    Some(k) => (k.messages - k.repeated, k.repeated, k.first_ms, k.last_ms),
                    None => (0, 0, None, None),
                },
                _ => match copies.get(sink) {
                    Some(Ok(c)) => (c.rows, 0, c.first_ms, c.last_ms),
                    Some(Err(e)) => {
                        r.notes.push(format!("{}: {e}", sink.name()));
                        (0, 0, None, None)
                    }
                    None => (0, 0, None, None),
                },
            };
            let complete = count >= rows;
            if !complete {
                r.notes.push(format!(
                    "{}: {count} of {rows} preloaded rows after the wait: its snapshot had not ended",
                    sink.name()
                ));
            }
            let last_s = last_ms.map(|ms| rel(ms * 1000));
            let duration_s = last_s.filter(|_| complete).map(|l| l - r.jobs_running_s);
            if let (Some(e), true) = (last_ms, complete) {
                ends.push(e * 1000);
            }
            r.sinks.insert(
                *sink,
                sink_figures(
                    &m,
                    *sink,
                    &r,
                    count,
                    dups,
                    first_ms.map(|ms| rel(ms * 1000)),
                    last_s,
                    duration_s,
                    snapshot_rows,
                ),
            );
        }
        r.audit = Some(audit);
        if let Some(sampler) = self.sampler.take() {
            let samples = sampler.finish().await;
            let end = ends.into_iter().max().unwrap_or(i64::MAX);
            r.mysql = mysql_load(&samples, self.submitted_us, end);
        }
        r.notes.push(format!(
            "the snapshot read every row MySQL held ({snapshot_rows}), not only the preload's {rows}; \
             a warehouse path's times are its rows' commit timestamps, Kafka's its LogAppendTime; \
             Flink CDC 3.5 reports no snapshot metric (only currentFetchEventTimeLag), so the switch to streaming is read off the sinks"
        ));
        r
    }
}

impl Drop for Phase {
    /// A run that fails between the cancel and the submission (the preload,
    /// the observers' start) would leave the pipeline without its CDC jobs:
    /// they are submitted anew here, blocking, and the run says so. (An
    /// interrupt in that window ends the process before this runs:
    /// `scripts/stack.sh heal` or `restart-jobs --fresh` brings them back.)
    fn drop(&mut self) {
        if self.submitted_us != 0 {
            return;
        }
        let Controller::Native { script } = &self.ctrl else {
            return;
        };
        eprintln!("snapshot: the run stopped before the CDC jobs were submitted again; submitting them anew");
        let status = std::process::Command::new(script)
            .arg("restart-jobs")
            .arg("--fresh")
            .args(CDC_JOBS)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .status();
        if !matches!(&status, Ok(s) if s.success()) {
            eprintln!(
                "snapshot: that failed ({status:?}); restore them with: {} restart-jobs --fresh {}",
                script.display(),
                CDC_JOBS.join(" ")
            );
        }
    }
}

/// What [`Phase::measure`] needs of the run.
pub struct Measure<'a> {
    /// The scenario.
    pub scenario: &'a Scenario,
    /// The run's start (the Kafka read-back starts there).
    pub started_at: chrono::DateTime<chrono::Utc>,
    /// The load's start, Unix µs.
    pub wall_start_us: i64,
    /// The run's statistics.
    pub stats: &'a RunStats,
    /// The load's length (s).
    pub load_s: u32,
    /// How long to wait for the preloaded rows.
    pub wait: Duration,
}

#[allow(clippy::too_many_arguments)]
fn sink_figures(
    m: &Measure<'_>,
    sink: Sink,
    r: &SnapshotReport,
    rows: u64,
    duplicates: u64,
    first_s: Option<f64>,
    last_s: Option<f64>,
    duration_s: Option<f64>,
    snapshot_rows: u64,
) -> SinkSnapshot {
    let (p99, seen): (Vec<_>, Vec<_>) = m
        .stats
        .sink_seconds(sink)
        .map(|(_, sum, n)| ((!sum.is_empty()).then_some(sum.p99 as f64 / 1000.0), n))
        .unzip();
    // From the jobs running: the SQL client's submission before that is apart.
    let since_running = |load_s: f64| load_s - r.jobs_running_s;
    let ph = figures::phases(&p99, last_s.unwrap_or(f64::from(m.load_s)), m.load_s);
    SinkSnapshot {
        rows,
        duplicates,
        first_s,
        last_s,
        duration_s,
        rows_per_s: duration_s.map(|d| snapshot_rows as f64 / d.max(1e-3)),
        first_streamed_s: figures::first_seen(&seen).map(|s| since_running(f64::from(s))),
        p99_during_ms: ph.p99_during_ms,
        p99_during_max_ms: ph.p99_during_max_ms,
        p99_steady_ms: ph.p99_steady_ms,
        steady_after_s: ph.recovered_at_s.map(|s| since_running(f64::from(s))),
    }
}

/// Waits for each warehouse path to hold every preloaded row (at most
/// `wait`), then reads its copy's times.
async fn warehouse_copies(
    scenario: &Scenario,
    sinks: &[Sink],
    tickets: &Range<u64>,
    rows: u64,
    wait: Duration,
) -> BTreeMap<Sink, Result<source::PathCopy, String>> {
    let mut out = BTreeMap::new();
    let url = scenario.targets.warehouse.expose();
    let conn = match crate::observe::warehouse::WarehouseConn::connect(url, Duration::from_secs(10))
        .await
    {
        Ok(c) => c,
        Err(e) => {
            for s in sinks.iter().filter(|s| **s != Sink::Kafka) {
                out.insert(*s, Err(format!("cannot reach the warehouse: {e}")));
            }
            return out;
        }
    };
    let deadline = Instant::now() + wait;
    for s in sinks.iter().filter(|s| **s != Sink::Kafka) {
        loop {
            match source::path_rows(&conn.client, *s, tickets).await {
                Ok(n) if n >= rows || Instant::now() >= deadline => break,
                Ok(_) => tokio::time::sleep(Duration::from_secs(1)).await,
                Err(_) => break,
            }
        }
        out.insert(*s, source::path_copy(&conn.client, *s, tickets, true).await);
    }
    out
}

/// MySQL's load from the first sample at or after `from_us` to the last at
/// or before `to_us`.
fn mysql_load(samples: &[source::SourceSample], from_us: i64, to_us: i64) -> Option<SourceLoad> {
    let a = samples
        .iter()
        .find(|s| s.at_us >= from_us)
        .or(samples.first())?;
    let b = samples
        .iter()
        .rev()
        .find(|s| s.at_us <= to_us)
        .or(samples.last())?;
    if b.at_us <= a.at_us {
        return None;
    }
    let cpu = a.cpu.until(&b.cpu);
    Some(SourceLoad {
        over_s: (b.at_us - a.at_us) as f64 / 1e6,
        cpu_s: cpu.cpu_s.get("mysql").copied(),
        rows_read: b
            .rows_read
            .zip(a.rows_read)
            .map(|(b, a)| b.saturating_sub(a)),
        bytes_sent: b
            .bytes_sent
            .zip(a.bytes_sent)
            .map(|(b, a)| b.saturating_sub(a)),
    })
}
