//! One run split over N processes (shards): shard I of N runs a contiguous
//! block of the scenario's workers, so the shards' schedules together are the
//! single run's schedule, row for row, and each row has exactly one owner.
//!
//! Workers, not rates, are what is split: worker `w`'s schedule, seed and
//! ticket range do not depend on which process runs it, so N shards write the
//! same rows as one process with the same scenario (and `merge` can put them
//! back together into one run).

use std::ops::Range;

/// Shard `index` (0-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This shard, `0..count`.
    pub index: u32,
    /// How many shards the run has.
    pub count: u32,
}

impl Shard {
    /// The whole run in one process.
    pub const ALONE: Shard = Shard { index: 0, count: 1 };

    /// Parses `I/N` (0 ≤ I < N, 1 ≤ N ≤ 1024).
    pub fn parse(text: &str) -> Result<Shard, String> {
        let bad = || format!("--shard {text:?}: expected I/N with 0 ≤ I < N, e.g. 0/3");
        let (i, n) = text.trim().split_once('/').ok_or_else(bad)?;
        let index: u32 = i.trim().parse().map_err(|_| bad())?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count || count > 1024 {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    /// The shard from the environment when no flag gave one: a Kubernetes
    /// Indexed Job sets `JOB_COMPLETION_INDEX`, and the Job's manifest sets
    /// `TPCDS_SHARD_COUNT` (its `completions`).
    pub fn from_indexed_job(
        index: Option<&str>,
        count: Option<&str>,
    ) -> Result<Option<Shard>, String> {
        match (index, count) {
            (Some(i), Some(n)) => Shard::parse(&format!("{}/{}", i.trim(), n.trim())).map(Some),
            (Some(_), None) => Err(
                "JOB_COMPLETION_INDEX is set but TPCDS_SHARD_COUNT is not: set it to the Job's completions"
                    .into(),
            ),
            _ => Ok(None),
        }
    }

    /// True when the run is split.
    pub fn is_split(&self) -> bool {
        self.count > 1
    }

    /// The workers this shard runs, of `total`: a contiguous block, sizes
    /// differing by at most one.
    pub fn workers(&self, total: u32) -> Range<u32> {
        let (i, n, t) = (
            u64::from(self.index),
            u64::from(self.count),
            u64::from(total),
        );
        (i * t / n) as u32..((i + 1) * t / n) as u32
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_i_of_n_and_refuses_the_rest() {
        assert_eq!(Shard::parse("1/3"), Ok(Shard { index: 1, count: 3 }));
        assert_eq!(Shard::parse(" 0 / 1 "), Ok(Shard::ALONE));
        for bad in ["3/3", "1", "-1/3", "a/b", "0/0", "1/2/3", ""] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_shards_workers_tile_the_run_without_overlap() {
        for total in 1..20u32 {
            for count in 1..=total {
                let mut next = 0;
                for index in 0..count {
                    let w = Shard { index, count }.workers(total);
                    assert_eq!(w.start, next, "{index}/{count} of {total}");
                    assert!(!w.is_empty());
                    next = w.end;
                }
                assert_eq!(next, total);
            }
        }
    }

    #[test]
    fn an_indexed_job_needs_the_count_too() {
        assert_eq!(
            Shard::from_indexed_job(Some("2"), Some("3")),
            Ok(Some(Shard { index: 2, count: 3 }))
        );
        assert_eq!(Shard::from_indexed_job(None, Some("3")), Ok(None));
        assert!(Shard::from_indexed_job(Some("2"), None).is_err());
        assert!(Shard::from_indexed_job(Some("3"), Some("3")).is_err());
    }
}
