//! What the live endpoint (`run --metrics-addr`) costs, per second of run.
//!
//! The endpoint does nothing per row (see `src/live/mod.rs`): once a second
//! the collector task builds a [`Snapshot`] and publishes it, and each
//! Prometheus scrape (every 2 s in the stack's Prometheus) copies and encodes
//! it and sends it over HTTP. This bench times those three with a collector
//! holding a realistic run: 5 minutes at 1,000 rows/s, four sinks, every row
//! timed at every sink. `cargo bench --bench live` prints criterion's figures
//! and, last, the cost per second of run as a share of one core, which is
//! the endpoint's whole CPU cost; docs/RESULTS.md sets it beside the
//! harness's own CPU per second at that rate.

use std::hint::black_box;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use tpcds_bench::live::{bind, encode, serve, Live, Snapshot, BUCKETS_SECONDS};
use tpcds_bench::model::{OpKind, Sink};
use tpcds_bench::stats::{Collector, Counter, Recorder, Series};
use tpcds_bench::track::TrackerStatus;

/// Seconds of run the collector holds, and rows a second.
const SECONDS: u32 = 300;
const RATE: u64 = 1_000;

/// A collector after `SECONDS` of a run at `RATE`: every row at every sink,
/// latencies spread from 1 ms to a few seconds.
fn collector(start: Instant) -> Collector {
    let mut c = Collector::new(Duration::from_secs(5)).with_latency_buckets(&BUCKETS_SECONDS);
    let mut rec = Recorder::new(start);
    let mut v = 1u64;
    for s in 0..SECONDS {
        let at = start + Duration::from_secs(u64::from(s)) + Duration::from_millis(500);
        for _ in 0..RATE {
            for sink in Sink::ALL {
                v = v
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                rec.record_at(Series::Sink(sink, OpKind::Insert), at, 1_000 + (v >> 42));
            }
        }
        rec.add_at(Counter::CommittedRows, at, RATE);
        c.merge(rec.take_interval());
    }
    c
}

/// Times one scrape's work and the once-a-second publish; prints both and
/// their sum per second of run (publish every second, a scrape every 2 s).
fn endpoint(c: &mut Criterion) {
    let start = Instant::now();
    let col = collector(start);
    let status = TrackerStatus::default();
    let elapsed = Duration::from_secs(u64::from(SECONDS));
    let live = Live::new("bench");
    let publish = || live.publish(Snapshot::take(&col, &status, elapsed, &Sink::ALL, false));
    publish();

    let mut g = c.benchmark_group("live");
    g.bench_function("publish (once a second)", |b| b.iter(publish));
    g.bench_function("encode (once a scrape)", |b| {
        b.iter(|| black_box(encode(&live).expect("encodes")))
    });

    // The whole scrape over loopback HTTP, as Prometheus does it (client side
    // included, so an upper bound on the server's part).
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime");
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let listener = rt
        .block_on(bind("127.0.0.1:0".parse().expect("an address")))
        .expect("binds");
    let addr = listener.local_addr().expect("an address");
    rt.spawn(serve(listener, live.clone(), stop_rx));
    let scrape = || {
        let mut s = TcpStream::connect(addr).expect("connects");
        s.write_all(b"GET /metrics HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
            .expect("writes");
        let mut body = Vec::new();
        s.read_to_end(&mut body).expect("reads");
        assert!(body.ends_with(b"# EOF\n"), "a whole exposition");
    };
    g.bench_function("scrape over HTTP", |b| b.iter(scrape));
    g.finish();

    // The share of one core, timed directly over many repetitions.
    let time = |n: u32, f: &dyn Fn()| {
        let t = Instant::now();
        for _ in 0..n {
            f();
        }
        t.elapsed().as_secs_f64() / f64::from(n)
    };
    let per_publish = time(200, &publish);
    let per_scrape = time(200, &scrape);
    let per_second = per_publish + per_scrape / 2.0;
    println!(
        "live endpoint, {SECONDS} s of run at {RATE} rows/s held: publish {:.0} µs, \
         scrape over HTTP {:.0} µs; per second of run (publish + half a scrape) {:.0} µs = \
         {:.3} % of one core",
        per_publish * 1e6,
        per_scrape * 1e6,
        per_second * 1e6,
        per_second * 100.0
    );
    let _ = stop_tx.send(true);
}

criterion_group!(benches, endpoint);
criterion_main!(benches);
