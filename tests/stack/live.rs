//! The live endpoint end to end (issue 25): a short run with
//! `--metrics-addr`, scraped by the native stack's real Prometheus
//! (`scripts/stack.sh up` runs it, scraping 127.0.0.1:$HARNESS_METRICS_PORT
//! every 2 s). Prometheus' HTTP API must return the harness's series and
//! Flink's and Kafka's for the run's time range, the harness's p99 there must
//! agree with summary.json within a bucket, and every metric the Grafana
//! dashboard queries must exist. A stack (or a Prometheus) that is not
//! running fails these tests, never skips them.

use crate::support::stack_check;

use std::collections::BTreeSet;
use std::path::Path;

use crate::support::{assert_exit, only_run, run_scenario_with};
use serde_json::Value;
use tpcds_bench::live::BUCKETS_SECONDS;
use tpcds_bench::model::Sink;

fn port(var: &str, default: u16) -> u16 {
    std::env::var(var)
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(default)
}

/// Prometheus' HTTP API (`PROMETHEUS_PORT`, as scripts/stack/prometheus.sh).
struct Prom {
    base: String,
    rt: tokio::runtime::Runtime,
}

impl Prom {
    fn new() -> Self {
        let p = Prom {
            base: format!("http://127.0.0.1:{}", port("PROMETHEUS_PORT", 9090)),
            rt: tokio::runtime::Runtime::new().unwrap(),
        };
        let ready = p.rt.block_on(async {
            reqwest::get(format!("{}/-/ready", p.base))
                .await
                .map(|r| r.status().is_success())
                .unwrap_or(false)
        });
        assert!(
            ready,
            "Prometheus is not answering at {}: scripts/stack.sh up starts it (STACK_PROMETHEUS=1)",
            p.base
        );
        p
    }

    fn api(&self, path: &str, params: &[(&str, String)]) -> Value {
        let url =
            url::Url::parse_with_params(&format!("{}/api/v1/{path}", self.base), params).unwrap();
        let text = self.rt.block_on(async {
            reqwest::get(url.clone())
                .await
                .unwrap_or_else(|e| panic!("{url}: {e}"))
                .text()
                .await
                .unwrap()
        });
        let body: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{url}: {e}: {text}"));
        assert_eq!(body["status"], "success", "{url}: {body}");
        body["data"].clone()
    }

    /// The instant vector of `q` at `time` (unix seconds): (labels, value).
    fn query(&self, q: &str, time: f64) -> Vec<(Value, f64)> {
        let d = self.api(
            "query",
            &[("query", q.to_string()), ("time", format!("{time:.3}"))],
        );
        d["result"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["metric"].clone(),
                    r["value"][1].as_str().unwrap().parse().unwrap(),
                )
            })
            .collect()
    }

    /// One value of `q` at `time`; fails when there is none.
    fn one(&self, q: &str, time: f64) -> f64 {
        let r = self.query(q, time);
        assert_eq!(r.len(), 1, "{q}: {r:?}");
        r[0].1
    }

    /// Names of the series matching `selector` between `start` and `end`.
    fn series(&self, selector: &str, start: f64, end: f64) -> Vec<Value> {
        let d = self.api(
            "series",
            &[
                ("match[]", selector.to_string()),
                ("start", format!("{start:.3}")),
                ("end", format!("{end:.3}")),
            ],
        );
        d.as_array().unwrap().clone()
    }
}

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// The metric names a PromQL expression reads (the project's prefixes;
/// label matchers and strings removed first).
fn metric_names(expr: &str) -> BTreeSet<String> {
    let mut plain = String::new();
    let (mut depth, mut quoted) = (0, false);
    for c in expr.chars() {
        match c {
            '"' => quoted = !quoted,
            '{' if !quoted => depth += 1,
            '}' if !quoted => depth -= 1,
            _ if quoted || depth > 0 => {}
            _ => plain.push(c),
        }
    }
    let re_start = |w: &str| {
        ["tpcds_", "flink_", "kafka_", "mysql_", "pg_"]
            .iter()
            .any(|p| w.starts_with(p))
    };
    plain
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .filter(|w| re_start(w))
        .map(str::to_string)
        .collect()
}

/// Every `expr` of the dashboard's panels.
fn dashboard_exprs(path: &Path) -> Vec<String> {
    let d: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut out = Vec::new();
    for p in d["panels"].as_array().expect("panels") {
        for t in p["targets"].as_array().into_iter().flatten() {
            if let Some(e) = t["expr"].as_str() {
                out.push(e.to_string());
            }
        }
    }
    out
}

#[test]
fn prometheus_scrapes_a_run_and_agrees_with_its_summary() {
    let _turn = crate::support::turn();
    stack_check::require();
    let prom = Prom::new();
    let out = tempfile::tempdir().unwrap();
    let addr = format!("127.0.0.1:{}", port("HARNESS_METRICS_PORT", 9464));
    let start = now();
    // Lingering 3 scrape intervals: the last scrapes see the final figures.
    let o = run_scenario_with(
        "quickstart.toml",
        &["--metrics-addr", &addr],
        &["duration=25s", "warmup=5s", "live.linger=6s"],
        out.path(),
    );
    // An SLO breached on a loaded machine (exit 1) is not what this checks.
    if o.status.code() != Some(1) {
        assert_exit(&o, 0);
    }
    let end = now();
    let summary = only_run(out.path()).summary;
    let name = &summary.scenario;

    // The run was watched through its phases, ending in `done`.
    // (A drain can end between two scrapes when nothing lags: not required.)
    for phase in ["warmup", "load", "done"] {
        let q = format!(
            r#"max_over_time(tpcds_run_phase{{run="{name}",phase="{phase}"}}[{:.0}s])"#,
            end - start + 1.0
        );
        assert_eq!(prom.one(&q, end), 1.0, "phase {phase} never scraped");
    }
    // Harness series: latency, seen, rate.
    let achieved = prom.one(
        &format!(
            r#"max_over_time(tpcds_achieved_rate_rows_per_second{{run="{name}"}}[{:.0}s])"#,
            end - start + 1.0
        ),
        end,
    );
    assert!(
        achieved >= 0.9 * summary.target_rate,
        "achieved {achieved} vs target {}",
        summary.target_rate
    );
    for sink in [Sink::Binlog, Sink::Kafka, Sink::Path1, Sink::Path2] {
        let s = &summary.sinks[&sink];
        let acc = &s.accounting;
        let sel = format!(r#"{{run="{name}",sink="{}"}}"#, sink.name());
        let seen = prom.one(&format!("tpcds_rows_seen_total{sel}"), end) as u64;
        let missing = prom.one(&format!("tpcds_rows_missing{sel}"), end) as u64;
        // The same rows expected; a polled sink's deletes that only the
        // end-of-run absence check confirms (after the last scrape) move
        // from missing to seen in summary.json.
        assert_eq!(
            seen + missing,
            acc.seen + acc.missing,
            "{sink}: rows expected"
        );
        if matches!(sink, Sink::Path1 | Sink::Path2) {
            assert!(
                seen <= acc.seen,
                "{sink}: seen {seen} > summary.json {}",
                acc.seen
            );
        } else {
            assert_eq!(
                (seen, missing),
                (acc.seen, acc.missing),
                "{sink}: seen, missing"
            );
        }
        // p99: Prometheus' estimate lies in a bucket; summary.json's p99 must
        // lie in the same one (its bounds are the resolution).
        let p99 = s.latency_us.p99 as f64 / 1e6;
        let est = prom.one(
            &format!("histogram_quantile(0.99, tpcds_latency_seconds_bucket{sel})"),
            end,
        );
        let hi_idx = BUCKETS_SECONDS.partition_point(|&b| b < est);
        let hi = BUCKETS_SECONDS[hi_idx.min(BUCKETS_SECONDS.len() - 1)];
        let lo = if hi_idx == 0 {
            0.0
        } else {
            BUCKETS_SECONDS[hi_idx - 1]
        };
        assert!(
            lo <= p99 && p99 <= hi,
            "{sink}: summary.json p99 {p99}s outside Prometheus' bucket ({lo}, {hi}] (estimate {est}s)"
        );
        let count = prom.one(&format!("tpcds_latency_seconds_count{sel}"), end);
        assert_eq!(count as u64, s.latency_us.count, "{sink}: latency samples");
    }
    // Flink's and Kafka's series for the run's time range.
    for selector in [
        r#"{__name__="flink_taskmanager_job_task_busyTimeMsPerSecond"}"#,
        r#"{__name__="flink_jobmanager_job_lastCheckpointDuration"}"#,
        r#"{__name__=~"kafka_server_brokertopicmetrics_.*",topic="tpcds.store_sales"}"#,
    ] {
        assert!(
            !prom.series(selector, start, end).is_empty(),
            "no {selector} during the run"
        );
    }
    // Every metric the dashboard queries is in this Prometheus.
    let dashboard =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("docker/grafana/dashboards/tpcds-bench.json");
    let exprs = dashboard_exprs(&dashboard);
    assert!(
        exprs.len() >= 8,
        "the dashboard has {} queries",
        exprs.len()
    );
    let names: BTreeSet<String> = exprs.iter().flat_map(|e| metric_names(e)).collect();
    let absent: Vec<&String> = names
        .iter()
        .filter(|n| {
            prom.series(&format!(r#"{{__name__="{n}"}}"#), start, end)
                .is_empty()
        })
        .collect();
    assert!(
        absent.is_empty(),
        "the dashboard queries metrics Prometheus does not have: {absent:?}"
    );
}

#[test]
fn metric_names_are_read_from_promql() {
    let _turn = crate::support::turn();
    let e = r#"histogram_quantile(0.99, sum by (le, sink) (rate(tpcds_latency_seconds_bucket{sink=~"path1|tpcds_x"}[30s]))) / on() group_left flink_jobmanager_numRunningJobs"#;
    let want: BTreeSet<String> = [
        "tpcds_latency_seconds_bucket",
        "flink_jobmanager_numRunningJobs",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(metric_names(e), want);
}
