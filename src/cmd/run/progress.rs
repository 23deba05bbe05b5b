//! The stats collector task, which also prints the run's progress to stderr
//! (stdout stays clean for scripts): on a terminal one line redrawn every
//! second; elsewhere (CI logs, a file) a plain line every 10 s, since carriage
//! returns and escape codes only garble a log.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::live::{Live, Phase, Snapshot};
use crate::model::Sink;
use crate::stats::{Collector, RunStats, SnapshotReceiver};
use crate::track::TrackerStatus;

/// Seconds between two plain progress lines when stderr is not a terminal.
const PLAIN_EVERY: u64 = 10;

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    /// `--quiet`: nothing.
    Off,
    /// A terminal: one line, redrawn in place every second.
    Live,
    /// Not a terminal: a new plain line every [`PLAIN_EVERY`] seconds.
    Plain,
}

impl Style {
    /// The style for this process: `quiet`, else whether stderr is a terminal.
    pub(crate) fn for_stderr(quiet: bool) -> Self {
        if quiet {
            Style::Off
        } else if std::io::stderr().is_terminal() {
            Style::Live
        } else {
            Style::Plain
        }
    }

    /// What to write at the `tick`-th second (1-based) for progress `line`;
    /// `None`: nothing this second.
    pub(crate) fn render(self, tick: u64, line: &str) -> Option<String> {
        match self {
            Style::Off => None,
            Style::Live => Some(format!("\r{line}\x1b[K")),
            Style::Plain => tick
                .is_multiple_of(PLAIN_EVERY)
                .then(|| format!("{line}\n")),
        }
    }

    /// What ends the progress output: the live line's newline.
    fn finish(self) -> &'static str {
        match self {
            Style::Live => "\n",
            Style::Off | Style::Plain => "",
        }
    }
}

/// Merges snapshots until every recorder is gone; prints progress unless
/// `quiet`, and publishes the figures to `live` once a second when the run
/// serves them (the endpoint reads only what is published here).
pub async fn collect(
    mut rx: SnapshotReceiver,
    status: watch::Receiver<TrackerStatus>,
    warmup: Duration,
    start: Instant,
    sinks: Vec<Sink>,
    quiet: bool,
    live: Option<Live>,
) -> RunStats {
    let style = Style::for_stderr(quiet);
    let mut c = Collector::new(warmup);
    if live.is_some() {
        // The endpoint's latency buckets, kept as seconds merge.
        c = c.with_latency_buckets(&crate::live::BUCKETS_SECONDS);
    }
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
            at = tick.tick(), if style != Style::Off || live.is_some() => {
                let st = *status.borrow();
                if let Some(l) = &live {
                    publish(l, &c, &st, start, warmup, &sinks);
                }
                if style == Style::Off {
                    continue;
                }
                let mut p = c.progress(start.elapsed(), &sinks);
                p.in_flight = sinks.iter().map(|s| st.counts[s.index()].missing()).max();
                // The tick's own second: late ticks are skipped, so not a count.
                let second = at.into_std().saturating_duration_since(start).as_secs();
                if let Some(out) = style.render(second, &p.to_string()) {
                    eprint!("{out}");
                    let _ = std::io::stderr().flush();
                }
            }
        }
    }
    eprint!("{}", style.finish());
    if let Some(l) = &live {
        // The final figures: every recorder has reported.
        publish(l, &c, &status.borrow(), start, warmup, &sinks);
    }
    c.into_stats()
}

/// Publishes the figures now, and moves the phase from warmup to load.
fn publish(
    live: &Live,
    c: &Collector,
    status: &TrackerStatus,
    start: Instant,
    warmup: Duration,
    sinks: &[Sink],
) {
    let elapsed = start.elapsed();
    live.set_phase(if elapsed < warmup {
        Phase::Warmup
    } else {
        Phase::Load
    });
    let done = live.phase() == Phase::Done;
    live.publish(Snapshot::take(c, status, elapsed, sinks, done));
}

#[cfg(test)]
mod tests {
    use super::*;

    // Issue 22: CI logs got `\r` and `ESC[K` once a second.
    #[test]
    fn without_a_terminal_a_plain_line_every_ten_seconds() {
        let lines: Vec<String> = (1..=25)
            .filter_map(|t| Style::Plain.render(t, "  10s  200/s → 200/s"))
            .collect();
        assert_eq!(lines.len(), 2);
        for l in &lines {
            assert!(!l.contains('\r') && !l.contains('\x1b'), "{l:?}");
            assert!(l.ends_with('\n'));
        }
        assert_eq!(Style::Plain.finish(), "");
        assert_eq!(Style::Off.render(10, "x"), None);
        assert_eq!(Style::Live.render(3, "x").unwrap(), "\rx\x1b[K");
    }

    // Test binaries run with stderr captured: not a terminal.
    #[test]
    fn stderr_of_a_test_is_not_a_terminal() {
        if !std::io::stderr().is_terminal() {
            assert_eq!(Style::for_stderr(false), Style::Plain);
        }
        assert_eq!(Style::for_stderr(true), Style::Off);
    }
}
