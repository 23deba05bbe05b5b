//! The figures one scrape serves, taken from what the stats collector and
//! the tracker already keep (see the module docs of [`crate::live`]).

use std::time::Duration;

use crate::model::Sink;
use crate::stats::{BucketCounts, Collector};
use crate::track::TrackerStatus;

/// A latency histogram in the endpoint's buckets.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LatencyBuckets {
    /// Samples per bucket (not cumulative), one per
    /// [`BUCKETS_SECONDS`](super::encode::BUCKETS_SECONDS) bound plus the
    /// `+Inf` bucket; empty when nothing was recorded.
    pub counts: Vec<u64>,
    /// Sum of the samples, seconds.
    pub sum_seconds: f64,
    /// Number of samples.
    pub count: u64,
}

#[cfg(test)]
impl LatencyBuckets {
    /// Re-buckets a whole HdrHistogram (µs), as the buckets kept while
    /// seconds merge must come out: the tests' reference.
    fn from_histogram(h: &crate::stats::Hist) -> Self {
        use super::encode::BUCKETS_SECONDS;
        let mut b = BucketCounts::empty(BUCKETS_SECONDS.len());
        b.add(h, &BUCKETS_SECONDS);
        Self::from(&b)
    }
}

impl From<&BucketCounts> for LatencyBuckets {
    /// Empty (no counts at all) when nothing was recorded.
    fn from(b: &BucketCounts) -> Self {
        if b.count == 0 {
            return LatencyBuckets::default();
        }
        LatencyBuckets {
            counts: b.counts.clone(),
            sum_seconds: b.sum_seconds,
            count: b.count,
        }
    }
}

/// One sink's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct SinkSnapshot {
    /// Which sink.
    pub sink: Sink,
    /// Row versions committed that this sink should show.
    pub expected: u64,
    /// Row versions seen at this sink.
    pub seen: u64,
    /// Committed but not seen yet (`expected − seen`).
    pub in_flight: u64,
    /// Not seen after the drain (`expected − seen` once the phase is `done`;
    /// 0 before, when an unseen row is in flight, not lost).
    pub missing: u64,
    /// End-to-end latency after warmup, all ops (the population of `summary.json`).
    pub latency: LatencyBuckets,
}

/// Everything a scrape serves.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Snapshot {
    /// Time since the load started, seconds.
    pub elapsed_seconds: f64,
    /// Rows per second the schedule intended, in the newest complete second.
    pub target_rate: f64,
    /// Rows per second committed, in the newest complete second.
    pub achieved_rate: f64,
    /// Rows the schedule intended so far.
    pub target_rows: u64,
    /// Rows committed so far.
    pub committed_rows: u64,
    /// Operations sent later than their intended time by more than the bound.
    pub late: u64,
    /// Operations dropped because a worker fell too far behind.
    pub dropped: u64,
    /// Operations the database refused.
    pub failed: u64,
    /// Kafka consumers found stalled and replaced (this process).
    pub observer_stalls: u64,
    /// Per observed sink.
    pub sinks: Vec<SinkSnapshot>,
}

impl Snapshot {
    /// The figures now: `c` holds what the recorders reported, with latency
    /// buckets kept as seconds merge ([`Collector::with_latency_buckets`] with
    /// [`BUCKETS_SECONDS`](super::encode::BUCKETS_SECONDS), as `run` sets it
    /// up when it serves the endpoint; without them the latencies are empty),
    /// `status` the tracker's counts; `done` says the drain is over (unseen
    /// rows are missing).
    pub fn take(
        c: &Collector,
        status: &TrackerStatus,
        elapsed: Duration,
        sinks: &[Sink],
        done: bool,
    ) -> Self {
        let progress = c.progress(elapsed, sinks);
        let totals = c.stats().counter_totals(true);
        let sinks = sinks
            .iter()
            .map(|&sink| {
                let counts = status.counts[sink.index()];
                let unseen = counts.missing();
                SinkSnapshot {
                    sink,
                    expected: counts.expected,
                    seen: counts.seen,
                    in_flight: unseen,
                    missing: if done { unseen } else { 0 },
                    latency: c
                        .latency_buckets(sink)
                        .map(LatencyBuckets::from)
                        .unwrap_or_default(),
                }
            })
            .collect();
        Snapshot {
            elapsed_seconds: elapsed.as_secs_f64(),
            target_rate: progress.target_rate,
            achieved_rate: progress.achieved_rate,
            target_rows: totals.target_rows,
            committed_rows: totals.committed_rows,
            late: totals.late,
            dropped: totals.dropped,
            failed: totals.failed,
            observer_stalls: crate::observe::kafka_stalls(),
            sinks,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::encode::BUCKETS_SECONDS;
    use super::*;
    use crate::stats::{new_histogram, LatencySummary};

    #[test]
    fn several_histograms_bucket_as_their_merge_does() {
        let (mut a, mut b) = (new_histogram(), new_histogram());
        for i in 0..5_000u64 {
            a.record(1_000 + i * 37).unwrap();
            b.record(50_000 + i * 311).unwrap();
        }
        let mut merged = a.clone();
        merged.add(&b).unwrap();
        let want = LatencyBuckets::from_histogram(&merged);
        let mut added = BucketCounts::empty(BUCKETS_SECONDS.len());
        added.add(&a, &BUCKETS_SECONDS);
        added.add(&b, &BUCKETS_SECONDS);
        let got = LatencyBuckets::from(&added);
        assert_eq!((got.counts, got.count), (want.counts, want.count));
        assert!((got.sum_seconds - want.sum_seconds).abs() < 1e-6 * want.sum_seconds);
        assert_eq!(
            LatencyBuckets::from(&BucketCounts::empty(BUCKETS_SECONDS.len())),
            LatencyBuckets::default()
        );
    }

    // The buckets kept as seconds merge hold what re-bucketing the run's
    // headline histograms gives: warmup seconds left out, every op counted.
    #[test]
    fn buckets_kept_as_seconds_merge_match_the_headline_histograms() {
        use crate::model::OpKind;
        use crate::stats::{Recorder, Series};
        use std::time::Instant;
        let start = Instant::now();
        let mut c = Collector::new(Duration::from_secs(2)).with_latency_buckets(&BUCKETS_SECONDS);
        let mut rec = Recorder::new(start);
        for s in 0..6u64 {
            let at = start + Duration::from_secs(s) + Duration::from_millis(300);
            for i in 0..400u64 {
                let op = if i % 7 == 0 {
                    OpKind::Update
                } else {
                    OpKind::Insert
                };
                rec.record_at(
                    Series::Sink(Sink::Path2, op),
                    at,
                    2_000 + i * 997 + s * 50_000,
                );
            }
            c.merge(rec.take_interval());
        }
        let kept = LatencyBuckets::from(c.latency_buckets(Sink::Path2).unwrap());
        let whole = LatencyBuckets::from_histogram(&c.stats().sink_total(Sink::Path2).unwrap());
        assert_eq!(kept.count, 4 * 400, "the first 2 s are warmup");
        assert_eq!((&kept.counts, kept.count), (&whole.counts, whole.count));
        assert!((kept.sum_seconds - whole.sum_seconds).abs() < 1e-3 * whole.sum_seconds);
        assert_eq!(
            LatencyBuckets::from(c.latency_buckets(Sink::Kafka).unwrap()),
            LatencyBuckets::default()
        );
    }

    // The summary's p99 lies in the bucket that holds the 99th percentile
    // of the re-bucketed counts: what the stack test relies on.
    #[test]
    fn rebucketing_keeps_counts_and_the_p99_bucket() {
        let mut h = new_histogram();
        for i in 0..10_000u64 {
            h.record(20_000 + (i % 100) * 1_000 + i / 10).unwrap(); // 20..~120 ms
        }
        h.record(2_400_000).unwrap(); // one slow row: 2.4 s
        let b = LatencyBuckets::from_histogram(&h);
        assert_eq!(b.counts.len(), BUCKETS_SECONDS.len() + 1);
        assert_eq!(b.counts.iter().sum::<u64>(), 10_001);
        assert_eq!(b.count, 10_001);
        assert!((b.sum_seconds - h.mean() * 10_001.0 / 1e6).abs() < 1e-6);
        let p99 = LatencySummary::from_histogram(&h).p99 as f64 / 1e6;
        let rank = (0.99 * b.count as f64).ceil() as u64;
        let (mut cum, mut idx) = (0, 0);
        while cum + b.counts[idx] < rank {
            cum += b.counts[idx];
            idx += 1;
        }
        let lo = if idx == 0 {
            0.0
        } else {
            BUCKETS_SECONDS[idx - 1]
        };
        assert!(
            lo < p99 && p99 <= BUCKETS_SECONDS[idx],
            "{p99} not in ({lo}, {}]",
            BUCKETS_SECONDS[idx]
        );
        // The slow row is in the bucket that holds 2.4 s.
        let i = BUCKETS_SECONDS.partition_point(|&x| x < 2.4);
        assert_eq!(b.counts[i], 1);
    }

    #[test]
    fn an_empty_histogram_has_no_buckets_to_serve() {
        let b = LatencyBuckets::from_histogram(&new_histogram());
        assert_eq!((b.count, b.counts.iter().sum::<u64>()), (0, 0));
    }
}
