//! Per-worker open-loop schedules: the intended instant of each of a worker's
//! rows, computed from the rate profile alone (never from how fast the
//! database answers), so a slow target cannot slow the offered load.

use std::time::Duration;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp1};

use crate::rate::RateProfile;
use crate::scenario::Arrivals;

/// Rows a worker should write together, with their intended offsets from the
/// run start (non-decreasing). The batch is due at its last row's offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// Index of the first row among this worker's rows (0-based, counting
    /// skipped rows too), so callers can number rows without gaps.
    pub first_index: u64,
    /// Intended offset of each row.
    pub rows: Vec<Duration>,
}

impl Batch {
    /// When the batch is due: its last row's intended offset.
    pub fn due(&self) -> Duration {
        *self.rows.last().expect("a batch is never empty")
    }
}

/// One worker's rows of the run, in order.
///
/// Uniform arrivals: the run's rows form one global sequence, row `g` due
/// when the rate integral reaches `g + 0.5`; worker `w` of `n` takes the rows
/// `g ≡ w (mod n)`. Poisson arrivals: each worker is an independent
/// nonhomogeneous Poisson process with intensity `rate / n` (a unit-rate
/// exponential sequence mapped through the integral's inverse), seeded from
/// `(seed, worker)`; the superposition of the workers is Poisson at the full rate.
#[derive(Debug, Clone)]
pub struct Schedule {
    profile: RateProfile,
    arrivals: Arrivals,
    worker: u64,
    workers: u64,
    /// This worker's rows handed out so far (including skipped ones).
    index: u64,
    /// Poisson: the unit-rate process's time so far (in the worker's own rows).
    unit: f64,
    rng: ChaCha8Rng,
    /// The next row, computed ahead so `skip_before` can look at it.
    peeked: Option<Option<Duration>>,
    last: Duration,
}

impl Schedule {
    /// The schedule of `worker` (0-based) among `workers`.
    ///
    /// # Panics
    /// If `workers == 0` or `worker >= workers`.
    pub fn new(
        profile: &RateProfile,
        arrivals: Arrivals,
        worker: u32,
        workers: u32,
        seed: u64,
    ) -> Self {
        assert!(worker < workers, "worker {worker} of {workers}");
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        // One ChaCha stream per worker: independent, reproducible, and adding
        // workers never changes an existing worker's draws.
        rng.set_stream(u64::from(worker));
        Schedule {
            profile: profile.clone(),
            arrivals,
            worker: u64::from(worker),
            workers: u64::from(workers),
            index: 0,
            unit: 0.0,
            rng,
            peeked: None,
            last: Duration::ZERO,
        }
    }

    fn compute(&mut self) -> Option<Duration> {
        let x = match self.arrivals {
            Arrivals::Uniform => (self.worker + self.index * self.workers) as f64 + 0.5,
            Arrivals::Poisson => {
                let e: f64 = Exp1.sample(&mut self.rng);
                self.unit += e;
                self.unit * self.workers as f64
            }
        };
        let t = self.profile.time_of_row(x)?;
        // Rounding near segment joins must never reorder rows.
        let t = t.max(self.last);
        self.last = t;
        Some(t)
    }

    fn peek(&mut self) -> Option<Duration> {
        if self.peeked.is_none() {
            let next = self.compute();
            self.peeked = Some(next);
        }
        self.peeked.expect("just filled")
    }

    /// Index (among this worker's rows) of the row `next()` returns next.
    pub fn next_index(&self) -> u64 {
        self.index
    }

    /// Up to `batch_rows` next rows; `None` when the run's rows are exhausted.
    pub fn next_batch(&mut self, batch_rows: u32) -> Option<Batch> {
        let first_index = self.index;
        let rows: Vec<Duration> = self.by_ref().take(batch_rows.max(1) as usize).collect();
        (!rows.is_empty()).then_some(Batch { first_index, rows })
    }

    /// Drops every row intended before `t` (a worker that fell more than
    /// `max_lag` behind); returns how many were dropped, for the dropped count.
    pub fn skip_before(&mut self, t: Duration) -> u64 {
        let mut n = 0;
        while self.peek().is_some_and(|next| next < t) {
            self.next();
            n += 1;
        }
        n
    }
}

impl Iterator for Schedule {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let t = self.peek();
        if t.is_some() {
            self.peeked = None;
            self.index += 1;
        }
        t
    }
}
