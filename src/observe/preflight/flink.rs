//! Flink checks: the REST API answers and the pipeline's jobs are RUNNING.
//!
//! What it reports goes into every run's `environment` (summary.json, .md,
//! report.html), so it reports the pipeline's jobs only, never other jobs on
//! a shared cluster, and of their settings only the ones the fingerprint
//! compares ([`FINGERPRINT_SETTINGS`]): a job's parameters may hold passwords.
//!
//! One plain HTTP/1.1 GET of `/jobs/overview` over a tokio `TcpStream`: the
//! harness needs nothing else from Flink, so no HTTP client crate is pulled in.
//! Only `http://` is supported (the REST endpoint of a local cluster).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::TargetReport;

const START_FLINK: &str =
    "start Flink and submit the jobs (scripts/stack.sh up) or fix the Flink URL \
                           (TPCDS_FLINK_URL)";

/// The job parameters reported as `setting.<name>`: the ones the stack's jobs
/// declare as `pipeline.global-job-parameters` (flink-sql/*.sql) because they
/// set a latency floor, and `compare`/`gate` fingerprint. Anything else a job
/// carries is left out: it may be a password.
pub const FINGERPRINT_SETTINGS: [&str; 9] = [
    "checkpoint.interval",
    "cdc.debezium.poll.interval.ms",
    "cdc.debezium.connect.keep.alive.interval.ms",
    "kafka.sink.delivery-guarantee",
    "kafka.properties.linger.ms",
    "path1.sink.buffer-flush.interval",
    "path1.sink.buffer-flush.max-rows",
    "path2.sink.buffer-flush.interval",
    "path2.sink.buffer-flush.max-rows",
];

/// Most bytes read from the REST answer (the overview of a few jobs is a few KB).
const MAX_RESPONSE: usize = 4 << 20;

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
                format!("job {name} is {} (not RUNNING yet)", j.state)
            }
            Some(j) => format!("job {name} is not running (last state {})", j.state),
            None => format!("job {name} was never submitted"),
        };
        report.problem(
            problem,
            "see the Flink dashboard and log (scripts/stack.sh logs flink-jobmanager); scripts/stack.sh up resubmits missing jobs",
        );
    }
}

/// A plain HTTP/1.1 GET; returns (status, body).
pub(crate) async fn get(
    base_url: &str,
    path: &str,
    timeout: Duration,
) -> Result<(u16, Vec<u8>), String> {
    let url = url::Url::parse(base_url).map_err(|e| format!("not a URL: {e}"))?;
    if url.scheme() != "http" {
        return Err(format!(
            "only http:// is supported, not {}://",
            url.scheme()
        ));
    }
    let host = url.host_str().ok_or("URL has no host")?.to_string();
    let port = url.port_or_known_default().unwrap_or(80);
    let full_path = format!("{}{path}", url.path().trim_end_matches('/'));
    let request = format!(
        "GET {full_path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: application/json\r\nConnection: close\r\n\r\n"
    );
    let io = async {
        let mut stream = TcpStream::connect((host.as_str(), port)).await?;
        stream.write_all(request.as_bytes()).await?;
        let mut buf = Vec::new();
        (&mut stream)
            .take(MAX_RESPONSE as u64)
            .read_to_end(&mut buf)
            .await?;
        Ok::<_, std::io::Error>(buf)
    };
    let raw = tokio::time::timeout(timeout, io)
        .await
        .map_err(|_| format!("no answer within {timeout:?}"))?
        .map_err(|e| e.to_string())?;
    parse_response(&raw)
}

/// Splits a raw HTTP/1.1 response into status and (de-chunked) body.
fn parse_response(raw: &[u8]) -> Result<(u16, Vec<u8>), String> {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("truncated HTTP response (no header end)")?;
    let head = std::str::from_utf8(&raw[..split]).map_err(|_| "HTTP header is not UTF-8")?;
    let body = &raw[split + 4..];
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad HTTP status line {status_line:?}"))?;
    let mut chunked = false;
    let mut length = None;
    for line in lines {
        if let Some((k, v)) = line.split_once(':') {
            let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
            if k == "transfer-encoding" && v.to_ascii_lowercase().contains("chunked") {
                chunked = true;
            } else if k == "content-length" {
                length = v.parse::<usize>().ok();
            }
        }
    }
    let body = if chunked {
        dechunk(body)?
    } else {
        match length {
            Some(n) if n <= body.len() => body[..n].to_vec(),
            Some(n) => return Err(format!("truncated body: {} of {n} bytes", body.len())),
            None => body.to_vec(),
        }
    };
    Ok((status, body))
}

/// Decodes a `Transfer-Encoding: chunked` body.
fn dechunk(mut body: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let eol = body
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("truncated chunk size")?;
        let size_text = std::str::from_utf8(&body[..eol]).map_err(|_| "bad chunk size")?;
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| format!("bad chunk size {size_text:?}"))?;
        body = &body[eol + 2..];
        if size == 0 {
            return Ok(out);
        }
        if body.len() < size + 2 {
            return Err("truncated chunk".to_string());
        }
        out.extend_from_slice(&body[..size]);
        body = &body[size + 2..];
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
    fn parses_content_length_and_chunked_responses() {
        let raw = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n{\"jobs\":[]}";
        assert_eq!(
            parse_response(raw).unwrap(),
            (200, b"{\"jobs\":[]}".to_vec())
        );
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"jo\r\n7;x=y\r\nbs\":[]}\r\n0\r\n\r\n";
        assert_eq!(
            parse_response(raw).unwrap(),
            (200, b"{\"jobs\":[]}".to_vec())
        );
        let raw = b"HTTP/1.1 404 Not Found\r\ncontent-length: 2\r\n\r\n{}";
        assert_eq!(parse_response(raw).unwrap().0, 404);
        assert!(parse_response(b"HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\n{}").is_err());
        assert!(parse_response(b"garbage").is_err());
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
                "job b is not running (last state FAILED)",
                "job c was never submitted"
            ]
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
