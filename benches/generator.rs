//! Cost per row of the generator on the load path: `next_write` alone, and
//! `next_write` plus rendering the row as SQL text, with commits reported in
//! batches as a worker would (so returns, updates and deletes all occur).
//!
//! `cargo bench --bench generator`. One iteration is one row slot, so the time
//! reported is per row. It is the benchmark thread's **CPU time**, not wall time:
//! this harness shares a 2-core machine with builds and databases, and CPU time
//! is what tells how many rows per second one core can generate regardless.

use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::{Measurement, ValueFormatter};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tpcds_bench::dist::LagDist;
use tpcds_bench::tpcds::{push_sql_key_predicate, GenConfig, Generator, Write};

/// Rows per simulated transaction.
const BATCH: usize = 50;

/// CPU time consumed by the calling thread.
struct ThreadCpuTime;

fn thread_cpu_now() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant
    // Linux supports. The call only writes into `ts`.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

impl Measurement for ThreadCpuTime {
    type Intermediate = Duration;
    type Value = Duration;
    fn start(&self) -> Duration {
        thread_cpu_now()
    }
    fn end(&self, start: Duration) -> Duration {
        thread_cpu_now().saturating_sub(start)
    }
    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }
    fn zero(&self) -> Duration {
        Duration::ZERO
    }
    fn to_f64(&self, v: &Duration) -> f64 {
        v.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        &NanosFormatter
    }
}

/// Nanoseconds of CPU per row, and million rows per CPU-second.
struct NanosFormatter;

impl ValueFormatter for NanosFormatter {
    fn scale_values(&self, _typical: f64, _values: &mut [f64]) -> &'static str {
        "ns cpu"
    }
    fn scale_throughputs(&self, _typical: f64, t: &Throughput, values: &mut [f64]) -> &'static str {
        let per_iter = match *t {
            Throughput::Elements(n) => n as f64,
            _ => 1.0,
        };
        for v in values.iter_mut() {
            *v = per_iter * 1e3 / *v; // elements per ns·1e9 / 1e6
        }
        "Mrows/cpu-s"
    }
    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "ns"
    }
}

fn config() -> GenConfig {
    GenConfig {
        update_probability: 0.02,
        delete_probability: 0.005,
        return_lag: LagDist::Fixed {
            value: Duration::from_millis(100),
        },
        ..GenConfig::default()
    }
}

/// A worker's loop for one row slot: generate, optionally render, and report a
/// commit every `BATCH` rows with 1 ms of clock per batch.
struct Worker {
    g: Generator,
    now: u64,
    out: String,
    batch: Vec<Write>,
}

impl Worker {
    fn new() -> Worker {
        let mut w = Worker {
            g: Generator::new(config(), 1, 0..u64::MAX),
            now: 0,
            out: String::with_capacity(512),
            batch: Vec::with_capacity(BATCH),
        };
        // Warm up to steady state: a full stream of due returns and candidates.
        for _ in 0..200_000 {
            w.slot(false);
        }
        w
    }

    #[inline]
    fn slot(&mut self, render: bool) {
        let w = self.g.next_write(self.now);
        if render {
            self.out.clear();
            match &w {
                Write::InsertSale(r) | Write::UpdateSale(r) => r.push_sql_values(&mut self.out),
                Write::InsertReturn(r) => r.push_sql_values(&mut self.out),
                Write::DeleteSale(k) => push_sql_key_predicate(k, &mut self.out),
            }
            black_box(self.out.len());
        }
        self.batch.push(w);
        if self.batch.len() == BATCH {
            self.g.committed(&self.batch, self.now);
            self.batch.clear();
            self.now += 1_000;
        }
    }
}

fn bench_generator(c: &mut Criterion<ThreadCpuTime>) {
    let mut group = c.benchmark_group("generator");
    group.throughput(Throughput::Elements(1));
    for (name, render) in [("next_write", false), ("next_write+sql", true)] {
        let mut w = Worker::new();
        group.bench_function(name, |b| b.iter(|| w.slot(render)));
        let s = w.g.stats();
        assert!(s.returns > 0 && s.updates > 0 && s.deletes > 0, "{s:?}");
    }
    // Rendering alone, on a steady mix of generated rows.
    let mut w = Worker::new();
    let rows: Vec<Write> = (0..1024)
        .map(|_| w.g.next_write(w.now))
        .filter(|w| !matches!(w, Write::DeleteSale(_)))
        .collect();
    let mut i = 0;
    let mut out = String::with_capacity(512);
    group.bench_function("sql", |b| {
        b.iter(|| {
            out.clear();
            match &rows[i % rows.len()] {
                Write::InsertSale(r) | Write::UpdateSale(r) => r.push_sql_values(&mut out),
                Write::InsertReturn(r) => r.push_sql_values(&mut out),
                Write::DeleteSale(_) => unreachable!("filtered out"),
            }
            i += 1;
            black_box(out.len())
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(ThreadCpuTime);
    targets = bench_generator
}
criterion_main!(benches);
