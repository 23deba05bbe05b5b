//! The ledger: pending versions per sink, the early buffer, and the counts.

use std::collections::{HashMap, VecDeque};
use std::ops::Range;
use std::time::{Duration, Instant};

use super::{CommitBatch, CommittedRow};
use crate::model::{Hop, Observation, OpKind, RowKey, Sink, StampMicros, VisibleSource};

/// How long a fully observed version is remembered to recognise duplicates.
/// Beyond it a repeat shows up as `unexpected` instead of `duplicates` (still
/// reported). It bounds the ledger's memory: at 20,000 rows/s, 60 s is 1.2 M rows.
pub const DEFAULT_DUP_WINDOW: Duration = Duration::from_secs(60);

/// Accounting for one sink.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct SinkCounts {
    /// Versions registered (committed) that this sink should show.
    pub expected: u64,
    /// Versions seen at least once.
    pub seen: u64,
    /// Repeat observations of a version already seen.
    pub duplicates: u64,
    /// Observations matching nothing this run wrote (after the early buffer expired).
    pub unexpected: u64,
    /// Versions seen before the commit ack reached the harness (latency recorded as 0).
    pub before_ack: u64,
    /// Versions counted as seen because a later version of the same row was seen
    /// first (a polled sink can miss an insert that an update or delete overwrote
    /// within one poll); no latency is recorded for them.
    pub superseded: u64,
    /// Deletes confirmed only by the end-of-run check that the row is absent
    /// (the sink never showed the row between two polls); no latency recorded.
    pub confirmed_at_end: u64,
}

impl SinkCounts {
    /// Expected versions not (yet) seen.
    pub fn missing(&self) -> u64 {
        self.expected.saturating_sub(self.seen)
    }
}

/// Where a sink's latencies came from, and the sightings whose visible
/// moment did not lie between the commit ack and the sighting (beyond its
/// uncertainty): a clock problem, counted and reported, never hidden.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct VisibilityCounts {
    /// Latencies recorded per source, indexed like [`VisibleSource::ALL`].
    pub by_source: [u64; VisibleSource::ALL.len()],
    /// Visible before the commit ack by more than its uncertainty although
    /// the harness saw it after the ack (clamped to 0).
    pub before_ack: u64,
    /// Visible after the harness had already seen it, by more than its
    /// uncertainty (clamped to the detection).
    pub after_detection: u64,
    /// The largest uncertainty of a visible moment used (µs).
    pub max_uncertainty_us: u64,
}

impl VisibilityCounts {
    /// Count for one source.
    pub fn count(&self, source: VisibleSource) -> u64 {
        self.by_source[source as usize]
    }

    /// The source most latencies came from (`Detected` when none were recorded).
    pub fn main_source(&self) -> VisibleSource {
        VisibleSource::ALL
            .into_iter()
            .max_by_key(|s| (self.count(*s), std::cmp::Reverse(*s as usize)))
            .filter(|s| self.count(*s) > 0)
            .unwrap_or(VisibleSource::Detected)
    }
}

/// What became of one observation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MatchOutcome {
    /// First sighting of a version: latency from the commit ack.
    Seen {
        /// The row.
        key: RowKey,
        /// The sink.
        sink: Sink,
        /// The registered operation.
        op: OpKind,
        /// Visible − acked: the sink's own moment where the sink is polled and
        /// has one ([`Sink::is_polled`]), else the sighting; zero when it beat the ack.
        latency: Duration,
        /// The harness's sighting − acked (what a poll alone would report).
        detected: Duration,
        /// Where `latency`'s end came from.
        source: VisibleSource,
        /// Hops this sighting completes (µs, clamped at 0), see [`Hop`].
        hops: [Option<(Hop, u64)>; 3],
        /// The version's stamp (for the sink-server-clock cross-check).
        stamp: StampMicros,
        /// When the sink itself says the row arrived (its clock), if it says.
        server_arrival: Option<StampMicros>,
        /// When the harness saw it.
        seen_at: Instant,
        /// When this sighting completes the row's pair at path 1 and path 2:
        /// path 2's latency − path 1's (µs), the per-row paired difference.
        paths_delta_us: Option<i64>,
    },
    /// A repeat of a version already seen.
    Duplicate,
    /// An update's before-image in a changelog: expected noise, not counted.
    BeforeImage,
    /// Not matched yet; kept in the early buffer.
    Buffered,
}

#[derive(Debug, Clone, Copy)]
struct Version {
    op: OpKind,
    stamp: StampMicros,
    prev_stamp: Option<StampMicros>,
    acked_at: Instant,
    /// Bit per sink index: seen there.
    seen: u16,
    /// Bit per sink index: expected there (derived sinks expect probe rows only).
    expect: u16,
    /// When every enabled sink had seen it (for pruning).
    done_at: Option<Instant>,
    /// Time since the ack (µs, saturating) at the binlog, the Kafka append,
    /// path 1 and path 2 once known; [`UNSEEN`] before. Kept for the hops and
    /// the per-row path 2 − path 1 difference.
    at_us: [u32; 4],
}

/// [`Version::at_us`] of a point the version has not reached yet.
const UNSEEN: u32 = u32::MAX;

/// The slot of a sink in [`Version::at_us`].
fn point_slot(sink: Sink) -> Option<usize> {
    match sink {
        Sink::Binlog => Some(0),
        Sink::Kafka => Some(1),
        Sink::Path1 => Some(2),
        Sink::Path2 => Some(3),
        _ => None,
    }
}

/// The hops `at_us` completes now that `slot` is known (at most three),
/// clamped at 0; a hop whose end came before its start is counted in `negative`.
fn completed_hops(
    at_us: &[u32; 4],
    slot: usize,
    negative: &mut [u64; Hop::ALL.len()],
) -> [Option<(Hop, u64)>; 3] {
    let mut out = [None; 3];
    let mut n = 0;
    for hop in Hop::ALL {
        let (from, to) = hop.ends();
        let to = point_slot(to).expect("hop ends are points");
        let from = from.map(|f| point_slot(f).expect("hop ends are points"));
        if to != slot && from != Some(slot) {
            continue;
        }
        let start = match from {
            None => 0,
            Some(f) if at_us[f] == UNSEEN => continue,
            Some(f) => at_us[f],
        };
        if at_us[to] == UNSEEN {
            continue;
        }
        if at_us[to] < start {
            negative[hop as usize] += 1;
        }
        out[n] = Some((hop, u64::from(at_us[to].saturating_sub(start))));
        n += 1;
    }
    out
}

#[derive(Debug, Default)]
struct Entry {
    versions: [Option<Version>; 2],
}

/// The tracker's state. Owned by one task; not shared, so no locks.
#[derive(Debug)]
pub struct Ledger {
    enabled_mask: u16,
    probes: Range<u64>,
    entries: HashMap<RowKey, Entry>,
    counts: [SinkCounts; Sink::ALL.len()],
    visibility: [VisibilityCounts; Sink::ALL.len()],
    /// Hops whose end came before their start (recorded as 0), per [`Hop::ALL`].
    hop_negative: [u64; Hop::ALL.len()],
    early: HashMap<RowKey, Vec<Observation>>,
    early_count: usize,
    done: VecDeque<(Instant, RowKey)>,
    dup_window: Duration,
}

impl Ledger {
    /// A ledger that expects every registered version at each of `sinks`.
    pub fn new(sinks: &[Sink]) -> Self {
        Ledger {
            enabled_mask: sinks
                .iter()
                .filter(|s| !s.is_query())
                .fold(0, |m, s| m | (1 << s.index())),
            probes: 0..0,
            entries: HashMap::new(),
            counts: [SinkCounts::default(); Sink::ALL.len()],
            visibility: [VisibilityCounts::default(); Sink::ALL.len()],
            hop_negative: [0; Hop::ALL.len()],
            early: HashMap::new(),
            early_count: 0,
            done: VecDeque::new(),
            dup_window: DEFAULT_DUP_WINDOW,
        }
    }

    /// Changes how long fully seen versions are kept for duplicate detection.
    pub fn with_dup_window(mut self, window: Duration) -> Self {
        self.dup_window = window;
        self
    }

    /// Declares the ticket numbers of the run's probe rows: only those are
    /// expected at the derived sinks ([`Sink::DERIVED`]); every other sink
    /// expects them like any row.
    pub fn with_probes(mut self, tickets: Range<u64>) -> Self {
        self.probes = tickets;
        self
    }

    /// Registers a committed batch; returns the outcomes of buffered observations it resolves.
    pub fn commit(&mut self, batch: &CommitBatch) -> Vec<MatchOutcome> {
        let mut out = Vec::new();
        for row in &batch.rows {
            let expect = self.register(row, batch.acked_at);
            for s in Sink::ALL {
                if expect & (1 << s.index()) != 0 {
                    self.counts[s.index()].expected += 1;
                }
            }
            if let Some(obs) = self.early.remove(&row.key) {
                self.early_count -= obs.len();
                for o in obs {
                    out.push(self.observe(&o));
                }
            }
        }
        out
    }

    fn register(&mut self, row: &CommittedRow, acked_at: Instant) -> u16 {
        let expect = if self.probes.contains(&row.key.ticket) {
            self.enabled_mask
        } else {
            self.enabled_mask & !derived_mask()
        };
        let v = Version {
            op: row.op,
            stamp: row.stamp,
            prev_stamp: row.prev_stamp,
            acked_at,
            seen: 0,
            expect,
            done_at: None,
            at_us: [UNSEEN; 4],
        };
        let entry = self.entries.entry(row.key).or_default();
        match entry.versions.iter_mut().find(|slot| slot.is_none()) {
            Some(slot) => *slot = Some(v),
            // A third version breaks the at-most-one-mutation rule; keep the newest two
            // so accounting stays bounded, and let the missing count show the anomaly.
            None => {
                entry.versions[0] = entry.versions[1].take();
                entry.versions[1] = Some(v);
            }
        }
        expect
    }

    fn enabled(&self, sink: Sink) -> bool {
        self.enabled_mask & (1 << sink.index()) != 0
    }

    /// Matches one observation.
    pub fn observe(&mut self, obs: &Observation) -> MatchOutcome {
        let bit = 1u16 << obs.sink.index();
        let Some(entry) = self.entries.get_mut(&obs.key) else {
            return self.buffer(obs);
        };
        let has_update = entry
            .versions
            .iter()
            .flatten()
            .any(|v| v.op == OpKind::Update);
        let idx = entry.versions.iter().position(|slot| {
            slot.as_ref().is_some_and(|v| match (obs.op, v.op) {
                // A changelog delete carries the before-image's stamp; a polled
                // sink sees only absence.
                (OpKind::Delete, OpKind::Delete) => {
                    obs.stamp.is_none() || v.prev_stamp.is_none() || obs.stamp == v.prev_stamp
                }
                (OpKind::Delete, _) => false,
                (_, OpKind::Delete) => false,
                // Insert/upsert observations match on the stamp; a sink without
                // stamps matches the newest unseen version.
                (_, _) => obs.stamp.is_none_or(|s| s == v.stamp),
            })
        });
        let Some(idx) = idx else {
            if obs.op == OpKind::Delete && has_update {
                let before = entry
                    .versions
                    .iter()
                    .flatten()
                    .any(|v| v.op == OpKind::Update && v.prev_stamp == obs.stamp);
                if before || obs.stamp.is_none() {
                    return MatchOutcome::BeforeImage;
                }
            }
            return self.buffer(obs);
        };
        let v = entry.versions[idx].as_mut().expect("position found it");
        if v.seen & bit != 0 {
            self.counts[obs.sink.index()].duplicates += 1;
            return MatchOutcome::Duplicate;
        }
        v.seen |= bit;
        let counts = &mut self.counts[obs.sink.index()];
        counts.seen += 1;
        let detected = obs
            .seen_at
            .checked_duration_since(v.acked_at)
            .unwrap_or_else(|| {
                counts.before_ack += 1;
                Duration::ZERO
            });
        let vis = &mut self.visibility[obs.sink.index()];
        // The sink's own moment, kept between the ack and the sighting; one
        // outside by more than its uncertainty is a clock problem, counted.
        let own = obs.visible.map(|seen| {
            let unc = Duration::from_micros(seen.uncertainty_us.into());
            vis.max_uncertainty_us = vis.max_uncertainty_us.max(seen.uncertainty_us.into());
            let since_ack = match seen.at.checked_duration_since(v.acked_at) {
                Some(d) => d,
                None => {
                    // A sighting before the ack means the ack reached the
                    // harness late (counted as `before_ack` of the sink), not
                    // that a clock is off.
                    if v.acked_at.duration_since(seen.at) > unc && obs.seen_at >= v.acked_at {
                        vis.before_ack += 1;
                    }
                    Duration::ZERO
                }
            };
            if since_ack > detected + unc {
                vis.after_detection += 1;
            }
            (since_ack.min(detected), seen.source)
        });
        // A polled sink's headline is its own moment; Kafka (a push) keeps
        // the consumer's sighting, and its broker append only times the hops.
        let (latency, source) = match own {
            Some(o) if obs.sink.is_polled() => o,
            _ => (detected, VisibleSource::Detected),
        };
        vis.by_source[source as usize] += 1;
        let slot = point_slot(obs.sink);
        if let Some(slot) = slot {
            let point = own.map_or(detected, |(t, _)| t);
            v.at_us[slot] = u32::try_from(point.as_micros()).unwrap_or(UNSEEN - 1);
        }
        let hops = match slot {
            Some(slot) => completed_hops(&v.at_us, slot, &mut self.hop_negative),
            None => [None; 3],
        };
        let paths_delta_us = matches!(obs.sink, Sink::Path1 | Sink::Path2)
            .then(|| (v.at_us[2], v.at_us[3]))
            .filter(|(p1, p2)| *p1 != UNSEEN && *p2 != UNSEEN)
            .map(|(p1, p2)| i64::from(p2) - i64::from(p1));
        let outcome = MatchOutcome::Seen {
            key: obs.key,
            sink: obs.sink,
            op: v.op,
            latency,
            detected,
            source,
            hops,
            stamp: v.stamp,
            server_arrival: obs.server_arrival,
            seen_at: obs.seen_at,
            paths_delta_us,
        };
        // Only a polled sink can legitimately skip a version; a changelog shows
        // every one, so a skipped version there stays missing.
        let later = v.op != OpKind::Insert && matches!(obs.sink, Sink::Path1 | Sink::Path2);
        let mut newly_done = mark_done(v, obs.seen_at);
        if later {
            // The other slot holds the version this one replaced.
            if let Some(prev) = entry.versions[1 - idx].as_mut() {
                if prev.seen & bit == 0 {
                    prev.seen |= bit;
                    counts.seen += 1;
                    counts.superseded += 1;
                    newly_done |= mark_done(prev, obs.seen_at);
                }
            }
        }
        if newly_done {
            self.done.push_back((obs.seen_at, obs.key));
        }
        outcome
    }

    fn buffer(&mut self, obs: &Observation) -> MatchOutcome {
        self.early.entry(obs.key).or_default().push(*obs);
        self.early_count += 1;
        MatchOutcome::Buffered
    }

    /// Forgets fully seen rows older than the duplicate window, and turns early
    /// observations older than `early_grace` into `unexpected`. Call about once a second.
    pub fn prune(&mut self, now: Instant, early_grace: Duration) {
        while let Some(&(at, key)) = self.done.front() {
            if now.saturating_duration_since(at) < self.dup_window {
                break;
            }
            self.done.pop_front();
            if let Some(entry) = self.entries.get(&key) {
                let all_done = entry
                    .versions
                    .iter()
                    .flatten()
                    .all(|v| v.seen & v.expect == v.expect);
                if all_done {
                    self.entries.remove(&key);
                }
            }
        }
        if self.early_count > 0 {
            self.expire_early(|o| now.saturating_duration_since(o.seen_at) >= early_grace);
        }
    }

    /// Ends the run: every observation still buffered is `unexpected`.
    pub fn finish(&mut self) {
        self.expire_early(|_| true);
    }

    fn expire_early(&mut self, expired: impl Fn(&Observation) -> bool) {
        let mut counts = self.counts;
        let mut removed = 0;
        self.early.retain(|_, obs| {
            obs.retain(|o| {
                let gone = expired(o);
                if gone {
                    counts[o.sink.index()].unexpected += 1;
                    removed += 1;
                }
                !gone
            });
            !obs.is_empty()
        });
        self.counts = counts;
        self.early_count -= removed;
    }

    /// Counts for one sink.
    pub fn counts(&self, sink: Sink) -> SinkCounts {
        self.counts[sink.index()]
    }

    /// Where one sink's latencies came from.
    pub fn visibility(&self, sink: Sink) -> VisibilityCounts {
        self.visibility[sink.index()]
    }

    /// Per hop: how many times its end came before its start (recorded as 0).
    pub fn hop_negative(&self, hop: Hop) -> u64 {
        self.hop_negative[hop as usize]
    }

    /// Versions committed but not yet seen at `sink`.
    pub fn in_flight(&self, sink: Sink) -> u64 {
        self.counts[sink.index()].missing()
    }

    /// True when every enabled sink has seen every registered version.
    pub fn all_seen(&self) -> bool {
        Sink::ALL
            .iter()
            .filter(|s| self.enabled(**s))
            .all(|s| self.in_flight(*s) == 0)
    }

    /// Up to `limit` versions not seen at `sink`, oldest commit first: the keys a
    /// report lists as missing.
    pub fn missing_keys(&self, sink: Sink, limit: usize) -> Vec<(RowKey, OpKind, StampMicros)> {
        let bit = 1u16 << sink.index();
        let mut v: Vec<_> = self
            .entries
            .iter()
            .flat_map(|(k, e)| e.versions.iter().flatten().map(move |v| (k, v)))
            .filter(|(_, v)| v.expect & bit != 0 && v.seen & bit == 0)
            .map(|(k, v)| (v.acked_at, *k, v.op, v.stamp))
            .collect();
        v.sort_by_key(|x| (x.0, x.1));
        v.into_iter()
            .take(limit)
            .map(|(_, k, op, s)| (k, op, s))
            .collect()
    }

    /// True when every version still unseen anywhere belongs to a row whose
    /// delete is also unseen there: what a polled sink cannot show when a row
    /// came and went between two polls. O(rows held): call only when stalled.
    pub fn only_deletes_missing(&self) -> bool {
        let polled = (1u16 << Sink::Path1.index()) | (1 << Sink::Path2.index());
        self.entries.values().all(|e| {
            let unseen = e
                .versions
                .iter()
                .flatten()
                .fold(0u16, |m, v| m | (v.expect & !v.seen));
            let deleted_unseen = e
                .versions
                .iter()
                .flatten()
                .filter(|v| v.op == OpKind::Delete)
                .fold(0u16, |m, v| m | (v.expect & !v.seen));
            unseen & !deleted_unseen & polled == 0 && unseen & !polled == 0
        })
    }

    /// Rows whose delete `sink` has not shown yet (for the end-of-run absence check).
    pub fn unseen_deletes(&self, sink: Sink) -> Vec<RowKey> {
        let bit = 1u16 << sink.index();
        self.entries
            .iter()
            .filter(|(_, e)| {
                e.versions
                    .iter()
                    .flatten()
                    .any(|v| v.op == OpKind::Delete && v.expect & bit != 0 && v.seen & bit == 0)
            })
            .map(|(k, _)| *k)
            .collect()
    }

    /// Records that `key` is absent from `sink` after the drain: its delete and
    /// any version it replaced count as seen, without a latency.
    pub fn confirm_deleted(&mut self, sink: Sink, key: &RowKey) {
        let bit = 1u16 << sink.index();
        let Some(entry) = self.entries.get_mut(key) else {
            return;
        };
        let counts = &mut self.counts[sink.index()];
        for v in entry.versions.iter_mut().flatten() {
            if v.seen & bit == 0 {
                v.seen |= bit;
                counts.seen += 1;
                if v.op == OpKind::Delete {
                    counts.confirmed_at_end += 1;
                } else {
                    counts.superseded += 1;
                }
            }
        }
    }

    /// Rows currently held (for the memory-per-row figure).
    pub fn tracked_rows(&self) -> usize {
        self.entries.len()
    }
}

/// Bits of the derived sinks, which expect probe rows only.
fn derived_mask() -> u16 {
    Sink::DERIVED.iter().fold(0, |m, s| m | (1 << s.index()))
}

/// Records when a version became seen everywhere it is expected; true the first time.
fn mark_done(v: &mut Version, at: Instant) -> bool {
    if v.seen & v.expect == v.expect && v.done_at.is_none() {
        v.done_at = Some(at);
        true
    } else {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Table;

    fn key(ticket: u64) -> RowKey {
        RowKey {
            table: Table::StoreSales,
            ticket,
            item: 7,
        }
    }

    fn batch(at: Instant, rows: &[CommittedRow]) -> CommitBatch {
        CommitBatch {
            acked_at: at,
            rows: rows.to_vec(),
        }
    }

    fn ins(ticket: u64, stamp: i64) -> CommittedRow {
        CommittedRow {
            key: key(ticket),
            op: OpKind::Insert,
            stamp,
            prev_stamp: None,
        }
    }

    fn obs(sink: Sink, ticket: u64, op: OpKind, stamp: Option<i64>, at: Instant) -> Observation {
        Observation {
            sink,
            key: key(ticket),
            op,
            stamp,
            seen_at: at,
            server_arrival: None,
            visible: None,
        }
    }

    #[test]
    fn insert_seen_once_then_duplicate() {
        let t0 = Instant::now();
        let mut l = Ledger::new(&[Sink::Kafka, Sink::Path2]);
        l.commit(&batch(t0, &[ins(1, 100)]));
        let o = obs(
            Sink::Kafka,
            1,
            OpKind::Insert,
            Some(100),
            t0 + Duration::from_millis(30),
        );
        match l.observe(&o) {
            MatchOutcome::Seen { latency, op, .. } => {
                assert_eq!(latency, Duration::from_millis(30));
                assert_eq!(op, OpKind::Insert);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(l.observe(&o), MatchOutcome::Duplicate);
        let k = l.counts(Sink::Kafka);
        assert_eq!(
            (k.expected, k.seen, k.duplicates, k.missing()),
            (1, 1, 1, 0)
        );
        assert_eq!(l.counts(Sink::Path2).missing(), 1);
        assert!(!l.all_seen());
        assert_eq!(
            l.missing_keys(Sink::Path2, 10),
            vec![(key(1), OpKind::Insert, 100)]
        );
    }

    #[test]
    fn observation_before_commit_is_buffered_then_matched() {
        let t0 = Instant::now();
        let mut l = Ledger::new(&[Sink::Binlog]);
        let early = obs(Sink::Binlog, 1, OpKind::Insert, Some(5), t0);
        assert_eq!(l.observe(&early), MatchOutcome::Buffered);
        let out = l.commit(&batch(t0 + Duration::from_micros(200), &[ins(1, 5)]));
        assert!(matches!(
            out[..],
            [MatchOutcome::Seen {
                latency: Duration::ZERO,
                ..
            }]
        ));
        assert_eq!(l.counts(Sink::Binlog).before_ack, 1);
        assert!(l.all_seen());
    }

    #[test]
    fn update_before_image_is_not_a_delete() {
        let t0 = Instant::now();
        let mut l = Ledger::new(&[Sink::Kafka]);
        l.commit(&batch(t0, &[ins(1, 100)]));
        l.observe(&obs(Sink::Kafka, 1, OpKind::Insert, Some(100), t0));
        let upd = CommittedRow {
            key: key(1),
            op: OpKind::Update,
            stamp: 200,
            prev_stamp: Some(100),
        };
        l.commit(&batch(t0, &[upd]));
        let before = obs(Sink::Kafka, 1, OpKind::Delete, Some(100), t0);
        assert_eq!(l.observe(&before), MatchOutcome::BeforeImage);
        let after = obs(Sink::Kafka, 1, OpKind::Insert, Some(200), t0);
        assert!(matches!(
            l.observe(&after),
            MatchOutcome::Seen {
                op: OpKind::Update,
                ..
            }
        ));
        assert_eq!(l.counts(Sink::Kafka).seen, 2);
        assert!(l.all_seen());
    }

    #[test]
    fn delete_matches_with_or_without_stamp() {
        let t0 = Instant::now();
        let mut l = Ledger::new(&[Sink::Kafka, Sink::Path1]);
        l.commit(&batch(t0, &[ins(1, 100)]));
        let del = CommittedRow {
            key: key(1),
            op: OpKind::Delete,
            stamp: 300,
            prev_stamp: Some(100),
        };
        l.commit(&batch(t0, &[del]));
        // Kafka's "d" carries the before-image stamp; the warehouse sees only absence.
        assert!(matches!(
            l.observe(&obs(Sink::Kafka, 1, OpKind::Delete, Some(100), t0)),
            MatchOutcome::Seen {
                op: OpKind::Delete,
                ..
            }
        ));
        assert!(matches!(
            l.observe(&obs(Sink::Path1, 1, OpKind::Delete, None, t0)),
            MatchOutcome::Seen {
                op: OpKind::Delete,
                ..
            }
        ));
        assert_eq!(
            l.counts(Sink::Kafka).missing(),
            1,
            "the insert is still unseen"
        );
        // The warehouse never showed the insert before the delete removed it:
        // the delete's sighting accounts for it, without a latency.
        let p1 = l.counts(Sink::Path1);
        assert_eq!((p1.seen, p1.superseded, p1.missing()), (2, 1, 0));
    }

    #[test]
    fn absence_confirmed_at_the_end_accounts_for_insert_and_delete() {
        let t0 = Instant::now();
        let mut l = Ledger::new(&[Sink::Path2]);
        l.commit(&batch(t0, &[ins(1, 100), ins(2, 100)]));
        let del = CommittedRow {
            key: key(1),
            op: OpKind::Delete,
            stamp: 300,
            prev_stamp: Some(100),
        };
        l.commit(&batch(t0, &[del]));
        assert_eq!(l.unseen_deletes(Sink::Path2), vec![key(1)]);
        assert!(!l.only_deletes_missing(), "row 2's insert is missing too");
        l.observe(&Observation {
            sink: Sink::Path2,
            key: key(2),
            op: OpKind::Insert,
            stamp: Some(100),
            seen_at: t0,
            server_arrival: None,
            visible: None,
        });
        assert!(l.only_deletes_missing());
        l.confirm_deleted(Sink::Path2, &key(1));
        let c = l.counts(Sink::Path2);
        assert_eq!(
            (c.seen, c.missing(), c.confirmed_at_end, c.superseded),
            (3, 0, 1, 1)
        );
        assert!(l.unseen_deletes(Sink::Path2).is_empty());
    }

    #[test]
    fn stray_observations_become_unexpected() {
        let t0 = Instant::now();
        let mut l = Ledger::new(&[Sink::Kafka]);
        l.observe(&obs(Sink::Kafka, 9, OpKind::Insert, Some(1), t0));
        l.prune(t0 + Duration::from_secs(1), Duration::from_secs(10));
        assert_eq!(l.counts(Sink::Kafka).unexpected, 0, "still within grace");
        l.prune(t0 + Duration::from_secs(11), Duration::from_secs(10));
        assert_eq!(l.counts(Sink::Kafka).unexpected, 1);
        l.finish();
        assert_eq!(l.counts(Sink::Kafka).unexpected, 1, "counted once");
    }

    #[test]
    fn fully_seen_rows_are_pruned_after_the_window() {
        let t0 = Instant::now();
        let mut l = Ledger::new(&[Sink::Kafka]).with_dup_window(Duration::from_secs(5));
        l.commit(&batch(t0, &[ins(1, 1), ins(2, 2)]));
        l.observe(&obs(Sink::Kafka, 1, OpKind::Insert, Some(1), t0));
        l.prune(t0 + Duration::from_secs(6), Duration::from_secs(10));
        assert_eq!(l.tracked_rows(), 1, "row 2 is still in flight");
        assert_eq!(l.counts(Sink::Kafka).missing(), 1);
    }

    fn delta(o: MatchOutcome) -> Option<i64> {
        match o {
            MatchOutcome::Seen { paths_delta_us, .. } => paths_delta_us,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_row_seen_on_both_paths_yields_its_signed_difference_once() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut l = Ledger::new(&[Sink::Kafka, Sink::Path1, Sink::Path2]);
        l.commit(&batch(t0, &[ins(1, 1), ins(2, 2)]));
        // Row 1: path 1 first (120 ms), then path 2 (150 ms): +30 ms.
        assert_eq!(
            delta(l.observe(&obs(Sink::Path1, 1, OpKind::Insert, Some(1), t0 + ms(120)))),
            None
        );
        assert_eq!(
            delta(l.observe(&obs(Sink::Kafka, 1, OpKind::Insert, Some(1), t0 + ms(40)))),
            None
        );
        assert_eq!(
            delta(l.observe(&obs(Sink::Path2, 1, OpKind::Insert, Some(1), t0 + ms(150)))),
            Some(30_000)
        );
        // Row 2: path 2 first: a negative difference, whichever path completes the pair.
        assert_eq!(
            delta(l.observe(&obs(Sink::Path2, 2, OpKind::Insert, Some(2), t0 + ms(90)))),
            None
        );
        assert_eq!(
            delta(l.observe(&obs(Sink::Path1, 2, OpKind::Insert, Some(2), t0 + ms(100)))),
            Some(-10_000)
        );
        // A duplicate at path 1 does not pair again.
        assert_eq!(
            l.observe(&obs(Sink::Path1, 2, OpKind::Insert, Some(2), t0 + ms(300))),
            MatchOutcome::Duplicate
        );
    }
}
