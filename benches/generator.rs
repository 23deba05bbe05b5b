//! Cost per row of the generator on the load path: `next_write` alone, and
//! `next_write` plus rendering the row as a SQL values tuple, with commits
//! reported in batches as a worker would (so returns and mutations happen).
//!
//! `cargo bench --bench generator` (throughput is reported in rows per second).

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tpcds_bench::dist::LagDist;
use tpcds_bench::tpcds::{push_sql_key_predicate, GenConfig, Generator, Write};

/// Rows per simulated transaction.
const BATCH: usize = 50;
/// Rows generated per measured iteration.
const ROWS: usize = 10_000;

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

/// Generates `ROWS` rows, committing every `BATCH`, 1 ms of clock per batch;
/// `render` turns each write into SQL text.
fn drive(g: &mut Generator, now: &mut u64, out: &mut String, batch: &mut Vec<Write>, render: bool) {
    for _ in 0..ROWS {
        let w = g.next_write(*now);
        if render {
            out.clear();
            match &w {
                Write::InsertSale(r) | Write::UpdateSale(r) => r.push_sql_values(out),
                Write::InsertReturn(r) => r.push_sql_values(out),
                Write::DeleteSale(k) => push_sql_key_predicate(k, out),
            }
            black_box(out.len());
        }
        batch.push(w);
        if batch.len() == BATCH {
            g.committed(batch, *now);
            batch.clear();
            *now += 1_000;
        }
    }
}

fn bench_generator(c: &mut Criterion) {
    let mut group = c.benchmark_group("generator");
    group.throughput(Throughput::Elements(ROWS as u64));
    for (name, render) in [("next_write", false), ("next_write+sql", true)] {
        // One long-lived generator per benchmark: steady state with a full
        // mutation pool and a stream of due returns.
        let mut g = Generator::new(config(), 1, 0..u64::MAX);
        let mut now = 0u64;
        let mut out = String::with_capacity(512);
        let mut batch = Vec::with_capacity(BATCH);
        drive(&mut g, &mut now, &mut out, &mut batch, false); // warm the pool
        group.bench_function(name, |b| {
            b.iter(|| drive(&mut g, &mut now, &mut out, &mut batch, render))
        });
        let s = g.stats();
        assert!(s.returns > 0 && s.updates > 0 && s.deletes > 0, "{s:?}");
    }
    group.finish();
}

criterion_group!(benches, bench_generator);
criterion_main!(benches);
