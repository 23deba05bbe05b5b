//! The ledger with probe rows: the derived sinks expect the probes only, every
//! other sink expects every row, and a run is complete when each sink has
//! what it expects.

use std::time::{Duration, Instant};

use super::super::{CommitBatch, CommittedRow, Ledger};
use crate::model::{Observation, OpKind, RowKey, Sink, Table};

/// An inserted sale line, stamped with its ticket (shared with the tracker's tests).
pub(in crate::track) fn row(ticket: u64) -> CommittedRow {
    CommittedRow {
        key: RowKey {
            table: Table::StoreSales,
            ticket,
            item: 1,
        },
        op: OpKind::Insert,
        stamp: ticket as i64,
        prev_stamp: None,
    }
}

/// `r` seen at `sink` at `at`.
pub(in crate::track) fn seen(sink: Sink, r: &CommittedRow, at: Instant) -> Observation {
    Observation {
        sink,
        key: r.key,
        op: OpKind::Insert,
        stamp: Some(r.stamp),
        seen_at: at,
        server_arrival: None,
        visible: None,
    }
}

#[test]
fn derived_sinks_expect_only_probes_and_query_sinks_nothing() {
    let t0 = Instant::now();
    let sinks = [Sink::Path1, Sink::Path1View, Sink::Metrics, Sink::QTopItems];
    let mut l = Ledger::new(&sinks).with_probes(900..1000);
    let (work, probe) = (row(5), row(950));
    l.commit(&CommitBatch {
        closed: None,
        acked_at: t0,
        rows: vec![work, probe],
    });
    assert_eq!(l.counts(Sink::Path1).expected, 2);
    assert_eq!(l.counts(Sink::Path1View).expected, 1);
    assert_eq!(l.counts(Sink::Metrics).expected, 1);
    assert_eq!(l.counts(Sink::QTopItems).expected, 0);
    let later = t0 + Duration::from_millis(40);
    l.observe(&seen(Sink::Path1, &work, later));
    l.observe(&seen(Sink::Path1, &probe, later));
    l.observe(&seen(Sink::Path1View, &probe, later));
    assert!(!l.all_seen(), "metrics has not seen the probe");
    assert_eq!(
        l.missing_keys(Sink::Metrics, 10),
        vec![(probe.key, OpKind::Insert, probe.stamp)]
    );
    assert!(l.missing_keys(Sink::Path1View, 10).is_empty());
    l.observe(&seen(Sink::Metrics, &probe, later));
    assert!(l.all_seen());
    assert!(l.only_deletes_missing());
}
