//! `run --shard I/N --start-at TIME`: which share of the run this process
//! takes, the run's common ticket range, and the common start.
//!
//! Every shard computes the same run-wide ticket range from what they all
//! share (scenario name, start second, shard count), so they need no
//! coordinator; each writes and tracks only its own workers' slice of it, and
//! its observers skip every other shard's rows by ticket before decoding them.

use std::ops::Range;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};

use crate::cli::RunArgs;
use crate::exit::{Classified, Exit};
use crate::plan::Shard;
use crate::report::ShardInfo;
use crate::scenario::Scenario;

/// How this process runs: alone, or as one shard starting at a set moment.
#[derive(Debug, Clone, PartialEq)]
pub struct Sharding {
    /// This process's share ([`Shard::ALONE`] when not split).
    pub shard: Shard,
    /// When the load starts (`--start-at`), if set.
    pub start_at: Option<DateTime<Utc>>,
}

fn bad(message: String) -> anyhow::Error {
    Classified::new(Exit::BadInput, anyhow::anyhow!(message)).into()
}

impl Sharding {
    /// From the flags (or `TPCDS_SHARD` / `TPCDS_START_AT`, which clap reads),
    /// else from a Kubernetes Indexed Job's `JOB_COMPLETION_INDEX` with
    /// `TPCDS_SHARD_COUNT`; checked against the scenario.
    pub fn from_args(args: &RunArgs, scenario: &Scenario) -> anyhow::Result<Sharding> {
        let shard = match &args.shard {
            Some(text) => Shard::parse(text).map_err(bad)?,
            None => Shard::from_indexed_job(
                std::env::var("JOB_COMPLETION_INDEX").ok().as_deref(),
                std::env::var("TPCDS_SHARD_COUNT").ok().as_deref(),
            )
            .map_err(bad)?
            .unwrap_or(Shard::ALONE),
        };
        let start_at = args
            .start_at
            .as_deref()
            .map(parse_start_at)
            .transpose()
            .map_err(bad)?;
        let sharding = Sharding { shard, start_at };
        sharding.check(scenario).map_err(bad)?;
        Ok(sharding)
    }

    /// What a sharded run cannot do, said before any connection.
    fn check(&self, s: &Scenario) -> Result<(), String> {
        if !self.shard.is_split() {
            return Ok(());
        }
        let n = self.shard.count;
        if self.start_at.is_none() {
            return Err(format!(
                "--shard {}: a run split over {n} processes needs --start-at TIME (the same for every shard), \
                 e.g. --start-at {}",
                self.shard,
                (Utc::now() + chrono::Duration::seconds(60)).format("%Y-%m-%dT%H:%M:%SZ")
            ));
        }
        if s.load.workers < n {
            return Err(format!(
                "--shard {}: load.workers = {} cannot be split over {n} shards: give at least {n} workers \
                 (--set load.workers={n})",
                self.shard, s.load.workers
            ));
        }
        if !s.faults.is_empty() {
            return Err(format!(
                "--shard {}: a sharded run cannot carry [[faults]] (every shard would act on the stack); \
                 run faults in an unsharded run",
                self.shard
            ));
        }
        if s.snapshot.is_some() {
            return Err(format!(
                "--shard {}: a sharded run cannot carry [snapshot] (every shard would restart the CDC jobs); \
                 run the snapshot in an unsharded run",
                self.shard
            ));
        }
        if let Some(d) = s
            .observe
            .sinks
            .iter()
            .find(|k| k.is_derived() || k.is_query())
        {
            return Err(format!(
                "--shard {}: observe.sinks has {d}: derived sinks and queries are not sharded; \
                 observe them in an unsharded run",
                self.shard
            ));
        }
        Ok(())
    }

    /// The run-wide ticket range every shard of this run computes alike, or
    /// `None` when the run is not split (it then reserves a free slot).
    pub fn group_tickets(&self, scenario: &Scenario) -> Option<Range<u64>> {
        let start = self.start_at.filter(|_| self.shard.is_split())?;
        let key = format!(
            "{}/{}/{}",
            scenario.name,
            start.timestamp(),
            self.shard.count
        );
        Some(super::tickets::group_range(start.timestamp() as u64, &key))
    }

    /// This process's own slice of the run's tickets: its workers' blocks.
    pub fn local_tickets(&self, run: &Range<u64>, span: u64, workers: u32) -> Range<u64> {
        let w = self.shard.workers(workers);
        run.start + u64::from(w.start) * span..run.start + u64::from(w.end) * span
    }

    /// Waits until `--start-at` and returns the load's start; without it, a
    /// moment from now. A start that passed while the observers got ready is
    /// refused: the shards would not be aligned.
    pub async fn wait_for_start(&self) -> anyhow::Result<(Instant, DateTime<Utc>)> {
        let Some(at) = self.start_at else {
            let lead = Duration::from_millis(200);
            return Ok((
                Instant::now() + lead,
                Utc::now() + chrono::Duration::from_std(lead).unwrap_or_default(),
            ));
        };
        let wait = (at - Utc::now()).to_std().map_err(|_| {
            bad(format!(
                "--start-at {}: that moment passed before the observers were ready ({} ago); \
                 give a time further ahead (30 s or more)",
                at.to_rfc3339(),
                humantime::format_duration(Duration::from_millis(
                    (Utc::now() - at).num_milliseconds().max(0) as u64
                ))
            ))
        })?;
        eprintln!(
            "shard {}: waiting {:.1} s for --start-at {}",
            self.shard,
            wait.as_secs_f64(),
            at.to_rfc3339()
        );
        let start = Instant::now() + wait;
        tokio::time::sleep_until(start.into()).await;
        Ok((start, at))
    }

    /// What `summary.json` records of this shard (nothing when not split).
    pub fn info(&self, scenario: &Scenario, tickets: &Range<u64>) -> Vec<ShardInfo> {
        match (self.shard.is_split(), self.start_at) {
            (true, Some(at)) => vec![ShardInfo {
                index: self.shard.index,
                count: self.shard.count,
                group: format!("{}-{}", scenario.name, at.timestamp()),
                start_at: at,
                tickets: format!("{}..{}", tickets.start, tickets.end),
            }],
            _ => Vec::new(),
        }
    }
}

/// `--start-at`: RFC 3339 (`2026-12-05T17:00:00Z`) or unix seconds.
fn parse_start_at(text: &str) -> Result<DateTime<Utc>, String> {
    let t = text.trim();
    if let Ok(secs) = t.parse::<i64>() {
        return Utc
            .timestamp_opt(secs, 0)
            .single()
            .ok_or_else(|| format!("--start-at {t}: not a valid unix time"));
    }
    DateTime::parse_from_rfc3339(t)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|_| {
            format!(
                "--start-at {t:?}: expected RFC 3339 (e.g. 2026-12-05T17:00:00Z) or unix seconds"
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_at_takes_rfc3339_or_unix_seconds() {
        let a = parse_start_at("2026-12-05T17:00:00Z").unwrap();
        assert_eq!(parse_start_at(&a.timestamp().to_string()).unwrap(), a);
        assert!(parse_start_at("tomorrow").is_err());
    }

    #[test]
    fn the_shards_slices_tile_the_run_range() {
        let s = Sharding {
            shard: Shard { index: 1, count: 3 },
            start_at: None,
        };
        assert_eq!(s.local_tickets(&(1000..2000), 100, 6), 1200..1400);
    }
}
