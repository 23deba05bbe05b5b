//! Per-second histograms the run has moved past, kept in a file instead of RAM.
//!
//! Packed, a second's histograms still took 10–30 KB of heap (55 series
//! slots inline plus the V2 bytes of the series it recorded): 36–110 MB an
//! hour at 1,000 rows/s, the harness's last memory that grew with the run's
//! length. A second [`super::collector::PACK_LAG_SECONDS`] behind the newest
//! is now written to an unlinked temporary file (`TMPDIR`; nothing is left
//! behind, even on `kill -9`) as one blob and read back when a report reads
//! it; RAM keeps only where the blob is (24 bytes), the second's counters and
//! its lanes' summaries: 1.2 KB a second (`cargo bench --bench memory`). When the file cannot be made or written, the second
//! stays packed in RAM (correct, only bigger).
//!
//! A blob is the second's packed series in [`Series::ALL`] order, each as
//! its index (u8), its max (u64 LE), the length of its V2 bytes (u32 LE) and
//! the bytes.

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::series::Series;

/// The file the run's seconds are spilled to. Appends only.
#[derive(Debug)]
pub struct SpillFile {
    file: File,
    /// The file's length: where the next blob goes.
    end: Mutex<u64>,
}

impl SpillFile {
    /// A new unlinked file in the temporary directory.
    pub fn create() -> std::io::Result<Arc<SpillFile>> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let path = std::env::temp_dir().join(format!(
            "tpcds-bench-stats-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)?;
        // Unlinked at once: the open file lives on until the process ends.
        std::fs::remove_file(&path)?;
        Ok(Arc::new(SpillFile {
            file,
            end: Mutex::new(0),
        }))
    }

    /// Appends `blob`; returns where it went.
    fn append(self: &Arc<Self>, blob: &[u8]) -> std::io::Result<Spilled> {
        let len = u32::try_from(blob.len()).map_err(std::io::Error::other)?;
        let mut end = self.end.lock().unwrap_or_else(|e| e.into_inner());
        self.file.write_all_at(blob, *end)?;
        let at = *end;
        *end += u64::from(len);
        Ok(Spilled {
            file: Arc::clone(self),
            at,
            len,
        })
    }

    /// Bytes written so far.
    pub fn len(&self) -> u64 {
        *self.end.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// True before the first blob.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Where one second's blob is.
#[derive(Debug, Clone)]
pub struct Spilled {
    file: Arc<SpillFile>,
    at: u64,
    len: u32,
}

/// One packed series of a blob: `(series index, max, V2 bytes)`.
pub type Entry = (usize, u64, Vec<u8>);

impl Spilled {
    /// Writes `entries` (series index, max, V2 bytes) to `file` as one blob.
    pub fn write<'a>(
        file: &Arc<SpillFile>,
        entries: impl IntoIterator<Item = (usize, u64, &'a [u8])>,
    ) -> std::io::Result<Spilled> {
        let mut blob = Vec::new();
        for (index, max, bytes) in entries {
            let len = u32::try_from(bytes.len()).map_err(std::io::Error::other)?;
            blob.push(u8::try_from(index).map_err(std::io::Error::other)?);
            blob.extend_from_slice(&max.to_le_bytes());
            blob.extend_from_slice(&len.to_le_bytes());
            blob.write_all(bytes)?;
        }
        file.append(&blob)
    }

    /// Writes `bytes` to `file` as one blob of any shape (read back whole by
    /// [`Spilled::bytes`]).
    pub fn write_bytes(file: &Arc<SpillFile>, bytes: &[u8]) -> std::io::Result<Spilled> {
        file.append(bytes)
    }

    /// The file the blob is in.
    pub fn file(&self) -> &Arc<SpillFile> {
        &self.file
    }

    /// Reads the blob back. The file is this process's own and only grows,
    /// so a failure here is a fault of the machine (the disk went away).
    pub fn read(&self) -> Vec<Entry> {
        let blob = self.bytes();
        let all = entries(&blob)
            .map(|(index, max, bytes)| (index, max, bytes.to_vec()))
            .collect();
        all
    }

    /// The max and V2 bytes of the series at `index`, if the blob has it
    /// (the others are not copied: an interval log reads every series of
    /// every second this way).
    pub fn entry(&self, index: usize) -> Option<(u64, Vec<u8>)> {
        let blob = self.bytes();
        let found = entries(&blob)
            .find(|(i, _, _)| *i == index)
            .map(|(_, max, bytes)| (max, bytes.to_vec()));
        found
    }

    /// The blob's bytes, as written.
    pub fn bytes(&self) -> Vec<u8> {
        let mut blob = vec![0; self.len as usize];
        self.file
            .file
            .read_exact_at(&mut blob, self.at)
            .expect("the statistics spill file reads back what this process wrote");
        blob
    }
}

/// The entries of a blob, borrowed.
fn entries(blob: &[u8]) -> impl Iterator<Item = (usize, u64, &[u8])> {
    let mut rest = blob;
    std::iter::from_fn(move || {
        if rest.len() < HEADER {
            return None;
        }
        let index = usize::from(rest[0]);
        let max = u64::from_le_bytes(rest[1..9].try_into().expect("8 bytes"));
        let len = u32::from_le_bytes(rest[9..HEADER].try_into().expect("4 bytes")) as usize;
        let (bytes, tail) = rest[HEADER..].split_at(len);
        rest = tail;
        debug_assert!(index < Series::COUNT);
        Some((index, max, bytes))
    })
}

/// An entry's header: index (1), max (8), length (4).
const HEADER: usize = 13;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blobs_read_back_what_was_written() {
        let f = SpillFile::create().unwrap();
        let a = Spilled::write(&f, [(0, 7, &b"abc"[..]), (54, 9, &b""[..])]).unwrap();
        let b = Spilled::write(&f, [(3, 1, &b"xy"[..])]).unwrap();
        assert_eq!(a.read(), vec![(0, 7, b"abc".to_vec()), (54, 9, Vec::new())]);
        assert_eq!(b.entry(3), Some((1, b"xy".to_vec())));
        assert_eq!(b.entry(0), None);
        assert_eq!(f.len(), 13 + 3 + 13 + 13 + 2);
    }
}
