//! What an observer's stats say a reader must know: an observer that failed,
//! retried, polled late or stalled, a warehouse without commit timestamps,
//! malformed input; and latencies recorded for a sample of the rows.

use std::fmt;
use std::time::Duration;

use super::ObserverStats;
use crate::caveat::Caveat;
use crate::model::Sink;
use crate::stats::fmt_latency;

/// Sink latencies recorded for a share of the rows (`observe.sample_rate`).
#[derive(Debug, Clone, PartialEq)]
pub struct Sampled {
    /// The share, in (0, 1).
    pub rate: f64,
}

impl fmt::Display for Sampled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "sink latencies are recorded for {:.0} % of rows (observe.sample_rate, chosen by key, the same rows at every sink); seen and missing counts cover every row",
            self.rate * 100.0
        )
    }
}

impl Sampled {
    /// The caveat of `observe.sample_rate`, when it is below 1.
    pub fn of(rate: f64) -> Option<Caveat> {
        (rate < 1.0).then(|| Caveat::new(Sampled { rate }))
    }
}

/// One fact of one observer's run.
#[derive(Debug, Clone, PartialEq)]
pub enum ObserverCaveat {
    /// The observer ended with an error.
    Failed {
        /// The sink.
        sink: Sink,
        /// Why.
        error: String,
    },
    /// Reads failed and were retried, or the observer reconnected.
    Retried {
        /// The sink.
        sink: Sink,
        /// Failed reads retried.
        poll_errors: u64,
        /// Reconnects.
        reconnects: u64,
    },
    /// Polls answered more than twice the poll interval after the previous began.
    LatePolls {
        /// The sink.
        sink: Sink,
        /// Late poll pairs.
        late: u64,
        /// All polls.
        polls: u64,
        /// The poll interval.
        interval: Duration,
        /// The longest window, µs.
        longest_us: u64,
        /// Whether the warehouse timed visibility by commit timestamps.
        commit_ts: bool,
    },
    /// The warehouse keeps no commit timestamps.
    NoCommitTimestamps {
        /// The sink.
        sink: Sink,
    },
    /// The Kafka consumer stopped fetching and was replaced.
    Stalled {
        /// The sink.
        sink: Sink,
        /// Times.
        stalls: u64,
        /// The longest stall, ms.
        longest_ms: u64,
    },
    /// Inputs that could not be decoded.
    Malformed {
        /// The sink.
        sink: Sink,
        /// How many.
        count: u64,
        /// The first one's reason.
        first: Option<String>,
    },
}

impl fmt::Display for ObserverCaveat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Failed { sink, error } => write!(f, "{sink} observer failed: {error}"),
            Self::Retried {
                sink,
                poll_errors,
                reconnects,
            } => write!(
                f,
                "{sink} observer: {poll_errors} failed reads retried, {reconnects} reconnects (an outage of the sink or its server; \
                 the reads resumed where they stopped)"
            ),
            Self::LatePolls {
                sink,
                late,
                polls,
                interval,
                longest_us,
                commit_ts,
            } => {
                // With commit timestamps a late poll delays only the sighting.
                let hit = if *commit_ts {
                    "its `detected` figures (not the headline, which is the commit time) and its deletes"
                } else {
                    "its latencies"
                };
                write!(
                    f,
                    "{sink} observer: {late} of {polls} polls answered more than twice the poll interval ({}) after the \
                     previous poll began (longest {}: a slow poll, or a busy machine); a row that became visible \
                     then was seen up to that late, beyond the printed resolution: this bounds {hit}",
                    humantime::format_duration(*interval),
                    fmt_latency(*longest_us),
                )
            }
            Self::NoCommitTimestamps { sink } => write!(
                f,
                "{sink}: the warehouse keeps no commit timestamps (track_commit_timestamp = off), so its \
                 latency ends at the row's arrived_at stamp, which precedes the commit by up to the sink \
                 transaction's length, or at the poll; `tpcds-bench check` says how to turn it on"
            ),
            Self::Stalled {
                sink,
                stalls,
                longest_ms,
            } => write!(
                f,
                "{sink} observer: its consumer stopped fetching {stalls} times while messages waited (librdkafka \
                 after a broker restart) and was replaced at the same offsets; nothing was skipped, but rows \
                 waiting then were seen up to {:.1} s late",
                *longest_ms as f64 / 1000.0
            ),
            Self::Malformed { sink, count, first } => {
                write!(f, "{sink}: {count} malformed messages (first: {first:?})")
            }
        }
    }
}

impl ObserverStats {
    /// What a reader must know of this run of the observer of `sink`, whose
    /// poll interval (for a polled sink) was `interval`.
    pub fn caveats(&self, sink: Sink, interval: Duration) -> Vec<ObserverCaveat> {
        let mut out = Vec::new();
        if self.poll_errors > 0 || self.reconnects > 0 {
            out.push(ObserverCaveat::Retried {
                sink,
                poll_errors: self.poll_errors,
                reconnects: self.reconnects,
            });
        }
        if self.late_windows > 0 {
            out.push(ObserverCaveat::LatePolls {
                sink,
                late: self.late_windows,
                polls: self.polls,
                interval,
                longest_us: self.max_window_micros,
                commit_ts: self.commit_ts,
            });
        }
        if matches!(sink, Sink::Path1 | Sink::Path2) && !self.commit_ts {
            out.push(ObserverCaveat::NoCommitTimestamps { sink });
        }
        if self.stalls > 0 {
            out.push(ObserverCaveat::Stalled {
                sink,
                stalls: self.stalls,
                longest_ms: self.longest_stall_ms,
            });
        }
        if self.malformed > 0 {
            out.push(ObserverCaveat::Malformed {
                sink,
                count: self.malformed,
                first: self.malformed_samples.first().map(|m| m.reason.clone()),
            });
        }
        out
    }
}

/// The caveats of every observer's run (an error when it failed), in order;
/// `interval`: the warehouse poll interval.
pub fn caveats(
    observers: &[(Sink, Result<ObserverStats, String>)],
    interval: Duration,
) -> Vec<Caveat> {
    observers
        .iter()
        .flat_map(|(sink, r)| match r {
            Err(error) => vec![ObserverCaveat::Failed {
                sink: *sink,
                error: error.clone(),
            }],
            Ok(st) => st.caveats(*sink, interval),
        })
        .map(Caveat::new)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quiet_observer_has_no_caveat_but_a_warehouse_without_commit_times() {
        let quiet = ObserverStats::new(Sink::Kafka);
        assert!(quiet
            .caveats(Sink::Kafka, Duration::from_millis(100))
            .is_empty());
        let wh = ObserverStats::new(Sink::Path1);
        assert_eq!(
            wh.caveats(Sink::Path1, Duration::from_millis(100)),
            vec![ObserverCaveat::NoCommitTimestamps { sink: Sink::Path1 }]
        );
    }

    #[test]
    fn a_late_poll_names_what_it_bounds() {
        let mut st = ObserverStats::new(Sink::Path2);
        st.commit_ts = true;
        st.late_windows = 2;
        st.polls = 90;
        st.max_window_micros = 350_000;
        let c = caveats(&[(Sink::Path2, Ok(st))], Duration::from_millis(100));
        assert_eq!(c.len(), 1);
        assert_eq!(
            c[0].to_string(),
            "path2 observer: 2 of 90 polls answered more than twice the poll interval (100ms) after the \
             previous poll began (longest 350 ms: a slow poll, or a busy machine); a row that became visible \
             then was seen up to that late, beyond the printed resolution: this bounds its `detected` figures \
             (not the headline, which is the commit time) and its deletes"
        );
    }

    #[test]
    fn a_failed_observer_says_why() {
        let c = caveats(&[(Sink::Binlog, Err("gone".into()))], Duration::ZERO);
        assert_eq!(c[0].to_string(), "binlog observer failed: gone");
        assert!(Sampled::of(1.0).is_none());
        assert!(Sampled::of(0.25)
            .unwrap()
            .to_string()
            .starts_with("sink latencies are recorded for 25 % of rows"));
    }
}
