//! The ledger: pending versions per sink, the early buffer, and the counts.

use std::collections::{BinaryHeap, HashMap};
use std::ops::Range;
use std::time::{Duration, Instant};

use super::store::{LedgerMemory, Live, Store, UNSEEN};
use super::{CommitBatch, CommittedRow};
use crate::model::keys;
use crate::model::{Hop, Observation, OpKind, RowKey, Sink, StampMicros, VisibleSource};

/// The duplicate window of a ledger not given one (the scenario's default).
const DEFAULT_DUP_WINDOW: Duration = crate::scenario::DEFAULT_DUP_WINDOW;

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

/// The slot of a sink in [`Live::at_us`].
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

/// The tracker's state. Owned by one task; not shared, so no locks.
#[derive(Debug)]
pub struct Ledger {
    enabled_mask: u16,
    probes: Range<u64>,
    store: Store,
    counts: [SinkCounts; Sink::ALL.len()],
    visibility: [VisibilityCounts; Sink::ALL.len()],
    /// Hops whose end came before their start (recorded as 0), per [`Hop::ALL`].
    hop_negative: [u64; Hop::ALL.len()],
    early: HashMap<RowKey, Vec<Observation>>,
    early_count: usize,
    dup_window: Duration,
    /// Each tier at its most versions (with its bytes then), and the largest
    /// total, sampled at each prune: see [`Ledger::peak_memory`].
    peak: (LedgerMemory, u64),
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
            store: Store::new(0),
            counts: [SinkCounts::default(); Sink::ALL.len()],
            visibility: [VisibilityCounts::default(); Sink::ALL.len()],
            hop_negative: [0; Hop::ALL.len()],
            early: HashMap::new(),
            early_count: 0,
            dup_window: DEFAULT_DUP_WINDOW,
            peak: (LedgerMemory::default(), 0),
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

    /// Declares the run's ticket range: rows are then held by their offset in
    /// it (8 bytes instead of a full key). Any key still works without it.
    /// Call before the first commit.
    pub fn with_tickets(mut self, tickets: Range<u64>) -> Self {
        self.store = Store::new(tickets.start);
        self
    }

    /// The sinks a row of `ticket` is expected at.
    fn expect(&self, ticket: u64) -> u16 {
        if self.probes.contains(&ticket) {
            self.enabled_mask
        } else {
            self.enabled_mask & !derived_mask()
        }
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
        let expect = self.expect(row.key.ticket);
        let id = self.store.ids.get_or_intern(&row.key);
        let views = self.store.views(id);
        let slot = match views.iter().position(Option::is_none) {
            Some(slot) => slot,
            // A third version breaks the at-most-one-mutation rule; keep two so
            // accounting stays bounded (dropping a past one first, else the
            // first), and let the missing count show the anomaly.
            None => views
                .iter()
                .position(|v| v.is_some_and(|v| !v.live))
                .unwrap_or(0),
        };
        let vid = keys::version(id, slot);
        self.store
            .insert_live(vid, row.op, row.stamp, row.prev_stamp, acked_at);
        if expect == 0 {
            self.store.retire(vid, acked_at);
        }
        expect
    }

    fn enabled(&self, sink: Sink) -> bool {
        self.enabled_mask & (1 << sink.index()) != 0
    }

    /// Matches one observation.
    pub fn observe(&mut self, obs: &Observation) -> MatchOutcome {
        let bit = 1u16 << obs.sink.index();
        let Some(row) = self.store.ids.get(&obs.key) else {
            return self.buffer(obs);
        };
        let views = self.store.views(row);
        let idx = views.iter().position(|slot| {
            slot.as_ref().is_some_and(|v| match (obs.op, v.op) {
                // A changelog delete carries the before-image's stamp; a polled
                // sink sees only absence.
                (OpKind::Delete, OpKind::Delete) => {
                    obs.stamp.is_none() || v.prev.is_none() || obs.stamp == v.prev
                }
                (OpKind::Delete, _) => false,
                (_, OpKind::Delete) => false,
                // Insert/upsert observations match on the stamp; a sink without
                // stamps matches the newest unseen version.
                (_, _) => obs.stamp.is_none_or(|s| s == v.stamp),
            })
        });
        let Some(idx) = idx else {
            let has_update = views.iter().flatten().any(|v| v.op == OpKind::Update);
            if obs.op == OpKind::Delete && has_update {
                let before = views
                    .iter()
                    .flatten()
                    .any(|v| v.op == OpKind::Update && v.prev == obs.stamp);
                if before || obs.stamp.is_none() {
                    return MatchOutcome::BeforeImage;
                }
            }
            return self.buffer(obs);
        };
        let vid = keys::version(row, idx);
        let expect = self.expect(obs.key.ticket);
        let Some(v) = self.store.live_mut(vid) else {
            // Past: seen everywhere it is expected.
            self.counts[obs.sink.index()].duplicates += 1;
            return MatchOutcome::Duplicate;
        };
        if v.seen() & bit != 0 {
            self.counts[obs.sink.index()].duplicates += 1;
            return MatchOutcome::Duplicate;
        }
        v.add_seen(bit);
        let v = *v;
        let acked_at = self.store.acked_at(&v);
        let counts = &mut self.counts[obs.sink.index()];
        counts.seen += 1;
        let detected = obs
            .seen_at
            .checked_duration_since(acked_at)
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
            let since_ack = match seen.at.checked_duration_since(acked_at) {
                Some(d) => d,
                None => {
                    // A sighting before the ack means the ack reached the
                    // harness late (counted as `before_ack` of the sink), not
                    // that a clock is off.
                    if acked_at.duration_since(seen.at) > unc && obs.seen_at >= acked_at {
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
        let mut at_us = v.at_us;
        if let Some(slot) = slot {
            let point = own.map_or(detected, |(t, _)| t);
            at_us[slot] = u32::try_from(point.as_micros()).unwrap_or(UNSEEN - 1);
        }
        let hops = match slot {
            Some(slot) => completed_hops(&at_us, slot, &mut self.hop_negative),
            None => [None; 3],
        };
        let paths_delta_us = matches!(obs.sink, Sink::Path1 | Sink::Path2)
            .then(|| (at_us[2], at_us[3]))
            .filter(|(p1, p2)| *p1 != UNSEEN && *p2 != UNSEEN)
            .map(|(p1, p2)| i64::from(p2) - i64::from(p1));
        let outcome = MatchOutcome::Seen {
            key: obs.key,
            sink: obs.sink,
            op: v.op(),
            latency,
            detected,
            source,
            hops,
            stamp: v.stamp,
            server_arrival: obs.server_arrival,
            seen_at: obs.seen_at,
            paths_delta_us,
        };
        let live = self.store.live_mut(vid).expect("still live");
        live.at_us = at_us;
        if live.seen() & expect == expect {
            self.store.retire(vid, obs.seen_at);
        }
        // Only a polled sink can legitimately skip a version; a changelog shows
        // every one, so a skipped version there stays missing.
        let later = v.op() != OpKind::Insert && matches!(obs.sink, Sink::Path1 | Sink::Path2);
        if later {
            // The other slot holds the version this one replaced.
            let other = keys::version(row, 1 - idx);
            if let Some(prev) = self.store.live_mut(other) {
                if prev.seen() & bit == 0 {
                    prev.add_seen(bit);
                    let done = prev.seen() & expect == expect;
                    let counts = &mut self.counts[obs.sink.index()];
                    counts.seen += 1;
                    counts.superseded += 1;
                    if done {
                        self.store.retire(other, obs.seen_at);
                    }
                }
            }
        }
        outcome
    }

    fn buffer(&mut self, obs: &Observation) -> MatchOutcome {
        self.early.entry(obs.key).or_default().push(*obs);
        self.early_count += 1;
        MatchOutcome::Buffered
    }

    /// Forgets fully seen versions older than the duplicate window, and turns early
    /// observations older than `early_grace` into `unexpected`. Call about once a second.
    pub fn prune(&mut self, now: Instant, early_grace: Duration) {
        self.peak = self.peak_memory();
        self.store.expire(now, self.dup_window);
        if self.early_count > 0 {
            self.expire_early(|o| now.saturating_duration_since(o.seen_at) >= early_grace);
        }
        if self.early.capacity() > 1024 && self.early.len() < self.early.capacity() / 4 {
            self.early.shrink_to(self.early.len() * 2);
        }
    }

    /// Ends the run: every observation still buffered is `unexpected`.
    pub fn finish(&mut self) {
        self.expire_early(|_| true);
    }

    /// Forgets the duplicate window once every observer has stopped (no repeat
    /// can arrive any more), keeping the peak it reached: the end-of-run audit
    /// that follows then reuses that memory instead of adding to it (issue 26:
    /// at 20,000 rows/s the window held ~450,000 versions when the drain ended).
    pub fn close_window(&mut self) {
        self.peak = self.peak_memory();
        self.store.expire(Instant::now(), Duration::ZERO);
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

    /// Live versions with their key and the sinks that have not seen them yet.
    pub(super) fn unseen(&self) -> impl Iterator<Item = (u64, RowKey, &Live, u16)> + '_ {
        self.store.live().map(|(id, v)| {
            let key = self.store.key(id);
            (id, key, v, self.expect(key.ticket) & !v.seen())
        })
    }

    /// Up to `limit` versions not seen at `sink`, oldest commit first: the keys a
    /// report lists as missing. Kept in a heap of `limit`: collecting every
    /// missing version to sort them was the largest allocation of an
    /// overloaded run's end (84 MB of 199 at 424 k rows in flight).
    pub fn missing_keys(&self, sink: Sink, limit: usize) -> Vec<(RowKey, OpKind, StampMicros)> {
        let bit = 1u16 << sink.index();
        let mut oldest = BinaryHeap::with_capacity(limit.min(4096) + 1);
        for (_, k, v, unseen) in self.unseen() {
            if unseen & bit == 0 {
                continue;
            }
            oldest.push((self.store.acked_at(v), k, v.op(), v.stamp));
            if oldest.len() > limit {
                oldest.pop();
            }
        }
        oldest
            .into_sorted_vec()
            .into_iter()
            .map(|(_, k, op, s)| (k, op, s))
            .collect()
    }

    /// True when every version still unseen anywhere belongs to a row whose
    /// delete is also unseen there: what a polled sink cannot show when a row
    /// came and went between two polls. O(rows held): call only when stalled.
    pub fn only_deletes_missing(&self) -> bool {
        let polled = (1u16 << Sink::Path1.index()) | (1 << Sink::Path2.index());
        // Per row: sinks missing any version, and sinks missing its delete.
        let mut rows: HashMap<u64, (u16, u16)> = HashMap::new();
        for (id, _, v, unseen) in self.unseen() {
            let r = rows.entry(keys::split(id).0).or_default();
            r.0 |= unseen;
            if v.op() == OpKind::Delete {
                r.1 |= unseen;
            }
        }
        rows.values().all(|(unseen, deleted_unseen)| {
            unseen & !deleted_unseen & polled == 0 && unseen & !polled == 0
        })
    }

    /// Rows whose delete `sink` has not shown yet (for the end-of-run absence check).
    pub fn unseen_deletes(&self, sink: Sink) -> Vec<RowKey> {
        let bit = 1u16 << sink.index();
        let mut keys: Vec<RowKey> = self
            .unseen()
            .filter(|(_, _, v, unseen)| v.op() == OpKind::Delete && unseen & bit != 0)
            .map(|(_, k, ..)| k)
            .collect();
        keys.sort_unstable();
        keys.dedup();
        keys
    }

    /// Records that `key` is absent from `sink` after the drain: its delete and
    /// any version it replaced count as seen, without a latency.
    pub fn confirm_deleted(&mut self, sink: Sink, key: &RowKey) {
        let bit = 1u16 << sink.index();
        let Some(row) = self.store.ids.get(key) else {
            return;
        };
        let counts = &mut self.counts[sink.index()];
        for slot in 0..2 {
            let Some(v) = self.store.live_mut(keys::version(row, slot)) else {
                continue;
            };
            if v.seen() & bit == 0 {
                v.add_seen(bit);
                counts.seen += 1;
                if v.op() == OpKind::Delete {
                    counts.confirmed_at_end += 1;
                } else {
                    counts.superseded += 1;
                }
            }
        }
    }

    /// The heap the versions take now (estimated from table capacities).
    pub fn memory(&self) -> LedgerMemory {
        self.store.memory()
    }

    /// Each tier when it held the most versions so far (sampled at each prune
    /// and now), with its bytes then: the cost per row at the peak, not the
    /// room a drained table keeps (it shrinks below a quarter full); and the
    /// largest total of both tiers, bytes.
    pub fn peak_memory(&self) -> (LedgerMemory, u64) {
        let now = self.store.memory();
        let (mut peak, total) = self.peak;
        if now.live_versions >= peak.live_versions {
            (peak.live_versions, peak.live_bytes) = (now.live_versions, now.live_bytes);
        }
        if now.past_versions >= peak.past_versions {
            (peak.past_versions, peak.past_bytes) = (now.past_versions, now.past_bytes);
        }
        (peak, total.max(now.total_bytes()))
    }

    /// Versions currently held, in flight or in the duplicate window.
    pub fn tracked_rows(&self) -> usize {
        self.store.len()
    }
}

/// Bits of the derived sinks, which expect probe rows only.
fn derived_mask() -> u16 {
    Sink::DERIVED.iter().fold(0, |m, s| m | (1 << s.index()))
}

#[cfg(test)]
mod tests;
