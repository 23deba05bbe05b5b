//! Where the ledger keeps its versions, in two tiers sized for memory.
//!
//! - **Live**: a version not yet seen at every sink that expects it: 32 bytes
//!   ([`Live`]) plus its 8-byte id in one hash table, whatever the row's table
//!   or key. Its before-image stamp, which only an update or a delete has, sits
//!   in a side table.
//! - **Past**: a version seen everywhere it is expected keeps only what
//!   recognising a repeat needs (its stamp; the operation and before-image
//!   stamp for an update or a delete), for the duplicate window: an insert costs
//!   its id and stamp (16 bytes) in a hash table plus its id in the expiry queue.
//!
//! A past version counts as seen at every sink: a repeat of it anywhere is a
//! duplicate, and it is never timed again.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::model::churn::ChurnMap;
use crate::model::keys::{self, RowIds};
use crate::model::{OpKind, RowKey, StampMicros};

/// Bits of [`Live::packed`] below the ack time: the operation (2) and the
/// seen mask (one per sink).
const OP_BITS: u32 = 2;
const SEEN_BITS: u32 = 9;
const _: () = assert!(crate::model::Sink::ALL.len() <= SEEN_BITS as usize);

/// A version in flight.
#[derive(Debug, Clone, Copy)]
pub(super) struct Live {
    /// `bench_ts` of the version (for a delete, the harness's stamp of it).
    pub(super) stamp: StampMicros,
    /// The ack's nanoseconds since the store's base (53 bits: 104 days), the
    /// seen mask and the operation.
    packed: u64,
    /// Time since the ack (µs) at the binlog, the Kafka append, path 1 and
    /// path 2 once known; [`UNSEEN`] before (for the hops and the paired
    /// path 2 − path 1 difference).
    pub(super) at_us: [u32; 4],
}

/// [`Live::at_us`] of a point the version has not reached yet.
pub(super) const UNSEEN: u32 = u32::MAX;

impl Live {
    fn new(op: OpKind, stamp: StampMicros, acked_ns: u64) -> Self {
        Live {
            stamp,
            packed: (acked_ns << (OP_BITS + SEEN_BITS)) | op as u64,
            at_us: [UNSEEN; 4],
        }
    }

    /// What the write did.
    pub(super) fn op(&self) -> OpKind {
        OpKind::ALL[(self.packed & ((1 << OP_BITS) - 1)) as usize]
    }

    /// Bit per sink index: seen there.
    pub(super) fn seen(&self) -> u16 {
        ((self.packed >> OP_BITS) & ((1 << SEEN_BITS) - 1)) as u16
    }

    /// Marks the sinks of `bits` as having seen it.
    pub(super) fn add_seen(&mut self, bits: u16) {
        self.packed |= u64::from(bits) << OP_BITS;
    }

    fn acked_ns(&self) -> u64 {
        self.packed >> (OP_BITS + SEEN_BITS)
    }
}

/// What matching needs of a version, live or past.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct View {
    pub(super) op: OpKind,
    pub(super) stamp: StampMicros,
    pub(super) prev: Option<StampMicros>,
    /// Still in flight (else seen everywhere it is expected).
    pub(super) live: bool,
}

/// A past update or delete.
#[derive(Debug, Clone, Copy)]
struct PastChange {
    op: OpKind,
    stamp: StampMicros,
    prev: Option<StampMicros>,
}

/// Both tiers and the ids.
#[derive(Debug)]
pub(super) struct Store {
    pub(super) ids: RowIds,
    /// Instant the ack times count from (an hour before the ledger was made,
    /// so a batch acked just before it still counts forward).
    base: Instant,
    live: ChurnMap<Live>,
    prevs: ChurnMap<StampMicros>,
    past_inserts: ChurnMap<StampMicros>,
    past_changes: ChurnMap<PastChange>,
    /// Versions made past, grouped by the second they were: forgotten a
    /// duplicate window later.
    expiry: VecDeque<(Instant, Vec<u64>)>,
}

impl Store {
    pub(super) fn new(ticket_base: u64) -> Self {
        let now = Instant::now();
        Store {
            ids: RowIds::new(ticket_base),
            base: now.checked_sub(Duration::from_secs(3600)).unwrap_or(now),
            live: ChurnMap::default(),
            prevs: ChurnMap::default(),
            past_inserts: ChurnMap::default(),
            past_changes: ChurnMap::default(),
            expiry: VecDeque::new(),
        }
    }

    /// The ack time of a live version.
    pub(super) fn acked_at(&self, v: &Live) -> Instant {
        self.base + Duration::from_nanos(v.acked_ns())
    }

    /// A version as matching sees it.
    pub(super) fn view(&self, id: u64) -> Option<View> {
        if let Some(v) = self.live.get(&id) {
            let prev = self.prevs.get(&id).copied();
            return Some(View {
                op: v.op(),
                stamp: v.stamp,
                prev,
                live: true,
            });
        }
        if let Some(stamp) = self.past_inserts.get(&id) {
            return Some(View {
                op: OpKind::Insert,
                stamp: *stamp,
                prev: None,
                live: false,
            });
        }
        self.past_changes.get(&id).map(|c| View {
            op: c.op,
            stamp: c.stamp,
            prev: c.prev,
            live: false,
        })
    }

    /// Both slots of a row.
    pub(super) fn views(&self, row: u64) -> [Option<View>; 2] {
        [0, 1].map(|slot| self.view(keys::version(row, slot)))
    }

    /// A live version, to mark it seen.
    pub(super) fn live_mut(&mut self, id: u64) -> Option<&mut Live> {
        self.live.get_mut(&id)
    }

    /// Registers a new live version in `id` (whatever was there is dropped).
    pub(super) fn insert_live(
        &mut self,
        id: u64,
        op: OpKind,
        stamp: StampMicros,
        prev: Option<StampMicros>,
        acked_at: Instant,
    ) {
        self.remove(id);
        let ns = acked_at.saturating_duration_since(self.base).as_nanos();
        let ns = u64::try_from(ns).unwrap_or(u64::MAX) & ((1 << 53) - 1);
        self.live.insert(id, Live::new(op, stamp, ns));
        if let Some(p) = prev {
            self.prevs.insert(id, p);
        }
    }

    fn remove(&mut self, id: u64) {
        self.live.remove(&id);
        self.prevs.remove(&id);
        self.past_inserts.remove(&id);
        self.past_changes.remove(&id);
    }

    /// Makes a live version past: seen everywhere it is expected at `at`.
    pub(super) fn retire(&mut self, id: u64, at: Instant) {
        let Some(v) = self.live.remove(&id) else {
            return;
        };
        let prev = self.prevs.remove(&id);
        match v.op() {
            OpKind::Insert => {
                self.past_inserts.insert(id, v.stamp);
            }
            op => {
                self.past_changes.insert(
                    id,
                    PastChange {
                        op,
                        stamp: v.stamp,
                        prev,
                    },
                );
            }
        }
        let fresh = self.expiry.back().is_none_or(|(started, _)| {
            at.saturating_duration_since(*started) >= Duration::from_secs(1)
        });
        if fresh {
            // The closed second's ids keep no spare room.
            if let Some((_, ids)) = self.expiry.back_mut() {
                ids.shrink_to_fit();
            }
            self.expiry.push_back((at, Vec::new()));
        }
        self.expiry.back_mut().expect("a second is open").1.push(id);
    }

    /// Forgets past versions made past at least `window` before `now`, and
    /// gives back the room of tables that emptied (a backlog that drained).
    pub(super) fn expire(&mut self, now: Instant, window: Duration) {
        while let Some((at, _)) = self.expiry.front() {
            if now.saturating_duration_since(*at) < window {
                break;
            }
            let (_, ids) = self.expiry.pop_front().expect("front exists");
            for id in ids {
                self.past_inserts.remove(&id);
                self.past_changes.remove(&id);
            }
        }
        if let Some((_, ids)) = self.expiry.back_mut() {
            ids.shrink_to_fit();
        }
        self.live.shrink_if_sparse();
        self.prevs.shrink_if_sparse();
        self.past_inserts.shrink_if_sparse();
        self.past_changes.shrink_if_sparse();
    }

    /// Live versions: `(id, version)`.
    pub(super) fn live(&self) -> impl Iterator<Item = (u64, &Live)> + '_ {
        self.live.iter().map(|(id, v)| (*id, v))
    }

    /// The key of a version id.
    pub(super) fn key(&self, id: u64) -> RowKey {
        self.ids.key(keys::split(id).0)
    }

    /// Versions held, live and past.
    pub(super) fn len(&self) -> usize {
        self.live.len() + self.past_inserts.len() + self.past_changes.len()
    }

    /// Heap bytes of both tiers, from the tables' capacities (the row ids'
    /// interning table, empty in a run, is left out).
    pub(super) fn memory(&self) -> LedgerMemory {
        let queue: usize = self.expiry.iter().map(|(_, ids)| ids.capacity() * 8).sum();
        LedgerMemory {
            live_bytes: (self.live.bytes() + self.prevs.bytes()) as u64,
            live_versions: self.live.len() as u64,
            past_bytes: (self.past_inserts.bytes()
                + self.past_changes.bytes()
                + queue
                + self.expiry.capacity() * std::mem::size_of::<(Instant, Vec<u64>)>())
                as u64,
            past_versions: (self.past_inserts.len() + self.past_changes.len()) as u64,
        }
    }
}

/// What the ledger's versions take, live (in flight) and past (in the
/// duplicate window): heap bytes estimated from its tables' capacities.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LedgerMemory {
    /// Bytes of the versions in flight.
    pub live_bytes: u64,
    /// Versions in flight.
    pub live_versions: u64,
    /// Bytes of the duplicate window (past versions and their expiry queue).
    pub past_bytes: u64,
    /// Versions in the duplicate window.
    pub past_versions: u64,
}

impl LedgerMemory {
    /// Both tiers.
    pub fn total_bytes(&self) -> u64 {
        self.live_bytes + self.past_bytes
    }

    /// Bytes per version in flight (`None` with none).
    pub fn per_live(&self) -> Option<f64> {
        (self.live_versions > 0).then(|| self.live_bytes as f64 / self.live_versions as f64)
    }

    /// Bytes per version in the duplicate window (`None` with none).
    pub fn per_past(&self) -> Option<f64> {
        (self.past_versions > 0).then(|| self.past_bytes as f64 / self.past_versions as f64)
    }
}
