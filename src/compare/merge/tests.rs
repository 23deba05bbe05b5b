//! Merging shards: what adds, what is refused.

use chrono::Duration as ChronoDuration;

use super::*;
use crate::model::Sink;
use crate::report::testdata::tiny_run;

fn shard(index: u32, count: u32) -> RunData {
    let mut r = tiny_run();
    r.shards = vec![ShardInfo {
        index,
        count,
        group: "tiny-1772366400".into(),
        start_at: r.started_at,
        tickets: format!("{}..{}", 1000 + index * 100, 1100 + index * 100),
    }];
    r
}

fn runs(rs: &[RunData]) -> Vec<ShardRun<'_>> {
    rs.iter()
        .enumerate()
        .map(|(i, run)| ShardRun {
            dir: format!("dir{i}"),
            run,
        })
        .collect()
}

#[test]
fn counts_and_histograms_add_and_in_flight_levels_too() {
    let rs = [shard(0, 2), shard(1, 2)];
    let m = merge(&runs(&rs), false).unwrap();
    let one = &rs[0];
    assert_eq!(m.target_rows, 2 * one.target_rows);
    assert_eq!(m.achieved_rows, 2 * one.achieved_rows);
    assert_eq!(m.late, 2 * one.late);
    for sink in [Sink::Kafka, Sink::Path1] {
        let (a, b) = (&m.sinks[&sink].accounting, &one.sinks[&sink].accounting);
        assert_eq!((a.seen, a.missing), (2 * b.seen, 2 * b.missing));
        let (mh, oh) = (
            m.stats.sink_total(sink).unwrap(),
            one.stats.sink_total(sink).unwrap(),
        );
        assert_eq!(mh.len(), 2 * oh.len());
        // The same rows twice: the same percentiles.
        assert_eq!(mh.value_at_quantile(0.99), oh.value_at_quantile(0.99));
    }
    let second1 = m.stats.interval(1).unwrap();
    assert_eq!(second1.counters.in_flight[Sink::Path1.index()], Some(4));
    assert_eq!(m.environment["tickets"], "1000..1200");
    assert!(m.run_id.ends_with("-merged"), "{}", m.run_id);
    assert_eq!(m.shards.len(), 2);
    assert!(m
        .caveats
        .iter()
        .any(|c| c.to_string().starts_with("shard 1/2: ")));
    // The SLOs are judged again on the merged figures: path1 misses 4 rows.
    assert!(!m.slo.passed);
    assert!(
        m.slo
            .breaches
            .iter()
            .any(|b| b.contains("path1") && b.contains('4')),
        "{:?}",
        m.slo.breaches
    );
}

#[test]
fn seconds_align_on_each_shards_start() {
    let mut late = shard(1, 2);
    late.started_at += ChronoDuration::milliseconds(900);
    let rs = [shard(0, 2), late];
    let m = merge(&runs(&rs), false).unwrap();
    let first = rs[0].stats.last_second().unwrap();
    // The late shard's last second lands one second later.
    assert_eq!(m.stats.last_second(), Some(first + 1));
}

#[test]
fn a_missing_shard_is_refused_unless_partial() {
    let rs = [shard(0, 3), shard(2, 3)];
    let e = merge(&runs(&rs), false).unwrap_err();
    assert!(
        matches!(&e, MergeError::Missing { missing, .. } if missing == "1/3"),
        "{e}"
    );
    let m = merge(&runs(&rs), true).unwrap();
    assert!(
        m.caveats[0].to_string().contains("shard 1/3 missing"),
        "{:?}",
        m.caveats
    );
    assert_eq!(m.target_rows, 2 * rs[0].target_rows);
}

#[test]
fn duplicates_other_runs_and_plain_runs_are_refused() {
    let dup = [shard(0, 2), shard(0, 2)];
    assert!(matches!(
        merge(&runs(&dup), true),
        Err(MergeError::Duplicate { .. })
    ));
    let mut other = shard(1, 2);
    other.shards[0].group = "tiny-1".into();
    let mixed = [shard(0, 2), other];
    assert!(matches!(
        merge(&runs(&mixed), true),
        Err(MergeError::OtherRun { .. })
    ));
    let plain = [tiny_run()];
    assert!(matches!(
        merge(&runs(&plain), true),
        Err(MergeError::NotAShard(_))
    ));
}

#[test]
fn different_fingerprints_or_starts_are_refused() {
    let mut other = shard(1, 2);
    other
        .environment
        .insert("mysql.version".into(), "8.0.36".into());
    let rs = [shard(0, 2), other];
    let e = merge(&runs(&rs), false).unwrap_err();
    assert!(e.to_string().contains("environment.mysql.version"), "{e}");
    let mut late = shard(1, 2);
    late.started_at += ChronoDuration::milliseconds(1500);
    let rs = [shard(0, 2), late];
    assert!(matches!(
        merge(&runs(&rs), false),
        Err(MergeError::Start { .. })
    ));
}
