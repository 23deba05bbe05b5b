//! The Kafka observer's tally for the end-of-run audit: per table, the
//! rows and the digest sum of the images the changelog leaves in the run's
//! ticket range, counted as the messages go by, so the audit need not read
//! the topics back (10 s for a 5-minute run at 1,000 rows/s, docs/RESULTS.md).
//!
//! Each message adds the digest of the image it leaves and takes away the
//! digest of the image it replaces (a delete's or an update's before image):
//! over a whole changelog the sum is that of each key's last image, in any
//! order, in constant memory. It is exact when every change arrived once;
//! a message lost, repeated or wrong makes it differ from MySQL, and the
//! audit then reads the topics back and compares key by key. What a sum
//! cannot see is order: a key's versions appended out of order inside a
//! partition leave the same sum (the read-back, and `tpcds-bench audit`, see
//! them). Only Debezium JSON is counted (the stack's format, with before
//! images); other formats are read back.
//!
//! The digests are taken on a thread of their own, fed batches of payloads,
//! so no message's `seen_at` waits for one; a full queue drops the tally,
//! never a message.

use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread::JoinHandle;

use crate::model::Table;
use crate::observe::decode::fast;

/// Per table: the rows the changelog leaves and their digest sum.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// Rows and digest sum of store_sales, then store_returns.
    tables: [(i64, i128); 2],
    /// Messages of the run's range counted.
    pub messages: u64,
    /// Why the tally does not stand for the sink (the audit reads back).
    pub unusable: Option<String>,
}

impl Tally {
    /// Counts one message of `table`'s topic (one of no known table is not
    /// counted); a message the fast reader does not take makes the tally
    /// unusable.
    pub fn count(
        &mut self,
        table: Option<Table>,
        payload: &[u8],
        tickets: &Range<u64>,
        buf: &mut String,
    ) {
        if self.unusable.is_some() {
            return;
        }
        let Some(table) = table else { return };
        let Some(change) = fast::debezium_change(table, payload, buf) else {
            self.unusable = Some("a message the tally does not read".into());
            return;
        };
        let slot = &mut self.tables[table.index()];
        let mut counted = false;
        if let Some((_, d)) = change.removed.filter(|(t, _)| tickets.contains(t)) {
            slot.0 -= 1;
            slot.1 -= i128::from(d);
            counted = true;
        }
        if let Some((_, d)) = change.added.filter(|(t, _)| tickets.contains(t)) {
            slot.0 += 1;
            slot.1 += i128::from(d);
            counted = true;
        }
        self.messages += u64::from(counted);
    }

    /// Rows and digest sum of `table` (`None` when unusable). The rows are
    /// negative when more was taken away than added (the sink lost inserts).
    pub fn of(&self, table: Table) -> Option<(i64, i128)> {
        self.unusable.is_none().then(|| self.tables[table.index()])
    }
}

/// A batch of payloads: each with its topic's table.
type Batch = Vec<(Option<Table>, Vec<u8>)>;

/// Payload bytes queued for the tally's thread at most: past this it is
/// behind by seconds (it digests ~100,000 messages a second) and the tally is
/// given up, so the queue's memory stays bounded (issue 26).
const QUEUED_BYTES: usize = 8 << 20;

/// The tally's thread and the observer's end of its queue.
pub struct Counter {
    tx: Option<SyncSender<Batch>>,
    thread: Option<JoinHandle<Tally>>,
    /// Payload bytes handed over and not yet counted.
    queued: Arc<AtomicUsize>,
    overflowed: bool,
}

impl Counter {
    /// Starts the thread for the run's `tickets`.
    pub fn start(tickets: Range<u64>) -> std::io::Result<Counter> {
        // Bounded by bytes, not batches: the channel only needs room for them.
        let (tx, rx) = sync_channel::<Batch>(4096);
        let queued = Arc::new(AtomicUsize::new(0));
        let counted = queued.clone();
        let thread = std::thread::Builder::new()
            .name("kafka-tally".into())
            .spawn(move || run(&rx, &tickets, &counted))?;
        Ok(Counter {
            tx: Some(tx),
            thread: Some(thread),
            queued,
            overflowed: false,
        })
    }

    /// Hands a batch over without waiting; a full queue gives the tally up.
    pub fn send(&mut self, batch: Batch) {
        if batch.is_empty() || self.overflowed {
            return;
        }
        let bytes: usize = batch.iter().map(|(_, p)| p.len()).sum();
        if self.queued.load(Ordering::Relaxed) + bytes > QUEUED_BYTES {
            self.overflowed = true;
            return;
        }
        if let Some(tx) = &self.tx {
            self.queued.fetch_add(bytes, Ordering::Relaxed);
            match tx.try_send(batch) {
                Ok(()) => {}
                Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                    self.overflowed = true;
                }
            }
        }
    }

    /// Waits for the queued batches to be counted; the tally.
    pub fn finish(mut self) -> Tally {
        drop(self.tx.take());
        let mut tally = self
            .thread
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or_else(|| Tally {
                unusable: Some("the tally's thread failed".into()),
                ..Tally::default()
            });
        if self.overflowed && tally.unusable.is_none() {
            tally.unusable = Some("the tally fell behind the messages".into());
        }
        tally
    }
}

fn run(rx: &Receiver<Batch>, tickets: &Range<u64>, queued: &AtomicUsize) -> Tally {
    let mut tally = Tally::default();
    let mut buf = String::with_capacity(512);
    while let Ok(batch) = rx.recv() {
        let mut bytes = 0;
        for (table, payload) in batch {
            bytes += payload.len();
            tally.count(table, &payload, tickets, &mut buf);
        }
        queued.fetch_sub(bytes, Ordering::Relaxed);
    }
    tally
}

#[cfg(test)]
mod tests;
