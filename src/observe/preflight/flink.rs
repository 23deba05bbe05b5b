//! Flink checks: the REST API answers and the pipeline's jobs are RUNNING.
//!
//! What it reports goes into every run's `environment` (summary.json, .md,
//! report.html), so it reports the pipeline's jobs only, never other jobs on
//! a shared cluster, and of their settings only the ones the fingerprint
//! compares ([`FINGERPRINT_SETTINGS`]): a job's parameters may hold passwords.
//!
//! REST GETs go through the process's one client ([`crate::targets::flink`]).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::TargetReport;
use crate::targets::flink::get;

const START_FLINK: &str =
    "start Flink and submit the jobs (scripts/stack.sh up) or fix the Flink URL \
                           (TPCDS_FLINK_URL)";

/// The job parameters reported as `setting.<name>`: the ones the stack's jobs
/// declare as `pipeline.global-job-parameters` (flink-sql/*.sql) because they
/// set a latency floor, and `compare`/`gate` fingerprint. Anything else a job
/// carries is left out: it may be a password.
pub const FINGERPRINT_SETTINGS: [&str; 13] = [
    "checkpoint.interval",
    "cdc.debezium.poll.interval.ms",
    "cdc.debezium.connect.keep.alive.interval.ms",
    "kafka.sink.delivery-guarantee",
    "kafka.properties.linger.ms",
    // The changelog format of path 1's topics (KAFKA_FORMAT): not a latency
    // floor but the encoding's cost, and what the Kafka observer must decode.
    super::format::KAFKA_FORMAT_SETTING,
    "path1.sink.buffer-flush.interval",
    "path1.sink.buffer-flush.max-rows",
    "path2.sink.buffer-flush.interval",
    "path2.sink.buffer-flush.max-rows",
    // What moves a snapshot's figures (issue 28): the jobs' parallelism and
    // the CDC source's chunk and fetch sizes.
    "parallelism",
    "cdc.scan.incremental.snapshot.chunk.size",
    "cdc.scan.snapshot.fetch.size",
];

/// One job as `/jobs/overview` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlinkJob {
    /// Job id.
    pub jid: String,
    /// `pipeline.name`.
    pub name: String,
    /// `RUNNING`, `FAILED`, `CANCELED`, `RESTARTING`, …
    pub state: String,
    /// Submission time, epoch ms.
    #[serde(rename = "start-time", default)]
    pub start_time: i64,
}

#[derive(Deserialize)]
struct Overview {
    jobs: Vec<FlinkJob>,
}

/// Checks the Flink REST API at `base_url` and that each job in `expected` is
/// RUNNING (when `expected` is empty: that at least one job is).
pub async fn check_flink(base_url: &str, expected: &[String], timeout: Duration) -> TargetReport {
    let mut report = TargetReport::new("flink", crate::redact::redact_url(base_url));
    let body = match get(base_url, "/jobs/overview", timeout).await {
        Ok((200, body)) => body,
        Ok((status, body)) => {
            report.reachable = true;
            let text = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
            report.problem(
                format!("GET /jobs/overview answered {status}: {text}"),
                START_FLINK,
            );
            return report;
        }
        Err(e) => {
            report.problem(format!("cannot reach it: {e}"), START_FLINK);
            return report;
        }
    };
    report.reachable = true;
    match serde_json::from_slice::<Overview>(&body) {
        Ok(o) => {
            evaluate_jobs(&o.jobs, expected, &mut report);
            let pipeline: Vec<FlinkJob> = o
                .jobs
                .into_iter()
                .filter(|j| expected.contains(&j.name))
                .collect();
            job_settings(base_url, &pipeline, timeout, &mut report).await;
        }
        Err(e) => report.problem(
            format!("/jobs/overview is not the expected JSON: {e}"),
            START_FLINK,
        ),
    }
    report
}

#[derive(Deserialize)]
struct JobConfig {
    #[serde(rename = "execution-config")]
    execution: ExecutionConfig,
}

#[derive(Deserialize)]
struct ExecutionConfig {
    #[serde(rename = "user-config", default)]
    user: BTreeMap<String, String>,
}

/// Adds a `setting.<name>` fact per [`FINGERPRINT_SETTINGS`] entry that one of
/// the RUNNING `jobs` (the pipeline's) declares: the stack's jobs declare the
/// settings that set their latency floor (JDBC flush interval and max rows,
/// checkpoint interval, delivery guarantee, linger, CDC poll interval) as
/// `pipeline.global-job-parameters`, which `GET /jobs/<id>/config` returns.
/// Jobs that disagree on a name list every value.
async fn job_settings(
    base_url: &str,
    jobs: &[FlinkJob],
    timeout: Duration,
    report: &mut TargetReport,
) {
    let mut settings: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for job in jobs.iter().filter(|j| j.state == "RUNNING") {
        let Ok((200, body)) = get(base_url, &format!("/jobs/{}/config", job.jid), timeout).await
        else {
            continue;
        };
        if let Ok(c) = serde_json::from_slice::<JobConfig>(&body) {
            for (k, v) in c.execution.user {
                if FINGERPRINT_SETTINGS.contains(&k.as_str()) {
                    settings.entry(k).or_default().insert(v);
                }
            }
        }
    }
    for (k, values) in settings {
        let values: Vec<String> = values.into_iter().collect();
        report.fact(&format!("setting.{k}"), values.join(" | "));
    }
}

/// Whether a job state is final (a resubmitted job leaves such ancestors in the list).
fn terminal(state: &str) -> bool {
    matches!(state, "FAILED" | "CANCELED" | "FINISHED")
}

/// The job instance that tells a name's story: a RUNNING one, else the latest
/// non-terminal one, else the latest.
fn current<'a>(jobs: &'a [FlinkJob], name: &str) -> Option<&'a FlinkJob> {
    let mine = || jobs.iter().filter(move |j| j.name == name);
    mine()
        .find(|j| j.state == "RUNNING")
        .or_else(|| {
            mine()
                .filter(|j| !terminal(&j.state))
                .max_by_key(|j| j.start_time)
        })
        .or_else(|| mine().max_by_key(|j| j.start_time))
}

/// Adds one fact per expected job name (its current instance; other jobs on
/// the cluster are none of the run's business) and a problem per expected job
/// that is not RUNNING.
fn evaluate_jobs(jobs: &[FlinkJob], expected: &[String], report: &mut TargetReport) {
    let mut names: Vec<&str> = jobs
        .iter()
        .map(|j| j.name.as_str())
        .filter(|n| expected.iter().any(|e| e == n))
        .collect();
    names.sort_unstable();
    names.dedup();
    for name in names {
        if let Some(j) = current(jobs, name) {
            let older = jobs.iter().filter(|o| o.name == name).count() - 1;
            let history = if older > 0 {
                format!(", {older} older instance(s)")
            } else {
                String::new()
            };
            report.fact(
                &format!("job {name}"),
                format!("{} ({}{history})", j.state, j.jid),
            );
        }
    }
    if expected.is_empty() {
        if !jobs.iter().any(|j| j.state == "RUNNING") {
            report.problem("no Flink job is RUNNING", START_FLINK);
        }
        return;
    }
    for name in expected {
        let problem = match current(jobs, name) {
            Some(j) if j.state == "RUNNING" => continue,
            Some(j) if !terminal(&j.state) => {
                report.problem(
                    format!("job {name} is {} (not RUNNING yet)", j.state),
                    "see the Flink dashboard and log (scripts/stack.sh logs flink-jobmanager)",
                );
                continue;
            }
            Some(j) => format!("job {name} is not running (last state {})", j.state),
            None => format!("job {name} was never submitted"),
        };
        // Said as a run's report says a fault's undo that failed: what is
        // down, and the exact command that brings it back.
        let (down, restore) =
            crate::faults::restore::job_advice(name, current(jobs, name).map(|j| j.state.as_str()));
        report.problem(
            format!("{problem}: the pipeline is left changed: {down}"),
            format!("restore it with: {restore}"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(name: &str, state: &str) -> FlinkJob {
        timed(name, state, 0)
    }

    fn timed(name: &str, state: &str, start_time: i64) -> FlinkJob {
        FlinkJob {
            jid: format!("id-{name}-{state}"),
            name: name.to_string(),
            state: state.to_string(),
            start_time,
        }
    }

    fn report() -> TargetReport {
        let mut r = TargetReport::new("flink", "http://127.0.0.1:8081");
        r.reachable = true;
        r
    }

    #[test]
    fn all_expected_running_is_fine() {
        let mut r = report();
        let jobs = vec![
            job("a", "CANCELED"),
            job("a", "RUNNING"),
            job("b", "RUNNING"),
        ];
        evaluate_jobs(&jobs, &["a".into(), "b".into()], &mut r);
        assert!(r.ok(), "{:?}", r.problems);
        assert_eq!(r.facts.len(), 2);
        assert_eq!(r.facts[0].1, "RUNNING (id-a-RUNNING, 1 older instance(s))");
    }

    #[test]
    fn missing_restarting_and_failed_jobs_are_problems() {
        let mut r = report();
        let jobs = vec![
            job("a", "RESTARTING"),
            timed("b", "FAILED", 2),
            timed("b", "CANCELED", 1),
        ];
        evaluate_jobs(&jobs, &["a".into(), "b".into(), "c".into()], &mut r);
        let p: Vec<&str> = r.problems.iter().map(|d| d.problem.as_str()).collect();
        assert_eq!(
            p,
            vec![
                "job a is RESTARTING (not RUNNING yet)",
                "job b is not running (last state FAILED): the pipeline is left changed: the Flink job b is stopped",
                "job c was never submitted: the pipeline is left changed: the Flink job c is stopped"
            ]
        );
        assert!(r.problems[1].what_to_do.starts_with("restore it with: "));
        assert!(
            r.problems[1].what_to_do.ends_with("stack.sh heal"),
            "{:?}",
            r.problems[1]
        );
        assert!(
            r.problems[2].what_to_do.ends_with("stack.sh up"),
            "{:?}",
            r.problems[2]
        );
    }

    // A paused job (stopped with a savepoint) is reported as a run's report
    // reports a failed resume: what is down and the command that resumes it.
    #[test]
    fn a_stopped_pipeline_job_says_what_is_down_and_how_to_resume_it() {
        let mut r = report();
        let name = "tpcds-kafka-to-cloudberry".to_string();
        evaluate_jobs(&[job(&name, "FINISHED")], &[name], &mut r);
        let d = &r.problems[0];
        assert!(
            d.problem.ends_with("the Flink job tpcds-kafka-to-cloudberry is stopped, so no row reaches the warehouse by path 1"),
            "{d:?}"
        );
        assert!(
            d.what_to_do
                .starts_with("restore it with: TPCDS_STACK_DIR="),
            "{d:?}"
        );
        assert!(
            d.what_to_do
                .ends_with("stack.sh resume kafka-to-cloudberry"),
            "{d:?}"
        );
    }

    #[test]
    fn without_expectations_one_running_job_suffices() {
        let mut r = report();
        evaluate_jobs(&[job("x", "RUNNING")], &[], &mut r);
        assert!(r.ok());
        let mut r = report();
        evaluate_jobs(&[job("x", "FAILED")], &[], &mut r);
        assert!(!r.ok());
    }

    /// A Flink REST API on a local port that answers from `routes` (path →
    /// JSON body), 404 otherwise; one connection per request.
    async fn fake_flink(routes: Vec<(String, String)>) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                let mut buf = vec![0u8; 4096];
                let mut n = 0;
                while !buf[..n].windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut buf[n..]).await {
                        Ok(0) | Err(_) => break,
                        Ok(k) => n += k,
                    }
                }
                let head = String::from_utf8_lossy(&buf[..n]).into_owned();
                let path = head.split_whitespace().nth(1).unwrap_or("").to_string();
                let (status, body) = match routes.iter().find(|(p, _)| *p == path) {
                    Some((_, b)) => ("200 OK", b.clone()),
                    None => ("404 Not Found", "{}".to_string()),
                };
                let answer = format!(
                    "HTTP/1.1 {status}\r\ncontent-length: {}\r\n\r\n{body}",
                    body.len()
                );
                let _ = s.write_all(answer.as_bytes()).await;
            }
        });
        url
    }

    #[tokio::test]
    async fn a_query_reaches_the_server_as_a_query() {
        let url = fake_flink(vec![(
            "/jobs/j/metrics?get=numRestarts".into(),
            r#"[{"id":"numRestarts","value":"3"}]"#.into(),
        )])
        .await;
        let (status, body) = get(
            &format!("{url}/"),
            "/jobs/j/metrics?get=numRestarts",
            Duration::from_secs(5),
        )
        .await
        .unwrap();
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        assert!(String::from_utf8_lossy(&body).contains("\"3\""));
    }

    fn config(user: serde_json::Value) -> String {
        serde_json::json!({"execution-config": {"user-config": user}}).to_string()
    }

    // Issue 22: every job's every parameter on a shared cluster used to land
    // in the run's environment (summary.json, .md, report.html).
    #[tokio::test]
    async fn only_the_pipelines_jobs_and_fingerprinted_settings_are_reported() {
        let overview = serde_json::json!({"jobs": [
            {"jid": "p1", "name": "tpcds-kafka-to-cloudberry", "state": "RUNNING", "start-time": 1},
            {"jid": "o1", "name": "customer-etl", "state": "RUNNING", "start-time": 1},
        ]});
        let url = fake_flink(vec![
            ("/jobs/overview".into(), overview.to_string()),
            (
                "/jobs/p1/config".into(),
                config(serde_json::json!({
                    "checkpoint.interval": "5s",
                    "path1.sink.buffer-flush.interval": "100ms",
                    "path1.sink.password": "hunter2",
                    "debug.dump-url": "postgres://u:hunter2@h/db",
                })),
            ),
            (
                "/jobs/o1/config".into(),
                config(serde_json::json!({
                    "checkpoint.interval": "1min",
                    "s3.secret-key": "hunter2",
                })),
            ),
        ])
        .await;
        let r = check_flink(
            &url,
            &["tpcds-kafka-to-cloudberry".into()],
            Duration::from_secs(5),
        )
        .await;
        assert!(r.ok(), "{:?}", r.problems);
        let facts: BTreeMap<&str, &str> = r
            .facts
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            facts.keys().copied().collect::<Vec<_>>(),
            [
                "job tpcds-kafka-to-cloudberry",
                "setting.checkpoint.interval",
                "setting.path1.sink.buffer-flush.interval"
            ],
            "{facts:?}"
        );
        assert_eq!(facts["setting.checkpoint.interval"], "5s");
        assert!(!format!("{r:?}").contains("hunter2"), "{r:?}");
    }
}
