//! Rate profile ([`crate::rate`]) → per-worker open-loop schedule. Pure arithmetic, no I/O, no
//! clocks: times are offsets from the run start; the load module anchors them
//! to an `Instant` and sleeps until each batch is due.

mod gen;
mod schedule;
mod shard;

use std::time::Duration;

pub use gen::{gen_config, mutation_pool, MUTATION_HORIZON_S};
pub use schedule::{Batch, Schedule};
pub use shard::Shard;

pub use crate::rate::RateProfile;
use crate::scenario::{Arrivals, Scenario};

/// Everything the workers need to know about when to write.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Target rate over the run.
    pub profile: RateProfile,
    /// Number of workers the rows are split over.
    pub workers: u32,
    /// Rows per transaction.
    pub batch_rows: u32,
    /// Row spacing.
    pub arrivals: Arrivals,
    /// Seed for Poisson arrivals.
    pub seed: u64,
    /// A worker further behind than this drops overdue rows.
    pub max_lag: Duration,
    /// Which share of the workers this process runs ([`Shard::ALONE`]: all).
    pub shard: Shard,
}

impl Plan {
    /// The plan of a validated scenario.
    pub fn from_scenario(s: &Scenario) -> Self {
        Plan {
            profile: RateProfile::new(&s.load.rate, s.duration),
            workers: s.load.workers,
            batch_rows: s.load.batch_rows,
            arrivals: s.load.arrivals,
            seed: s.seed,
            max_lag: s.load.max_lag,
            shard: Shard::ALONE,
        }
    }

    /// The same plan, run as one shard of several.
    pub fn with_shard(self, shard: Shard) -> Self {
        Plan { shard, ..self }
    }

    /// The workers this process runs (all of them unless sharded).
    pub fn local_workers(&self) -> std::ops::Range<u32> {
        self.shard.workers(self.workers)
    }

    /// The schedule of one worker (0-based).
    pub fn schedule(&self, worker: u32) -> Schedule {
        Schedule::new(
            &self.profile,
            self.arrivals,
            worker,
            self.workers,
            self.seed,
        )
    }

    /// Rows due in `[0, d]` over this process's workers (the report's
    /// expected-rows figure; every worker carries an equal share of the rate).
    pub fn expected_rows(&self, d: Duration) -> f64 {
        let local = self.local_workers().len() as f64;
        self.profile.expected_rows(d) * local / f64::from(self.workers.max(1))
    }

    /// The highest target rate over `duration`, each whole second sampled
    /// (rows per second over all workers).
    pub fn peak_rate(&self, duration: Duration) -> f64 {
        (0..=duration.as_secs())
            .map(|t| self.target_rate_at(Duration::from_secs(t)))
            .fold(0.0, f64::max)
    }

    /// Target rate at `t`, rows per second over all workers.
    pub fn target_rate_at(&self, t: Duration) -> f64 {
        self.profile.rate_at(t)
    }
}

#[cfg(test)]
mod tests;
