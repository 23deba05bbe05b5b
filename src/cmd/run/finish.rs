//! The end of a run: accounting per sink, SLO verdicts, the run directory,
//! and the exit class; the caveats are gathered in `caveats`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::outcome::Outcome;
use crate::exit::{Classified, Exit};
use crate::faults::recovery;
use crate::load::WorkerReport;
use crate::model::{Sink, VisibleSource};
use crate::report::{
    write_run_dir, HarnessMemory, RunData, SinkAccounting, SinkRun, SinkVisibility, SloVerdict,
};
use crate::scenario::Scenario;
use crate::stats::RunStats;
use crate::track::VisibilityCounts;

/// How many missing keys a report lists per sink.
const MISSING_KEYS_LISTED: usize = 100;

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

    let sinks = sink_runs(&o);
    let mut fault_recovery = recovery::from_run(&o.stats, &s.observe.sinks, &o.fault_events);
    for f in &mut fault_recovery {
        for r in &mut f.sinks {
            r.run_missing = sinks
                .iter()
                .find(|(k, _)| k.name() == r.sink)
                .map_or(0, |(_, v)| v.accounting.missing);
        }
    }
    let mut slo = evaluate_slo(
        s,
        &o.stats,
        &sinks,
        achieved_rate / target_rate.max(f64::MIN_POSITIVE),
        o.audit.as_ref(),
    );
    if let Some(snap) = &o.snapshot {
        slo.breaches
            .extend(snapshot_breaches(snap, s.slo.max_mismatched));
        slo.passed = slo.breaches.is_empty();
    }

    let environment = environment(&o);
    let memory = memory(&o);
    let caveats = super::caveats::gather(&o, &fault_recovery, &memory);
    // An injected fault whose control failed after it started may have left
    // the stack changed: the run fails as a fault.
    let control_failed = o
        .fault_events
        .iter()
        .any(|ev| ev.error.is_some() && ev.started_s.is_some());
    let mut run = RunData {
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
        snapshot: o.snapshot,
    };
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

/// Each observed sink's accounting, resolution and visibility.
fn sink_runs(o: &Outcome<'_>) -> BTreeMap<Sink, SinkRun> {
    let s = o.scenario;
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
    sinks
}

/// What the run saw of its targets and itself: versions, settings, facts.
fn environment(o: &Outcome<'_>) -> BTreeMap<String, String> {
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
    environment
}

/// The harness's memory: the kernel's peak, the projection, the ledger's.
fn memory(o: &Outcome<'_>) -> HarnessMemory {
    let (ledger_peak, ledger_peak_bytes) = o.ledger.peak_memory();
    HarnessMemory {
        peak_rss_bytes: super::budget::peak_rss(),
        projected_bytes: o.memory.0,
        limit_bytes: o.memory.1,
        ledger_peak_bytes,
        in_flight_rows: ledger_peak.live_versions,
        bytes_per_in_flight_row: ledger_peak.per_live(),
        window_rows: ledger_peak.past_versions,
        bytes_per_window_row: ledger_peak.per_past(),
    }
}

/// A snapshot must copy every preloaded row to every sink, once, intact.
fn snapshot_breaches(snap: &crate::snapshot::SnapshotReport, max_mismatched: u64) -> Vec<String> {
    let mut out = Vec::new();
    for (sink, x) in &snap.sinks {
        if x.rows < snap.rows {
            out.push(format!(
                "snapshot: {} holds {} of the {} preloaded rows",
                sink.name(),
                x.rows,
                snap.rows
            ));
        }
        if x.duplicates > 0 {
            out.push(format!(
                "snapshot: {} received {} preloaded rows more than once",
                sink.name(),
                x.duplicates
            ));
        }
    }
    if let Some(a) = &snap.audit {
        let n = a.mismatched();
        if n > max_mismatched {
            out.push(format!(
                "snapshot: {n} preloaded rows differ from MySQL (slo.max_mismatched = {max_mismatched})"
            ));
        }
    }
    out
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
