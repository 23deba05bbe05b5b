//! What a latency sample measures ([`Series`]); the histograms keyed by it
//! are in [`super::histograms`].

use std::fmt;

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
}
