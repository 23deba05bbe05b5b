//! The one-line live progress display printed once a second during a run:
//! `elapsed | target r/s → achieved r/s | in flight | per-sink p50/p99 (ms)`.

use std::fmt;
use std::time::Duration;

use crate::model::Sink;

/// Latency of one sink over the progress interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SinkProgress {
    /// Which sink.
    pub sink: Sink,
    /// Median end-to-end latency (µs); `None` when nothing was seen.
    pub p50_us: Option<u64>,
    /// 99th percentile end-to-end latency (µs); `None` when nothing was seen.
    pub p99_us: Option<u64>,
}

/// The figures of one progress line.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    /// Time since run start.
    pub elapsed: Duration,
    /// Rows per second the schedule intended.
    pub target_rate: f64,
    /// Rows per second committed.
    pub achieved_rate: f64,
    /// Rows committed but not yet seen at the slowest sink; `None` before the tracker reports.
    pub in_flight: Option<u64>,
    /// Per-sink latency.
    pub sinks: Vec<SinkProgress>,
}

/// Formats µs as milliseconds for humans: one decimal below 10 ms, whole above.
pub fn format_ms(micros: u64) -> String {
    let ms = micros as f64 / 1000.0;
    if ms < 10.0 {
        format!("{ms:.1}")
    } else {
        format!("{ms:.0}")
    }
}

impl fmt::Display for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:>4}s  {:.0}/s → {:.0}/s  inflight ",
            self.elapsed.as_secs(),
            self.target_rate,
            self.achieved_rate
        )?;
        match self.in_flight {
            Some(n) => write!(f, "{n}")?,
            None => f.write_str("-")?,
        }
        for s in &self.sinks {
            match (s.p50_us, s.p99_us) {
                (Some(p50), Some(p99)) => {
                    write!(f, "  {} {}/{}ms", s.sink, format_ms(p50), format_ms(p99))?
                }
                _ => write!(f, "  {} -", s.sink)?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_the_brief() {
        let p = Progress {
            elapsed: Duration::from_millis(42_700),
            target_rate: 2000.0,
            achieved_rate: 1998.4,
            in_flight: Some(312),
            sinks: vec![
                SinkProgress {
                    sink: Sink::Kafka,
                    p50_us: Some(18_000),
                    p99_us: Some(45_000),
                },
                SinkProgress {
                    sink: Sink::Path1,
                    p50_us: Some(140_400),
                    p99_us: Some(260_000),
                },
                SinkProgress {
                    sink: Sink::Path2,
                    p50_us: Some(95_000),
                    p99_us: Some(180_000),
                },
            ],
        };
        assert_eq!(
            p.to_string(),
            "  42s  2000/s → 1998/s  inflight 312  kafka 18/45ms  path1 140/260ms  path2 95/180ms"
        );
    }

    #[test]
    fn small_latencies_keep_a_decimal_and_missing_shows_dash() {
        assert_eq!(format_ms(1_840), "1.8");
        assert_eq!(format_ms(9_949), "9.9");
        assert_eq!(format_ms(12_600), "13");
        let p = Progress {
            elapsed: Duration::from_secs(3),
            target_rate: 0.0,
            achieved_rate: 0.0,
            in_flight: None,
            sinks: vec![SinkProgress {
                sink: Sink::Binlog,
                p50_us: None,
                p99_us: None,
            }],
        };
        assert_eq!(p.to_string(), "   3s  0/s → 0/s  inflight -  binlog -");
    }
}
