//! Is the native stack up? Every stack-backed test asks first, so that on a
//! machine without the stack it fails at once with one message saying what
//! to do, instead of waiting out a visibility timeout or (as a fault test's
//! clean-up once did) running `scripts/stack.sh up`, which installs packages,
//! downloads Flink and Kafka and starts six daemons. CI (`.ci/run` →
//! `scripts/test.sh`) brings the stack up before `cargo test`, so there every
//! such test runs.
//!
//! Healthy = MySQL, Kafka, the warehouse and Flink's REST API accept a TCP
//! connection (2 s each), and the pipeline's four Flink jobs are RUNNING.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::OnceLock;
use std::time::Duration;

use tpcds_bench::observe::preflight::DEFAULT_FLINK_JOBS;

/// The first words of every failure for a stack that is not there.
pub const NOT_RUNNING: &str = "the native stack is not running: run scripts/stack.sh up";

/// How long one endpoint may take to accept a connection.
const CONNECT: Duration = Duration::from_secs(2);

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

/// `host:port` of a URL, with `default_port` when it names none.
pub fn host_port(url: &str, default_port: u16) -> Option<String> {
    let u = url::Url::parse(url).ok()?;
    Some(format!(
        "{}:{}",
        u.host_str()?,
        u.port().unwrap_or(default_port)
    ))
}

/// The endpoints the tests use (same variables and defaults as the harness).
pub fn endpoints() -> Vec<(&'static str, String)> {
    let mysql = env(
        "TPCDS_MYSQL_URL",
        "mysql://root:root123@127.0.0.1:3306/business_db",
    );
    let warehouse = env(
        "TPCDS_WAREHOUSE_URL",
        "postgres://gpadmin:gpadmin@127.0.0.1:5432/tpcds",
    );
    let kafka = env("TPCDS_KAFKA_BROKERS", "127.0.0.1:9092");
    let flink = env("TPCDS_FLINK_URL", "http://127.0.0.1:8081");
    vec![
        ("mysql", host_port(&mysql, 3306).unwrap_or(mysql)),
        ("kafka", kafka.split(',').next().unwrap_or("").to_string()),
        (
            "warehouse",
            host_port(&warehouse, 5432).unwrap_or(warehouse),
        ),
        ("flink", host_port(&flink, 80).unwrap_or(flink)),
    ]
}

fn connect(addr: &str) -> Result<TcpStream, String> {
    let sock = addr
        .to_socket_addrs()
        .map_err(|e| e.to_string())?
        .next()
        .ok_or("no address")?;
    TcpStream::connect_timeout(&sock, CONNECT).map_err(|e| e.to_string())
}

/// The pipeline's jobs not RUNNING according to a Flink `/jobs/overview` body.
pub fn jobs_not_running(overview: &str) -> Result<Vec<&'static str>, String> {
    let v: serde_json::Value =
        serde_json::from_str(overview).map_err(|e| format!("unreadable job overview: {e}"))?;
    let jobs = v["jobs"].as_array().cloned().unwrap_or_default();
    Ok(DEFAULT_FLINK_JOBS
        .into_iter()
        .filter(|name| {
            !jobs
                .iter()
                .any(|j| j["name"] == *name && j["state"] == "RUNNING")
        })
        .collect())
}

/// Flink's `/jobs/overview` over plain HTTP (no client library needed): the
/// body, read up to its `Content-Length` (or to the end of the connection).
fn overview(addr: &str) -> Result<String, String> {
    let mut s = connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    write!(
        s,
        "GET /jobs/overview HTTP/1.1\r\nHost: {addr}\r\nAccept: application/json\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut bytes = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = s.read(&mut buf).map_err(|e| e.to_string())?;
        bytes.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&bytes);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head.lines().find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse::<usize>().ok())
                    .flatten()
            });
            if n == 0 || length.is_some_and(|len| body.len() >= len) {
                if !head.starts_with("HTTP/1.1 200") && !head.starts_with("HTTP/1.0 200") {
                    return Err(head.lines().next().unwrap_or("").to_string());
                }
                return Ok(body.to_string());
            }
        } else if n == 0 {
            return Err("no HTTP answer".into());
        }
    }
}

/// Checks the stack now: `Err` says what is missing, starting with [`NOT_RUNNING`].
pub fn probe() -> Result<(), String> {
    probe_at(&endpoints())
}

/// [`probe`] of the given endpoints (MySQL, Kafka, warehouse, Flink REST, in
/// [`endpoints`]' order).
pub fn probe_at(eps: &[(&str, String)]) -> Result<(), String> {
    let mut problems = Vec::new();
    for (name, addr) in eps {
        if let Err(e) = connect(addr) {
            problems.push(format!("{name} at {addr}: {e}"));
        }
    }
    if problems.is_empty() {
        let flink = &eps[3].1;
        match overview(flink).and_then(|b| jobs_not_running(&b)) {
            Ok(missing) if missing.is_empty() => {}
            Ok(missing) => problems.push(format!("Flink jobs not RUNNING: {}", missing.join(", "))),
            Err(e) => problems.push(format!("flink jobs at {flink}: {e}")),
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{NOT_RUNNING} ({})", problems.join("; ")))
    }
}

/// Fails the calling test at once when the stack is not healthy; the answer
/// is checked once per test binary (a test that stops parts of the stack
/// calls [`probe`] itself).
pub fn require() {
    static HEALTHY: OnceLock<Result<(), String>> = OnceLock::new();
    if let Err(e) = HEALTHY.get_or_init(probe) {
        panic!("{e}");
    }
}

/// This checkout's `scripts/stack.sh`, as a command to add arguments to.
pub fn stack_script() -> std::process::Command {
    std::process::Command::new(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/stack.sh"),
    )
}

/// Ok when `script` (this checkout's `scripts/stack.sh`, see [`stack_script`])
/// controls `what` (a component or a job stem): the stack was started from
/// this checkout (or its `TPCDS_STACK_DIR`), so a test may stop `what` and
/// `scripts/stack.sh heal` can bring it back. A stack started elsewhere is
/// not this test's to stop: it fails before touching anything.
pub fn controls(what: &str, mut script: std::process::Command) -> Result<(), String> {
    let o = script
        .args(["can-control", what])
        .output()
        .map_err(|e| format!("scripts/stack.sh does not run: {e}"))?;
    if o.status.success() {
        return Ok(());
    }
    Err(format!(
        "this test stops {what} and must be able to bring it back, but this checkout's \
         scripts/stack.sh does not control the running stack (it was started from another \
         checkout or TPCDS_STACK_DIR): run the test there, or set TPCDS_STACK_DIR and \
         TPCDS_CACHE_DIR to that stack's. It said: {}",
        String::from_utf8_lossy(&o.stderr).trim()
    ))
}
