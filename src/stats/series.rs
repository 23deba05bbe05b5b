//! What a latency sample measures ([`Series`]) and a fixed-size set of histograms
//! keyed by it ([`SeriesHistograms`]), shared by recorders, the collector and reports.

use std::borrow::Cow;
use std::fmt;

use hdrhistogram::serialization::{Deserializer, Serializer, V2Serializer};
use hdrhistogram::Histogram;

use crate::model::{Hop, OpKind, Sink};

/// Significant decimal digits every histogram keeps (0.1 % value resolution).
pub const SIGFIGS: u8 = 3;

/// Creates an empty auto-resizing µs histogram with [`SIGFIGS`] digits.
///
/// Auto-resize keeps idle series cheap (a few KiB) while still accepting any
/// latency a stuck pipeline can produce, so nothing is ever clamped.
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new(SIGFIGS).expect("3 significant digits is a valid histogram configuration")
}

/// One latency quantity the harness records, in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Series {
    /// Client latency of a write: commit ack − intended (scheduled) time.
    Client(OpKind),
    /// Schedule lateness: send time − intended time.
    Lateness,
    /// End-to-end latency at a sink: observed by the harness − commit ack.
    Sink(Sink, OpKind),
    /// The sink's own arrival stamp − `bench_ts`, on the sink server's clock
    /// (warehouse `arrived_at`, Kafka LogAppendTime), when the sink has one.
    SinkServer(Sink),
    /// Per row seen on both paths: path 2's latency − path 1's, the same row on
    /// both, so noise the paths share (MySQL, the binlog, the harness) cancels.
    /// HdrHistogram holds no negative values, so the sign picks the series.
    PathsDelta(DeltaSign),
    /// At a polled sink: the harness's sighting − commit ack (what the poll
    /// alone says), beside the headline [`Series::Sink`], which ends at the
    /// sink's own visible moment when it has one.
    Detected(Sink),
    /// One stretch of a row's way, between two moments on the harness's clock.
    Hop(Hop),
}

/// Which side of zero a [`Series::PathsDelta`] sample lies on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DeltaSign {
    /// Path 2 saw the row later than path 1 (or at the same microsecond).
    Path2Later,
    /// Path 2 saw the row earlier; the histogram holds path 1 − path 2.
    Path2Earlier,
}

impl DeltaSign {
    /// Both signs, in index order.
    pub const ALL: [DeltaSign; 2] = [DeltaSign::Path2Later, DeltaSign::Path2Earlier];

    /// The series and the magnitude of a signed path 2 − path 1 difference.
    pub fn of(delta_us: i64) -> (Series, u64) {
        let sign = if delta_us >= 0 {
            DeltaSign::Path2Later
        } else {
            DeltaSign::Path2Earlier
        };
        (Series::PathsDelta(sign), delta_us.unsigned_abs())
    }
}

const OPS: usize = OpKind::ALL.len();
const SINKS: usize = Sink::ALL.len();
const HOPS: usize = Hop::ALL.len();

impl Series {
    /// Number of distinct series; the length of [`Series::ALL`].
    pub const COUNT: usize = OPS + 1 + SINKS * OPS + SINKS + 2 + SINKS + HOPS;

    /// Every series, in index order (client ops, lateness, sink ops, sink
    /// server, paths delta, detected, hops).
    pub const ALL: [Series; Series::COUNT] = {
        let mut all = [Series::Lateness; Series::COUNT];
        let mut o = 0;
        while o < OPS {
            all[o] = Series::Client(OpKind::ALL[o]);
            o += 1;
        }
        let mut s = 0;
        while s < SINKS {
            let mut o = 0;
            while o < OPS {
                all[OPS + 1 + s * OPS + o] = Series::Sink(Sink::ALL[s], OpKind::ALL[o]);
                o += 1;
            }
            all[OPS + 1 + SINKS * OPS + s] = Series::SinkServer(Sink::ALL[s]);
            s += 1;
        }
        let delta = OPS + 1 + SINKS * OPS + SINKS;
        all[delta] = Series::PathsDelta(DeltaSign::Path2Later);
        all[delta + 1] = Series::PathsDelta(DeltaSign::Path2Earlier);
        let mut s = 0;
        while s < SINKS {
            all[delta + 2 + s] = Series::Detected(Sink::ALL[s]);
            s += 1;
        }
        let mut h = 0;
        while h < HOPS {
            all[delta + 2 + SINKS + h] = Series::Hop(Hop::ALL[h]);
            h += 1;
        }
        all
    };

    /// Dense index into `[T; Series::COUNT]`, matching [`Series::ALL`].
    pub fn index(self) -> usize {
        match self {
            Series::Client(op) => op as usize,
            Series::Lateness => OPS,
            Series::Sink(sink, op) => OPS + 1 + sink.index() * OPS + op as usize,
            Series::SinkServer(sink) => OPS + 1 + SINKS * OPS + sink.index(),
            Series::PathsDelta(sign) => OPS + 1 + SINKS * OPS + SINKS + sign as usize,
            Series::Detected(sink) => OPS + 1 + SINKS * OPS + SINKS + 2 + sink.index(),
            Series::Hop(hop) => OPS + 1 + SINKS * OPS + SINKS + 2 + SINKS + hop as usize,
        }
    }

    /// Stable string key used in `summary.json` (`client.insert`, `lateness`,
    /// `kafka.update`, `path1.server`).
    pub fn key(self) -> String {
        match self {
            Series::Lateness => "lateness".to_string(),
            _ => format!("{}.{}", self.group(), self.tag()),
        }
    }

    /// Parses a [`Series::key`] back.
    pub fn from_key(key: &str) -> Option<Series> {
        Series::ALL.into_iter().find(|s| s.key() == key)
    }

    /// The interval-log file this series goes to (`client` or a sink name); lateness
    /// is logged with the client series because both are seen by the writer, the
    /// paths delta with path 2 (it exists only when path 2 is observed).
    pub fn group(self) -> &'static str {
        match self {
            Series::Client(_) | Series::Lateness => "client",
            Series::Sink(sink, _) | Series::SinkServer(sink) | Series::Detected(sink) => {
                sink.name()
            }
            Series::PathsDelta(_) => Sink::Path2.name(),
            Series::Hop(_) => "hops",
        }
    }

    /// The tag inside its group's interval log (`insert`, `lateness`, `server`, ...).
    pub fn tag(self) -> &'static str {
        match self {
            Series::Client(op) | Series::Sink(_, op) => op.name(),
            Series::Lateness => "lateness",
            Series::SinkServer(_) => "server",
            Series::PathsDelta(DeltaSign::Path2Later) => "vs_path1_later",
            Series::PathsDelta(DeltaSign::Path2Earlier) => "vs_path1_earlier",
            Series::Detected(_) => "detected",
            Series::Hop(hop) => hop.key(),
        }
    }

    /// The client series of every op.
    pub fn client_ops() -> [Series; OPS] {
        OpKind::ALL.map(Series::Client)
    }

    /// The end-to-end series of every op at `sink`.
    pub fn sink_ops(sink: Sink) -> [Series; OPS] {
        OpKind::ALL.map(|op| Series::Sink(sink, op))
    }
}

impl fmt::Display for Series {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key())
    }
}

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
#[derive(Debug, Clone)]
pub struct SeriesHistograms {
    slots: [Option<Slot>; Series::COUNT],
}

// By hand: `Default` is derived for arrays of at most 32 elements.
impl Default for SeriesHistograms {
    fn default() -> Self {
        SeriesHistograms {
            slots: std::array::from_fn(|_| None),
        }
    }
}

/// Equal when every series holds the same counts, packed or not.
impl PartialEq for SeriesHistograms {
    fn eq(&self, other: &Self) -> bool {
        self.slots
            .iter()
            .zip(&other.slots)
            .all(|(a, b)| match (a, b) {
                (None, None) => true,
                (Some(a), Some(b)) => *a.histogram() == *b.histogram(),
                _ => false,
            })
    }
}

impl SeriesHistograms {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// The histogram of `series`, if anything was recorded (or merged) into
    /// it; decoded (owned) when the set is packed.
    pub fn get(&self, series: Series) -> Option<Cow<'_, Histogram<u64>>> {
        self.slots[series.index()].as_ref().map(Slot::histogram)
    }

    /// The histogram of `series`, created empty on first use.
    pub fn get_or_create(&mut self, series: Series) -> &mut Histogram<u64> {
        self.slots[series.index()]
            .get_or_insert_with(|| Slot::Live(new_histogram()))
            .live()
    }

    /// Replaces the histogram of `series`.
    pub fn set(&mut self, series: Series, histogram: Histogram<u64>) {
        let mut histogram = histogram;
        // Deserialized histograms come back fixed-size; merging later must still grow.
        histogram.auto(true);
        self.slots[series.index()] = Some(Slot::Live(histogram));
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
    /// packed (a late part of a second already moved past).
    pub fn merge(&mut self, other: &SeriesHistograms) {
        let was_packed = !self.is_empty() && self.is_packed();
        for (mine, theirs) in self.slots.iter_mut().zip(&other.slots) {
            if let Some(theirs) = theirs {
                let theirs = theirs.histogram();
                match mine {
                    Some(mine) => mine
                        .live()
                        .add(theirs.as_ref())
                        .expect("auto-resizing histograms accept any value"),
                    None => *mine = Some(Slot::Live(theirs.into_owned())),
                }
            }
        }
        if was_packed {
            self.pack();
        }
    }

    /// Packs every histogram (see [`Slot`]): reads decode them again.
    pub fn pack(&mut self) {
        for slot in self.slots.iter_mut().flatten() {
            slot.pack();
        }
    }

    /// True when no histogram is live (an empty set counts as packed).
    pub fn is_packed(&self) -> bool {
        self.slots
            .iter()
            .flatten()
            .all(|s| matches!(s, Slot::Packed { .. }))
    }

    /// The HdrHistogram V2 encoding of `series` and its max, without decoding
    /// a packed histogram (what an interval log line needs).
    pub fn v2(&self, series: Series) -> Option<(Cow<'_, [u8]>, u64)> {
        self.slots[series.index()].as_ref().map(Slot::v2)
    }

    /// The series present, with their histograms, in [`Series::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = (Series, Cow<'_, Histogram<u64>>)> + '_ {
        Series::ALL
            .into_iter()
            .zip(&self.slots)
            .filter_map(|(s, h)| h.as_ref().map(|h| (s, h.histogram())))
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
        self.slots.iter().all(Option::is_none)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_matches_all_and_keys_round_trip() {
        for (i, s) in Series::ALL.into_iter().enumerate() {
            assert_eq!(s.index(), i, "{s}");
            assert_eq!(Series::from_key(&s.key()), Some(s));
        }
        let keys: std::collections::BTreeSet<_> = Series::ALL.iter().map(|s| s.key()).collect();
        assert_eq!(keys.len(), Series::COUNT);
        assert_eq!(
            Series::Sink(Sink::Path1, OpKind::Update).key(),
            "path1.update"
        );
        assert_eq!(Series::SinkServer(Sink::Kafka).key(), "kafka.server");
        assert_eq!(Series::Client(OpKind::Delete).key(), "client.delete");
        assert_eq!(Series::from_key("nope"), None);
        assert_eq!(
            DeltaSign::of(-7),
            (Series::PathsDelta(DeltaSign::Path2Earlier), 7)
        );
        assert_eq!(
            DeltaSign::of(0),
            (Series::PathsDelta(DeltaSign::Path2Later), 0)
        );
        assert_eq!(
            Series::PathsDelta(DeltaSign::Path2Later).key(),
            "path2.vs_path1_later"
        );
    }

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
