//! Cross-check on the real stack: after a short run on path 2, PostgreSQL
//! computes the percentiles of (`arrived_at` − `bench_ts`) over the run's rows
//! itself, and they agree with the harness's `path2.server` series.
//!
//! Both sides use the same two stamps: `bench_ts` is the harness's send time
//! (its wall clock at start plus its monotonic clock since, written into the
//! row), `arrived_at` is the warehouse's `clock_timestamp()` when the JDBC sink
//! wrote the row; one machine, so one wall clock, no offset to correct (a
//! remote warehouse would add its clock offset to both sides alike). The harness
//! reads `bench_ts` as UTC (the stack's MySQL runs in UTC), so the query does too.
//!
//! The harness's percentile is HdrHistogram's value at rank ⌈q·n⌉ rounded up to
//! its bucket (3 significant digits), PostgreSQL's `percentile_disc` is the value
//! at the same rank: the harness's figure must lie in [disc, disc · 1.001 + 1 µs].
//! That is far inside the sink's resolution (the 100 ms poll interval), which the
//! issue asks for; `percentile_cont` (interpolated) is printed beside it.

use crate::support::stack_check;

use std::io::Write;

use crate::support::{assert_exit, only_run, run_scenario};
use tokio_postgres::NoTls;
use tpcds_bench::model::Sink;
use tpcds_bench::stats::Series;

const SCENARIO: &str = r#"
name = "cross-check"
duration = "15s"
warmup = "0s"
drain_timeout = "60s"
[load]
workers = 2
batch_rows = 5
rate = { kind = "constant", per_second = 200 }
[observe]
sinks = ["path2"]
poll_interval = "100ms"
"#;

fn warehouse_url() -> String {
    std::env::var("TPCDS_WAREHOUSE_URL")
        .unwrap_or_else(|_| "postgres://gpadmin:gpadmin@127.0.0.1:5432/tpcds".into())
}

/// (count, [disc p50, disc p99], [cont p50, cont p99]) over the run's rows, in µs.
async fn warehouse_percentiles(lo: i64, hi: i64) -> (i64, [f64; 2], [f64; 2]) {
    let (c, conn) = tokio_postgres::connect(&warehouse_url(), NoTls)
        .await
        .expect("the warehouse answers (scripts/stack.sh up)");
    tokio::spawn(conn);
    // Only versions the harness can record: inserts whose arrival is not before the stamp.
    let sql = "WITH d AS (
          SELECT (extract(epoch FROM arrived_at - (bench_ts AT TIME ZONE 'UTC')) * 1e6)::float8 AS us
          FROM path2.store_sales WHERE ss_ticket_number >= $1 AND ss_ticket_number < $2
          UNION ALL
          SELECT (extract(epoch FROM arrived_at - (bench_ts AT TIME ZONE 'UTC')) * 1e6)::float8
          FROM path2.store_returns WHERE sr_ticket_number >= $1 AND sr_ticket_number < $2)
        SELECT count(*),
          percentile_disc(0.5) WITHIN GROUP (ORDER BY us),
          percentile_disc(0.99) WITHIN GROUP (ORDER BY us),
          percentile_cont(0.5) WITHIN GROUP (ORDER BY us),
          percentile_cont(0.99) WITHIN GROUP (ORDER BY us)
        FROM d WHERE us >= 0";
    let r = c
        .query_one(sql, &[&lo, &hi])
        .await
        .expect("percentile query");
    (r.get(0), [r.get(1), r.get(2)], [r.get(3), r.get(4)])
}

#[test]
fn path2_server_percentiles_agree_with_postgresql() {
    let _turn = crate::support::turn();
    stack_check::require();
    let out = tempfile::tempdir().unwrap();
    let scenario = out.path().join("cross-check.toml");
    std::fs::File::create(&scenario)
        .and_then(|mut f| f.write_all(SCENARIO.as_bytes()))
        .unwrap();
    let reports = out.path().join("reports");
    std::fs::create_dir(&reports).unwrap();
    // An absolute path replaces the shipped-scenario directory in the join.
    let o = run_scenario(scenario.to_str().unwrap(), &[], &reports);
    assert_exit(&o, 0);
    let run = only_run(&reports).run;
    let acc = &run.sinks[&Sink::Path2].accounting;
    assert_eq!(acc.missing, 0, "path2 missing {:?}", acc.missing_keys);
    let (lo, hi) = run.environment["tickets"]
        .split_once("..")
        .map(|(a, b)| (a.parse::<i64>().unwrap(), b.parse::<i64>().unwrap()))
        .expect("tickets = start..end");
    let harness = run.stats.summary(Series::SinkServer(Sink::Path2));

    let rt = tokio::runtime::Runtime::new().unwrap();
    let (count, disc, cont) = rt.block_on(warehouse_percentiles(lo, hi));
    eprintln!(
        "rows {count}: harness p50 {} µs p99 {} µs; PostgreSQL disc {disc:?} cont {cont:?}",
        harness.p50, harness.p99
    );
    assert_eq!(
        harness.count as i64, count,
        "the harness recorded one server sample per row PostgreSQL holds"
    );
    assert!(count >= 2_500, "the run wrote {count} rows");
    // percentile_cont interpolates between rows; allowed: one detection window
    // (the poll interval's order, as before commit timestamps bounded the headline).
    let resolution_us = run.sinks[&Sink::Path2]
        .detection_window_us
        .unwrap_or(100_000) as f64;
    for (name, h, d, c) in [
        ("p50", harness.p50, disc[0], cont[0]),
        ("p99", harness.p99, disc[1], cont[1]),
    ] {
        let h = h as f64;
        assert!(
            h >= d.floor() && h <= d * 1.001 + 1.0,
            "{name}: harness {h} µs, PostgreSQL percentile_disc {d} µs: not the same rank"
        );
        assert!(
            (h - c).abs() <= resolution_us,
            "{name}: harness {h} µs, PostgreSQL percentile_cont {c} µs: further apart than {resolution_us} µs"
        );
    }
}
