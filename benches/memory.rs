//! Memory the tracker holds per in-flight row: bytes allocated by the
//! [`Ledger`] for N committed, not yet seen row versions, counted by a global
//! allocator that tracks live heap bytes (exact, unlike RSS, and independent of
//! what else the machine runs).
//!
//! `cargo bench --bench memory`. Prints one line per N and the bytes per row.
//! Rows are sales inserts registered in 10-row commits at 4 sinks, the default
//! run's shape; a row stays in flight until every sink has seen it (and then for
//! the duplicate window), so in-flight rows × this figure bounds the ledger.
//! The same ledger is then matched at every sink (and pruned once, inside the
//! duplicate window, which gives back the room in-flight rows took), to show
//! what a fully seen row still costs until the window forgets it.
//!
//! Then the per-second statistics: one second of a 1,000 rows/s run of the
//! quickstart mix (every row recorded in the client, lateness, four sinks'
//! and the hops' series) merged into a [`Collector`] per second of run, and
//! the heap bytes per second of run the collector holds once the seconds are
//! behind it: packed in RAM (how they were kept before) and spilled to a file
//! (now). They grow with the run's length, so this is what an hour costs.
//!
//! Before issue 26 (full keys, both version slots inline; README, 2026-12-05):
//! 264 / 211 / 338 B per in-flight row at 10⁴ / 10⁵ / 10⁶ rows, 316 / 253 /
//! 371 B once seen everywhere; now 67.2 / 53.7 / 86.0 B and 35.9 / 30.3 /
//! 43.7 B, and a second of statistics 30,158 B before, 1,197 B now
//! (docs/RESULTS.md).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::{Duration, Instant};

use tpcds_bench::model::{Hop, Observation, OpKind, RowKey, Sink, Table};
use tpcds_bench::stats::{Collector, DeltaSign, Recorder, Series, SeriesHistograms};
use tpcds_bench::track::{CommitBatch, CommittedRow, Ledger};

/// The system allocator, counting live bytes.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call is forwarded unchanged to `System`; the counter is only arithmetic.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        System.dealloc(ptr, layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        System.alloc_zeroed(layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn live() -> isize {
    LIVE.load(Ordering::Relaxed)
}

const SINKS: [Sink; 4] = [Sink::Binlog, Sink::Kafka, Sink::Path1, Sink::Path2];

fn key(ticket: u64) -> RowKey {
    RowKey {
        table: Table::StoreSales,
        ticket,
        item: (ticket % 18_000) as u32 + 1,
    }
}

/// Registers `n` rows in 10-row commits; returns the ledger.
fn fill(n: u64, acked_at: Instant) -> Ledger {
    let mut ledger = Ledger::new(&SINKS).with_tickets(0..n);
    let mut batch = Vec::with_capacity(10);
    for t in 0..n {
        batch.push(CommittedRow {
            key: key(t),
            op: OpKind::Insert,
            stamp: t as i64,
            prev_stamp: None,
        });
        if batch.len() == 10 {
            let out = ledger.commit(&CommitBatch {
                closed: None,
                acked_at,
                rows: std::mem::take(&mut batch),
            });
            assert!(out.is_empty());
            batch.reserve(10);
        }
    }
    ledger
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs this
    // binary without it: then one small size, as a smoke test of the counting.
    let full = std::env::args().any(|a| a == "--bench");
    let sizes: &[u64] = if full {
        &[10_000, 100_000, 1_000_000]
    } else {
        &[10_000]
    };
    let t0 = Instant::now();
    println!("ledger heap bytes per in-flight row (sales inserts, 4 sinks, exact allocator count)");
    println!(
        "{:>10}  {:>12}  {:>8}  {:>14}",
        "rows", "bytes", "per row", "per row (seen)"
    );
    for &n in sizes {
        let before = live();
        let mut ledger = fill(n, t0);
        let in_flight = live() - before;
        assert_eq!(ledger.in_flight(Sink::Kafka), n);
        for sink in SINKS {
            for t in 0..n {
                ledger.observe(&Observation {
                    sink,
                    key: key(t),
                    op: OpKind::Insert,
                    stamp: Some(t as i64),
                    seen_at: t0 + Duration::from_millis(5),
                    server_arrival: None,
                    visible: None,
                });
            }
        }
        assert!(ledger.all_seen());
        ledger.prune(t0 + Duration::from_secs(1), Duration::from_secs(30));
        assert_eq!(
            ledger.tracked_rows() as u64,
            n,
            "inside the duplicate window"
        );
        let seen = live() - before;
        println!(
            "{n:>10}  {in_flight:>12}  {:>8.1}  {:>14.1}",
            in_flight as f64 / n as f64,
            seen as f64 / n as f64
        );
        drop(ledger);
    }
    per_second_statistics(if full { 600 } else { 20 });
}

/// The series one committed row of the quickstart mix records into.
fn row_series(row: u64) -> Vec<Series> {
    let op = match row % 100 {
        0 | 1 => OpKind::Update,
        2 => OpKind::Delete,
        _ => OpKind::Insert,
    };
    let mut out = vec![Series::Client(op), Series::Lateness];
    out.extend(SINKS.map(|s| Series::Sink(s, op)));
    out.extend([Sink::Kafka, Sink::Path1, Sink::Path2].map(Series::SinkServer));
    out.extend([Sink::Path1, Sink::Path2].map(Series::Detected));
    out.extend(Hop::ALL.map(Series::Hop));
    out.push(Series::PathsDelta(DeltaSign::ALL[(row % 2) as usize]));
    out
}

/// One second of a 1,000 rows/s run, latencies spread over 1–400 ms.
fn one_second(rec: &mut Recorder, start: Instant, sec: u64) {
    for row in 0..1_000u64 {
        let at = start + Duration::from_millis(sec * 1_000 + row);
        for (i, s) in row_series(row).into_iter().enumerate() {
            let us = 1_000 + (row * 7_919 + i as u64 * 104_729 + sec * 31) % 400_000;
            rec.record_at(s, at, us);
        }
    }
}

/// Heap bytes the statistics of `seconds` of run hold: packed in RAM (how
/// they were kept before) and through the collector (spilled).
fn statistics_bytes(seconds: u64) -> (isize, isize) {
    let start = Instant::now() - Duration::from_secs(seconds + 10);
    let before = live();
    let mut packed: Vec<SeriesHistograms> = Vec::new();
    for sec in 0..seconds {
        let mut rec = Recorder::new(start);
        one_second(&mut rec, start, sec);
        let mut set = SeriesHistograms::new();
        for part in rec.take_interval().parts {
            set.merge(&part.histograms);
        }
        set.pack();
        packed.push(set);
    }
    let in_ram = live() - before;
    drop(packed);
    let before = live();
    let mut c = Collector::new(Duration::ZERO);
    for sec in 0..seconds {
        let mut rec = Recorder::new(start);
        one_second(&mut rec, start, sec);
        c.merge(rec.take_interval());
    }
    let spilled = live() - before;
    assert_eq!(c.stats().intervals().len() as u64, seconds);
    (in_ram, spilled)
}

/// Heap bytes each further second of run adds to the statistics: the
/// difference between two run lengths, so what every run holds once (the
/// totals, the seconds not yet behind the collector) cancels.
fn per_second_statistics(seconds: u64) {
    let (ram_a, spill_a) = statistics_bytes(seconds / 2);
    let (ram_b, spill_b) = statistics_bytes(seconds);
    let extra = (seconds - seconds / 2) as f64;
    println!(
        "per-second statistics at 1,000 rows/s (quickstart mix), {} s vs {seconds} s of run: \
         each second adds {:.0} B packed in RAM (before), {:.0} B spilled (now); \
         the collector holds {:.1} MiB for {seconds} s (totals and live seconds included)",
        seconds / 2,
        (ram_b - ram_a) as f64 / extra,
        (spill_b - spill_a) as f64 / extra,
        spill_b as f64 / 1_048_576.0
    );
}
