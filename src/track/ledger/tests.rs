//! The ledger's matching rules, one behaviour per test.

use super::*;
use crate::model::Table;

fn key(ticket: u64) -> RowKey {
    RowKey {
        table: Table::StoreSales,
        ticket,
        item: 7,
    }
}

fn batch(at: Instant, rows: &[CommittedRow]) -> CommitBatch {
    CommitBatch {
        closed: None,
        acked_at: at,
        rows: rows.to_vec(),
    }
}

fn ins(ticket: u64, stamp: i64) -> CommittedRow {
    CommittedRow {
        key: key(ticket),
        op: OpKind::Insert,
        stamp,
        prev_stamp: None,
    }
}

fn obs(sink: Sink, ticket: u64, op: OpKind, stamp: Option<i64>, at: Instant) -> Observation {
    Observation {
        sink,
        key: key(ticket),
        op,
        stamp,
        seen_at: at,
        server_arrival: None,
        visible: None,
    }
}

#[test]
fn insert_seen_once_then_duplicate() {
    let t0 = Instant::now();
    let mut l = Ledger::new(&[Sink::Kafka, Sink::Path2]);
    l.commit(&batch(t0, &[ins(1, 100)]));
    let o = obs(
        Sink::Kafka,
        1,
        OpKind::Insert,
        Some(100),
        t0 + Duration::from_millis(30),
    );
    match l.observe(&o) {
        MatchOutcome::Seen { latency, op, .. } => {
            assert_eq!(latency, Duration::from_millis(30));
            assert_eq!(op, OpKind::Insert);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(l.observe(&o), MatchOutcome::Duplicate);
    let k = l.counts(Sink::Kafka);
    assert_eq!(
        (k.expected, k.seen, k.duplicates, k.missing()),
        (1, 1, 1, 0)
    );
    assert_eq!(l.counts(Sink::Path2).missing(), 1);
    assert!(!l.all_seen());
    assert_eq!(
        l.missing_keys(Sink::Path2, 10),
        vec![(key(1), OpKind::Insert, 100)]
    );
}

#[test]
fn observation_before_commit_is_buffered_then_matched() {
    let t0 = Instant::now();
    let mut l = Ledger::new(&[Sink::Binlog]);
    let early = obs(Sink::Binlog, 1, OpKind::Insert, Some(5), t0);
    assert_eq!(l.observe(&early), MatchOutcome::Buffered);
    let out = l.commit(&batch(t0 + Duration::from_micros(200), &[ins(1, 5)]));
    assert!(matches!(
        out[..],
        [MatchOutcome::Seen {
            latency: Duration::ZERO,
            ..
        }]
    ));
    assert_eq!(l.counts(Sink::Binlog).before_ack, 1);
    assert!(l.all_seen());
}

#[test]
fn update_before_image_is_not_a_delete() {
    let t0 = Instant::now();
    let mut l = Ledger::new(&[Sink::Kafka]);
    l.commit(&batch(t0, &[ins(1, 100)]));
    l.observe(&obs(Sink::Kafka, 1, OpKind::Insert, Some(100), t0));
    let upd = CommittedRow {
        key: key(1),
        op: OpKind::Update,
        stamp: 200,
        prev_stamp: Some(100),
    };
    l.commit(&batch(t0, &[upd]));
    let before = obs(Sink::Kafka, 1, OpKind::Delete, Some(100), t0);
    assert_eq!(l.observe(&before), MatchOutcome::BeforeImage);
    let after = obs(Sink::Kafka, 1, OpKind::Insert, Some(200), t0);
    assert!(matches!(
        l.observe(&after),
        MatchOutcome::Seen {
            op: OpKind::Update,
            ..
        }
    ));
    assert_eq!(l.counts(Sink::Kafka).seen, 2);
    assert!(l.all_seen());
}

#[test]
fn delete_matches_with_or_without_stamp() {
    let t0 = Instant::now();
    let mut l = Ledger::new(&[Sink::Kafka, Sink::Path1]);
    l.commit(&batch(t0, &[ins(1, 100)]));
    let del = CommittedRow {
        key: key(1),
        op: OpKind::Delete,
        stamp: 300,
        prev_stamp: Some(100),
    };
    l.commit(&batch(t0, &[del]));
    // Kafka's "d" carries the before-image stamp; the warehouse sees only absence.
    assert!(matches!(
        l.observe(&obs(Sink::Kafka, 1, OpKind::Delete, Some(100), t0)),
        MatchOutcome::Seen {
            op: OpKind::Delete,
            ..
        }
    ));
    assert!(matches!(
        l.observe(&obs(Sink::Path1, 1, OpKind::Delete, None, t0)),
        MatchOutcome::Seen {
            op: OpKind::Delete,
            ..
        }
    ));
    assert_eq!(
        l.counts(Sink::Kafka).missing(),
        1,
        "the insert is still unseen"
    );
    // The warehouse never showed the insert before the delete removed it:
    // the delete's sighting accounts for it, without a latency.
    let p1 = l.counts(Sink::Path1);
    assert_eq!((p1.seen, p1.superseded, p1.missing()), (2, 1, 0));
}

#[test]
fn absence_confirmed_at_the_end_accounts_for_insert_and_delete() {
    let t0 = Instant::now();
    let mut l = Ledger::new(&[Sink::Path2]);
    l.commit(&batch(t0, &[ins(1, 100), ins(2, 100)]));
    let del = CommittedRow {
        key: key(1),
        op: OpKind::Delete,
        stamp: 300,
        prev_stamp: Some(100),
    };
    l.commit(&batch(t0, &[del]));
    assert_eq!(l.unseen_deletes(Sink::Path2), vec![key(1)]);
    assert!(!l.only_deletes_missing(), "row 2's insert is missing too");
    l.observe(&Observation {
        sink: Sink::Path2,
        key: key(2),
        op: OpKind::Insert,
        stamp: Some(100),
        seen_at: t0,
        server_arrival: None,
        visible: None,
    });
    assert!(l.only_deletes_missing());
    l.confirm_deleted(Sink::Path2, &key(1));
    let c = l.counts(Sink::Path2);
    assert_eq!(
        (c.seen, c.missing(), c.confirmed_at_end, c.superseded),
        (3, 0, 1, 1)
    );
    assert!(l.unseen_deletes(Sink::Path2).is_empty());
}

#[test]
fn stray_observations_become_unexpected() {
    let t0 = Instant::now();
    let mut l = Ledger::new(&[Sink::Kafka]);
    l.observe(&obs(Sink::Kafka, 9, OpKind::Insert, Some(1), t0));
    l.prune(t0 + Duration::from_secs(1), Duration::from_secs(10));
    assert_eq!(l.counts(Sink::Kafka).unexpected, 0, "still within grace");
    l.prune(t0 + Duration::from_secs(11), Duration::from_secs(10));
    assert_eq!(l.counts(Sink::Kafka).unexpected, 1);
    l.finish();
    assert_eq!(l.counts(Sink::Kafka).unexpected, 1, "counted once");
}

#[test]
fn fully_seen_rows_are_pruned_after_the_window() {
    let t0 = Instant::now();
    let mut l = Ledger::new(&[Sink::Kafka]).with_dup_window(Duration::from_secs(5));
    l.commit(&batch(t0, &[ins(1, 1), ins(2, 2)]));
    l.observe(&obs(Sink::Kafka, 1, OpKind::Insert, Some(1), t0));
    l.prune(t0 + Duration::from_secs(6), Duration::from_secs(10));
    assert_eq!(l.tracked_rows(), 1, "row 2 is still in flight");
    assert_eq!(l.counts(Sink::Kafka).missing(), 1);
}

fn delta(o: MatchOutcome) -> Option<i64> {
    match o {
        MatchOutcome::Seen { paths_delta_us, .. } => paths_delta_us,
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_row_seen_on_both_paths_yields_its_signed_difference_once() {
    let t0 = Instant::now();
    let ms = Duration::from_millis;
    let mut l = Ledger::new(&[Sink::Kafka, Sink::Path1, Sink::Path2]);
    l.commit(&batch(t0, &[ins(1, 1), ins(2, 2)]));
    // Row 1: path 1 first (120 ms), then path 2 (150 ms): +30 ms.
    assert_eq!(
        delta(l.observe(&obs(Sink::Path1, 1, OpKind::Insert, Some(1), t0 + ms(120)))),
        None
    );
    assert_eq!(
        delta(l.observe(&obs(Sink::Kafka, 1, OpKind::Insert, Some(1), t0 + ms(40)))),
        None
    );
    assert_eq!(
        delta(l.observe(&obs(Sink::Path2, 1, OpKind::Insert, Some(1), t0 + ms(150)))),
        Some(30_000)
    );
    // Row 2: path 2 first: a negative difference, whichever path completes the pair.
    assert_eq!(
        delta(l.observe(&obs(Sink::Path2, 2, OpKind::Insert, Some(2), t0 + ms(90)))),
        None
    );
    assert_eq!(
        delta(l.observe(&obs(Sink::Path1, 2, OpKind::Insert, Some(2), t0 + ms(100)))),
        Some(-10_000)
    );
    // A duplicate at path 1 does not pair again.
    assert_eq!(
        l.observe(&obs(Sink::Path1, 2, OpKind::Insert, Some(2), t0 + ms(300))),
        MatchOutcome::Duplicate
    );
}

/// A version seen everywhere leaves the in-flight tier at once and keeps
/// proving what it proved there until the duplicate window forgets it: a
/// repeat is a duplicate, an update's before-image is told from a delete, and
/// a stamp never written is unexpected.
#[test]
fn seen_everywhere_moves_to_the_window_and_still_classifies() {
    let t0 = Instant::now();
    let mut l = Ledger::new(&[Sink::Kafka, Sink::Path2])
        .with_tickets(0..100)
        .with_dup_window(Duration::from_secs(5));
    l.commit(&batch(t0, &[ins(1, 100), ins(2, 200)]));
    let m = l.memory();
    assert_eq!((m.live_versions, m.past_versions), (2, 0));
    for sink in [Sink::Kafka, Sink::Path2] {
        l.observe(&obs(sink, 1, OpKind::Insert, Some(100), t0));
    }
    let m = l.memory();
    assert_eq!((m.live_versions, m.past_versions), (1, 1), "row 1 is past");
    assert!(m.per_live().is_some_and(|b| b > 0.0) && m.per_past().is_some());
    assert_eq!(
        l.observe(&obs(Sink::Path2, 1, OpKind::Insert, Some(100), t0)),
        MatchOutcome::Duplicate
    );
    // An update of the past insert: its before-image is not a delete.
    let upd = CommittedRow {
        key: key(1),
        op: OpKind::Update,
        stamp: 300,
        prev_stamp: Some(100),
    };
    l.commit(&batch(t0, &[upd]));
    assert_eq!(
        l.observe(&obs(Sink::Kafka, 1, OpKind::Delete, Some(100), t0)),
        MatchOutcome::BeforeImage
    );
    assert!(matches!(
        l.observe(&obs(Sink::Kafka, 1, OpKind::Insert, Some(300), t0)),
        MatchOutcome::Seen {
            op: OpKind::Update,
            ..
        }
    ));
    assert_eq!(
        l.observe(&obs(Sink::Kafka, 1, OpKind::Insert, Some(999), t0)),
        MatchOutcome::Buffered,
        "a stamp never written matches neither tier"
    );
    let k = l.counts(Sink::Kafka);
    assert_eq!((k.expected, k.seen, k.duplicates), (3, 2, 0));
    assert_eq!(l.counts(Sink::Path2).duplicates, 1);
    // After the window the past insert is forgotten: a repeat is unexpected.
    l.prune(t0 + Duration::from_secs(6), Duration::from_secs(1));
    assert_eq!(l.memory().past_versions, 0);
    assert_eq!(
        l.observe(&obs(Sink::Path2, 1, OpKind::Insert, Some(100), t0)),
        MatchOutcome::Buffered
    );
    l.finish();
    assert_eq!(l.counts(Sink::Kafka).unexpected, 1);
    assert_eq!(l.counts(Sink::Path2).unexpected, 1);
    let (peak, total) = l.peak_memory();
    assert_eq!((peak.live_versions, peak.past_versions), (2, 1));
    assert!(total > 0);
}

/// Closing the window at the end forgets every past version at once, whatever
/// its age, and leaves what the report reads: counts, in-flight versions and
/// the peak the window reached.
#[test]
fn closing_the_window_forgets_past_versions_and_keeps_the_rest() {
    let t0 = Instant::now();
    let mut l = Ledger::new(&[Sink::Kafka])
        .with_tickets(0..10_000)
        .with_dup_window(Duration::from_secs(3600));
    let rows: Vec<CommittedRow> = (0..5_000).map(|t| ins(t, t as i64)).collect();
    l.commit(&batch(t0, &rows));
    for t in 0..4_000 {
        l.observe(&obs(Sink::Kafka, t, OpKind::Insert, Some(t as i64), t0));
    }
    l.prune(t0, Duration::from_secs(1));
    let before = l.memory();
    assert_eq!((before.live_versions, before.past_versions), (1_000, 4_000));
    l.close_window();
    let after = l.memory();
    assert_eq!((after.live_versions, after.past_versions), (1_000, 0));
    assert!(
        after.past_bytes < before.past_bytes / 10,
        "{before:?} → {after:?}"
    );
    let (peak, _) = l.peak_memory();
    assert_eq!(peak.past_versions, 4_000);
    let k = l.counts(Sink::Kafka);
    assert_eq!((k.expected, k.seen, k.missing()), (5_000, 4_000, 1_000));
    assert_eq!(l.missing_keys(Sink::Kafka, 3).len(), 3);
}
