//! What the workers' totals say a reader must know: rows sent late or
//! dropped (and who held them back), rows that failed to commit.

use std::fmt;

use super::{WorkerReport, LATE_THRESHOLD};
use crate::caveat::Caveat;

/// Rows sent after their intended time, or dropped beyond `max_lag`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lateness {
    /// Rows sent more than [`LATE_THRESHOLD`] after their intended time.
    pub late: u64,
    /// Rows dropped (over `max_lag`).
    pub dropped: u64,
    /// Late rows whose worker was still waiting for MySQL when they were due.
    pub waiting_for_mysql: u64,
}

impl Lateness {
    /// The workers' lateness, when any row was late or dropped.
    pub fn of(workers: &[WorkerReport]) -> Option<Caveat> {
        let sum = |f: fn(&WorkerReport) -> u64| workers.iter().map(f).sum::<u64>();
        let l = Lateness {
            late: sum(|w| w.late),
            dropped: sum(|w| w.dropped),
            waiting_for_mysql: sum(|w| w.late_waiting_for_mysql),
        };
        (l.late > 0 || l.dropped > 0).then(|| Caveat::new(l))
    }

    /// Says who held the schedule back. A late batch whose worker was still
    /// waiting for its previous transaction at the due time was late because
    /// of MySQL; one whose worker was free was late because of the harness (a
    /// busy CPU, scheduling).
    fn bottleneck(&self) -> String {
        let (late, by_mysql) = (self.late, self.waiting_for_mysql);
        let by_harness = late - by_mysql.min(late);
        if by_harness * 2 > late {
            format!(
                "The harness, not MySQL, was the bottleneck for {by_harness} of them: their worker was idle \
                 when they were due (a busy CPU on the load machine); {by_mysql} waited for MySQL"
            )
        } else {
            format!(
                "MySQL was the bottleneck for {by_mysql} of them: their worker was still waiting for its \
                 previous transaction (more workers spread the load); {by_harness} were late on the harness side"
            )
        }
    }
}

impl fmt::Display for Lateness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} rows were sent more than {} ms after their intended time and {} were dropped \
             (over max_lag); client latency counts from the intended time, so it includes that wait. {}",
            self.late,
            LATE_THRESHOLD.as_millis(),
            self.dropped,
            self.bottleneck()
        )
    }
}

/// Rows whose transaction failed; the run's errors say why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedRows(pub u64);

impl FailedRows {
    /// The workers' failed rows, when there were any.
    pub fn of(workers: &[WorkerReport]) -> Option<Caveat> {
        let n = workers.iter().map(|w| w.failed).sum::<u64>();
        (n > 0).then(|| Caveat::new(FailedRows(n)))
    }
}

impl fmt::Display for FailedRows {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} rows failed to commit (see the errors)", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn worker(late: u64, waiting: u64, dropped: u64) -> WorkerReport {
        WorkerReport {
            late,
            late_waiting_for_mysql: waiting,
            dropped,
            ..WorkerReport::default()
        }
    }

    #[test]
    fn the_sentence_is_that_of_the_stored_quickstart_run() {
        // tests/fixtures/runs/quickstart/summary.json, caveat 1.
        let c = Lateness::of(&[worker(50, 40, 0), worker(30, 10, 0)]).unwrap();
        assert_eq!(
            c.to_string(),
            "80 rows were sent more than 10 ms after their intended time and 0 were dropped (over max_lag); \
             client latency counts from the intended time, so it includes that wait. MySQL was the bottleneck \
             for 50 of them: their worker was still waiting for its previous transaction (more workers spread \
             the load); 30 were late on the harness side"
        );
        assert_eq!(c.fact::<Lateness>().unwrap().waiting_for_mysql, 50);
    }

    #[test]
    fn an_idle_worker_blames_the_harness() {
        let c = Lateness::of(&[worker(10, 2, 1)]).unwrap().to_string();
        assert!(
            c.contains("The harness, not MySQL, was the bottleneck for 8 of them"),
            "{c}"
        );
        assert!(Lateness::of(&[worker(0, 0, 0)]).is_none());
        assert!(FailedRows::of(&[worker(0, 0, 0)]).is_none());
    }
}
