//! `merge`: the run directories of one sharded run (`run --shard I/N`) joined
//! into one [`RunData`] that every command reads like any other run.
//!
//! Counts add; histograms add (HdrHistogram merges exactly, so the merged
//! percentiles are those of all rows together, not an average of the shards'
//! percentiles); per-second intervals are aligned on the wall-clock second
//! each shard started; in-flight levels add; SLOs are evaluated again on the
//! merged figures; every caveat keeps the name of the shard it came from.

use std::collections::BTreeMap;
use std::fmt;

use crate::caveat::{Caveat, OfShard};
use crate::report::{per_second, RunData, ShardInfo, SinkRun, SinkVisibility, SloVerdict};
use crate::scenario::Slo;
use crate::stats::{IntervalCounters, IntervalPart, IntervalSnapshot, RunStats, SeriesHistograms};

/// What a reader of a merged run must know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Merged {
    /// Shards whose directories were not given (`I/N` each).
    Partial {
        /// The missing shards.
        missing: Vec<String>,
    },
    /// How the shards were joined.
    From {
        /// Shards merged.
        shards: usize,
        /// Shards the run had.
        of: u32,
    },
}

impl fmt::Display for Merged {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Partial { missing } => write!(
                f,
                "partial merge: shard {} missing; its rows are neither targeted nor counted here",
                missing.join(", ")
            ),
            Self::From { shards, of } => write!(
                f,
                "merged from {shards} of {of} shards: counts and histograms added, seconds aligned on each shard's wall-clock start; \
                 each shard timed its rows on its own clock, so a clock offset between shard hosts does not enter a latency"
            ),
        }
    }
}
/// How many missing keys a merged sink keeps (the shards' lists joined).
const MISSING_KEYS_KEPT: usize = 100;
/// Shards whose starts differ by more than this were not started together.
const MAX_START_SPREAD_MS: i64 = 1000;

/// Why shards cannot be merged.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MergeError {
    /// A directory is not a shard's.
    #[error("{0}: not a shard of a sharded run (summary.json has no `shards`; write it with `run --shard I/N`)")]
    NotAShard(String),
    /// Shards of different runs.
    #[error("{a} and {b} are shards of different runs ({ga} ≠ {gb})")]
    OtherRun {
        /// One directory.
        a: String,
        /// Its run.
        ga: String,
        /// The other directory.
        b: String,
        /// Its run.
        gb: String,
    },
    /// The same shard twice.
    #[error("shard {shard} is given twice: {a} and {b}")]
    Duplicate {
        /// `I/N`.
        shard: String,
        /// One directory.
        a: String,
        /// The other.
        b: String,
    },
    /// Shards missing (and no `--partial`).
    #[error("shard {missing} is missing from the run (given: {given}); a shard that died has no run directory: \
             merge with --partial to join the others, marked as partial")]
    Missing {
        /// The missing shards, `I/N, …`.
        missing: String,
        /// The shards given.
        given: String,
    },
    /// Fingerprints differ: not the same scenario, stack or build.
    #[error(
        "{a} and {b} differ in {differences}: shards of one run share scenario, stack and build"
    )]
    Fingerprint {
        /// One directory.
        a: String,
        /// The other.
        b: String,
        /// The differing entries.
        differences: String,
    },
    /// The shards did not start within a second of each other.
    #[error(
        "{a} started at {sa} and {b} at {sb}: more than 1 s apart, so their seconds do not line up"
    )]
    Start {
        /// One directory.
        a: String,
        /// Its start.
        sa: String,
        /// The other.
        b: String,
        /// Its start.
        sb: String,
    },
}

/// One shard's run directory, read.
pub struct ShardRun<'a> {
    /// Where it was read from (for messages).
    pub dir: String,
    /// The run.
    pub run: &'a RunData,
}

fn shard_of(s: &ShardRun<'_>) -> Result<ShardInfo, MergeError> {
    match s.run.shards.as_slice() {
        [one] => Ok(one.clone()),
        _ => Err(MergeError::NotAShard(s.dir.clone())),
    }
}

/// Checks that `shards` are the shards of one run, started together, with
/// one fingerprint; returns them ordered by index.
fn check<'a, 'b>(
    shards: &'b [ShardRun<'a>],
    partial: bool,
) -> Result<Vec<(ShardInfo, &'b ShardRun<'a>)>, MergeError> {
    let mut by_index: BTreeMap<u32, (ShardInfo, &ShardRun<'_>)> = BTreeMap::new();
    for s in shards {
        let info = shard_of(s)?;
        if let Some((first, f)) = by_index.values().next() {
            if first.group != info.group || first.count != info.count {
                return Err(MergeError::OtherRun {
                    a: f.dir.clone(),
                    ga: format!("{} of {}", first.group, first.count),
                    b: s.dir.clone(),
                    gb: format!("{} of {}", info.group, info.count),
                });
            }
        }
        if let Some((_, other)) = by_index.get(&info.index) {
            return Err(MergeError::Duplicate {
                shard: format!("{}/{}", info.index, info.count),
                a: other.dir.clone(),
                b: s.dir.clone(),
            });
        }
        by_index.insert(info.index, (info, s));
    }
    let ordered: Vec<_> = by_index.into_values().collect();
    let count = ordered[0].0.count;
    let given: Vec<u32> = ordered.iter().map(|(i, _)| i.index).collect();
    let missing: Vec<String> = (0..count)
        .filter(|i| !given.contains(i))
        .map(|i| format!("{i}/{count}"))
        .collect();
    if !missing.is_empty() && !partial {
        return Err(MergeError::Missing {
            missing: missing.join(", "),
            given: given
                .iter()
                .map(|i| format!("{i}/{count}"))
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    let (_, first) = &ordered[0];
    for (_, s) in &ordered[1..] {
        let diffs = super::fingerprint::differences(first.run, s.run);
        if !diffs.is_empty() {
            return Err(MergeError::Fingerprint {
                a: first.dir.clone(),
                b: s.dir.clone(),
                differences: diffs
                    .iter()
                    .map(|d| d.key.clone())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        let spread = (s.run.started_at - first.run.started_at).num_milliseconds();
        if spread.abs() > MAX_START_SPREAD_MS {
            return Err(MergeError::Start {
                a: first.dir.clone(),
                sa: first.run.started_at.to_rfc3339(),
                b: s.dir.clone(),
                sb: s.run.started_at.to_rfc3339(),
            });
        }
    }
    Ok(ordered)
}

/// Merges the shards of one run; with `partial`, missing shards are allowed
/// and named in a caveat.
pub fn merge(shards: &[ShardRun<'_>], partial: bool) -> Result<RunData, MergeError> {
    let ordered = check(shards, partial)?;
    let first = ordered[0].1.run;
    let count = ordered[0].0.count;
    let started_at = ordered
        .iter()
        .map(|(_, s)| s.run.started_at)
        .min()
        .unwrap_or(first.started_at);
    let duration = ordered
        .iter()
        .map(|(_, s)| s.run.duration)
        .max()
        .unwrap_or(first.duration);
    let mut run = RunData {
        scenario: first.scenario.clone(),
        scenario_source: first.scenario_source.clone(),
        resolved_scenario: first.resolved_scenario.clone(),
        run_id: String::new(),
        started_at,
        duration,
        warmup: first.warmup,
        interrupted: ordered.iter().any(|(_, s)| s.run.interrupted),
        target_rows: 0,
        target_rate: 0.0,
        achieved_rows: 0,
        achieved_rate: 0.0,
        late: 0,
        dropped: 0,
        failed: 0,
        sinks: BTreeMap::new(),
        environment: first.environment.clone(),
        slo: SloVerdict::default(),
        caveats: Vec::new(),
        stats: RunStats::new(first.warmup),
        faults: Vec::new(),
        metrics: first.metrics.clone(),
        clock_offsets: first.clock_offsets.clone(),
        shards: ordered.iter().map(|(i, _)| i.clone()).collect(),
        // Each shard measured its own process; a sum of peaks is no peak.
        memory: None,
        // Each shard audited its own tickets; their verdicts are its caveats.
        audit: None,
        snapshot: None,
    };
    let mut seconds: BTreeMap<u32, (SeriesHistograms, IntervalCounters)> = BTreeMap::new();
    for (info, s) in &ordered {
        let r = s.run;
        run.target_rows += r.target_rows;
        run.achieved_rows += r.achieved_rows;
        run.late += r.late;
        run.dropped += r.dropped;
        run.failed += r.failed;
        for (&sink, sr) in &r.sinks {
            add_sink(run.sinks.entry(sink).or_default(), sr);
        }
        let tag = format!("shard {}/{}", info.index, info.count);
        run.caveats.extend(r.caveats.iter().map(|c| {
            Caveat::new(OfShard {
                shard: tag.clone(),
                caveat: c.clone(),
            })
        }));
        // Whole seconds between this shard's start and the merged start.
        let offset =
            ((r.started_at - started_at).num_milliseconds() as f64 / 1000.0).round() as u32;
        for (second, interval) in r.stats.intervals().iter() {
            let (h, c) = seconds.entry(second + offset).or_default();
            h.merge(&interval.histograms);
            add_counters(c, &interval.counters);
        }
    }
    run.stats.merge(&IntervalSnapshot {
        parts: seconds
            .into_iter()
            .map(|(second, (histograms, counters))| IntervalPart {
                second,
                histograms,
                counters,
            })
            .collect(),
    });
    run.target_rate = per_second(run.target_rows, run.duration);
    run.achieved_rate = per_second(run.achieved_rows, run.duration);
    run.environment
        .insert("tickets".into(), tickets_span(&run.shards));
    let present: Vec<u32> = run.shards.iter().map(|s| s.index).collect();
    let missing: Vec<String> = (0..count)
        .filter(|i| !present.contains(i))
        .map(|i| format!("{i}/{count}"))
        .collect();
    if !missing.is_empty() {
        run.caveats
            .insert(0, Caveat::new(Merged::Partial { missing }));
    }
    run.caveats.push(Caveat::new(Merged::From {
        shards: run.shards.len(),
        of: count,
    }));
    run.slo = evaluate(&run);
    run.run_id = crate::report::run_dir_name(&run);
    Ok(run)
}

/// `start..end` over every shard's ticket range (they tile the run's).
fn tickets_span(shards: &[ShardInfo]) -> String {
    let bounds = shards.iter().filter_map(|s| {
        let (a, b) = s.tickets.split_once("..")?;
        Some((a.parse::<u64>().ok()?, b.parse::<u64>().ok()?))
    });
    let (lo, hi) = bounds.fold((u64::MAX, 0), |(lo, hi), (a, b)| (lo.min(a), hi.max(b)));
    format!("{lo}..{hi}")
}

/// Adds a shard's counters; unlike the run's own merge (where a later report
/// of one level replaces an earlier one), shards' in-flight rows add.
fn add_counters(into: &mut IntervalCounters, c: &IntervalCounters) {
    let levels: Vec<Option<u64>> = into
        .in_flight
        .iter()
        .zip(&c.in_flight)
        .map(|(a, b)| match (a, b) {
            (Some(a), Some(b)) => Some(a + b),
            (a, b) => a.or(*b),
        })
        .collect();
    into.merge(c);
    for (slot, level) in into.in_flight.iter_mut().zip(levels) {
        *slot = level;
    }
}

fn add_sink(into: &mut SinkRun, s: &SinkRun) {
    let a = &mut into.accounting;
    a.seen += s.accounting.seen;
    a.missing += s.accounting.missing;
    a.duplicates += s.accounting.duplicates;
    a.unexpected += s.accounting.unexpected;
    let room = MISSING_KEYS_KEPT.saturating_sub(a.missing_keys.len());
    a.missing_keys
        .extend(s.accounting.missing_keys.iter().take(room).cloned());
    into.resolution_us = max_opt(into.resolution_us, s.resolution_us);
    into.detection_window_us = max_opt(into.detection_window_us, s.detection_window_us);
    if into.clock_offset_us.is_none() {
        into.clock_offset_us = s.clock_offset_us;
    }
    if let Some(v) = &s.visibility {
        add_visibility(
            into.visibility.get_or_insert_with(SinkVisibility::default),
            v,
        );
    }
}

fn add_visibility(into: &mut SinkVisibility, v: &SinkVisibility) {
    for (&source, &n) in &v.by_source {
        *into.by_source.entry(source).or_default() += n;
    }
    into.uncertainty_us = into.uncertainty_us.max(v.uncertainty_us);
    into.before_ack += v.before_ack;
    into.after_detection += v.after_detection;
    if let Some((&source, _)) = into.by_source.iter().max_by_key(|(_, &n)| n) {
        into.source = source;
    }
}

fn max_opt(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// The scenario's SLOs on the merged figures.
fn evaluate(run: &RunData) -> SloVerdict {
    let slo: Slo = run
        .resolved_scenario
        .get("slo")
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default();
    let ratio = run.achieved_rate / run.target_rate.max(f64::MIN_POSITIVE);
    super::slo::verdict(&slo, &run.stats, &run.sinks, ratio, None)
}

#[cfg(test)]
mod tests;
