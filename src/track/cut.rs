//! Cuts for the mid-run audit: per sink, the tickets whose every version the
//! sink has shown and that no later write touches, so MySQL and the sink must
//! hold the same rows there while the load goes on.
//!
//! A worker writes its tickets in order; its generator knows the lowest
//! ticket it may still write (the ticket being written, a line in its
//! mutation pool, a sale whose return is pending). The worker sends that
//! frontier with a commit batch when asked ([`super::CommitBatch::closed`]),
//! so the tracker holds it together with every commit before it. At a cut the
//! tracker then takes, per worker and sink, the closed tickets up to the
//! lowest one with a version the sink has not shown.

use std::collections::BTreeMap;
use std::ops::Range;

use tokio::sync::oneshot;

use super::Ledger;
use crate::model::Sink;

/// A mid-run audit's question to the tracker.
#[derive(Debug)]
pub struct CutRequest {
    /// The sinks to cut for.
    pub sinks: Vec<Sink>,
    /// Where the answer goes.
    pub reply: oneshot::Sender<Cut>,
}

/// Per sink, the ticket ranges (one per worker, those not empty) to audit.
pub type Cut = BTreeMap<Sink, Vec<Range<u64>>>;

/// The workers' closed tickets as last reported: first ticket → end.
#[derive(Debug, Default, Clone)]
pub struct Closed(BTreeMap<u64, u64>);

impl Closed {
    /// Records a worker's report (a frontier never moves back).
    pub fn record(&mut self, r: &Range<u64>) {
        let end = self.0.entry(r.start).or_insert(r.start);
        *end = (*end).max(r.end);
    }
}

impl Ledger {
    /// The cut for `sinks` given the workers' `closed` tickets: per worker,
    /// its closed tickets below the lowest ticket with a version `sink` has
    /// not shown. O(versions in flight).
    pub fn cut(&self, closed: &Closed, sinks: &[Sink]) -> Cut {
        let ranges: Vec<Range<u64>> = closed
            .0
            .iter()
            .map(|(s, e)| *s..*e)
            .filter(|r| !r.is_empty())
            .collect();
        let mut floors: Vec<[u64; Sink::ALL.len()]> =
            ranges.iter().map(|r| [r.end; Sink::ALL.len()]).collect();
        for (_, key, _, unseen) in self.unseen() {
            if unseen == 0 {
                continue;
            }
            let i = ranges.partition_point(|r| r.start <= key.ticket);
            if i == 0 || !ranges[i - 1].contains(&key.ticket) {
                continue;
            }
            for s in sinks {
                if unseen & (1 << s.index()) != 0 {
                    let f = &mut floors[i - 1][s.index()];
                    *f = (*f).min(key.ticket);
                }
            }
        }
        sinks
            .iter()
            .map(|s| {
                let r = ranges
                    .iter()
                    .zip(&floors)
                    .map(|(r, f)| r.start..f[s.index()])
                    .filter(|r| !r.is_empty())
                    .collect();
                (*s, r)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::track::tests::probe::{row, seen};
    use crate::track::CommitBatch;
    use std::time::Instant;

    #[test]
    fn a_cut_stops_at_the_oldest_version_a_sink_has_not_shown() {
        let sinks = [Sink::Kafka, Sink::Path1];
        let mut l = Ledger::new(&sinks);
        let acked = Instant::now();
        let rows: Vec<_> = (1..=6).map(row).collect();
        l.commit(&CommitBatch {
            acked_at: acked,
            rows: rows.clone(),
            closed: None,
        });
        // Kafka showed every row; path 1 all but ticket 4.
        for r in &rows {
            l.observe(&seen(Sink::Kafka, r, acked));
            if r.key.ticket != 4 {
                l.observe(&seen(Sink::Path1, r, acked));
            }
        }
        let mut closed = Closed::default();
        // Worker from ticket 1: closed up to 6 (ticket 6 still open); a
        // report that went back is ignored.
        closed.record(&(1..6));
        closed.record(&(1..3));
        let cut = l.cut(&closed, &sinks);
        assert_eq!(cut[&Sink::Kafka], vec![1..6]);
        assert_eq!(cut[&Sink::Path1], vec![1..4]);
        // A worker with nothing closed yet has no range.
        closed.record(&(100..100));
        assert_eq!(l.cut(&closed, &sinks)[&Sink::Kafka], vec![1..6]);
    }
}
