//! Observers: tasks that watch each sink (the MySQL binlog, the Kafka changelog
//! topics, the warehouse schemas `path1`/`path2`) and report every change of a
//! row in the run's ticket range as a [`crate::model::Observation`], in batches,
//! to the tracker.
//!
//! Every observer has the same two-phase shape:
//! - `start(cfg).await` connects, checks the target and pins the starting point
//!   (Kafka partitions assigned at the high watermarks, binlog file/position,
//!   warehouse clock). When it returns `Ok`, the observer is *ready*: the run may
//!   start the load and no row committed afterwards can be missed. Startup
//!   problems are [`ObserveError`]s with exit code 3.
//! - `observer.run(tx, stop).await` streams `Vec<Observation>` batches into `tx`
//!   until `stop` turns `true` (or `tx` is closed), then returns its
//!   [`ObserverStats`]. Faults while running have exit code 4.
//!
//! Each module also has `run(cfg, tx, stop)` doing both phases in one call.
//!
//! Rows outside the run's ticket range, and changes of other tables, are never
//! reported, only counted (`ignored`). Messages that cannot be decoded are
//! counted (`malformed`) with the first few kept as samples: an observer never
//! crashes on bad input and never drops it silently.
//!
//! `seen_at` is the monotonic instant the data reached the harness (message
//! polled, query result received, binlog event read).

pub mod binlog;
mod caveats;
pub mod decode;
mod error;
pub mod feed;
pub mod kafka;
pub mod preflight;
pub mod warehouse;

use std::ops::Range;

use serde::Serialize;

use crate::model::Sink;

pub use caveats::{caveats, ObserverCaveat, Sampled};
pub use error::{BoxError, ObserveError};

/// Kafka consumers found stalled and replaced so far in this process (see
/// `kafka::stall`): the live endpoint's `tpcds_observer_stalls_total`.
pub fn kafka_stalls() -> u64 {
    kafka::stall::total()
}

/// How many malformed inputs an observer keeps verbatim for the report.
pub const MAX_MALFORMED_SAMPLES: usize = 5;

/// How many bytes of a malformed input a sample keeps.
const SAMPLE_EXCERPT_BYTES: usize = 300;

/// One malformed input kept for the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MalformedSample {
    /// Where it came from (`tpcds.store_sales[0]@1234`, `path1.store_sales`, a binlog position).
    pub location: String,
    /// Why it could not be decoded.
    pub reason: String,
    /// The start of the raw input (lossy UTF-8, at most 300 bytes).
    pub excerpt: String,
}

/// What an observer did over a run. Counters an observer has no use for stay 0.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObserverStats {
    /// The sink observed.
    pub sink: Sink,
    /// Raw units received: Kafka messages, warehouse rows read, binlog row images.
    pub received: u64,
    /// Observations reported to the tracker.
    pub observed: u64,
    /// Changes outside the run's ticket range or of other tables: not reported.
    pub ignored: u64,
    /// Inputs that could not be decoded.
    pub malformed: u64,
    /// The first [`MAX_MALFORMED_SAMPLES`] malformed inputs.
    pub malformed_samples: Vec<MalformedSample>,
    /// Warehouse rows re-read inside the overlap window and dropped as already seen.
    pub duplicates: u64,
    /// Batches sent to the tracker.
    pub batches: u64,
    /// Warehouse polls done.
    pub polls: u64,
    /// Longest warehouse poll (queries + decoding), µs: adds to the poll interval
    /// as the detection resolution.
    pub max_poll_micros: u64,
    /// Longest time from a warehouse poll's start to the end of the next one, µs:
    /// a row that became visible between the two was seen at most this late, so
    /// this bounds every row's detection delay, scheduling delays included.
    /// Pairs around a failed read are not counted (that is an outage).
    pub max_window_micros: u64,
    /// Poll pairs whose window exceeded twice the poll interval (the observer
    /// ran late: a busy machine, a slow poll), out of `polls`.
    pub late_windows: u64,
    /// Warehouse: whether the poll read each version's commit timestamp
    /// (`track_commit_timestamp = on`) to time its visibility.
    pub commit_ts: bool,
    /// The server clock's offset from the harness's (server − harness), when
    /// measured (warehouse: probed every second; Kafka: at start).
    pub clock_offset: Option<crate::clock::ClockOffset>,
    /// Kafka messages stamped with LogAppendTime (their stamp is reported as `server_arrival`).
    pub log_append_time: u64,
    /// Kafka messages stamped with CreateTime (the producer's clock: not reported).
    pub create_time: u64,
    /// Warehouse: registered deletes confirmed (row gone).
    pub deletes_confirmed: u64,
    /// Warehouse: registered deletes still unconfirmed when the observer stopped
    /// (the row is still there, or it was never seen there so its absence proves nothing).
    pub deletes_pending: u64,
    /// Warehouse: registered updates confirmed by key lookup (not by arrival polling).
    pub updates_looked_up: u64,
    /// Warehouse: registered updates whose new version was never seen.
    pub updates_pending: u64,
    /// Failed reads retried (warehouse polls and reconnect attempts, binlog
    /// stream breaks, Kafka consumer errors): an outage, not loss.
    pub poll_errors: u64,
    /// Times the observer opened a new connection after a failure.
    pub reconnects: u64,
    /// Kafka: times the consumer had stopped fetching while messages waited
    /// and a replacement read on from the same offsets.
    pub stalls: u64,
    /// Kafka: the longest time nothing was delivered before such a replacement, ms.
    pub longest_stall_ms: u64,
    /// Kafka: the tally of the images the changelog leaves, for the
    /// end-of-run audit (when asked for, see [`kafka::tally`]).
    #[serde(skip)]
    pub kafka_tally: Option<kafka::tally::Tally>,
    /// Binlog: the tally of MySQL's rows in the range, for the end-of-run
    /// audit (when asked for, see [`binlog::tally`]).
    #[serde(skip)]
    pub binlog_tally: Option<binlog::tally::Tally>,
}

impl ObserverStats {
    /// Empty stats for `sink`.
    pub fn new(sink: Sink) -> Self {
        ObserverStats {
            sink,
            received: 0,
            observed: 0,
            ignored: 0,
            malformed: 0,
            malformed_samples: Vec::new(),
            duplicates: 0,
            batches: 0,
            polls: 0,
            max_poll_micros: 0,
            max_window_micros: 0,
            late_windows: 0,
            commit_ts: false,
            clock_offset: None,
            log_append_time: 0,
            create_time: 0,
            deletes_confirmed: 0,
            deletes_pending: 0,
            updates_looked_up: 0,
            updates_pending: 0,
            poll_errors: 0,
            reconnects: 0,
            stalls: 0,
            longest_stall_ms: 0,
            kafka_tally: None,
            binlog_tally: None,
        }
    }

    /// Counts one malformed input, keeping it as a sample while there is room.
    pub fn record_malformed(
        &mut self,
        location: impl Into<String>,
        reason: impl Into<String>,
        raw: &[u8],
    ) {
        self.malformed += 1;
        if self.malformed_samples.len() < MAX_MALFORMED_SAMPLES {
            let cut = raw.len().min(SAMPLE_EXCERPT_BYTES);
            self.malformed_samples.push(MalformedSample {
                location: location.into(),
                reason: reason.into(),
                excerpt: String::from_utf8_lossy(&raw[..cut]).into_owned(),
            });
        }
    }
}

/// Whether `ticket` belongs to the run (`range` is half-open).
pub fn in_range(range: &Range<u64>, ticket: u64) -> bool {
    range.contains(&ticket)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_samples_are_bounded_but_all_counted() {
        let mut s = ObserverStats::new(Sink::Kafka);
        for i in 0..(MAX_MALFORMED_SAMPLES + 3) {
            s.record_malformed(format!("t[0]@{i}"), "bad", &[b'x'; 1000]);
        }
        assert_eq!(s.malformed, (MAX_MALFORMED_SAMPLES + 3) as u64);
        assert_eq!(s.malformed_samples.len(), MAX_MALFORMED_SAMPLES);
        assert_eq!(s.malformed_samples[0].excerpt.len(), SAMPLE_EXCERPT_BYTES);
        assert_eq!(s.malformed_samples[0].location, "t[0]@0");
    }

    #[test]
    fn range_is_half_open() {
        let r = 100..200;
        assert!(in_range(&r, 100) && in_range(&r, 199));
        assert!(!in_range(&r, 99) && !in_range(&r, 200));
    }
}
