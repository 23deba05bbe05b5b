//! Small deterministic runs for the report tests.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};

use crate::model::{OpKind, RowKey, Sink, Table};
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
            clock_offset_us: None,
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
            clock_offset_us: Some(-1_500),
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
    }
}
