//! Small deterministic runs for the report tests.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};

use crate::model::{Hop, OpKind, RowKey, Sink, Table};
use crate::stats::{Collector, Counter, Gauge, Recorder, Series};

use super::data::{RunData, SinkAccounting, SinkRun, SloVerdict};

/// A tiny run: warmup 1 s, three seconds of data, sinks kafka and path1.
pub fn tiny_run() -> RunData {
    let start = Instant::now();
    let at = |ms: u64| start + Duration::from_millis(ms);
    let mut r = Recorder::new(start);
    use OpKind::*;
    // Second 0: warmup, visible only in the interval logs.
    r.record_at(Series::Client(Insert), at(100), 5_000);
    r.record_at(Series::Sink(Sink::Kafka, Insert), at(200), 20_000);
    // Second 1.
    for v in [1_000, 2_000] {
        r.record_at(Series::Client(Insert), at(1_100), v);
    }
    r.record_at(Series::Client(Update), at(1_200), 3_000);
    r.record_at(Series::Lateness, at(1_200), 100);
    for v in [10_000, 30_000] {
        r.record_at(Series::Sink(Sink::Kafka, Insert), at(1_300), v);
    }
    r.record_at(Series::Sink(Sink::Kafka, Update), at(1_400), 50_000);
    r.record_at(Series::Sink(Sink::Path1, Insert), at(1_500), 150_000);
    r.record_at(Series::SinkServer(Sink::Path1), at(1_500), 140_000);
    // Second 2.
    r.record_at(Series::Client(Insert), at(2_100), 4_000);
    r.record_at(Series::Sink(Sink::Kafka, Insert), at(2_300), 12_000);
    r.record_at(Series::Sink(Sink::Path1, Insert), at(2_900), 250_000);
    for (second, target, committed) in [(0, 2, 1), (1, 3, 3), (2, 1, 1)] {
        let t = at(second * 1000 + 10);
        r.add_at(Counter::TargetRows, t, target);
        r.add_at(Counter::CommittedRows, t, committed);
    }
    r.add_at(Counter::Seen(Sink::Kafka), at(1_300), 3);
    r.add_at(Counter::Seen(Sink::Path1), at(1_500), 1);
    r.add_at(Counter::Late, at(1_200), 1);
    r.set_at(Gauge::InFlight(Sink::Kafka), at(1_999), 1);
    r.set_at(Gauge::InFlight(Sink::Path1), at(1_999), 2);
    r.set_at(Gauge::InFlight(Sink::Path1), at(2_999), 0);
    let mut c = Collector::new(Duration::from_secs(1));
    c.merge(r.take_interval());

    let mut sinks = BTreeMap::new();
    sinks.insert(
        Sink::Kafka,
        SinkRun {
            accounting: SinkAccounting {
                seen: 5,
                missing: 0,
                duplicates: 1,
                unexpected: 0,
                missing_keys: vec![],
            },
            resolution_us: None,
            ..SinkRun::default()
        },
    );
    sinks.insert(
        Sink::Path1,
        SinkRun {
            accounting: SinkAccounting {
                seen: 3,
                missing: 2,
                duplicates: 0,
                unexpected: 0,
                missing_keys: vec![RowKey {
                    table: Table::StoreSales,
                    ticket: 7,
                    item: 42,
                }],
            },
            resolution_us: Some(100_000),
            detection_window_us: Some(100_000),
            clock_offset_us: Some(crate::clock::ClockOffset {
                offset_us: -1_500,
                uncertainty_us: 200,
                probes: 12,
                min_offset_us: -1_520,
                max_offset_us: -1_480,
            }),
            ..SinkRun::default()
        },
    );
    RunData {
        scenario: "tiny".into(),
        scenario_source: "name = \"tiny\"\nduration = \"3s\"\n".into(),
        resolved_scenario: serde_json::json!({"name": "tiny", "targets": {"mysql": "mysql://root:***@127.0.0.1:3306/business_db"}}),
        run_id: "20260301T120000Z-tiny".into(),
        started_at: Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap(),
        duration: Duration::from_millis(3_000),
        warmup: Duration::from_secs(1),
        interrupted: false,
        target_rows: 6,
        target_rate: 2.0,
        achieved_rows: 5,
        achieved_rate: 1.5,
        late: 1,
        dropped: 0,
        failed: 0,
        sinks,
        environment: BTreeMap::from([
            ("mysql.version".to_string(), "10.11.6-MariaDB".to_string()),
            ("warehouse.poll_ms".to_string(), "100".to_string()),
        ]),
        slo: SloVerdict {
            passed: false,
            breaches: vec!["path1 missing 2 > max_missing 0".into()],
        },
        caveats: vec!["path1 latency includes up to 100 ms of polling".into()],
        stats: c.into_stats(),
        faults: Vec::new(),
        metrics: Vec::new(),
        clock_offsets: BTreeMap::new(),
        shards: Vec::new(),
        memory: None,
        audit: None,
        snapshot: None,
    }
}

/// A two-minute run with realistic shapes: 2000 rows/s stepping to 3000 rows/s
/// between 60 s and 80 s (where path 1 slows down), lognormal latencies, a 10 s
/// warmup, all four sinks (binlog on) and server stamps on the warehouse paths.
pub fn realistic_run() -> RunData {
    use rand::{Rng, SeedableRng};
    use rand_distr::{Distribution, LogNormal};

    const SECONDS: u64 = 120;
    const SAMPLES_PER_SECOND: u64 = 250;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let lognormal =
        |median_ms: f64, sigma: f64| LogNormal::new((median_ms * 1000.0).ln(), sigma).unwrap();
    let start = Instant::now();
    let mut r = Recorder::new(start);
    let (binlog, kafka) = (lognormal(2.0, 0.4), lognormal(18.0, 0.35));
    let (path1, path2) = (lognormal(120.0, 0.3), lognormal(80.0, 0.3));
    let client = lognormal(2.0, 0.5);
    let mut totals = (0u64, 0u64);
    for second in 0..SECONDS {
        let busy = (60..80).contains(&second);
        let target: u64 = if busy { 3000 } else { 2000 };
        let committed = target - rng.random_range(0..(target / 200));
        totals.0 += target;
        totals.1 += committed;
        let t0 = start + Duration::from_secs(second);
        r.add_at(Counter::TargetRows, t0, target);
        r.add_at(Counter::CommittedRows, t0, committed);
        for sink in Sink::CDC {
            r.add_at(Counter::Seen(sink), t0, committed - rng.random_range(0..20));
        }
        let slow = if busy { 2.5 } else { 1.0 };
        r.set_at(
            Gauge::InFlight(Sink::Path1),
            t0,
            (committed as f64 * 0.17 * slow) as u64,
        );
        r.set_at(
            Gauge::InFlight(Sink::Path2),
            t0,
            (committed as f64 * 0.13) as u64,
        );
        r.set_at(
            Gauge::InFlight(Sink::Kafka),
            t0,
            (committed as f64 * 0.02) as u64,
        );
        r.set_at(
            Gauge::InFlight(Sink::Binlog),
            t0,
            (committed as f64 * 0.003) as u64,
        );
        for i in 0..SAMPLES_PER_SECOND {
            let at = t0 + Duration::from_micros(i * 1_000_000 / SAMPLES_PER_SECOND);
            let op = match rng.random_range(0..100) {
                0 => OpKind::Delete,
                1..=4 => OpKind::Update,
                _ => OpKind::Insert,
            };
            let poll = |rng: &mut rand_chacha::ChaCha8Rng| rng.random_range(0..100_000u64);
            r.record_at(Series::Client(op), at, client.sample(&mut rng) as u64);
            r.record_at(Series::Lateness, at, rng.random_range(0..300));
            let b = binlog.sample(&mut rng) as u64;
            r.record_at(Series::Sink(Sink::Binlog, op), at, b);
            let k = kafka.sample(&mut rng) as u64;
            r.record_at(Series::Sink(Sink::Kafka, op), at, k);
            r.record_at(Series::Hop(Hop::AckToBinlog), at, b);
            r.record_at(Series::Hop(Hop::BinlogToKafka), at, k.saturating_sub(b));
            let p1 = (path1.sample(&mut rng) * slow) as u64 + poll(&mut rng);
            r.record_at(Series::Sink(Sink::Path1, op), at, p1);
            r.record_at(
                Series::SinkServer(Sink::Path1),
                at,
                p1.saturating_sub(60_000),
            );
            r.record_at(Series::Hop(Hop::KafkaToPath1), at, p1.saturating_sub(k));
            let p2 = path2.sample(&mut rng) as u64 + poll(&mut rng);
            r.record_at(Series::Hop(Hop::BinlogToPath2), at, p2.saturating_sub(b));
            r.record_at(Series::Sink(Sink::Path2, op), at, p2);
            r.record_at(
                Series::SinkServer(Sink::Path2),
                at,
                p2.saturating_sub(50_000),
            );
        }
    }
    let mut c = Collector::new(Duration::from_secs(10));
    c.merge(r.take_interval());
    let accounting = |seen| SinkAccounting {
        seen,
        ..SinkAccounting::default()
    };
    let sinks = BTreeMap::from([
        (
            Sink::Binlog,
            SinkRun {
                accounting: accounting(totals.1),
                resolution_us: None,
                ..SinkRun::default()
            },
        ),
        (
            Sink::Kafka,
            SinkRun {
                accounting: accounting(totals.1),
                resolution_us: None,
                ..SinkRun::default()
            },
        ),
        (
            Sink::Path1,
            SinkRun {
                accounting: accounting(totals.1),
                resolution_us: Some(100_000),
                detection_window_us: Some(100_000),
                ..SinkRun::default()
            },
        ),
        (
            Sink::Path2,
            SinkRun {
                accounting: accounting(totals.1),
                resolution_us: Some(100_000),
                detection_window_us: Some(100_000),
                ..SinkRun::default()
            },
        ),
    ]);
    RunData {
        scenario: "step-load".into(),
        scenario_source: "name = \"step-load\"\nduration = \"2m\"\nwarmup = \"10s\"\n".into(),
        resolved_scenario: serde_json::json!({"name": "step-load"}),
        run_id: "20260301T120000Z-step-load".into(),
        started_at: Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap(),
        duration: Duration::from_secs(SECONDS),
        warmup: Duration::from_secs(10),
        interrupted: false,
        target_rows: totals.0,
        target_rate: totals.0 as f64 / SECONDS as f64,
        achieved_rows: totals.1,
        achieved_rate: totals.1 as f64 / SECONDS as f64,
        late: 0,
        dropped: 0,
        failed: 0,
        sinks,
        environment: BTreeMap::from([
            ("mysql.version".to_string(), "10.11.6-MariaDB".to_string()),
            ("flink.version".to_string(), "1.20.0".to_string()),
            ("warehouse".to_string(), "PostgreSQL 15.8".to_string()),
        ]),
        slo: SloVerdict {
            passed: true,
            breaches: vec![],
        },
        caveats: vec![
            "path1/path2 are polled every 100 ms: their latencies over-state by up to 100 ms"
                .into(),
            "latency is sampled at 1 in 5 rows; loss accounting covers every row".into(),
        ],
        stats: c.into_stats(),
        faults: Vec::new(),
        metrics: Vec::new(),
        clock_offsets: BTreeMap::new(),
        shards: Vec::new(),
        memory: None,
        audit: None,
        snapshot: None,
    }
}
