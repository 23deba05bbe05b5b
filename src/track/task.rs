//! The tracker task: owns the [`Ledger`], consumes commit batches from the
//! workers and observation batches from the observers, records sink latencies,
//! tells the warehouse pollers which keys were updated or deleted, and publishes
//! a status the progress line and the drain phase read.

use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch};

use super::{Closed, CommitBatch, CutRequest, Ledger, MatchOutcome, SinkCounts};
use crate::model::{Observation, OpKind, Sink, Table};
use crate::observe::warehouse::ChangeWatch;
use crate::stats::{Counter, DeltaSign, Gauge, Recorder, Series, SnapshotSender};

/// An observation seen this long without a matching commit is `unexpected`.
pub const EARLY_GRACE: Duration = Duration::from_secs(30);

/// What the tracker publishes a few times a second.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TrackerStatus {
    /// Counts per sink, indexed by [`Sink::index`].
    pub counts: [SinkCounts; Sink::ALL.len()],
    /// Commit batches received.
    pub batches: u64,
    /// True when every enabled sink has seen every registered version.
    pub all_seen: bool,
    /// False once both input channels closed and the ledger is final.
    pub open: bool,
    /// Every commit batch is registered: the workers are done and the commit
    /// channel is empty and closed. Until then `all_seen` speaks only of the
    /// rows registered so far (a drain that trusted it could stop the
    /// observers before the last rows' events were read).
    pub commits_done: bool,
    /// Nothing new seen for a while, and all that is missing are rows a polled
    /// sink never showed between two polls before their delete: the drain can
    /// stop waiting and hand them to the end-of-run absence check.
    pub only_deletes_missing: bool,
}

/// The channels and handles the tracker works with.
#[derive(Debug)]
pub struct TrackerIo {
    /// Commit batches from the workers; closes when the last worker ends.
    pub commits: mpsc::Receiver<CommitBatch>,
    /// Observation batches from the observers; closes when the last observer ends.
    pub observations: mpsc::Receiver<Vec<Observation>>,
    /// Where sink latencies go.
    pub stats: SnapshotSender,
    /// Keys updated or deleted, for the warehouse pollers (`None` without warehouse sinks).
    pub changes: Option<ChangeWatch>,
    /// Status for progress and drain.
    pub status: watch::Sender<TrackerStatus>,
    /// Share of rows whose latencies are recorded (1.0 = all). Loss accounting
    /// always covers every row.
    pub sample_rate: f64,
    /// The mid-run audit's cut requests (`None`: no mid-run audits).
    pub cuts: Option<mpsc::Receiver<CutRequest>>,
}

/// Runs until both input channels are closed; returns the final ledger.
pub async fn run_tracker(
    mut ledger: Ledger,
    sinks: Vec<Sink>,
    start: Instant,
    mut io: TrackerIo,
) -> Ledger {
    let mut rec = Recorder::new(start);
    let sampler = Sampler::new(io.sample_rate);
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let (mut commits_open, mut obs_open) = (true, true);
    let mut batches = 0u64;
    let mut stall = Stall::default();
    let mut closed = Closed::default();
    while commits_open || obs_open {
        tokio::select! {
            batch = io.commits.recv(), if commits_open => match batch {
                Some(batch) => {
                    batches += 1;
                    if let Some(r) = &batch.closed {
                        closed.record(r);
                    }
                    if let Some(w) = &io.changes {
                        register_changes(w, &batch);
                    }
                    for outcome in ledger.commit(&batch) {
                        record(&mut rec, &sampler, outcome);
                    }
                }
                None => {
                    commits_open = false;
                    // At once, not at the next tick: the drain waits for this.
                    let only_deletes = stall.only_deletes_missing(&ledger, Instant::now());
                    publish(&io.status, &ledger, batches, true, true, only_deletes);
                }
            },
            obs = io.observations.recv(), if obs_open => match obs {
                Some(list) => {
                    for o in &list {
                        record(&mut rec, &sampler, ledger.observe(o));
                    }
                }
                None => obs_open = false,
            },
            req = next_cut(&mut io.cuts), if io.cuts.is_some() => match req {
                Some(req) => {
                    let _ = req.reply.send(ledger.cut(&closed, &req.sinks));
                }
                None => io.cuts = None,
            },
            _ = tick.tick() => {
                let now = Instant::now();
                ledger.prune(now, EARLY_GRACE);
                for s in &sinks {
                    rec.set_at(Gauge::InFlight(*s), now, ledger.in_flight(*s));
                }
                let _ = io.stats.send(rec.take_interval()).await;
                let only_deletes = stall.only_deletes_missing(&ledger, now);
                publish(&io.status, &ledger, batches, true, !commits_open, only_deletes);
            }
        }
    }
    ledger.finish();
    let now = Instant::now();
    for s in &sinks {
        rec.set_at(Gauge::InFlight(*s), now, ledger.in_flight(*s));
    }
    let _ = io.stats.send(rec.take_interval()).await;
    let only_deletes = !ledger.all_seen() && ledger.only_deletes_missing();
    publish(&io.status, &ledger, batches, false, true, only_deletes);
    ledger
}

/// The next cut request (never, without a channel).
async fn next_cut(cuts: &mut Option<mpsc::Receiver<CutRequest>>) -> Option<CutRequest> {
    match cuts {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// Watches for "nothing new seen for a while", the precondition of the costly
/// [`Ledger::only_deletes_missing`] scan.
#[derive(Debug, Default)]
struct Stall {
    seen: u64,
    since: Option<Instant>,
    checked: bool,
}

impl Stall {
    const AFTER: Duration = Duration::from_secs(2);
    /// The scan is skipped above this many missing versions (a real backlog).
    const MAX_MISSING: u64 = 100_000;

    fn only_deletes_missing(&mut self, ledger: &Ledger, now: Instant) -> bool {
        let (seen, missing) = Sink::ALL.iter().fold((0, 0), |(s, m), k| {
            let c = ledger.counts(*k);
            (s + c.seen, m + c.missing())
        });
        if seen != self.seen || missing == 0 {
            *self = Stall {
                seen,
                since: Some(now),
                checked: false,
            };
            return false;
        }
        let stalled = self
            .since
            .is_some_and(|t| now.duration_since(t) >= Self::AFTER);
        if stalled && !self.checked && missing <= Self::MAX_MISSING {
            self.checked = ledger.only_deletes_missing();
        }
        self.checked
    }
}

fn publish(
    tx: &watch::Sender<TrackerStatus>,
    ledger: &Ledger,
    batches: u64,
    open: bool,
    commits_done: bool,
    only_deletes_missing: bool,
) {
    let mut counts = [SinkCounts::default(); Sink::ALL.len()];
    for s in Sink::ALL {
        counts[s.index()] = ledger.counts(s);
    }
    let _ = tx.send(TrackerStatus {
        counts,
        batches,
        all_seen: ledger.all_seen(),
        open,
        commits_done,
        only_deletes_missing,
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::RowKey;
    use crate::track::tests::probe::{row, seen};

    /// "All seen" of the rows registered so far is not the drain's signal
    /// while a commit sender is alive: only once the channel is closed and
    /// empty does the status say every commit is in.
    #[tokio::test]
    async fn all_seen_counts_for_the_drain_only_once_every_commit_is_registered() {
        let (commit_tx, commits) = mpsc::channel(16);
        let (obs_tx, observations) = mpsc::channel(16);
        let (stats, mut stats_rx) = crate::stats::snapshot_channel(64);
        tokio::spawn(async move { while stats_rx.recv().await.is_some() {} });
        let (status, mut status_rx) = watch::channel(TrackerStatus::default());
        let io = TrackerIo {
            commits,
            observations,
            stats,
            changes: None,
            status,
            sample_rate: 1.0,
            cuts: None,
        };
        let sinks = vec![Sink::Binlog];
        let tracker = tokio::spawn(run_tracker(Ledger::new(&sinks), sinks, Instant::now(), io));
        let acked = Instant::now();
        commit_tx
            .send(CommitBatch {
                closed: None,
                acked_at: acked,
                rows: vec![row(1)],
            })
            .await
            .unwrap();
        obs_tx
            .send(vec![seen(Sink::Binlog, &row(1), acked)])
            .await
            .unwrap();
        let s = *status_rx
            .wait_for(|s| s.all_seen && s.counts[Sink::Binlog.index()].seen == 1)
            .await
            .unwrap();
        assert!(!s.commits_done, "a worker may still send: {s:?}");
        // The last batch, then the workers end.
        commit_tx
            .send(CommitBatch {
                closed: None,
                acked_at: acked,
                rows: vec![row(2)],
            })
            .await
            .unwrap();
        drop(commit_tx);
        let s = *status_rx.wait_for(|s| s.commits_done).await.unwrap();
        assert!(!s.all_seen, "row 2 is registered and not seen: {s:?}");
        assert_eq!(s.counts[Sink::Binlog.index()].expected, 2);
        obs_tx
            .send(vec![seen(Sink::Binlog, &row(2), acked)])
            .await
            .unwrap();
        drop(obs_tx);
        let ledger = tracker.await.unwrap();
        assert!(ledger.all_seen());
        assert!(!status_rx.borrow().open);
    }

    #[test]
    fn sampling_keeps_about_the_asked_share_and_is_stable_per_row() {
        let s = Sampler::new(0.2);
        let key = |ticket| RowKey {
            table: Table::StoreSales,
            ticket,
            item: 3,
        };
        let kept = (0..100_000u64)
            .filter(|t| s.keeps(&key(1_800_000_000_000_000_000 + t)))
            .count();
        assert!((19_000..21_000).contains(&kept), "kept {kept}");
        assert_eq!(s.keeps(&key(42)), s.keeps(&key(42)));
        assert!((0..1000).all(|t| Sampler::new(1.0).keeps(&key(t))));
    }
}

fn register_changes(w: &ChangeWatch, batch: &CommitBatch) {
    for row in &batch.rows {
        if row.key.table != Table::StoreSales {
            continue;
        }
        match row.op {
            OpKind::Update => w.register_update(row.key, row.stamp),
            OpKind::Delete => w.register_delete(row.key),
            OpKind::Insert => {}
        }
    }
}

/// Decides per row, from its key, whether its latencies are recorded: the same
/// rows are sampled at every sink, so per-row comparisons between sinks stay paired.
#[derive(Debug, Clone, Copy)]
struct Sampler {
    threshold: u64,
    all: bool,
}

impl Sampler {
    fn new(rate: f64) -> Self {
        Sampler {
            threshold: (rate.clamp(0.0, 1.0) * u64::MAX as f64) as u64,
            all: rate >= 1.0,
        }
    }

    fn keeps(&self, key: &crate::model::RowKey) -> bool {
        if self.all {
            return true;
        }
        // SplitMix64 finaliser: cheap and well mixed for sequential tickets.
        let mut z = key.ticket ^ (u64::from(key.item) << 32) ^ 0x9E37_79B9_7F4A_7C15;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        z <= self.threshold
    }
}

fn record(rec: &mut Recorder, sampler: &Sampler, outcome: MatchOutcome) {
    if let MatchOutcome::Seen {
        key,
        sink,
        op,
        latency,
        detected,
        hops,
        stamp,
        server_arrival,
        seen_at,
        paths_delta_us,
        ..
    } = outcome
    {
        rec.add_at(Counter::Seen(sink), seen_at, 1);
        if !sampler.keeps(&key) {
            return;
        }
        rec.record_at(Series::Sink(sink, op), seen_at, latency.as_micros() as u64);
        if sink.is_polled() {
            rec.record_at(Series::Detected(sink), seen_at, detected.as_micros() as u64);
        }
        for (hop, us) in hops.into_iter().flatten() {
            rec.record_at(Series::Hop(hop), seen_at, us);
        }
        if let Some(arrived) = server_arrival {
            if arrived >= stamp && op != OpKind::Delete {
                rec.record_at(Series::SinkServer(sink), seen_at, (arrived - stamp) as u64);
            }
        }
        if let Some(delta) = paths_delta_us {
            let (series, magnitude) = DeltaSign::of(delta);
            rec.record_at(series, seen_at, magnitude);
        }
    }
}
