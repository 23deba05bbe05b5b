//! The stats collector task, which also prints the live progress line once a
//! second (to stderr, so stdout stays clean for scripts).

use std::io::Write;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::model::Sink;
use crate::stats::{Collector, RunStats, SnapshotReceiver};
use crate::track::TrackerStatus;

/// Merges snapshots until every recorder is gone; prints progress unless `quiet`.
pub async fn collect(
    mut rx: SnapshotReceiver,
    status: watch::Receiver<TrackerStatus>,
    warmup: Duration,
    start: Instant,
    sinks: Vec<Sink>,
    quiet: bool,
) -> RunStats {
    let mut c = Collector::new(warmup);
    let mut tick = tokio::time::interval_at(
        (start + Duration::from_secs(1)).into(),
        Duration::from_secs(1),
    );
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            snap = rx.recv() => match snap {
                Some(s) => c.merge(s),
                None => break,
            },
            _ = tick.tick(), if !quiet => {
                let mut p = c.progress(start.elapsed(), &sinks);
                let st = *status.borrow();
                p.in_flight = sinks.iter().map(|s| st.counts[s.index()].missing()).max();
                eprint!("\r{p}\x1b[K");
                let _ = std::io::stderr().flush();
            }
        }
    }
    if !quiet {
        eprintln!();
    }
    c.into_stats()
}
