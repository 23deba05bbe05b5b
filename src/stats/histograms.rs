//! A set of histograms keyed by [`Series`] ([`SeriesHistograms`]), shared by
//! recorders, the collector and reports: live while recorded into, packed
//! once the collector moved past a second, spilled to a file after that.

use std::borrow::Cow;
use std::sync::Arc;

use hdrhistogram::serialization::{Deserializer, Serializer, V2Serializer};
use hdrhistogram::Histogram;

use super::series::{new_histogram, Series};
use super::spill::{SpillFile, Spilled};

/// One series' histogram, live or packed.
///
/// A 3-digit auto-resizing histogram is a flat array of about 1 KiB per
/// 128 µs…2× range step: ~80 KiB once it has held a 300 ms value, however few
/// samples it has. One per series per second came to ~2 MB a second at any
/// load, the harness's main memory growth (an hour: several GB). Seconds the
/// collector has moved past are packed into HdrHistogram's V2 encoding (only
/// the non-empty buckets; typically a few hundred bytes) and decoded when read.
/// The max is kept beside the bytes (V2 does not carry it), so an interval
/// log line can be written from them without decoding.
#[derive(Debug, Clone)]
enum Slot {
    Live(Histogram<u64>),
    Packed { bytes: Box<[u8]>, max: u64 },
}

impl Slot {
    fn histogram(&self) -> Cow<'_, Histogram<u64>> {
        match self {
            Slot::Live(h) => Cow::Borrowed(h),
            Slot::Packed { bytes, .. } => Cow::Owned(unpack(bytes)),
        }
    }

    fn v2(&self) -> (Cow<'_, [u8]>, u64) {
        match self {
            Slot::Live(h) => (Cow::Owned(serialize_v2(h)), h.max()),
            Slot::Packed { bytes, max } => (Cow::Borrowed(&bytes[..]), *max),
        }
    }

    fn live(&mut self) -> &mut Histogram<u64> {
        if let Slot::Packed { bytes, .. } = self {
            *self = Slot::Live(unpack(bytes));
        }
        match self {
            Slot::Live(h) => h,
            Slot::Packed { .. } => unreachable!("just unpacked"),
        }
    }

    fn pack(&mut self) {
        if let Slot::Live(h) = self {
            *self = Slot::Packed {
                max: h.max(),
                bytes: serialize_v2(h).into_boxed_slice(),
            };
        }
    }
}

fn serialize_v2(h: &Histogram<u64>) -> Vec<u8> {
    let mut buf = Vec::new();
    V2Serializer::new()
        .serialize(h, &mut buf)
        .expect("a histogram serializes into memory");
    buf
}

fn unpack(bytes: &[u8]) -> Histogram<u64> {
    let mut h: Histogram<u64> = Deserializer::new()
        .deserialize(&mut &bytes[..])
        .expect("bytes this process packed decode");
    h.auto(true);
    h
}

/// One optional histogram per [`Series`]; a series never recorded has none.
/// A set the collector has moved past is spilled to a file (see
/// [`super::spill`]): RAM then holds only where it is.
#[derive(Debug, Clone, Default)]
pub struct SeriesHistograms {
    /// Live or packed histograms by [`Series::index`]; `None` when nothing
    /// was recorded or the set is spilled.
    slots: Option<Box<[Option<Slot>; Series::COUNT]>>,
    /// Where the set is when spilled.
    spilled: Option<Spilled>,
}

/// Equal when every series holds the same counts, packed, spilled or not.
impl PartialEq for SeriesHistograms {
    fn eq(&self, other: &Self) -> bool {
        let mine: Vec<_> = self.iter().collect();
        let theirs: Vec<_> = other.iter().collect();
        mine.len() == theirs.len()
            && mine
                .iter()
                .zip(&theirs)
                .all(|((s, a), (t, b))| s == t && **a == **b)
    }
}

impl SeriesHistograms {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// The slots, read back into RAM (packed) if the set was spilled.
    fn slots_mut(&mut self) -> &mut [Option<Slot>; Series::COUNT] {
        let spilled = self.spilled.take();
        let slots = self
            .slots
            .get_or_insert_with(|| Box::new(std::array::from_fn(|_| None)));
        if let Some(sp) = spilled {
            for (index, max, bytes) in sp.read() {
                slots[index] = Some(Slot::Packed {
                    bytes: bytes.into_boxed_slice(),
                    max,
                });
            }
        }
        slots
    }

    /// The histogram of `series`, if anything was recorded (or merged) into
    /// it; decoded (owned) when the set is packed or spilled.
    pub fn get(&self, series: Series) -> Option<Cow<'_, Histogram<u64>>> {
        if let Some(sp) = &self.spilled {
            return sp
                .entry(series.index())
                .map(|(_, bytes)| Cow::Owned(unpack(&bytes)));
        }
        self.slots.as_ref()?[series.index()]
            .as_ref()
            .map(Slot::histogram)
    }

    /// The histogram of `series`, created empty on first use.
    pub fn get_or_create(&mut self, series: Series) -> &mut Histogram<u64> {
        self.slots_mut()[series.index()]
            .get_or_insert_with(|| Slot::Live(new_histogram()))
            .live()
    }

    /// Replaces the histogram of `series`.
    pub fn set(&mut self, series: Series, histogram: Histogram<u64>) {
        let mut histogram = histogram;
        // Deserialized histograms come back fixed-size; merging later must still grow.
        histogram.auto(true);
        self.slots_mut()[series.index()] = Some(Slot::Live(histogram));
    }

    /// Records one value; values beyond any bound grow the histogram.
    #[inline]
    pub fn record(&mut self, series: Series, micros: u64) {
        let h = self.get_or_create(series);
        // Not `saturating_record`: on an auto-resizing histogram it clamps to the
        // *current* bound instead of growing. Only values past i64::MAX/2 µs
        // (~146 000 years) can fail to record; clamp those.
        if h.record(micros).is_err() {
            h.saturating_record(micros);
        }
    }

    /// Adds every histogram of `other` into this set. A packed set stays
    /// packed and a spilled one is spilled again (a late part of a second
    /// already moved past).
    pub fn merge(&mut self, other: &SeriesHistograms) {
        if other.is_empty() {
            return;
        }
        let respill = self.spilled.as_ref().map(|sp| Arc::clone(sp.file()));
        let was_packed = !self.is_empty() && self.is_packed();
        let slots = self.slots_mut();
        for (series, theirs) in other.iter() {
            let slot = &mut slots[series.index()];
            match slot {
                Some(mine) => mine
                    .live()
                    .add(theirs.as_ref())
                    .expect("auto-resizing histograms accept any value"),
                None => *slot = Some(Slot::Live(theirs.into_owned())),
            }
        }
        if let Some(file) = respill {
            self.spill(&file);
        } else if was_packed {
            self.pack();
        }
    }

    /// Packs every histogram (see [`Slot`]): reads decode them again.
    pub fn pack(&mut self) {
        for slot in self.slots.iter_mut().flat_map(|s| s.iter_mut()).flatten() {
            slot.pack();
        }
    }

    /// Packs the set and moves it to `file` (see [`super::spill`]); left
    /// packed in RAM if the file cannot be written. An empty set stays as is.
    pub fn spill(&mut self, file: &Arc<SpillFile>) {
        if self.spilled.is_some() || self.is_empty() {
            return;
        }
        self.pack();
        let Some(slots) = &self.slots else { return };
        let entries = slots.iter().enumerate().filter_map(|(i, s)| match s {
            Some(Slot::Packed { bytes, max }) => Some((i, *max, &bytes[..])),
            _ => None,
        });
        if let Ok(sp) = Spilled::write(file, entries) {
            self.slots = None;
            self.spilled = Some(sp);
        }
    }

    /// Heap bytes the set holds in RAM: the slot array and packed bytes
    /// (live histograms count their slot only); none once spilled beyond
    /// the blob's handle (see [`super::spill`]).
    pub fn resident_bytes(&self) -> usize {
        self.slots.as_ref().map_or(0, |slots| {
            std::mem::size_of_val(&**slots)
                + slots
                    .iter()
                    .flatten()
                    .map(|s| match s {
                        Slot::Packed { bytes, .. } => bytes.len(),
                        Slot::Live(_) => 0,
                    })
                    .sum::<usize>()
        })
    }

    /// True when the set is in the spill file.
    pub fn is_spilled(&self) -> bool {
        self.spilled.is_some()
    }

    /// True when no histogram is live (an empty set counts as packed).
    pub fn is_packed(&self) -> bool {
        self.spilled.is_some()
            || self
                .slots
                .iter()
                .flat_map(|s| s.iter())
                .flatten()
                .all(|s| matches!(s, Slot::Packed { .. }))
    }

    /// The HdrHistogram V2 encoding of `series` and its max, without decoding
    /// a packed histogram (what an interval log line needs).
    pub fn v2(&self, series: Series) -> Option<(Cow<'_, [u8]>, u64)> {
        if let Some(sp) = &self.spilled {
            return sp
                .entry(series.index())
                .map(|(max, bytes)| (Cow::Owned(bytes), max));
        }
        self.slots.as_ref()?[series.index()].as_ref().map(Slot::v2)
    }

    /// The series present, with their histograms, in [`Series::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = (Series, Cow<'_, Histogram<u64>>)> + '_ {
        let out: Vec<(Series, Cow<'_, Histogram<u64>>)> = match (&self.spilled, &self.slots) {
            (Some(sp), _) => sp
                .read()
                .into_iter()
                .map(|(i, _, bytes)| (Series::ALL[i], Cow::Owned(unpack(&bytes))))
                .collect(),
            (None, Some(slots)) => Series::ALL
                .into_iter()
                .zip(slots.iter())
                .filter_map(|(s, h)| h.as_ref().map(|h| (s, h.histogram())))
                .collect(),
            (None, None) => Vec::new(),
        };
        out.into_iter()
    }

    /// The sum of the given series; `None` when none of them has a histogram.
    pub fn merged(&self, series: impl IntoIterator<Item = Series>) -> Option<Histogram<u64>> {
        self.merged_cow(series).map(Cow::into_owned)
    }

    /// Like [`SeriesHistograms::merged`], but borrows when only one series has a
    /// live histogram (the common case: most seconds see one op), avoiding a copy.
    pub fn merged_cow(
        &self,
        series: impl IntoIterator<Item = Series>,
    ) -> Option<Cow<'_, Histogram<u64>>> {
        let mut out: Option<Cow<'_, Histogram<u64>>> = None;
        for s in series {
            if let Some(h) = self.get(s) {
                match &mut out {
                    Some(o) => o
                        .to_mut()
                        .add(h.as_ref())
                        .expect("auto-resizing histograms accept any value"),
                    None => out = Some(h),
                }
            }
        }
        out
    }

    /// True when no series has a histogram.
    pub fn is_empty(&self) -> bool {
        self.spilled.is_none()
            && self
                .slots
                .as_ref()
                .is_none_or(|s| s.iter().all(Option::is_none))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{OpKind, Sink};

    #[test]
    fn merge_adds_counts_and_creates_missing() {
        let mut a = SeriesHistograms::new();
        a.record(Series::Lateness, 10);
        let mut b = SeriesHistograms::new();
        b.record(Series::Lateness, 20);
        b.record(Series::SinkServer(Sink::Path2), 5_000_000_000);
        // A fresh auto-resizing histogram must grow, not clamp, on a large first value.
        let max = b.get(Series::SinkServer(Sink::Path2)).unwrap().max();
        assert!((5_000_000_000..5_005_000_000).contains(&max), "max {max}");
        a.merge(&b);
        assert_eq!(a.get(Series::Lateness).unwrap().len(), 2);
        assert_eq!(a.get(Series::SinkServer(Sink::Path2)).unwrap().len(), 1);
        assert!(a.get(Series::Client(OpKind::Insert)).is_none());
        let all = a
            .merged([Series::Lateness, Series::SinkServer(Sink::Path2)])
            .unwrap();
        assert_eq!(all.len(), 3);
        assert!(a.merged(Series::client_ops()).is_none());
    }
}
