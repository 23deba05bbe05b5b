//! The single consumer of recorder snapshots: merges them into per-second
//! interval histograms aligned to run start and into headline totals that
//! exclude warmup.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use hdrhistogram::Histogram;

use crate::model::Sink;

use super::buckets::{BucketCounts, SinkBuckets};
use super::histograms::SeriesHistograms;
use super::progress::{Progress, SinkProgress};
use super::recorder::{IntervalCounters, IntervalSnapshot, SnapshotReceiver};
use super::seconds::{IntervalStats, Seconds};
use super::series::Series;
use super::spill::SpillFile;
use super::summary::LatencySummary;

/// How many seconds behind the newest one a second's histograms are packed:
/// well past the recorders' reporting lag (a part arrives within ~1 s), so a
/// packed second is rarely merged into again.
pub const PACK_LAG_SECONDS: u32 = 5;

/// Everything the collector accumulated: what reports are made of.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RunStats {
    warmup_intervals: u32,
    totals: SeriesHistograms,
    intervals: Seconds,
    spill: Spill,
}

/// The file seconds are spilled to: made on first use; `Some(None)` when it
/// could not be made (seconds then stay packed in RAM).
#[derive(Debug, Clone, Default)]
struct Spill(Option<Option<Arc<SpillFile>>>);

/// Where seconds go is no part of what the stats hold.
impl PartialEq for Spill {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Spill {
    fn file(&mut self) -> Option<Arc<SpillFile>> {
        self.0
            .get_or_insert_with(|| SpillFile::create().ok())
            .clone()
    }
}

/// Number of leading intervals that warmup covers: any second that starts
/// before warmup ends is excluded, so a fractional warmup never leaks into totals.
pub fn warmup_intervals(warmup: Duration) -> u32 {
    let secs = warmup.as_secs() + u64::from(warmup.subsec_nanos() > 0);
    u32::try_from(secs).unwrap_or(u32::MAX)
}

impl RunStats {
    /// Empty stats for a run with `warmup`.
    pub fn new(warmup: Duration) -> Self {
        RunStats {
            warmup_intervals: warmup_intervals(warmup),
            ..Self::default()
        }
    }

    /// Reassembles stats from saved parts (used by the report loader).
    pub fn from_parts(
        warmup_intervals: u32,
        totals: SeriesHistograms,
        intervals: BTreeMap<u32, IntervalStats>,
    ) -> Self {
        RunStats {
            warmup_intervals,
            totals,
            intervals: intervals.into_iter().collect(),
            spill: Spill::default(),
        }
    }

    /// Intervals `0..warmup_intervals()` are excluded from the totals.
    pub fn warmup_intervals(&self) -> u32 {
        self.warmup_intervals
    }

    /// Headline histograms (after warmup).
    pub fn totals(&self) -> &SeriesHistograms {
        &self.totals
    }

    /// The headline histogram of one series (after warmup).
    /// (Totals are never packed: this borrows.)
    pub fn total(&self, series: Series) -> Option<Cow<'_, Histogram<u64>>> {
        self.totals.get(series)
    }

    /// Headline summary of one series (after warmup).
    pub fn summary(&self, series: Series) -> LatencySummary {
        LatencySummary::from_option(self.total(series).as_deref())
    }

    /// Headline end-to-end histogram of `sink`, all ops merged.
    pub fn sink_total(&self, sink: Sink) -> Option<Histogram<u64>> {
        self.totals.merged(Series::sink_ops(sink))
    }

    /// Headline client histogram, all ops merged.
    pub fn client_total(&self) -> Option<Histogram<u64>> {
        self.totals.merged(Series::client_ops())
    }

    /// Intervals that saw anything, by run second (ascending).
    pub fn intervals(&self) -> &Seconds {
        &self.intervals
    }

    /// One interval, if anything was recorded in it.
    pub fn interval(&self, second: u32) -> Option<&IntervalStats> {
        self.intervals.get(second)
    }

    /// Each second from 0 to the last that saw anything (second 0 alone
    /// when none did): `sink`'s latency summary then and the rows it first
    /// saw then (an empty summary and 0 for a second nothing was recorded in).
    pub fn sink_seconds(
        &self,
        sink: Sink,
    ) -> impl Iterator<Item = (u32, LatencySummary, u64)> + '_ {
        (0..=self.last_second().unwrap_or(0)).map(move |s| match self.interval(s) {
            Some(i) => (s, i.lane(Some(sink)), i.counters.seen[sink.index()]),
            None => (s, LatencySummary::default(), 0),
        })
    }

    /// The last second that saw anything.
    pub fn last_second(&self) -> Option<u32> {
        self.intervals.last_second()
    }

    /// Counters summed over all intervals (`include_warmup`) or only after warmup.
    /// Gauges are taken from the last interval that set them.
    pub fn counter_totals(&self, include_warmup: bool) -> IntervalCounters {
        let mut sum = IntervalCounters::default();
        for (second, interval) in self.intervals.iter() {
            if include_warmup || second >= self.warmup_intervals {
                sum.merge(&interval.counters);
            }
        }
        sum
    }

    /// Merges one snapshot; commutative, so recorders may report in any order.
    /// Seconds [`PACK_LAG_SECONDS`] behind the newest are packed and spilled
    /// to a file (see `stats::spill`): the per-second histograms were the
    /// harness's memory that grew with the run's length.
    pub fn merge(&mut self, snapshot: &IntervalSnapshot) {
        self.merge_noting_totals(snapshot, |_| {});
    }

    /// [`RunStats::merge`], showing `on_total` each part's histograms that
    /// count in the run's totals (the seconds after warmup).
    fn merge_noting_totals(
        &mut self,
        snapshot: &IntervalSnapshot,
        mut on_total: impl FnMut(&SeriesHistograms),
    ) {
        for part in &snapshot.parts {
            let interval = self.intervals.entry(part.second);
            interval.merge_part(&part.histograms, &part.counters);
            if part.second >= self.warmup_intervals {
                self.totals.merge(&part.histograms);
                on_total(&part.histograms);
            }
        }
        let Some(newest) = self.last_second() else {
            return;
        };
        let cut = newest.saturating_sub(PACK_LAG_SECONDS);
        let file = self.spill.file();
        // Newest first, down to the first second already packed: everything
        // older was packed when the cut passed it (a late part keeps a packed
        // second packed).
        for interval in self.intervals.before_mut_rev(cut) {
            if interval.histograms.is_packed() {
                break;
            }
            interval.spill(file.as_ref());
        }
    }
}

/// Merges snapshots from every recorder. Owned by one task; fed over the channel
/// from [`super::snapshot_channel`].
#[derive(Debug, Clone, Default)]
pub struct Collector {
    stats: RunStats,
    /// Each sink's headline latencies in fixed buckets, when asked for.
    buckets: Option<SinkBuckets>,
}

/// How many seconds behind `elapsed` the progress line looks: workers flush
/// their counters every 500 ms, so the second before last is the newest one
/// every worker has reported (one second behind showed partial target rates).
pub const PROGRESS_LAG_SECONDS: u32 = 2;

impl Collector {
    /// A collector for a run with `warmup`.
    pub fn new(warmup: Duration) -> Self {
        Collector {
            stats: RunStats::new(warmup),
            buckets: None,
        }
    }

    /// Also keeps each sink's headline latencies in buckets with these upper
    /// bounds (seconds, ascending), updated as seconds merge: see
    /// [`Collector::latency_buckets`].
    pub fn with_latency_buckets(mut self, bounds: &[f64]) -> Self {
        self.buckets = Some(SinkBuckets::new(bounds));
        self
    }

    /// One sink's headline latencies (after warmup, all ops) in the buckets
    /// of [`Collector::with_latency_buckets`]; `None` without them.
    pub fn latency_buckets(&self, sink: Sink) -> Option<&BucketCounts> {
        self.buckets.as_ref().map(|b| b.sink(sink))
    }

    /// Merges one snapshot.
    pub fn merge(&mut self, snapshot: IntervalSnapshot) {
        let buckets = &mut self.buckets;
        self.stats.merge_noting_totals(&snapshot, |h| {
            if let Some(b) = buckets {
                b.add(h);
            }
        });
    }

    /// Merges every snapshot already queued on `rx` without waiting; returns how many.
    pub fn drain_ready(&mut self, rx: &mut SnapshotReceiver) -> usize {
        let mut n = 0;
        while let Ok(s) = rx.try_recv() {
            self.merge(s);
            n += 1;
        }
        n
    }

    /// Merges snapshots until every sender is dropped.
    pub async fn run_until_closed(&mut self, rx: &mut SnapshotReceiver) {
        while let Some(s) = rx.recv().await {
            self.merge(s);
        }
    }

    /// What has been accumulated so far.
    pub fn stats(&self) -> &RunStats {
        &self.stats
    }

    /// The accumulated stats, consuming the collector.
    pub fn into_stats(self) -> RunStats {
        self.stats
    }

    /// The live progress figures at `elapsed`, from the newest complete second
    /// ([`PROGRESS_LAG_SECONDS`] behind), for the given sinks.
    pub fn progress(&self, elapsed: Duration, sinks: &[Sink]) -> Progress {
        let now = u32::try_from(elapsed.as_secs()).unwrap_or(u32::MAX);
        let interval = now
            .checked_sub(PROGRESS_LAG_SECONDS)
            .and_then(|s| self.stats.interval(s));
        let counters = interval.map(|i| i.counters).unwrap_or_default();
        // In-flight gauges persist until set again; show the newest value set.
        let in_flight = sinks
            .iter()
            .filter_map(|s| self.latest_in_flight(*s, now))
            .max();
        let sinks = sinks
            .iter()
            .map(|&sink| {
                let h = interval.and_then(|i| i.histograms.merged_cow(Series::sink_ops(sink)));
                let s = LatencySummary::from_option(h.as_deref());
                SinkProgress {
                    sink,
                    p50_us: (!s.is_empty()).then_some(s.p50),
                    p99_us: (!s.is_empty()).then_some(s.p99),
                }
            })
            .collect();
        Progress {
            elapsed,
            target_rate: counters.target_rows as f64,
            achieved_rate: counters.committed_rows as f64,
            in_flight,
            sinks,
        }
    }

    fn latest_in_flight(&self, sink: Sink, up_to: u32) -> Option<u64> {
        self.stats
            .intervals
            .iter()
            .rev()
            .skip_while(|(s, _)| *s > up_to)
            .find_map(|(_, i)| i.counters.in_flight[sink.index()])
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::model::OpKind;
    use crate::stats::{Counter, Gauge, Recorder};

    const INS: Series = Series::Sink(Sink::Kafka, OpKind::Insert);

    fn at(start: Instant, ms: u64) -> Instant {
        start + Duration::from_millis(ms)
    }

    // Seconds well behind the newest are packed; reading them gives the same
    // counts, and a late part merged into a packed second is kept (packed).
    #[test]
    fn old_seconds_are_packed_and_read_back_unchanged() {
        // Every second of the test lies in the past.
        let start = Instant::now() - Duration::from_secs(30);
        let mut c = Collector::new(Duration::ZERO);
        let mut r = Recorder::new(start);
        for sec in 0..20u64 {
            for i in 0..50 {
                r.record_at(INS, at(start, sec * 1000 + i), 1_000 + sec * 10_000 + i);
            }
        }
        c.merge(r.take_interval());
        let stats = c.stats();
        assert!(stats.interval(0).unwrap().histograms.is_packed());
        assert!(stats.interval(0).unwrap().histograms.is_spilled());
        assert!(!stats.interval(19).unwrap().histograms.is_packed());
        // Summarised while still live, so a report decodes nothing.
        assert!(stats.interval(3).unwrap().lanes_cached());
        assert!(!stats.interval(19).unwrap().lanes_cached());
        assert_eq!(stats.interval(3).unwrap().lane(Some(Sink::Kafka)).count, 50);
        let h = stats.interval(3).unwrap().histograms.get(INS).unwrap();
        assert_eq!(h.len(), 50);
        assert!(h.equivalent(h.max(), 31_049));

        let mut late = Recorder::new(start);
        late.record_at(INS, at(start, 3_500), 7);
        c.merge(late.take_interval());
        let iv = c.stats().interval(3).unwrap();
        assert!(iv.histograms.is_packed() && iv.histograms.is_spilled());
        assert_eq!(iv.histograms.get(INS).unwrap().len(), 51);
        assert_eq!(iv.histograms.get(INS).unwrap().min(), 7);
        assert_eq!(
            iv.lane(Some(Sink::Kafka)).count,
            51,
            "the late part is in the summary"
        );
        assert_eq!(c.stats().summary(INS).count, 20 * 50 + 1);
    }

    // The per-second statistics grew ~14 KB a second of run (an hour at
    // 1,000 rows/s: ~50 MB); spilled, a second past the cut keeps only its
    // counters and the blobs' handles in RAM (328 B; the live seconds at the
    // end bring the mean here to ~430 B). Counted in bytes, so a
    // regression (seconds left in RAM) fails here, not in a soak.
    #[test]
    fn per_second_statistics_take_bounded_ram_per_second() {
        let start = Instant::now() - Duration::from_secs(400);
        let mut c = Collector::new(Duration::ZERO);
        let series = [
            INS,
            Series::Client(OpKind::Insert),
            Series::Lateness,
            Series::Sink(Sink::Path1, OpKind::Insert),
            Series::Sink(Sink::Path2, OpKind::Update),
            Series::SinkServer(Sink::Path1),
            Series::Detected(Sink::Path2),
        ];
        for sec in 0..300u64 {
            let mut r = Recorder::new(start);
            for (i, s) in series.iter().enumerate() {
                for j in 0..100 {
                    r.record_at(
                        *s,
                        at(start, sec * 1000 + j),
                        500 + (j * 997 + i as u64) % 300_000,
                    );
                }
            }
            c.merge(r.take_interval());
        }
        let stats = c.stats();
        let n = stats.intervals().len();
        let resident: usize = stats
            .intervals()
            .iter()
            .map(|(_, i)| {
                std::mem::size_of::<Option<IntervalStats>>()
                    + i.histograms.resident_bytes()
                    + i.lanes_resident_bytes()
            })
            .sum();
        let spilled = stats
            .intervals()
            .iter()
            .filter(|(_, i)| i.histograms.is_spilled())
            .count();
        assert_eq!((n, spilled), (300, 300 - PACK_LAG_SECONDS as usize - 1));
        // Live, a second held ~55 slots and the packed bytes: > 8 KB.
        let per_second = resident / n;
        assert!(per_second < 500, "{per_second} B of RAM per second of run");
        // Read back unchanged from the file.
        let iv = stats.interval(7).unwrap();
        assert_eq!(iv.histograms.get(Series::Lateness).unwrap().len(), 100);
        assert_eq!(iv.lane(Some(Sink::Path1)).count, 100);
    }

    #[test]
    fn warmup_intervals_round_up() {
        assert_eq!(warmup_intervals(Duration::ZERO), 0);
        assert_eq!(warmup_intervals(Duration::from_secs(30)), 30);
        assert_eq!(warmup_intervals(Duration::from_millis(2500)), 3);
    }

    #[test]
    fn warmup_samples_stay_in_intervals_but_not_totals() {
        let start = Instant::now();
        let mut r = Recorder::new(start);
        r.record_at(INS, at(start, 100), 1_000_000); // warmup, slow
        r.record_at(INS, at(start, 1_900), 900_000); // warmup
        r.record_at(INS, at(start, 2_000), 10); // first measured second
        r.record_at(INS, at(start, 3_500), 20);
        r.add_at(Counter::CommittedRows, at(start, 500), 5);
        r.add_at(Counter::CommittedRows, at(start, 2_500), 7);
        let mut c = Collector::new(Duration::from_secs(2));
        c.merge(r.take_interval());
        let stats = c.stats();
        assert_eq!(stats.intervals().len(), 4);
        assert_eq!(
            stats
                .interval(0)
                .unwrap()
                .histograms
                .get(INS)
                .unwrap()
                .len(),
            1
        );
        let total = stats.summary(INS);
        assert_eq!(total.count, 2);
        assert_eq!(
            total.max, 20,
            "warmup's 1 s sample must not reach the totals"
        );
        assert_eq!(stats.counter_totals(true).committed_rows, 12);
        assert_eq!(stats.counter_totals(false).committed_rows, 7);
    }

    #[test]
    fn merge_is_order_independent_across_recorders() {
        let start = Instant::now();
        let mut a = Recorder::new(start);
        let mut b = Recorder::new(start);
        for i in 0..100u64 {
            a.record_at(INS, at(start, i * 30), 1_000 + i);
            b.record_at(INS, at(start, i * 20), 5_000 + i);
            b.add_at(Counter::Seen(Sink::Kafka), at(start, i * 20), 1);
        }
        let (sa, sb) = (a.take_interval(), b.take_interval());
        let mut one = Collector::new(Duration::ZERO);
        one.merge(sa.clone());
        one.merge(sb.clone());
        let mut two = Collector::new(Duration::ZERO);
        two.merge(sb);
        two.merge(sa);
        assert_eq!(one.stats(), two.stats());
        let s = one.stats();
        assert_eq!(s.summary(INS).count, 200);
        assert_eq!(s.summary(INS).min, 1_000);
        let per_second: u64 = s
            .intervals()
            .iter()
            .map(|(_, i)| i.histograms.get(INS).map_or(0, |h| h.len()))
            .sum();
        assert_eq!(per_second, 200);
        assert_eq!(s.counter_totals(true).seen[Sink::Kafka.index()], 100);
        // 100 samples 30 ms apart span seconds 0..=2, 20 ms apart 0..=1.
        assert_eq!(s.last_second(), Some(2));
    }

    #[test]
    fn late_snapshot_for_an_old_second_merges_into_it() {
        let start = Instant::now();
        let mut c = Collector::new(Duration::ZERO);
        let mut r = Recorder::new(start);
        r.record_at(INS, at(start, 5_100), 50);
        c.merge(r.take_interval());
        r.record_at(INS, at(start, 1_100), 70);
        c.merge(r.take_interval());
        assert_eq!(
            c.stats()
                .interval(1)
                .unwrap()
                .histograms
                .get(INS)
                .unwrap()
                .len(),
            1
        );
        assert_eq!(c.stats().summary(INS).count, 2);
    }

    #[test]
    fn progress_reads_the_second_before_last() {
        let start = Instant::now();
        let mut r = Recorder::new(start);
        r.add_at(Counter::TargetRows, at(start, 41_200), 2000);
        r.add_at(Counter::CommittedRows, at(start, 41_300), 1998);
        r.set_at(Gauge::InFlight(Sink::Kafka), at(start, 41_900), 312);
        r.set_at(Gauge::InFlight(Sink::Path1), at(start, 40_900), 100);
        for v in [18_000u64, 18_000, 45_000] {
            r.record_at(INS, at(start, 41_500), v);
        }
        r.record_at(INS, at(start, 42_100), 1); // current second: not shown yet
        let mut c = Collector::new(Duration::ZERO);
        c.merge(r.take_interval());
        let p = c.progress(
            Duration::from_millis(43_050),
            &[Sink::Kafka, Sink::Path1, Sink::Path2],
        );
        assert_eq!(p.target_rate, 2000.0);
        assert_eq!(p.achieved_rate, 1998.0);
        assert_eq!(p.in_flight, Some(312));
        // Tops of the 16 µs and 32 µs wide buckets holding 18 000 and 45 000.
        assert_eq!(p.sinks[0].p50_us, Some(18_015));
        assert_eq!(p.sinks[0].p99_us, Some(45_023));
        assert_eq!(p.sinks[1].p50_us, None);
        assert_eq!(
            p.to_string(),
            "  43s  2000/s → 1998/s  inflight 312  kafka 18/45ms  path1 -  path2 -"
        );
    }

    #[tokio::test]
    async fn collector_drains_the_channel() {
        let (tx, mut rx) = crate::stats::snapshot_channel(4);
        let start = Instant::now();
        let handles: Vec<_> = (0..3)
            .map(|w| {
                let tx = tx.clone();
                tokio::spawn(async move {
                    let mut r = Recorder::new(start);
                    for i in 0..10 {
                        r.record_at(INS, at(start, i * 300), w * 100 + i);
                        if i % 4 == 3 {
                            tx.send(r.take_interval()).await.unwrap();
                        }
                    }
                    tx.send(r.take_interval()).await.unwrap();
                })
            })
            .collect();
        drop(tx);
        let mut c = Collector::new(Duration::ZERO);
        c.run_until_closed(&mut rx).await;
        for h in handles {
            h.await.unwrap();
        }
        assert_eq!(c.stats().summary(INS).count, 30);
    }
}
