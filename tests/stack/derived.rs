//! Freshness of derived data on the native stack (`scripts/stack.sh up`):
//! probe sales (store 999) through the pipeline into the per-store daily
//! views, the PostgreSQL materialized views the stack refreshes every
//! `MATVIEW_REFRESH_INTERVAL` seconds, and the analytics topic; and the
//! reads-under-load queries. Two runs of 30 s each. A stack that is not
//! running makes these tests fail (exit 3), never skip.

use crate::support;
use crate::support::stack_check;

use crate::support::{assert_exit, only_run, run_scenario};
use tpcds_bench::model::{OpKind, Sink};
use tpcds_bench::report::RunData;
use tpcds_bench::stats::{LatencySummary, Series};

/// The stack's refresh interval (scripts/stack/lib.sh default), seconds.
fn refresh_interval_s() -> f64 {
    std::env::var("MATVIEW_REFRESH_INTERVAL")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2.0)
}

/// Latency (µs) at quantile `q` of a sink's insert series.
fn quantile(run: &RunData, sink: Sink, q: f64) -> f64 {
    let h = run
        .stats
        .total(Series::Sink(sink, OpKind::Insert))
        .unwrap_or_else(|| panic!("{sink}: no latency recorded"));
    h.value_at_quantile(q) as f64
}

fn assert_all_probes_seen(run: &RunData, sink: Sink) {
    let a = &run.sinks[&sink].accounting;
    assert!(a.seen >= 50, "{sink}: only {} probes seen", a.seen);
    assert_eq!(a.missing, 0, "{sink}: missing {:?}", a.missing_keys);
    assert_eq!(a.unexpected, 0, "{sink}: unexpected");
}

const SHORT: [&str; 4] = [
    "duration=30s",
    "warmup=5s",
    "drain_timeout=40s",
    "derived.probes_per_second=4",
];

#[test]
fn plain_view_freshness_agrees_with_its_path_and_metrics_and_queries_are_reported() {
    let _turn = crate::support::turn();
    stack_check::require();
    support::warm_up_pipeline();
    let out = tempfile::tempdir().unwrap();
    let o = run_scenario("derived.toml", &SHORT, out.path());
    assert_exit(&o, 0);
    let loaded = only_run(out.path());
    let (run, dir) = (loaded.run, loaded.dir);
    for sink in [Sink::Path1, Sink::Path2] {
        let a = &run.sinks[&sink].accounting;
        assert_eq!(a.missing, 0, "{sink}: missing {:?}", a.missing_keys);
    }
    // Two independent pollers of the same rows: the view's freshness and the
    // path's latency differ by at most their resolutions (one poll interval
    // each) plus the polls' own duration, with margin for a loaded box.
    for (view, path) in [
        (Sink::Path1View, Sink::Path1),
        (Sink::Path2View, Sink::Path2),
    ] {
        assert_all_probes_seen(&run, view);
        // The path's headline is its commit time, the view's a poll: their
        // detection windows bound the difference.
        let res = run.sinks[&view].detection_window_us.expect("a polled sink") as f64
            + run.sinks[&path].detection_window_us.expect("a polled sink") as f64;
        let (v, p) = (quantile(&run, view, 0.5), quantile(&run, path, 0.5));
        assert!(
            (v - p).abs() <= res + 150_000.0,
            "{view} p50 {v} µs vs {path} p50 {p} µs: more apart than the resolutions ({res} µs)"
        );
    }
    // The analytics topic: every probe found in a window result, within about
    // a window (10 s) plus the pipeline; window end → result read is recorded.
    assert_all_probes_seen(&run, Sink::Metrics);
    let m = LatencySummary::from_option(run.stats.sink_total(Sink::Metrics).as_ref());
    assert!(m.max < 30_000_000, "metrics freshness max {} µs", m.max);
    let w = run.stats.summary(Series::SinkServer(Sink::Metrics));
    assert!(w.count > 0, "no window end → result latency");
    assert!(w.p50 < 10_000_000, "window end → result p50 {} µs", w.p50);
    // Reads under load: each query ran about once a second and answered.
    for q in Sink::QUERIES {
        let a = &run.sinks[&q].accounting;
        assert!(a.seen >= 20, "{q}: {} executions", a.seen);
        assert_eq!(a.missing, 0, "{q}: failed executions");
        assert!(run.stats.sink_total(q).is_some(), "{q}: no latency");
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    for key in ["path1_view", "metrics", "q_top_items"] {
        assert!(
            json["sinks"][key]["latency_us"]["p50"].is_number(),
            "summary.json sinks.{key}"
        );
    }
    let csv = std::fs::read_to_string(dir.join("latency.csv")).unwrap();
    assert!(
        csv.contains("path2_view") && csv.contains("q_store_returns"),
        "{csv}"
    );
    // compare and gate treat derived sinks like any other: a run gated
    // against itself passes, with a row per derived sink.
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_tpcds-bench"))
        .arg("gate")
        .arg("--baseline")
        .arg(&dir)
        .arg("--current")
        .arg(&dir)
        .output()
        .expect("the binary runs");
    assert_exit(&o, 0);
    let md = String::from_utf8_lossy(&o.stdout);
    for sink in [
        "path1_view",
        "path2_view",
        "metrics",
        "q_store_returns",
        "q_top_items",
    ] {
        assert!(
            md.contains(&format!("| {sink} |")),
            "gate row for {sink}:\n{md}"
        );
    }
}

#[test]
fn matview_freshness_spans_path_latency_to_path_latency_plus_the_refresh_interval() {
    let _turn = crate::support::turn();
    stack_check::require();
    support::warm_up_pipeline();
    let out = tempfile::tempdir().unwrap();
    let mut sets = SHORT.to_vec();
    sets.extend([
        "derived.relation=\"matview\"",
        "observe.sinks=[\"kafka\",\"path1\",\"path2\",\"path1_view\",\"path2_view\"]",
    ]);
    let o = run_scenario("derived.toml", &sets, out.path());
    assert_exit(&o, 0);
    let run = only_run(out.path()).run;
    let n = refresh_interval_s() * 1e6;
    for (view, path) in [
        (Sink::Path1View, Sink::Path1),
        (Sink::Path2View, Sink::Path2),
    ] {
        assert_all_probes_seen(&run, view);
        let q = |s, x| quantile(&run, s, x);
        let (v10, v50, v90) = (q(view, 0.1), q(view, 0.5), q(view, 0.9));
        let (p10, p50, p90) = (q(path, 0.1), q(path, 0.5), q(path, 0.9));
        let shape = format!(
            "{view} p10/p50/p90 {v10}/{v50}/{v90} µs, {path} {p10}/{p50}/{p90} µs, refresh every {n} µs"
        );
        // A probe waits for the next refresh after it lands: uniform in
        // [0, N], plus one refresh's duration (≤ ~1.5 s on a loaded box).
        assert!(v10 >= p10, "not later than the path: {shape}");
        assert!(v50 >= p50 + 0.2 * n, "no refresh wait: {shape}");
        assert!(
            v90 <= p90 + n + 2_000_000.0,
            "later than path + N + a refresh: {shape}"
        );
        assert!(v90 - v10 >= 0.4 * n, "does not span the interval: {shape}");
    }
}
