//! The hot-path side: a [`Recorder`] owned by one worker or observer, recording
//! into local histograms and counters bucketed by run second, swapped out
//! periodically as an [`IntervalSnapshot`] and sent to the collector over a
//! bounded channel. No lock is shared between recorders.

use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use crate::model::Sink;

use super::histograms::SeriesHistograms;
use super::series::Series;

/// A per-second count a recorder can add to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Counter {
    /// Rows the schedule intended to write (the target load).
    TargetRows,
    /// Rows whose write was acknowledged as committed.
    CommittedRows,
    /// Operations sent later than their intended time by more than the lateness bound.
    Late,
    /// Operations never sent because the harness could not keep up.
    Dropped,
    /// Operations that failed (the database returned an error).
    Failed,
    /// Row versions first seen at a sink.
    Seen(Sink),
}

/// A per-second level (last value set in a second wins).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Gauge {
    /// Rows committed but not yet seen at the sink.
    InFlight(Sink),
}

/// Per-second counters and gauges of one interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IntervalCounters {
    /// See [`Counter::TargetRows`].
    pub target_rows: u64,
    /// See [`Counter::CommittedRows`].
    pub committed_rows: u64,
    /// See [`Counter::Late`].
    pub late: u64,
    /// See [`Counter::Dropped`].
    pub dropped: u64,
    /// See [`Counter::Failed`].
    pub failed: u64,
    /// See [`Counter::Seen`], indexed by [`Sink::index`].
    pub seen: [u64; Sink::ALL.len()],
    /// See [`Gauge::InFlight`], indexed by [`Sink::index`]; `None` when not set.
    pub in_flight: [Option<u64>; Sink::ALL.len()],
}

impl IntervalCounters {
    /// Adds `n` to `counter`.
    pub fn add(&mut self, counter: Counter, n: u64) {
        let slot = match counter {
            Counter::TargetRows => &mut self.target_rows,
            Counter::CommittedRows => &mut self.committed_rows,
            Counter::Late => &mut self.late,
            Counter::Dropped => &mut self.dropped,
            Counter::Failed => &mut self.failed,
            Counter::Seen(sink) => &mut self.seen[sink.index()],
        };
        *slot += n;
    }

    /// Sets `gauge` to `value`.
    pub fn set(&mut self, gauge: Gauge, value: u64) {
        match gauge {
            Gauge::InFlight(sink) => self.in_flight[sink.index()] = Some(value),
        }
    }

    /// The value of `counter`.
    pub fn get(&self, counter: Counter) -> u64 {
        match counter {
            Counter::TargetRows => self.target_rows,
            Counter::CommittedRows => self.committed_rows,
            Counter::Late => self.late,
            Counter::Dropped => self.dropped,
            Counter::Failed => self.failed,
            Counter::Seen(sink) => self.seen[sink.index()],
        }
    }

    /// Adds counters; a gauge set in `other` replaces this one (later report wins).
    pub fn merge(&mut self, other: &IntervalCounters) {
        self.target_rows += other.target_rows;
        self.committed_rows += other.committed_rows;
        self.late += other.late;
        self.dropped += other.dropped;
        self.failed += other.failed;
        for i in 0..self.seen.len() {
            self.seen[i] += other.seen[i];
            if other.in_flight[i].is_some() {
                self.in_flight[i] = other.in_flight[i];
            }
        }
    }
}

/// What one recorder saw during one second of the run.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct IntervalPart {
    /// Run second: floor(elapsed since run start).
    pub second: u32,
    /// Latency samples.
    pub histograms: SeriesHistograms,
    /// Counters and gauges.
    pub counters: IntervalCounters,
}

/// Everything a recorder saw since its previous [`Recorder::take_interval`],
/// split by run second (usually one or two seconds).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct IntervalSnapshot {
    /// Per-second parts, ascending by second.
    pub parts: Vec<IntervalPart>,
}

impl IntervalSnapshot {
    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }
}

/// Sending half of the bounded snapshot channel (one clone per recorder task).
pub type SnapshotSender = mpsc::Sender<IntervalSnapshot>;
/// Receiving half, read by the single collector task.
pub type SnapshotReceiver = mpsc::Receiver<IntervalSnapshot>;

/// Creates the bounded channel recorders send snapshots over. A small capacity
/// (a few per recorder) is enough: snapshots are sent once a second.
pub fn snapshot_channel(capacity: usize) -> (SnapshotSender, SnapshotReceiver) {
    mpsc::channel(capacity.max(1))
}

/// Local, single-owner latency recording for one worker or observer.
///
/// Samples land in the run second of the instant they are recorded at (by default
/// now), so interval histograms align to run start whatever the flush cadence.
/// Call [`Recorder::take_interval`] shortly after each whole run second (for
/// example at `run_start + n s + 50 ms`) and send the snapshot to the collector.
#[derive(Debug)]
pub struct Recorder {
    run_start: Instant,
    parts: Vec<IntervalPart>,
}

impl Recorder {
    /// A recorder for a run that started (interval 0 begins) at `run_start`.
    pub fn new(run_start: Instant) -> Self {
        Recorder {
            run_start,
            parts: Vec::new(),
        }
    }

    /// The run start this recorder aligns intervals to.
    pub fn run_start(&self) -> Instant {
        self.run_start
    }

    /// The run second `at` falls in; instants before the start count as second 0.
    pub fn second_of(&self, at: Instant) -> u32 {
        second_of(self.run_start, at)
    }

    #[inline]
    fn part(&mut self, second: u32) -> &mut IntervalPart {
        // Nearly always the newest part: scan from the back.
        let pos = match self.parts.iter().rposition(|p| p.second <= second) {
            Some(i) if self.parts[i].second == second => i,
            found => {
                let at = found.map_or(0, |i| i + 1);
                self.parts.insert(
                    at,
                    IntervalPart {
                        second,
                        ..IntervalPart::default()
                    },
                );
                at
            }
        };
        &mut self.parts[pos]
    }

    /// Records `micros` for `series` in the current second.
    #[inline]
    pub fn record(&mut self, series: Series, micros: u64) {
        self.record_at(series, Instant::now(), micros);
    }

    /// Records `micros` for `series` in the run second of `at`.
    #[inline]
    pub fn record_at(&mut self, series: Series, at: Instant, micros: u64) {
        let second = self.second_of(at);
        self.part(second).histograms.record(series, micros);
    }

    /// Records a duration for `series` in the current second (rounded down to µs).
    #[inline]
    pub fn record_duration(&mut self, series: Series, d: Duration) {
        self.record(series, u64::try_from(d.as_micros()).unwrap_or(u64::MAX));
    }

    /// Adds `n` to `counter` in the current second.
    #[inline]
    pub fn add(&mut self, counter: Counter, n: u64) {
        self.add_at(counter, Instant::now(), n);
    }

    /// Adds `n` to `counter` in the run second of `at`.
    #[inline]
    pub fn add_at(&mut self, counter: Counter, at: Instant, n: u64) {
        let second = self.second_of(at);
        self.part(second).counters.add(counter, n);
    }

    /// Sets `gauge` in the run second of `at`.
    pub fn set_at(&mut self, gauge: Gauge, at: Instant, value: u64) {
        let second = self.second_of(at);
        self.part(second).counters.set(gauge, value);
    }

    /// Swaps out everything recorded since the last call.
    pub fn take_interval(&mut self) -> IntervalSnapshot {
        IntervalSnapshot {
            parts: std::mem::take(&mut self.parts),
        }
    }
}

/// The run second (interval index) of `at` for a run started at `start`.
pub fn second_of(start: Instant, at: Instant) -> u32 {
    u32::try_from(at.saturating_duration_since(start).as_secs()).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::OpKind;

    #[test]
    fn samples_land_in_floor_of_elapsed() {
        let start = Instant::now();
        let mut r = Recorder::new(start);
        let s = Series::Client(OpKind::Insert);
        r.record_at(s, start + Duration::from_millis(999), 10);
        r.record_at(s, start + Duration::from_millis(1000), 20);
        r.record_at(s, start + Duration::from_millis(2500), 30);
        // Out of order and before the start.
        r.record_at(s, start + Duration::from_millis(1999), 40);
        r.record_at(
            s,
            start.checked_sub(Duration::from_secs(1)).unwrap_or(start),
            50,
        );
        r.add_at(
            Counter::CommittedRows,
            start + Duration::from_millis(1500),
            7,
        );
        r.set_at(
            Gauge::InFlight(Sink::Kafka),
            start + Duration::from_millis(2100),
            3,
        );
        let snap = r.take_interval();
        let seconds: Vec<u32> = snap.parts.iter().map(|p| p.second).collect();
        assert_eq!(seconds, vec![0, 1, 2]);
        let counts: Vec<u64> = snap
            .parts
            .iter()
            .map(|p| p.histograms.get(s).unwrap().len())
            .collect();
        assert_eq!(counts, vec![2, 2, 1]);
        assert_eq!(snap.parts[1].counters.committed_rows, 7);
        assert_eq!(
            snap.parts[2].counters.in_flight[Sink::Kafka.index()],
            Some(3)
        );
        assert!(
            r.take_interval().is_empty(),
            "take_interval swaps the state out"
        );
    }

    #[test]
    fn counters_merge_and_gauges_replace() {
        let mut a = IntervalCounters::default();
        a.add(Counter::Seen(Sink::Path1), 2);
        a.set(Gauge::InFlight(Sink::Path1), 10);
        let mut b = IntervalCounters::default();
        b.add(Counter::Seen(Sink::Path1), 3);
        b.add(Counter::Failed, 1);
        a.merge(&b);
        assert_eq!(a.get(Counter::Seen(Sink::Path1)), 5);
        assert_eq!(a.get(Counter::Failed), 1);
        assert_eq!(
            a.in_flight[Sink::Path1.index()],
            Some(10),
            "unset gauge keeps value"
        );
        b.set(Gauge::InFlight(Sink::Path1), 4);
        a.merge(&b);
        assert_eq!(a.in_flight[Sink::Path1.index()], Some(4));
    }

    #[tokio::test]
    async fn snapshots_travel_over_the_bounded_channel() {
        let (tx, mut rx) = snapshot_channel(2);
        let mut r = Recorder::new(Instant::now());
        r.record(Series::Lateness, 5);
        tx.send(r.take_interval()).await.unwrap();
        drop(tx);
        let got = rx.recv().await.unwrap();
        assert_eq!(got.parts.len(), 1);
        assert!(rx.recv().await.is_none());
    }
}
