//! The end of a run: accounting per sink, SLO verdicts, caveats, the run
//! directory, and the exit class.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::exit::{Classified, Exit};
use crate::faults::{recovery, FaultEvent};
use crate::load::{WorkerReport, LATE_THRESHOLD};
use crate::model::{Sink, VisibleSource};
use crate::observe::preflight::PreflightReport;
use crate::observe::ObserverStats;
use crate::plan::Plan;
use crate::report::{write_run_dir, RunData, SinkAccounting, SinkRun, SinkVisibility, SloVerdict};
use crate::scenario::Scenario;
use crate::stats::RunStats;
use crate::track::{Ledger, VisibilityCounts};

/// How many missing keys a report lists per sink.
const MISSING_KEYS_LISTED: usize = 100;

/// Everything the run gathered.
pub struct Outcome<'a> {
    pub scenario: &'a Scenario,
    pub plan: &'a Plan,
    pub started_at: DateTime<Utc>,
    pub wall_start_us: i64,
    pub tickets: Range<u64>,
    pub workers: Vec<WorkerReport>,
    pub ledger: Ledger,
    pub stats: RunStats,
    pub observers: Vec<(Sink, Result<ObserverStats, String>)>,
    pub observed_env: BTreeMap<String, String>,
    pub preflight: PreflightReport,
    pub faults: Vec<String>,
    pub interrupted: bool,
    pub drained: bool,
    pub drain_took: Duration,
    /// How long the load ran (shorter than the scenario's duration when interrupted).
    pub load_time: Duration,
    /// The scenario's `[[faults]]` as they happened.
    pub fault_events: Vec<FaultEvent>,
    /// The pipeline's own metrics.
    pub metrics: Vec<crate::metrics::MetricsSample>,
    /// Failed metric reads (`None`: the sampler did not stop in time).
    pub metric_errors: Option<u64>,
    /// Probes written and queries run (derived and query sinks).
    pub derived: super::derived::Report,
    /// Each server's clock offset from the harness's, where measured.
    pub clock_offsets: BTreeMap<String, crate::clock::ClockOffset>,
    /// This process's shard, when the run is split.
    pub shards: Vec<crate::report::ShardInfo>,
    /// The projected peak and the budget (bytes), see `budget`.
    pub memory: (u64, u64),
    /// The audit of the warehouse paths' contents (`None`: off or interrupted).
    pub audit: Option<crate::audit::AuditReport>,
}

/// A polled sink's visibility counts as the report carries them.
fn sink_visibility(c: VisibilityCounts) -> SinkVisibility {
    SinkVisibility {
        source: c.main_source(),
        by_source: VisibleSource::ALL
            .into_iter()
            .filter(|src| c.count(*src) > 0)
            .map(|src| (src, c.count(src)))
            .collect(),
        uncertainty_us: c.max_uncertainty_us,
        before_ack: c.before_ack,
        after_detection: c.after_detection,
    }
}

/// Builds the run data, writes the run directory, prints the verdict (the
/// report too when `print`); returns the exit class and the directory.
pub fn write(o: Outcome<'_>, out: &Path, print: bool) -> anyhow::Result<(Exit, PathBuf)> {
    let s = o.scenario;
    // An interrupted run is measured over the part that ran.
    let duration = if o.interrupted {
        o.load_time.min(s.duration)
    } else {
        s.duration
    };
    let sum = |f: fn(&WorkerReport) -> u64| o.workers.iter().map(f).sum::<u64>();
    let committed = sum(|w| w.committed);
    let (late, dropped, failed) = (sum(|w| w.late), sum(|w| w.dropped), sum(|w| w.failed));
    let target_rows = o.plan.expected_rows(duration).round() as u64;
    let target_rate = crate::report::per_second(target_rows, duration);
    let achieved_rate = crate::report::per_second(committed, duration);

    let mut sinks = BTreeMap::new();
    for &sink in &s.observe.sinks {
        let mut c = o.ledger.counts(sink);
        if let Some((_, r)) = o.derived.reads.iter().find(|(q, _)| *q == sink) {
            // A query sink counts executions: answered, and failed.
            c.seen = r.ok;
            c.expected = r.ok + r.failed;
        }
        let missing_keys = o
            .ledger
            .missing_keys(sink, MISSING_KEYS_LISTED)
            .into_iter()
            .map(|(k, _, _)| k)
            .collect();
        let observer = o
            .observers
            .iter()
            .find(|(k, _)| *k == sink)
            .and_then(|(_, r)| r.as_ref().ok());
        let poll_interval = match sink {
            Sink::Path1 | Sink::Path2 => Some(s.observe.poll_interval),
            Sink::Path1View | Sink::Path2View => Some(s.derived.poll_interval),
            _ => None,
        };
        // The measured window where the observer measured one, else the interval.
        let detection_window_us = poll_interval.map(|p| {
            observer
                .map(|st| st.max_window_micros)
                .filter(|w| *w > 0)
                .unwrap_or(p.as_micros() as u64)
        });
        let visibility = sink
            .is_polled()
            .then(|| sink_visibility(o.ledger.visibility(sink)));
        let resolution_us = match &visibility {
            Some(v) if v.source != VisibleSource::Detected => Some(v.uncertainty_us),
            _ => detection_window_us,
        };
        sinks.insert(
            sink,
            SinkRun {
                accounting: SinkAccounting {
                    seen: c.seen,
                    missing: c.missing(),
                    duplicates: c.duplicates,
                    unexpected: c.unexpected,
                    missing_keys,
                },
                resolution_us,
                detection_window_us,
                clock_offset_us: observer.and_then(|st| st.clock_offset),
                visibility,
            },
        );
    }

    let mut caveats = Vec::new();
    if o.interrupted {
        caveats.push(
            "interrupted: the load stopped early; rows still in flight are counted as missing"
                .into(),
        );
    } else if !o.drained {
        caveats.push(format!(
            "drain timed out after {}: rows not seen by then are reported missing",
            humantime::format_duration(s.drain_timeout)
        ));
    }
    if late > 0 || dropped > 0 {
        let by_mysql = sum(|w| w.late_waiting_for_mysql);
        caveats.push(format!(
            "{late} rows were sent more than {} ms after their intended time and {dropped} were dropped \
             (over max_lag); client latency counts from the intended time, so it includes that wait. {}",
            LATE_THRESHOLD.as_millis(),
            bottleneck(late, by_mysql)
        ));
    }
    if s.observe.sample_rate < 1.0 {
        caveats.push(format!(
            "sink latencies are recorded for {:.0} % of rows (observe.sample_rate, chosen by key, the same rows at every sink); seen and missing counts cover every row",
            s.observe.sample_rate * 100.0
        ));
    }
    if failed > 0 {
        caveats.push(format!("{failed} rows failed to commit (see faults)"));
    }
    caveats.extend(super::derived::caveats(s, &o.derived));
    for f in o.faults.iter().take(20) {
        caveats.push(format!("fault: {f}"));
    }
    if o.faults.len() > 20 {
        caveats.push(format!("… and {} more faults", o.faults.len() - 20));
    }
    for &sink in &s.observe.sinks {
        let v = o.ledger.visibility(sink);
        if v.before_ack > 0 || v.after_detection > 0 {
            caveats.push(format!(
                "{sink}: {} rows became visible before their commit ack (though seen after it) and {} after the \
                 harness saw them, by more than the clock offset's uncertainty (an ack that reached a busy harness \
                 late, or a server clock that moved during the run); their latencies were clamped to [0, detected]",
                v.before_ack, v.after_detection
            ));
        }
    }
    for hop in crate::model::Hop::ALL {
        let n = o.ledger.hop_negative(hop);
        if n > 0 {
            caveats.push(format!(
                "hop {hop}: {n} rows reached its end before its start on the harness's clock (recorded as 0); \
                 the ends' uncertainties overlap there"
            ));
        }
    }
    for (sink, r) in &o.observers {
        match r {
            Err(e) => caveats.push(format!("{sink} observer failed: {e}")),
            Ok(st) => {
                if st.poll_errors > 0 || st.reconnects > 0 {
                    caveats.push(format!(
                        "{sink} observer: {} failed reads retried, {} reconnects (an outage of the sink or its server; \
                         the reads resumed where they stopped)",
                        st.poll_errors, st.reconnects
                    ));
                }
                if st.late_windows > 0 {
                    // With commit timestamps a late poll delays only the sighting.
                    let hit = if st.commit_ts {
                        "its `detected` figures (not the headline, which is the commit time) and its deletes"
                    } else {
                        "its latencies"
                    };
                    caveats.push(format!(
                        "{sink} observer: {} of {} polls answered more than twice the poll interval ({}) after the \
                         previous poll began (longest {}: a slow poll, or a busy machine); a row that became visible \
                         then was seen up to that late, beyond the printed resolution: this bounds {hit}",
                        st.late_windows,
                        st.polls,
                        humantime::format_duration(s.observe.poll_interval),
                        crate::report::fmt_latency(st.max_window_micros),
                    ));
                }
                if matches!(sink, Sink::Path1 | Sink::Path2) && !st.commit_ts {
                    caveats.push(format!(
                        "{sink}: the warehouse keeps no commit timestamps (track_commit_timestamp = off), so its \
                         latency ends at the row's arrived_at stamp, which precedes the commit by up to the sink \
                         transaction's length, or at the poll; `tpcds-bench check` says how to turn it on"
                    ));
                }
                if st.stalls > 0 {
                    caveats.push(format!(
                        "{sink} observer: its consumer stopped fetching {} times while messages waited (librdkafka \
                         after a broker restart) and was replaced at the same offsets; nothing was skipped, but rows \
                         waiting then were seen up to {:.1} s late",
                        st.stalls,
                        st.longest_stall_ms as f64 / 1000.0
                    ));
                }
                if st.malformed > 0 {
                    caveats.push(format!(
                        "{sink}: {} malformed messages (first: {:?})",
                        st.malformed,
                        st.malformed_samples.first().map(|m| &m.reason)
                    ));
                }
            }
        }
    }
    for &sink in &s.observe.sinks {
        let mut c = o.ledger.counts(sink);
        if let Some((_, r)) = o.derived.reads.iter().find(|(q, _)| *q == sink) {
            // A query sink counts executions: answered, and failed.
            c.seen = r.ok;
            c.expected = r.ok + r.failed;
        }
        if c.superseded > 0 {
            caveats.push(format!(
                "{sink}: {} row versions were overwritten before a poll saw them; counted as seen, no latency recorded",
                c.superseded
            ));
        }
        if c.confirmed_at_end > 0 {
            caveats.push(format!(
                "{sink}: {} deletes were confirmed by an end-of-run check that the row is absent \
                 (the sink never showed the row between polls); no latency recorded",
                c.confirmed_at_end
            ));
        }
        if c.before_ack > 0 {
            caveats.push(format!(
                "{sink}: {} versions were seen before their commit ack reached the harness (latency recorded as 0)",
                c.before_ack
            ));
        }
    }

    let mut control_failed = false;
    for ev in &o.fault_events {
        match (&ev.error, ev.started_s) {
            (Some(e), Some(_)) => {
                control_failed = true;
                caveats.push(format!("fault {} at {:.0}s: {e}", ev.label(), ev.at_s));
            }
            (Some(e), None) => caveats.push(format!("fault {}: {e}", ev.label())),
            (None, _) => {}
        }
    }
    let mut fault_recovery = recovery::from_run(&o.stats, &s.observe.sinks, &o.fault_events);
    for f in &mut fault_recovery {
        for r in &mut f.sinks {
            r.run_missing = sinks
                .iter()
                .find(|(k, _)| k.name() == r.sink)
                .map_or(0, |(_, v)| v.accounting.missing);
        }
    }
    caveats.extend(crate::faults::caveats::caveats(
        &fault_recovery,
        o.load_time.as_secs_f64(),
    ));

    if let Some(n) = o.metric_errors.filter(|n| *n > 0) {
        caveats.push(format!(
            "pipeline metrics (metrics.csv): {n} reads failed (Flink REST, Kafka or MySQL not answering that second; the columns are empty there)"
        ));
    }
    if !o.metrics.is_empty() {
        caveats.push(
            "pipeline metrics: path 1's Kafka lag is high watermark − the offsets Flink commits at each checkpoint, \
             so it moves in checkpoint-interval steps"
                .into(),
        );
    }

    let slo = evaluate_slo(
        s,
        &o.stats,
        &sinks,
        achieved_rate / target_rate.max(f64::MIN_POSITIVE),
        o.audit.as_ref(),
    );

    let mut environment = o.observed_env.clone();
    for t in &o.preflight.targets {
        for (k, v) in &t.facts {
            environment.insert(format!("{}.{k}", t.kind), v.clone());
        }
    }
    environment.insert("harness.version".into(), env!("CARGO_PKG_VERSION").into());
    environment.insert(
        "run.drain_seconds".into(),
        format!("{:.1}", o.drain_took.as_secs_f64()),
    );
    environment.insert(
        "tickets".into(),
        format!("{}..{}", o.tickets.start, o.tickets.end),
    );

    let (ledger_peak, ledger_peak_bytes) = o.ledger.peak_memory();
    let memory = crate::report::HarnessMemory {
        peak_rss_bytes: super::budget::peak_rss(),
        projected_bytes: o.memory.0,
        limit_bytes: o.memory.1,
        ledger_peak_bytes,
        in_flight_rows: ledger_peak.live_versions,
        bytes_per_in_flight_row: ledger_peak.per_live(),
        window_rows: ledger_peak.past_versions,
        bytes_per_window_row: ledger_peak.per_past(),
    };
    if memory
        .peak_rss_bytes
        .is_some_and(|b| b > memory.limit_bytes)
    {
        caveats.push(format!(
            "the harness's peak RSS exceeded its budget (observe.memory_limit_mib): {}",
            memory.line()
        ));
    }
    let run = RunData {
        scenario: s.name.clone(),
        scenario_source: s.source_text().to_string(),
        resolved_scenario: serde_json::to_value(s).unwrap_or_default(),
        run_id: String::new(),
        started_at: o.started_at,
        duration,
        warmup: s.warmup,
        interrupted: o.interrupted,
        target_rows,
        target_rate,
        achieved_rows: committed,
        achieved_rate,
        late,
        dropped,
        failed,
        sinks,
        environment,
        slo: slo.clone(),
        caveats,
        stats: o.stats,
        faults: fault_recovery,
        metrics: o.metrics,
        clock_offsets: o.clock_offsets,
        shards: o.shards,
        memory: Some(memory),
        audit: o.audit,
    };
    let mut run = run;
    run.run_id = crate::report::run_dir_name(&run);
    let dir = write_run_dir(out, &run).map_err(|e| Classified::new(Exit::Fault, e))?;
    if print {
        print!("{}", crate::report::markdown::render(&run));
        println!("\nrun directory: {}", dir.display());
    }
    // Last on stderr too, where a script or CI log shows it without the report.
    for l in run.left_changed() {
        eprintln!("tpcds-bench: {}", l.notice());
    }
    let _ = o.wall_start_us;
    let exit = if o.interrupted {
        Exit::Interrupted
    } else if control_failed {
        Exit::Fault
    } else if !slo.passed {
        Exit::Breach
    } else {
        Exit::Ok
    };
    Ok((exit, dir))
}

/// Says who held the schedule back. A late batch whose worker was still waiting
/// for its previous transaction at the due time was late because of MySQL; one
/// whose worker was free was late because of the harness (a busy CPU, scheduling).
fn bottleneck(late: u64, by_mysql: u64) -> String {
    let by_harness = late - by_mysql.min(late);
    if by_harness * 2 > late {
        format!(
            "The harness, not MySQL, was the bottleneck for {by_harness} of them: their worker was idle \
             when they were due (a busy CPU on the load machine); {by_mysql} waited for MySQL"
        )
    } else {
        format!(
            "MySQL was the bottleneck for {by_mysql} of them: their worker was still waiting for its \
             previous transaction (more workers spread the load); {by_harness} were late on the harness side"
        )
    }
}

/// Checks the scenario's SLOs against the measured figures.
fn evaluate_slo(
    s: &Scenario,
    stats: &RunStats,
    sinks: &BTreeMap<Sink, SinkRun>,
    achieved_ratio: f64,
    audit: Option<&crate::audit::AuditReport>,
) -> SloVerdict {
    crate::compare::slo::verdict(&s.slo, stats, sinks, achieved_ratio, audit)
}
