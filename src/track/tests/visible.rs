//! The ledger with sinks that say when a row became visible: a polled sink's
//! latency ends at its own moment (kept between the ack and the sighting,
//! clock problems counted), Kafka's stays its sighting, and the hops between
//! the points of a row's way are timed on one clock.

use std::time::{Duration, Instant};

use super::super::{CommitBatch, Ledger, MatchOutcome};
use super::probe::{row, seen};
use crate::model::{Hop, Observation, Sink, Visible, VisibleSource};

const MS: Duration = Duration::from_millis(1);

fn at(o: Observation, visible: Instant, source: VisibleSource, unc_us: u32) -> Observation {
    Observation {
        visible: Some(Visible {
            at: visible,
            source,
            uncertainty_us: unc_us,
        }),
        ..o
    }
}

fn outcome(
    l: &mut Ledger,
    o: &Observation,
) -> (Duration, Duration, VisibleSource, Vec<(Hop, u64)>) {
    match l.observe(o) {
        MatchOutcome::Seen {
            latency,
            detected,
            source,
            hops,
            ..
        } => (
            latency,
            detected,
            source,
            hops.into_iter().flatten().collect(),
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_polled_sink_ends_at_its_commit_and_kafka_at_its_sighting() {
    let t0 = Instant::now();
    let r = row(1);
    let mut l = Ledger::new(&[Sink::Kafka, Sink::Path2]);
    l.commit(&CommitBatch {
        closed: None,
        acked_at: t0,
        rows: vec![r],
    });
    let k = at(
        seen(Sink::Kafka, &r, t0 + 40 * MS),
        t0 + 35 * MS,
        VisibleSource::LogAppendTime,
        600,
    );
    let (lat, det, src, _) = outcome(&mut l, &k);
    assert_eq!((lat, det, src), (40 * MS, 40 * MS, VisibleSource::Detected));
    let p = at(
        seen(Sink::Path2, &r, t0 + 180 * MS),
        t0 + 95 * MS,
        VisibleSource::CommitTs,
        50,
    );
    let (lat, det, src, _) = outcome(&mut l, &p);
    assert_eq!(
        (lat, det, src),
        (95 * MS, 180 * MS, VisibleSource::CommitTs)
    );
    let v = l.visibility(Sink::Path2);
    assert_eq!(v.count(VisibleSource::CommitTs), 1);
    assert_eq!(v.main_source(), VisibleSource::CommitTs);
    assert_eq!(
        (v.before_ack, v.after_detection, v.max_uncertainty_us),
        (0, 0, 50)
    );
}

#[test]
fn a_visible_moment_outside_ack_and_sighting_is_clamped_and_counted() {
    let t0 = Instant::now() + Duration::from_secs(1);
    let (r1, r2, r3) = (row(1), row(2), row(3));
    let mut l = Ledger::new(&[Sink::Path1]);
    l.commit(&CommitBatch {
        closed: None,
        acked_at: t0,
        rows: vec![r1, r2, r3],
    });
    // 5 ms before the ack, beyond a 1 ms uncertainty: a clock problem.
    let early = at(
        seen(Sink::Path1, &r1, t0 + 50 * MS),
        t0 - 5 * MS,
        VisibleSource::CommitTs,
        1_000,
    );
    assert_eq!(outcome(&mut l, &early).0, Duration::ZERO);
    // After the harness had seen it: clamped to the sighting.
    let late = at(
        seen(Sink::Path1, &r2, t0 + 50 * MS),
        t0 + 60 * MS,
        VisibleSource::CommitTs,
        1_000,
    );
    assert_eq!(outcome(&mut l, &late).0, 50 * MS);
    // 0.5 ms before the ack is within the 1 ms uncertainty: not counted.
    let near = at(
        seen(Sink::Path1, &r3, t0 + 50 * MS),
        t0 - Duration::from_micros(500),
        VisibleSource::CommitTs,
        1_000,
    );
    assert_eq!(outcome(&mut l, &near).0, Duration::ZERO);
    // Seen before the ack itself: the ack came late, no clock is off.
    let r4 = row(4);
    l.commit(&CommitBatch {
        closed: None,
        acked_at: t0,
        rows: vec![r4],
    });
    let acked_late = at(
        seen(Sink::Path1, &r4, t0 - MS),
        t0 - 5 * MS,
        VisibleSource::CommitTs,
        1_000,
    );
    assert_eq!(outcome(&mut l, &acked_late).0, Duration::ZERO);
    assert_eq!(l.counts(Sink::Path1).before_ack, 1);
    let v = l.visibility(Sink::Path1);
    assert_eq!((v.before_ack, v.after_detection), (1, 1));
}

#[test]
fn hops_are_timed_once_each_whatever_order_the_sinks_report_in() {
    let t0 = Instant::now();
    let r = row(1);
    let mut l = Ledger::new(&Sink::CDC);
    l.commit(&CommitBatch {
        closed: None,
        acked_at: t0,
        rows: vec![r],
    });
    // Path 1 reports before Kafka and the binlog: its hop waits for them.
    let p1 = at(
        seen(Sink::Path1, &r, t0 + 200 * MS),
        t0 + 90 * MS,
        VisibleSource::CommitTs,
        50,
    );
    assert!(outcome(&mut l, &p1).3.is_empty());
    let k = at(
        seen(Sink::Kafka, &r, t0 + 40 * MS),
        t0 + 30 * MS,
        VisibleSource::LogAppendTime,
        600,
    );
    assert_eq!(outcome(&mut l, &k).3, vec![(Hop::KafkaToPath1, 60_000)]);
    let p2 = at(
        seen(Sink::Path2, &r, t0 + 150 * MS),
        t0 + 70 * MS,
        VisibleSource::CommitTs,
        50,
    );
    assert!(outcome(&mut l, &p2).3.is_empty());
    let b = seen(Sink::Binlog, &r, t0 + 2 * MS);
    let mut hops = outcome(&mut l, &b).3;
    hops.sort();
    assert_eq!(
        hops,
        vec![
            (Hop::AckToBinlog, 2_000),
            (Hop::BinlogToKafka, 28_000),
            (Hop::BinlogToPath2, 68_000)
        ]
    );
    assert_eq!(l.hop_negative(Hop::KafkaToPath1), 0);
}

#[test]
fn a_hop_whose_end_came_first_is_recorded_as_zero_and_counted() {
    let t0 = Instant::now();
    let r = row(1);
    let mut l = Ledger::new(&[Sink::Binlog, Sink::Kafka]);
    l.commit(&CommitBatch {
        closed: None,
        acked_at: t0,
        rows: vec![r],
    });
    let k = at(
        seen(Sink::Kafka, &r, t0 + 9 * MS),
        t0 + 3 * MS,
        VisibleSource::LogAppendTime,
        600,
    );
    outcome(&mut l, &k);
    let b = seen(Sink::Binlog, &r, t0 + 5 * MS);
    let hops = outcome(&mut l, &b).3;
    assert!(hops.contains(&(Hop::BinlogToKafka, 0)), "{hops:?}");
    assert_eq!(l.hop_negative(Hop::BinlogToKafka), 1);
}
