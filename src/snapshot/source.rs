//! What the snapshot cost MySQL and what each warehouse path holds of the
//! preload, read from the databases themselves: MySQL's rows-read and
//! bytes-sent counters and its processes' CPU (native stack) sampled every
//! second from the jobs' start, and per path the count and the first and
//! last commit timestamp (`pg_xact_commit_timestamp`, `track_commit_timestamp
//! = on`) of the preloaded rows.

use std::ops::Range;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mysql_async::prelude::Queryable;
use tokio::sync::watch;

use crate::model::{Sink, Table};
use crate::proc_cpu::CpuSnapshot;

/// Time between two samples of MySQL's load.
const SAMPLE_EVERY: Duration = Duration::from_secs(1);

/// MySQL's counters at one moment.
#[derive(Debug, Clone)]
pub struct SourceSample {
    /// Unix µs.
    pub at_us: i64,
    /// `Innodb_rows_read` (MySQL), `Rows_read` (MariaDB).
    pub rows_read: Option<u64>,
    /// `Bytes_sent`.
    pub bytes_sent: Option<u64>,
    /// MySQL's processes' CPU (native stack: its pid file).
    pub cpu: CpuSnapshot,
}

/// Samples MySQL every second until stopped.
pub struct Sampler {
    /// The samples so far, oldest first.
    pub samples: Arc<Mutex<Vec<SourceSample>>>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Sampler {
    /// Starts sampling MySQL at `url` (a sample now, then every second).
    pub fn start(url: String) -> Sampler {
        let samples = Arc::new(Mutex::new(Vec::new()));
        let (stop, mut stop_rx) = watch::channel(false);
        let out = samples.clone();
        let task = tokio::spawn(async move {
            let mut conn = mysql_async::Conn::from_url(url.as_str()).await.ok();
            let dir = crate::proc_cpu::stack_dir();
            let mut tick = tokio::time::interval(SAMPLE_EVERY);
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stop_rx.changed() => break,
                }
                let (rows_read, bytes_sent) = match conn.as_mut() {
                    Some(c) => status(c).await,
                    None => (None, None),
                };
                let s = SourceSample {
                    at_us: chrono::Utc::now().timestamp_micros(),
                    rows_read,
                    bytes_sent,
                    cpu: CpuSnapshot::take(dir.as_deref()),
                };
                if let Ok(mut v) = out.lock() {
                    v.push(s);
                }
            }
            if let Some(c) = conn {
                let _ = c.disconnect().await;
            }
        });
        Sampler {
            samples,
            stop,
            task,
        }
    }

    /// Stops sampling; returns the samples.
    pub async fn finish(self) -> Vec<SourceSample> {
        let _ = self.stop.send(true);
        let _ = self.task.await;
        std::mem::take(&mut *self.samples.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

async fn status(c: &mut mysql_async::Conn) -> (Option<u64>, Option<u64>) {
    let rows: Vec<(String, String)> = c
        .query(
            "SHOW GLOBAL STATUS WHERE Variable_name IN ('Innodb_rows_read', 'Rows_read', 'Bytes_sent')",
        )
        .await
        .unwrap_or_default();
    let get = |name: &str| {
        rows.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| v.parse().ok())
    };
    // MySQL counts InnoDB's rows read; MariaDB names its count Rows_read.
    (
        get("Innodb_rows_read").or_else(|| get("Rows_read")),
        get("Bytes_sent"),
    )
}

/// MySQL's rows per table (what a snapshot reads), counted exactly.
pub async fn table_rows(url: &str) -> Result<Vec<(Table, u64)>, String> {
    let mut c = mysql_async::Conn::from_url(url)
        .await
        .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for t in Table::ALL {
        let n: Option<u64> = c
            .query_first(format!("SELECT COUNT(*) FROM {}", t.name()))
            .await
            .map_err(|e| e.to_string())?;
        out.push((t, n.unwrap_or(0)));
    }
    let _ = c.disconnect().await;
    Ok(out)
}

/// What a warehouse path holds of the preload.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PathCopy {
    /// Preloaded rows present.
    pub rows: u64,
    /// The first and the last one's commit time (Unix ms); `None` without
    /// `track_commit_timestamp`.
    pub first_ms: Option<i64>,
    /// See `first_ms`.
    pub last_ms: Option<i64>,
}

/// The count of `path`'s rows over `tickets` (both tables).
pub async fn path_rows(
    client: &tokio_postgres::Client,
    path: Sink,
    tickets: &Range<u64>,
) -> Result<u64, String> {
    Ok(path_copy(client, path, tickets, false).await?.rows)
}

/// Count, and with `times` the first and last commit time, of `path`'s rows over `tickets`.
pub async fn path_copy(
    client: &tokio_postgres::Client,
    path: Sink,
    tickets: &Range<u64>,
    times: bool,
) -> Result<PathCopy, String> {
    let mut out = PathCopy::default();
    let (lo, hi) = (tickets.start as i64, tickets.end as i64);
    for t in Table::ALL {
        let col = format!("{}ticket_number", t.prefix());
        let what = if times {
            "count(*)::bigint, \
             (extract(epoch FROM min(pg_xact_commit_timestamp(xmin))) * 1000)::bigint, \
             (extract(epoch FROM max(pg_xact_commit_timestamp(xmin))) * 1000)::bigint"
        } else {
            "count(*)::bigint, NULL::bigint, NULL::bigint"
        };
        let sql = format!(
            "SELECT {what} FROM {}.{} WHERE {col} >= $1 AND {col} < $2",
            path.name(),
            t.name()
        );
        let row = client.query_one(&sql, &[&lo, &hi]).await.map_err(pg)?;
        out.rows += row.get::<_, i64>(0) as u64;
        let (a, b): (Option<i64>, Option<i64>) = (row.get(1), row.get(2));
        out.first_ms = min_opt(out.first_ms, a);
        out.last_ms = max_opt(out.last_ms, b);
    }
    Ok(out)
}

/// The server's own message ("db error" alone says nothing).
fn pg(e: tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(d) => format!("{} ({})", d.message(), d.code().code()),
        None => e.to_string(),
    }
}

fn min_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    a.into_iter().chain(b).min()
}

fn max_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    a.into_iter().chain(b).max()
}
