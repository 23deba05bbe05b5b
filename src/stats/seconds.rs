//! The run's seconds: each one's histograms, counters and lane summaries,
//! in a dense array by run second.
//!
//! An hour's run keeps 3,600 of these, so what one second costs in RAM once
//! the collector has moved past it is what a long run grows by. Its
//! histograms and its lanes' summaries are then in the spill file (see
//! [`super::spill`]); RAM keeps the counters and where the blobs are. A
//! `BTreeMap` of seconds cost twice the entry (an append-only map leaves
//! its nodes half full): 1,197 B a second with the lanes boxed in RAM,
//! 328 B in this array with the lanes spilled (the counters are 256 of them) (`cargo bench --bench memory`).

use std::sync::{Arc, OnceLock};

use crate::model::Sink;

use super::histograms::SeriesHistograms;
use super::recorder::IntervalCounters;
use super::series::Series;
use super::spill::{SpillFile, Spilled};
use super::summary::LatencySummary;

/// One second of the run, merged over every recorder.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct IntervalStats {
    /// Latency samples recorded during this second.
    pub histograms: SeriesHistograms,
    /// Counters and gauges of this second.
    pub counters: IntervalCounters,
    /// The lanes' summaries, computed once (see [`IntervalStats::lane`]).
    lanes: LaneCache,
}

/// Summaries of one second's lanes: the client (all ops) and each sink (all
/// ops), by [`Sink::index`] + 1. Every report part that draws or lists a
/// second reads these (the CSV, both charts in two formats, recovery); on a
/// packed second each read decoded and merged the histograms again, which
/// for an hour's run cost more than the 5 s a partial report is due in.
/// Computed once and boxed; once the second is spilled, written to the
/// spill file beside its histograms (320 bytes read back per read).
#[derive(Debug, Clone, Default)]
struct LaneCache {
    live: OnceLock<Box<Lanes>>,
    spilled: Option<Spilled>,
}

/// The client's lane and each sink's, by [`Sink::index`] + 1.
type Lanes = [LatencySummary; Sink::ALL.len() + 1];

/// A cache: equal whatever it holds.
impl PartialEq for LaneCache {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl IntervalStats {
    /// The summary of the client's latencies (`sink` = `None`) or of one
    /// sink's, all ops merged; computed on first use and kept (every
    /// histogram of the second decoded once), read from the spill file once
    /// the second is spilled.
    pub fn lane(&self, sink: Option<Sink>) -> LatencySummary {
        let i = sink.map_or(0, |s| s.index() + 1);
        if let Some(sp) = &self.lanes.spilled {
            let bytes = sp.bytes();
            let at = i * LatencySummary::BYTES;
            let one = bytes[at..at + LatencySummary::BYTES]
                .try_into()
                .expect("a spilled lane is 64 bytes");
            return LatencySummary::from_bytes(one);
        }
        self.live_lanes()[i]
    }

    fn summarise(&self) -> Lanes {
        let mut out = Lanes::default();
        out[0] = LatencySummary::from_option(
            self.histograms.merged_cow(Series::client_ops()).as_deref(),
        );
        for s in Sink::ALL {
            out[s.index() + 1] = LatencySummary::from_option(
                self.histograms.merged_cow(Series::sink_ops(s)).as_deref(),
            );
        }
        out
    }

    /// True when the lanes are summarised (in RAM or in the spill file).
    #[cfg(test)]
    pub(super) fn lanes_cached(&self) -> bool {
        self.lanes.live.get().is_some() || self.lanes.spilled.is_some()
    }

    /// Heap bytes the lanes hold in RAM.
    #[cfg(test)]
    pub(super) fn lanes_resident_bytes(&self) -> usize {
        self.lanes
            .live
            .get()
            .map_or(0, |_| std::mem::size_of::<Lanes>())
    }

    /// Merges another part of this second; the summaries are dropped (made
    /// again on the next read).
    pub(super) fn merge_part(
        &mut self,
        histograms: &SeriesHistograms,
        counters: &IntervalCounters,
    ) {
        self.histograms.merge(histograms);
        self.counters.merge(counters);
        self.lanes = LaneCache::default();
    }

    /// Summarises the lanes from the live histograms (so a report at the
    /// end, a SIGTERM's partial one due in 5 s, decodes no packed second),
    /// then moves both to `file`, or packs the histograms in RAM without one.
    pub(super) fn spill(&mut self, file: Option<&Arc<SpillFile>>) {
        let lanes = *self.live_lanes();
        let Some(file) = file else {
            self.histograms.pack();
            return;
        };
        self.histograms.spill(file);
        let bytes: Vec<u8> = lanes.iter().flat_map(|l| l.to_bytes()).collect();
        if let Ok(sp) = Spilled::write_bytes(file, &bytes) {
            self.lanes = LaneCache {
                live: OnceLock::new(),
                spilled: Some(sp),
            };
        }
    }

    /// The lanes summarised from the histograms, once.
    fn live_lanes(&self) -> &Lanes {
        self.lanes.live.get_or_init(|| Box::new(self.summarise()))
    }
}

/// The run's seconds by run second; a second nothing was recorded in has
/// no entry. Dense: a run records something in nearly every second.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Seconds(Vec<Option<IntervalStats>>);

impl Seconds {
    /// The second `s`, if anything was recorded in it.
    pub fn get(&self, s: u32) -> Option<&IntervalStats> {
        self.0.get(s as usize).and_then(Option::as_ref)
    }

    /// The second `s`, made empty if new.
    pub fn entry(&mut self, s: u32) -> &mut IntervalStats {
        let i = s as usize;
        if i >= self.0.len() {
            self.0.resize_with(i + 1, || None);
        }
        self.0[i].get_or_insert_with(IntervalStats::default)
    }

    /// Every second with an entry, ascending.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (u32, &IntervalStats)> {
        self.since(0)
    }

    /// The seconds from `first` on, ascending.
    pub fn since(&self, first: u32) -> impl DoubleEndedIterator<Item = (u32, &IntervalStats)> {
        let skip = (first as usize).min(self.0.len());
        self.0[skip..]
            .iter()
            .enumerate()
            .filter_map(move |(i, s)| s.as_ref().map(|s| (first + i as u32, s)))
    }

    /// The seconds before `end`, newest first, to change.
    pub(super) fn before_mut_rev(&mut self, end: u32) -> impl Iterator<Item = &mut IntervalStats> {
        let end = (end as usize).min(self.0.len());
        self.0[..end].iter_mut().rev().flatten()
    }

    /// How many seconds have an entry.
    pub fn len(&self) -> usize {
        self.0.iter().flatten().count()
    }

    /// True when no second has an entry.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The last second with an entry.
    pub fn last_second(&self) -> Option<u32> {
        // The array ends at an entry: `entry` is the only way in.
        self.0.len().checked_sub(1).map(|i| i as u32)
    }
}

impl FromIterator<(u32, IntervalStats)> for Seconds {
    fn from_iter<I: IntoIterator<Item = (u32, IntervalStats)>>(iter: I) -> Self {
        let mut out = Seconds::default();
        for (s, stats) in iter {
            *out.entry(s) = stats;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_are_kept_by_run_second_with_gaps() {
        let mut s = Seconds::default();
        assert_eq!((s.len(), s.last_second()), (0, None));
        s.entry(3).counters.committed_rows = 3;
        s.entry(1).counters.committed_rows = 1;
        assert_eq!((s.len(), s.last_second()), (2, Some(3)));
        assert!(s.get(2).is_none() && s.get(9).is_none());
        let all: Vec<(u32, u64)> = s
            .iter()
            .map(|(k, i)| (k, i.counters.committed_rows))
            .collect();
        assert_eq!(all, vec![(1, 1), (3, 3)]);
        let later: Vec<u32> = s.since(2).map(|(k, _)| k).collect();
        assert_eq!(later, vec![3]);
        assert_eq!(s.since(10).count(), 0);
        assert_eq!(s.iter().next_back().map(|(k, _)| k), Some(3));
        let again: Seconds = s.iter().map(|(k, i)| (k, i.clone())).collect();
        assert_eq!(again, s);
    }

    #[test]
    fn spilled_lanes_read_back_what_was_summarised() {
        let mut iv = IntervalStats::default();
        for v in [1_000, 2_000, 90_000] {
            iv.histograms
                .record(Series::Sink(Sink::Path1, crate::model::OpKind::Insert), v);
        }
        let before = iv.lane(Some(Sink::Path1));
        let file = SpillFile::create().unwrap();
        iv.spill(Some(&file));
        assert!(iv.histograms.is_spilled() && iv.lanes.spilled.is_some());
        assert_eq!(iv.lanes_resident_bytes(), 0);
        assert_eq!(iv.lane(Some(Sink::Path1)), before);
        assert_eq!(iv.lane(None), LatencySummary::default());
        assert_eq!(before.count, 3);
    }
}
