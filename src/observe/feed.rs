//! A log one writer appends to and several readers each read in full, that
//! forgets what every reader has taken: its memory is the slowest reader's
//! backlog, not the run's length.
//!
//! The run's keys to confirm by lookup ([`super::warehouse::ChangeWatch`])
//! and its committed probes (`derived::ProbeBoard`) were append-only vectors
//! read with per-reader cursors: kept for the whole run, they grew with it
//! (at 1,000 rows/s with 3 % updates and deletes, ~1 MB a minute). A reader
//! registers ([`Feed::reader`]) and then sees every entry pushed after that,
//! once; entries pushed while no reader is registered are dropped (nobody
//! could read them). Readers register before the run writes (the observers
//! are connected before the first row), so none misses an entry.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

/// The shared log. Cheap to clone (all clones are one log).
#[derive(Debug)]
pub struct Feed<T> {
    inner: Arc<Mutex<Inner<T>>>,
}

impl<T> Clone for Feed<T> {
    fn clone(&self) -> Self {
        Feed {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<T> Default for Feed<T> {
    fn default() -> Self {
        Feed {
            inner: Arc::new(Mutex::new(Inner {
                base: 0,
                entries: VecDeque::new(),
                readers: Vec::new(),
                pushed: 0,
            })),
        }
    }
}

#[derive(Debug)]
struct Inner<T> {
    /// Position (since the log began) of `entries[0]`.
    base: u64,
    entries: VecDeque<T>,
    /// Each registered reader's next position; `None` once it was dropped.
    readers: Vec<Option<u64>>,
    /// Entries pushed since the log began.
    pushed: u64,
}

impl<T> Inner<T> {
    fn end(&self) -> u64 {
        self.base + self.entries.len() as u64
    }

    /// Drops the entries every live reader has passed.
    fn trim(&mut self) {
        let oldest = self.readers.iter().flatten().min().copied();
        let keep_from = oldest.unwrap_or_else(|| self.end());
        while self.base < keep_from && self.entries.pop_front().is_some() {
            self.base += 1;
        }
        // Give back a backlog's worth of capacity once it has been read.
        if self.entries.capacity() > 4096 && self.entries.len() < self.entries.capacity() / 4 {
            self.entries.shrink_to(self.entries.len() * 2);
        }
    }
}

impl<T: Clone> Feed<T> {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends entries (one lock); kept only while a reader has yet to take them.
    pub fn extend(&self, items: impl IntoIterator<Item = T>) {
        let mut g = self.lock();
        let before = g.entries.len();
        g.entries.extend(items);
        g.pushed += (g.entries.len() - before) as u64;
        if g.readers.iter().all(Option::is_none) {
            g.trim();
        }
    }

    /// Appends one entry.
    pub fn push(&self, item: T) {
        self.extend(std::iter::once(item));
    }

    /// A new reader: it will see every entry pushed from now on.
    pub fn reader(&self) -> FeedReader<T> {
        let mut g = self.lock();
        let at = g.end();
        let id = match g.readers.iter().position(Option::is_none) {
            Some(free) => {
                g.readers[free] = Some(at);
                free
            }
            None => {
                g.readers.push(Some(at));
                g.readers.len() - 1
            }
        };
        FeedReader {
            feed: self.clone(),
            id,
        }
    }

    /// Entries pushed since the log began (kept or not).
    pub fn pushed(&self) -> u64 {
        self.lock().pushed
    }

    /// Entries held now (what the slowest reader has not taken yet).
    pub fn held(&self) -> usize {
        self.lock().entries.len()
    }

    fn lock(&self) -> MutexGuard<'_, Inner<T>> {
        // A writer that panicked mid-push leaves a valid log: keep going.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One reader's position in a [`Feed`]; dropping it lets the log forget
/// what only this reader still had to take.
#[derive(Debug)]
pub struct FeedReader<T: Clone> {
    feed: Feed<T>,
    id: usize,
}

impl<T: Clone> FeedReader<T> {
    /// The entries pushed since the last call (or since registering).
    pub fn take(&mut self) -> Vec<T> {
        let mut g = self.feed.lock();
        let end = g.end();
        let at = g.readers[self.id].unwrap_or(end);
        let skip = (at - g.base) as usize;
        let new: Vec<T> = g.entries.range(skip..).cloned().collect();
        g.readers[self.id] = Some(end);
        g.trim();
        new
    }
}

impl<T: Clone> Drop for FeedReader<T> {
    fn drop(&mut self) {
        let mut g = self.feed.lock();
        g.readers[self.id] = None;
        g.trim();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reader_sees_every_later_entry_once() {
        let f = Feed::new();
        f.push(0); // no reader yet: nobody can read it
        let mut a = f.reader();
        f.extend([1, 2]);
        let mut b = f.reader();
        f.push(3);
        assert_eq!(a.take(), vec![1, 2, 3]);
        assert_eq!(a.take(), Vec::<i32>::new());
        f.push(4);
        assert_eq!(b.take(), vec![3, 4]);
        assert_eq!(a.take(), vec![4]);
        assert_eq!((f.pushed(), f.held()), (5, 0));
    }

    // What the run's memory depends on: entries every reader took are
    // forgotten, so the log holds the slowest reader's backlog, and a dropped
    // reader holds nothing back.
    #[test]
    fn held_entries_are_the_slowest_readers_backlog() {
        let f = Feed::new();
        let mut fast = f.reader();
        let slow = f.reader();
        for round in 0..100u64 {
            f.extend(round * 1000..(round + 1) * 1000);
            assert_eq!(fast.take().len(), 1000);
        }
        assert_eq!(f.held(), 100_000);
        drop(slow);
        assert_eq!(f.held(), 0);
        for round in 0..1000u64 {
            f.extend(round * 100..(round + 1) * 100);
            fast.take();
            assert_eq!(f.held(), 0);
        }
        assert_eq!(f.pushed(), 200_000);
        // The capacity the backlog needed is given back.
        assert!(f.lock().entries.capacity() <= 4096);
        drop(fast);
        f.push(1);
        assert_eq!(f.held(), 0);
    }
}
