//! Ground truth: the harness's warehouse latency is the moment a row became
//! visible, to the millisecond, whatever the poll interval and whatever the
//! warehouse's clock says.
//!
//! The test stands in for the pipeline. For each row it takes the "commit ack"
//! itself, opens a transaction on the real PostgreSQL, inserts the row, sleeps
//! until `ack + D`, and commits: the row becomes visible during that COMMIT,
//! so its true latency lies between the COMMIT's send and its answer, both
//! measured (`[sent − ack, done − ack]`, about D plus a fraction of a
//! millisecond). The harness's observer, ledger and histograms run as in a
//! run, and every row's measured latency must lie in its own true interval,
//! widened by the printed uncertainty and 1 ms:
//! - at poll intervals of 100 ms and 1 s (the poll only says *that* a row is
//!   visible; *when* is its commit timestamp), with the poll's own figure
//!   (`detected`) printed beside it, up to a window later;
//! - against a second PostgreSQL whose clock reads 250 ms ahead (libfaketime):
//!   the measured offset is 250 ms within ±1 ms, and the latency is unchanged.
//!
//! The open transactions also exercise the poll window: rows arrive (their
//! `arrived_at`) D before they commit.

use crate::support::stack_check;

use std::collections::HashMap;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use crate::support::observe::*;
use tokio::sync::{mpsc, watch};
use tokio_postgres::NoTls;
use tpcds_bench::clock::ClockOffset;
use tpcds_bench::model::{OpKind, RowKey, Sink, Table, VisibleSource};
use tpcds_bench::observe::warehouse::{WarehouseConfig, WarehouseObserver};
use tpcds_bench::stats::{new_histogram, LatencySummary};
use tpcds_bench::track::{CommitBatch, CommittedRow, Ledger, MatchOutcome};

/// Rows per measurement: enough that p99 is not the single slowest row.
const ROWS: u64 = 300;
/// Least time between two rows' acks (the rows spread over ~1.5 s at D = 200 ms).
const SPACING: Duration = Duration::from_millis(5);
/// Most transactions open at once (each holds a connection to the server).
const MAX_OPEN: u32 = 40;
/// Slack allowed beyond each row's true interval and the printed uncertainty.
const SLACK_US: i64 = 1_000;

/// Drops the private schema at `url` when the test ends, pass or fail.
struct PrivateSchema {
    url: String,
    schema: String,
}

impl Drop for PrivateSchema {
    fn drop(&mut self) {
        drop_schema(&self.url, &self.schema);
    }
}

async fn client(url: &str) -> tokio_postgres::Client {
    let (c, conn) = tokio_postgres::connect(url, NoTls)
        .await
        .unwrap_or_else(|e| panic!("connect to {url}: {e}"));
    tokio::spawn(conn);
    c
}

/// Creates `schema` with the two sink tables as the stack's DDL has them.
async fn create_schema(pg: &tokio_postgres::Client, schema: &str) {
    let mut sql = format!("CREATE SCHEMA {schema};");
    for (t, p) in [("store_sales", "ss"), ("store_returns", "sr")] {
        sql.push_str(&format!(
            "CREATE TABLE {schema}.{t} ({p}_item_sk INT NOT NULL, {p}_ticket_number BIGINT NOT NULL,
               bench_ts TIMESTAMP(6), arrived_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
               PRIMARY KEY ({p}_item_sk, {p}_ticket_number));
             CREATE INDEX ON {schema}.{t} (arrived_at);"
        ));
    }
    pg.batch_execute(&sql).await.expect("create the schema");
}

/// What one measurement found.
struct Measured {
    latency: LatencySummary,
    detected: LatencySummary,
    /// Percentiles of the rows' true intervals' ends (COMMIT sent, answered).
    truth: (LatencySummary, LatencySummary),
    offset: ClockOffset,
    window: Duration,
}

/// One row's true visibility interval, µs after its ack.
#[derive(Clone, Copy)]
struct Truth {
    lo: i64,
    hi: i64,
}

/// Writes `ROWS` rows that each commit `delay` after their ack, observes them
/// at `url` with `poll`, and checks every row against its true interval.
async fn measure(url: &str, delay: Duration, poll: Duration) -> Measured {
    let tickets = unique_tickets();
    let schema = format!("ground_truth_{}", tickets.start % 1_000_000_000_000);
    let _guard = PrivateSchema {
        url: url.to_string(),
        schema: schema.clone(),
    };
    create_schema(&client(url).await, &schema).await;

    let mut cfg = WarehouseConfig::new(url, Sink::Path2, tickets.clone());
    cfg.schema = schema.clone();
    cfg.poll_interval = poll;
    let observer = WarehouseObserver::start(cfg)
        .await
        .expect("the observer starts");
    assert_eq!(
        observer.info().track_commit_timestamp,
        Some(true),
        "{url} must run with track_commit_timestamp = on (scripts/stack.sh up does)"
    );
    let (tx, mut rx) = mpsc::channel(1024);
    let (stop_tx, stop_rx) = watch::channel(false);
    let task = tokio::spawn(observer.run(tx, stop_rx));

    // Enough connections for every transaction open at once, plus spare.
    let spacing = SPACING.max(delay / MAX_OPEN);
    let conns = (delay.as_micros() / spacing.as_micros()) as usize + 8;
    let mut writers = Vec::new();
    for _ in 0..conns {
        // One transaction at a time per connection: a BEGIN sent on a
        // connection whose transaction is still open would join it and
        // commit with it (a CI run showed a row "visible" 5.6 ms after its
        // ack for that reason).
        writers.push(std::sync::Arc::new(tokio::sync::Mutex::new(
            client(url).await,
        )));
    }
    let insert = format!(
        "INSERT INTO {schema}.store_sales (ss_item_sk, ss_ticket_number, bench_ts) VALUES ($1, $2, $3)"
    );
    let (ack_tx, mut ack_rx) = mpsc::unbounded_channel::<(CommittedRow, Instant)>();
    let (truth_tx, mut truth_rx) = mpsc::unbounded_channel::<(RowKey, Truth)>();
    let start = Instant::now() + Duration::from_millis(50);
    let mut rows = Vec::new();
    for i in 0..ROWS {
        let c = writers[i as usize % conns].clone();
        let (insert, ack_tx, truth_tx) = (insert.clone(), ack_tx.clone(), truth_tx.clone());
        let ticket = tickets.start + i;
        rows.push(tokio::spawn(async move {
            tokio::time::sleep_until((start + spacing * i as u32).into()).await;
            let key = RowKey {
                table: Table::StoreSales,
                ticket,
                item: 7,
            };
            let c = c.lock().await;
            let stamp = chrono::Utc::now().naive_utc();
            let acked_at = Instant::now();
            let row = CommittedRow {
                key,
                op: OpKind::Insert,
                stamp: stamp.and_utc().timestamp_micros(),
                prev_stamp: None,
            };
            ack_tx.send((row, acked_at)).expect("the ledger listens");
            c.batch_execute("BEGIN").await.expect("begin");
            c.execute(&insert, &[&7i32, &(ticket as i64), &stamp])
                .await
                .expect("insert");
            tokio::time::sleep_until((acked_at + delay).into()).await;
            let sent = Instant::now();
            c.batch_execute("COMMIT").await.expect("commit");
            let done = Instant::now();
            let us = |t: Instant| t.duration_since(acked_at).as_micros() as i64;
            truth_tx
                .send((
                    key,
                    Truth {
                        lo: us(sent),
                        hi: us(done),
                    },
                ))
                .expect("the test listens");
        }));
    }
    drop((ack_tx, truth_tx));

    let mut ledger = Ledger::new(&[Sink::Path2]);
    let mut seen: HashMap<RowKey, (u64, u64, VisibleSource)> = HashMap::new();
    let mut keep = |outcome: MatchOutcome| {
        if let MatchOutcome::Seen {
            key,
            latency,
            detected,
            source,
            ..
        } = outcome
        {
            seen.insert(
                key,
                (
                    latency.as_micros() as u64,
                    detected.as_micros() as u64,
                    source,
                ),
            );
        }
    };
    let deadline = start + spacing * ROWS as u32 + delay + poll * 3 + Duration::from_secs(10);
    let mut acks_open = true;
    while (acks_open || !ledger.all_seen()) && Instant::now() < deadline {
        tokio::select! {
            a = ack_rx.recv(), if acks_open => match a {
                Some((row, acked_at)) => {
                    for o in ledger.commit(&CommitBatch { closed: None, acked_at, rows: vec![row] }) {
                        keep(o);
                    }
                }
                None => acks_open = false,
            },
            Some(batch) = rx.recv() => {
                for o in &batch {
                    keep(ledger.observe(o));
                }
            }
            _ = tokio::time::sleep(Duration::from_millis(200)) => {}
        }
    }
    for r in rows {
        r.await.expect("row task");
    }
    stop_tx.send(true).expect("observer listening");
    let stats = task.await.expect("observer task").expect("observer ran");
    let mut truths = HashMap::new();
    while let Ok((k, t)) = truth_rx.try_recv() {
        truths.insert(k, t);
    }

    let counts = ledger.counts(Sink::Path2);
    assert_eq!(counts.seen, ROWS, "every row seen: {counts:?}");
    assert_eq!(counts.duplicates, 0, "{counts:?}");
    let vis = ledger.visibility(Sink::Path2);
    assert_eq!(
        (vis.before_ack, vis.after_detection),
        (0, 0),
        "no visible moment outside [ack, sighting]: {vis:?}"
    );
    let offset = stats.clock_offset.expect("the clock was probed");
    let unc = vis.max_uncertainty_us as i64;
    let (mut lat, mut det) = (new_histogram(), new_histogram());
    let (mut lo, mut hi) = (new_histogram(), new_histogram());
    for (key, (latency, detected, source)) in &seen {
        assert_eq!(*source, VisibleSource::CommitTs, "{key}");
        let t = truths[key];
        let m = *latency as i64;
        assert!(
            m >= t.lo - unc - SLACK_US && m <= t.hi + unc + SLACK_US,
            "{key}: measured {m} µs, true visibility between {} and {} µs after the ack \
             (uncertainty ±{unc} µs, slack {SLACK_US} µs)",
            t.lo,
            t.hi
        );
        lat.record(*latency).expect("auto-resizing");
        det.record(*detected).expect("auto-resizing");
        lo.record(t.lo.max(0) as u64).expect("auto-resizing");
        hi.record(t.hi.max(0) as u64).expect("auto-resizing");
    }
    Measured {
        latency: LatencySummary::from_histogram(&lat),
        detected: LatencySummary::from_histogram(&det),
        truth: (
            LatencySummary::from_histogram(&lo),
            LatencySummary::from_histogram(&hi),
        ),
        offset,
        window: Duration::from_micros(stats.max_window_micros),
    }
}

fn print(what: &str, m: &Measured) {
    eprintln!(
        "{what}: latency p50 {} / p99 {} µs; truth p50 {}..{} / p99 {}..{} µs; \
         detected p50 {} / p99 {} µs (window {:?}); clock offset {} ({} probes)",
        m.latency.p50,
        m.latency.p99,
        m.truth.0.p50,
        m.truth.1.p50,
        m.truth.0.p99,
        m.truth.1.p99,
        m.detected.p50,
        m.detected.p99,
        m.window,
        m.offset.describe(),
        m.offset.probes
    );
}

/// p50 and p99 lie within the truth's (percentiles keep the order of
/// per-row bounds), widened by the uncertainty and 1 ms.
fn assert_percentiles(m: &Measured) {
    let bound = m.offset.uncertainty_us as i64 + SLACK_US;
    let (lo, hi) = &m.truth;
    for (name, got, lo, hi) in [
        ("p50", m.latency.p50, lo.p50, hi.p50),
        ("p99", m.latency.p99, lo.p99, hi.p99),
    ] {
        let got = got as i64;
        assert!(
            got >= lo as i64 - bound && got <= hi as i64 + bound,
            "{name} {got} µs is outside the truth's {lo}..{hi} µs ± {bound} µs"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warehouse_latency_is_the_commit_whatever_the_poll() {
    let _turn = crate::support::turn();
    stack_check::require();
    let url = warehouse_url();
    for (delay, poll) in [
        (Duration::from_millis(200), Duration::from_millis(100)),
        (Duration::from_millis(200), Duration::from_secs(1)),
        (Duration::from_millis(750), Duration::from_millis(100)),
    ] {
        let m = measure(&url, delay, poll).await;
        print(&format!("D {delay:?}, poll {poll:?}"), &m);
        assert_percentiles(&m);
        let d = delay.as_micros() as i64;
        assert!(
            (m.latency.p50 as i64 - d).abs() <= 20_000,
            "p50 {} µs far from D {d} µs: the test's own timing went wrong",
            m.latency.p50
        );
        assert!(
            m.offset.offset_us.abs() <= 1_000,
            "the stack's PostgreSQL shares this machine's clock: {}",
            m.offset.describe()
        );
    }
}

/// A PostgreSQL of its own under libfaketime, its clock `SKEW` ahead.
struct SkewedServer {
    child: Child,
    dir: std::path::PathBuf,
    port: u16,
}

const SKEW: Duration = Duration::from_millis(250);
const FAKETIME_LIB: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

impl SkewedServer {
    fn start() -> SkewedServer {
        assert!(
            std::path::Path::new(FAKETIME_LIB).exists(),
            "{FAKETIME_LIB} is missing: run scripts/setup-deps.sh (Debian package libfaketime)"
        );
        let pg_bin = std::env::var("PG_BIN").unwrap_or("/usr/lib/postgresql/15/bin".into());
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("tpcds-skewed-pg-{port}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a temp dir");
        // PostgreSQL refuses to run as root: as the Debian `postgres` user then.
        let as_pg: Vec<String> = if is_root() {
            Command::new("chown")
                .args(["-R", "postgres:", &dir.to_string_lossy()])
                .status()
                .expect("chown");
            [
                "setpriv",
                "--reuid=postgres",
                "--regid=postgres",
                "--init-groups",
                "--",
            ]
            .map(String::from)
            .to_vec()
        } else {
            Vec::new()
        };
        let run = |args: Vec<String>| {
            let mut all = as_pg.clone();
            all.extend(args);
            let mut c = Command::new(&all[0]);
            c.args(&all[1..]);
            c
        };
        let data = dir.join("data").to_string_lossy().to_string();
        let out = run(vec![
            format!("{pg_bin}/initdb"),
            "-D".into(),
            data.clone(),
            "-U".into(),
            "postgres".into(),
            "--auth=trust".into(),
        ])
        .output()
        .expect("initdb runs");
        assert!(
            out.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let log = std::fs::File::create(dir.join("server.log")).expect("a log file");
        let child = run(vec![
            "env".into(),
            format!("LD_PRELOAD={FAKETIME_LIB}"),
            format!("FAKETIME=+{}", SKEW.as_secs_f64()),
            "FAKETIME_DONT_FAKE_MONOTONIC=1".into(),
            "FAKETIME_DISABLE_SHM=1".into(),
            format!("{pg_bin}/postgres"),
            "-D".into(),
            data,
            "-p".into(),
            port.to_string(),
            "-k".into(),
            dir.to_string_lossy().to_string(),
            "-c".into(),
            "listen_addresses=127.0.0.1".into(),
            "-c".into(),
            "track_commit_timestamp=on".into(),
            "-c".into(),
            "fsync=off".into(),
        ])
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .spawn()
        .expect("postgres starts");
        SkewedServer { child, dir, port }
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for SkewedServer {
    fn drop(&mut self) {
        // SIGINT: fast shutdown (no waiting for clients).
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_warehouse_clock_250_ms_ahead_is_measured_and_subtracted() {
    let _turn = crate::support::turn();
    let server = SkewedServer::start();
    let url = server.url();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if tokio_postgres::connect(&url, NoTls).await.is_ok() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the skewed PostgreSQL did not start: see {}",
            server.dir.join("server.log").display()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let m = measure(&url, Duration::from_millis(200), Duration::from_millis(100)).await;
    print("clock 250 ms ahead", &m);
    let off = m.offset.offset_us - SKEW.as_micros() as i64;
    assert!(
        off.abs() <= 1_000,
        "offset {} is {off} µs from the true +250 ms",
        m.offset.describe()
    );
    assert_percentiles(&m);
}
