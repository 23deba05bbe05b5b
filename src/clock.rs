//! One clock for the whole run, and the offsets of the servers' clocks from it.
//!
//! Commit acks and sightings are monotonic [`Instant`]s. A server says *when*
//! something happened on its own wall clock (PostgreSQL's commit timestamp,
//! Kafka's LogAppendTime), so the harness needs two things to put that moment
//! on its own time line:
//! - a fixed pair (instant, wall µs) taken once per process ([`anchor`]): the
//!   harness's wall clock is read once and then follows the monotonic clock,
//!   so an NTP step during a run moves nothing;
//! - the server's offset from that clock, measured by round-trip probes
//!   ([`OffsetTracker`]): the server reads its clock somewhere between the
//!   probe's send and its answer, so `offset = server − midpoint` is off by at
//!   most half the round trip. The probe with the shortest round trip among
//!   the recent ones wins (Cristian's algorithm, as NTP's clock filter does).
//!
//! Leaf module: it knows no sink and no server.

use std::collections::VecDeque;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::model::StampMicros;

static ANCHOR: OnceLock<(Instant, StampMicros)> = OnceLock::new();

/// The process's (instant, wall-clock µs) pair; fixed at the first call.
pub fn anchor() -> (Instant, StampMicros) {
    *ANCHOR.get_or_init(|| (Instant::now(), chrono::Utc::now().timestamp_micros()))
}

/// The harness's wall-clock µs of `at` (anchored, monotonic between calls).
pub fn wall_of(at: Instant) -> StampMicros {
    let (i0, w0) = anchor();
    match at.checked_duration_since(i0) {
        Some(d) => w0 + d.as_micros() as i64,
        None => w0 - i0.duration_since(at).as_micros() as i64,
    }
}

/// The instant at which the harness's anchored wall clock reads `wall`; `None`
/// when that lies before the platform's earliest instant.
pub fn instant_of(wall: StampMicros) -> Option<Instant> {
    let (i0, w0) = anchor();
    let d = wall - w0;
    if d >= 0 {
        i0.checked_add(Duration::from_micros(d as u64))
    } else {
        i0.checked_sub(Duration::from_micros(d.unsigned_abs()))
    }
}

/// One probe: the harness's instants around a request, and the server's clock
/// reading taken while it was in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Probe {
    /// Just before the request was sent.
    pub sent: Instant,
    /// The server's clock (wall µs, its own), read while answering.
    pub server: StampMicros,
    /// Just after the answer arrived.
    pub received: Instant,
    /// Extra uncertainty of the server's reading itself (µs): 500 for a clock
    /// that reports whole milliseconds and whose value is the interval's middle.
    pub reading_us: u64,
}

impl Probe {
    /// The round trip (µs).
    pub fn rtt_us(&self) -> u64 {
        self.received
            .saturating_duration_since(self.sent)
            .as_micros() as u64
    }

    /// Server − harness (µs), against the midpoint of send and answer.
    pub fn offset_us(&self) -> i64 {
        let mid = wall_of(self.sent) + (self.rtt_us() / 2) as i64;
        self.server - mid
    }

    /// The bound on `offset_us`'s error: half the round trip plus the reading's own.
    pub fn uncertainty_us(&self) -> u64 {
        self.rtt_us().div_ceil(2) + self.reading_us
    }
}

/// A server's offset as the run reports it (µs, server − harness).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockOffset {
    /// The best estimate at the end (shortest recent round trip).
    pub offset_us: i64,
    /// Its error bound: half that probe's round trip (plus a coarse clock's own).
    pub uncertainty_us: u64,
    /// Probes taken over the run.
    pub probes: u64,
    /// Lowest and highest best estimate over the run: their spread is drift
    /// (or noise within the uncertainties).
    pub min_offset_us: i64,
    /// See `min_offset_us`.
    pub max_offset_us: i64,
}

impl ClockOffset {
    /// `+250.3 ms ± 0.2 ms` for reports.
    pub fn describe(&self) -> String {
        format!(
            "{}{:.1} ms ± {:.2} ms",
            if self.offset_us < 0 { "−" } else { "+" },
            self.offset_us.unsigned_abs() as f64 / 1000.0,
            self.uncertainty_us as f64 / 1000.0
        )
    }
}

/// Keeps the recent probes and answers with the best of them.
#[derive(Debug, Clone)]
pub struct OffsetTracker {
    recent: VecDeque<Probe>,
    keep: usize,
    probes: u64,
    min_offset: i64,
    max_offset: i64,
}

/// How many recent probes the best is chosen from by default: at one probe a
/// second, 16 s of history (long enough to ride out a busy second, short
/// enough that drift of a few ppm is followed).
pub const DEFAULT_KEEP: usize = 16;

impl Default for OffsetTracker {
    fn default() -> Self {
        Self::new(DEFAULT_KEEP)
    }
}

impl OffsetTracker {
    /// Chooses the best among the last `keep` probes (at least 1).
    pub fn new(keep: usize) -> Self {
        OffsetTracker {
            recent: VecDeque::new(),
            keep: keep.max(1),
            probes: 0,
            min_offset: i64::MAX,
            max_offset: i64::MIN,
        }
    }

    /// Adds a probe and returns the current best.
    pub fn add(&mut self, p: Probe) -> (i64, u64) {
        if self.recent.len() == self.keep {
            self.recent.pop_front();
        }
        self.recent.push_back(p);
        self.probes += 1;
        let best = self.best().expect("just added one");
        self.min_offset = self.min_offset.min(best.0);
        self.max_offset = self.max_offset.max(best.0);
        best
    }

    /// (offset, uncertainty) of the recent probe with the least uncertainty.
    pub fn best(&self) -> Option<(i64, u64)> {
        self.recent
            .iter()
            .min_by_key(|p| p.uncertainty_us())
            .map(|p| (p.offset_us(), p.uncertainty_us()))
    }

    /// Takes in another tracker's probes and range (a later measurement of
    /// the same server): the best is then chosen among the most recent.
    pub fn absorb(&mut self, later: &OffsetTracker) {
        for p in &later.recent {
            self.add(*p);
        }
        self.probes += later.probes - later.recent.len() as u64;
        self.min_offset = self.min_offset.min(later.min_offset);
        self.max_offset = self.max_offset.max(later.max_offset);
    }

    /// The run's summary; `None` before the first probe.
    pub fn summary(&self) -> Option<ClockOffset> {
        let (offset_us, uncertainty_us) = self.best()?;
        Some(ClockOffset {
            offset_us,
            uncertainty_us,
            probes: self.probes,
            min_offset_us: self.min_offset,
            max_offset_us: self.max_offset,
        })
    }

    /// A server wall-clock reading moved onto the harness's time line, with the
    /// current best offset; `None` before the first probe.
    pub fn to_instant(&self, server: StampMicros) -> Option<(Instant, u64)> {
        let (offset, unc) = self.best()?;
        Some((instant_of(server - offset)?, unc))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(sent: Instant, rtt_us: u64, server_minus_mid: i64) -> Probe {
        let received = sent + Duration::from_micros(rtt_us);
        let mid = wall_of(sent) + (rtt_us / 2) as i64;
        Probe {
            sent,
            server: mid + server_minus_mid,
            received,
            reading_us: 0,
        }
    }

    #[test]
    fn wall_and_instant_are_inverse_on_the_anchor() {
        let now = Instant::now();
        let w = wall_of(now);
        let back = instant_of(w).unwrap();
        let d = if back > now { back - now } else { now - back };
        assert!(d < Duration::from_micros(2), "{d:?}");
        let before = now - Duration::from_millis(1500);
        assert!((wall_of(before) - (w - 1_500_000)).abs() <= 1);
    }

    #[test]
    fn the_shortest_round_trip_wins_and_its_half_is_the_uncertainty() {
        let mut t = OffsetTracker::new(4);
        let t0 = Instant::now();
        t.add(probe(t0, 4_000, 250_900));
        t.add(probe(t0, 300, 250_040));
        t.add(probe(t0, 2_000, 249_200));
        assert_eq!(t.best(), Some((250_040, 150)));
        let s = t.summary().unwrap();
        assert_eq!(s.probes, 3);
        assert_eq!((s.min_offset_us, s.max_offset_us), (250_040, 250_900));
        assert_eq!(s.describe(), "+250.0 ms ± 0.15 ms");
    }

    #[test]
    fn old_probes_leave_the_window_so_drift_is_followed() {
        let mut t = OffsetTracker::new(2);
        let t0 = Instant::now();
        t.add(probe(t0, 100, 1_000));
        t.add(probe(t0, 900, 1_300));
        t.add(probe(t0, 800, 1_600));
        assert_eq!(t.best(), Some((1_600, 400)), "the 100 µs probe aged out");
        assert_eq!(t.summary().unwrap().max_offset_us, 1_600);
    }

    #[test]
    fn a_server_reading_maps_back_to_the_instant_it_was_taken() {
        let mut t = OffsetTracker::default();
        let t0 = Instant::now();
        t.add(probe(t0, 200, -40_000));
        // The server read its clock at the probe's midpoint.
        let server_at_mid = wall_of(t0) + 100 - 40_000;
        let (at, unc) = t.to_instant(server_at_mid).unwrap();
        let mid = t0 + Duration::from_micros(100);
        let d = if at > mid { at - mid } else { mid - at };
        assert!(d <= Duration::from_micros(1), "{d:?}");
        assert_eq!(unc, 100);
    }

    #[test]
    fn a_coarse_reading_adds_its_own_uncertainty() {
        let p = Probe {
            reading_us: 500,
            ..probe(Instant::now(), 1_000, 0)
        };
        assert_eq!(p.uncertainty_us(), 1_000);
    }
}
