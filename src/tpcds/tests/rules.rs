//! Unit tests of the generator's rules, each driving [`Sim`] or a bare
//! [`Generator`] through one scenario.

use std::collections::HashSet;
use std::time::Duration;

use super::sim::Sim;
use crate::dist::{CountRange, KeyDist, LagDist};
use crate::model::{OpKind, Table};
use crate::tpcds::calendar::{civil_from_julian, wall_clock_keys};
use crate::tpcds::*;

fn mutating() -> GenConfig {
    GenConfig {
        update_probability: 0.05,
        delete_probability: 0.03,
        return_lag: LagDist::Uniform {
            min: Duration::from_millis(5),
            max: Duration::from_millis(50),
        },
        ..GenConfig::default()
    }
}

#[test]
fn a_full_run_keeps_every_rule() {
    let mut sim = Sim::new(mutating(), 42, 1_000..1_400, 0.1);
    sim.run(50, 2_000);
    let s = sim.g.stats();
    assert!(
        s.sales > 4_000 && s.returns > 200 && s.updates > 100 && s.deletes > 50,
        "{s:?}"
    );
    assert_eq!(s.committed + s.failed, sim.log.len() as u64);
    // Returns that committed match the lines whose sale committed and that were due.
    assert!(sim.returns.len() <= sim.sales.len() / 5);
}

#[test]
fn same_seed_same_writes_other_seed_other_writes() {
    let run = |seed| {
        let mut sim = Sim::new(mutating(), seed, 0..150, 0.2);
        sim.run(16, 1_000);
        sim.log
    };
    let a = run(7);
    assert_eq!(a, run(7));
    assert_ne!(a, run(8));
    assert!(a.iter().any(|w| w.op() == OpKind::Update));
    assert!(a.iter().any(|w| w.op() == OpKind::Delete));
    assert!(a.iter().any(|w| w.table() == Table::StoreReturns));
}

#[test]
fn failed_sales_are_never_returned_or_mutated() {
    let cfg = GenConfig {
        return_probability: 1.0,
        update_probability: 0.5,
        delete_probability: 0.5,
        return_lag: LagDist::Fixed {
            value: Duration::ZERO,
        },
        ..GenConfig::default()
    };
    let mut sim = Sim::new(cfg, 3, 0..50, 1.0);
    sim.run(10, 100);
    assert!(sim.log.iter().all(|w| matches!(w, Write::InsertSale(_))));
    assert_eq!(sim.g.stats().pending_returns, 0);
}

#[test]
fn every_committed_line_is_returned_when_probability_is_one() {
    let cfg = GenConfig {
        return_probability: 1.0,
        return_lag: LagDist::Fixed {
            value: Duration::from_millis(3),
        },
        update_probability: 0.3,
        ..GenConfig::default()
    };
    let mut sim = Sim::new(cfg, 5, 0..1_000, 0.05);
    sim.run(64, 500);
    // Every committed line got its return (some of those returns then failed).
    assert!(sim.sales.keys().all(|k| sim.emitted_returns.contains(k)));
    // Only returned lines exist, so nothing may be mutated.
    assert_eq!(sim.g.stats().updates, 0);
    // dsdgen: the sale's customer on 79% of returns (plus rare random repeats).
    let share = sim.same_customer_returns as f64 / sim.emitted_returns.len() as f64;
    assert!(sim.returns.len() > 10_000);
    assert!((0.76..0.82).contains(&share), "same-customer share {share}");
}

#[test]
fn about_one_line_in_ten_is_returned() {
    let mut sim = Sim::new(GenConfig::default(), 9, 0..2_000, 0.0);
    sim.run(100, 1_000);
    let (lines, returned) = (sim.sales.len() as f64, sim.returns.len() as f64);
    // ~24000 lines: binomial sd ~46 returns; the bound is ~8 sd.
    assert!(
        (returned / lines - 0.10).abs() < 0.015,
        "{returned} of {lines}"
    );
}

#[test]
fn returns_wait_for_their_lag() {
    let lag = Duration::from_millis(20);
    let cfg = GenConfig {
        return_probability: 0.5,
        return_lag: LagDist::Fixed { value: lag },
        ..GenConfig::default()
    };
    let mut g = Generator::new(cfg, 1, 0..100);
    let batch: Vec<Write> = (0..40).map(|_| g.next_write(0)).collect();
    assert!(batch.iter().all(|w| matches!(w, Write::InsertSale(_))));
    // Nothing committed yet: no return at any time.
    assert!((0..40).all(|_| !matches!(g.next_write(1_000_000), Write::InsertReturn(_))));
    g.committed(&batch, 1_000);
    let due = g.next_return_due().expect("some of 40 lines returned");
    assert_eq!(due, 1_000 + 20_000);
    assert!(!matches!(g.next_write(due - 1), Write::InsertReturn(_)));
    let pending = g.pending_returns();
    let rets: Vec<Write> = (0..pending).map(|_| g.next_write(due)).collect();
    assert!(rets.iter().all(|w| matches!(w, Write::InsertReturn(_))));
    assert_eq!(g.pending_returns(), 0);
}

#[test]
fn ticket_range_is_respected() {
    let cfg = GenConfig {
        items_per_ticket: CountRange { min: 2, max: 3 },
        return_probability: 0.0,
        ..GenConfig::default()
    };
    let mut g = Generator::new(cfg, 1, 500..503);
    assert_eq!(g.tickets_used(), 500..500);
    let mut n = 0;
    while !g.is_exhausted() {
        let w = g.next_write(0);
        assert!((500..503).contains(&w.key().ticket));
        n += 1;
    }
    assert!((6..=9).contains(&n));
    assert_eq!(g.tickets_used(), 500..503);
    assert!(g.try_next_write(0).is_none());
    let empty = Generator::new(GenConfig::default(), 1, 7..7);
    assert!(empty.is_exhausted());
    assert_eq!(empty.tickets_used(), 7..7);
}

#[test]
#[should_panic(expected = "ticket range used up")]
fn next_write_past_the_range_panics() {
    let mut g = Generator::new(GenConfig::default(), 1, 0..1);
    for _ in 0..17 {
        g.next_write(0);
    }
}

#[test]
fn mutation_pool_is_bounded() {
    let cfg = GenConfig {
        mutation_pool: 10,
        return_probability: 0.0,
        ..GenConfig::default()
    };
    let mut g = Generator::new(cfg, 1, 0..1_000);
    let batch: Vec<Write> = (0..5_000).map(|_| g.next_write(0)).collect();
    g.committed(&batch, 0);
    assert_eq!(g.stats().mutation_candidates, 10);
    let no_pool = GenConfig {
        mutation_pool: 0,
        update_probability: 1.0,
        ..GenConfig::default()
    };
    let mut sim = Sim::new(no_pool, 2, 0..20, 0.0);
    sim.run(8, 10);
    assert_eq!(sim.g.stats().updates, 0);
}

#[test]
fn wall_clock_dates_follow_the_clock() {
    let epoch = 1_700_000_000_000_000; // 2023-11-14T22:13:20Z
    let cfg = GenConfig {
        dates: DateMode::WallClock {
            epoch_unix_us: epoch,
        },
        update_probability: 0.1,
        return_probability: 0.3,
        ..GenConfig::default()
    };
    let mut sim = Sim::new(cfg, 4, 0..200, 0.1);
    // One hour per batch crosses midnight.
    sim.run(20, 3_600_000_000);
    let first = &sim.sale_log[0];
    let (d, t) = wall_clock_keys(epoch);
    assert_eq!(
        (first.ss_sold_date_sk, first.ss_sold_time_sk),
        (Some(d), Some(t))
    );
    assert_eq!(civil_from_julian(d), (2023, 11, 14));
    assert!(sim.sale_log.iter().any(|r| r.ss_sold_date_sk > Some(d + 2)));
}

#[test]
fn nulls_hit_about_the_configured_fraction_and_never_keys() {
    let cfg = GenConfig {
        null_fraction: 0.09,
        update_probability: 0.05,
        ..GenConfig::default()
    };
    let mut sim = Sim::new(cfg, 6, 0..1_000, 0.0);
    sim.run(50, 1_000);
    let with_nulls = sim
        .sale_log
        .iter()
        .filter(|r| r.values().contains(&SqlValue::Null))
        .count() as f64;
    let share = with_nulls / sim.sale_log.len() as f64;
    assert!((0.075..0.105).contains(&share), "{share}");
    assert!(sim
        .returns
        .values()
        .any(|r| r.values().contains(&SqlValue::Null)));
}

#[test]
fn zipf_customers_and_items_are_skewed() {
    let cfg = GenConfig {
        item: KeyDist::Zipf { n: 18_000, s: 1.1 },
        customer: KeyDist::Zipf { n: 100_000, s: 1.1 },
        ..GenConfig::default()
    };
    let mut sim = Sim::new(cfg, 8, 0..1_000, 0.0);
    sim.run(50, 1_000);
    let tickets = 1_000;
    let c1 = sim
        .sale_log
        .iter()
        .filter(|r| r.ss_customer_sk == Some(1))
        .map(|r| r.ss_ticket_number)
        .collect::<HashSet<_>>()
        .len();
    let i1 = sim.sale_log.iter().filter(|r| r.ss_item_sk == 1).count();
    // Uniform would give ~0.01 tickets for customer 1 and ~0.7 lines for item 1.
    assert!(c1 > tickets / 20, "customer 1 on {c1} tickets");
    assert!(i1 > tickets / 20, "item 1 on {i1} lines");
}

#[test]
fn invalid_configs_are_rejected() {
    let bad = [
        GenConfig {
            items_per_ticket: CountRange { min: 0, max: 3 },
            ..GenConfig::default()
        },
        GenConfig {
            items_per_ticket: CountRange { min: 5, max: 30 },
            item: KeyDist::Uniform { n: 20 },
            ..GenConfig::default()
        },
        GenConfig {
            return_probability: 1.5,
            ..GenConfig::default()
        },
        GenConfig {
            update_probability: 0.7,
            delete_probability: 0.4,
            ..GenConfig::default()
        },
        GenConfig {
            null_fraction: f64::NAN,
            ..GenConfig::default()
        },
        GenConfig {
            customer: KeyDist::Zipf { n: 10, s: 0.0 },
            ..GenConfig::default()
        },
        GenConfig {
            scale: 0,
            ..GenConfig::default()
        },
        GenConfig {
            return_lag: LagDist::Uniform {
                min: Duration::from_secs(2),
                max: Duration::from_secs(1),
            },
            ..GenConfig::default()
        },
    ];
    for cfg in bad {
        let e = Generator::try_new(cfg.clone(), 1, 0..10).expect_err(&format!("{cfg:?}"));
        assert_eq!(e.exit_code(), 2);
        assert!(!e.reason.is_empty());
    }
    assert!(GenConfig::default().validate().is_ok());
}

#[test]
fn scale_widens_key_ranges() {
    let cfg = GenConfig {
        scale: 10,
        ..GenConfig::default()
    };
    let mut sim = Sim::new(cfg, 10, 0..500, 0.0);
    sim.run(50, 1_000);
    assert!(sim.sale_log.iter().any(|r| r.ss_addr_sk > Some(50_000)));
    assert!(sim.sale_log.iter().any(|r| r.ss_promo_sk > Some(300)));
}

/// A ticket below `open_from` is never written again (no sale line, return,
/// update or delete), and the frontier only moves forward: what a mid-run
/// audit relies on to compare a range without racing the load.
#[test]
fn nothing_is_written_below_the_open_frontier() {
    let cfg = GenConfig {
        mutation_pool: 50,
        ..mutating()
    };
    let mut g = Generator::new(cfg, 7, 0..100_000);
    let (mut frontier, mut advanced) = (0u64, 0);
    for step in 0..4_000u64 {
        let now_us = step * 1_000;
        let batch: Vec<Write> = (0..5).map(|_| g.next_write(now_us)).collect();
        for w in &batch {
            let t = w.key().ticket;
            assert!(
                t >= frontier,
                "step {step}: wrote ticket {t} below {frontier}"
            );
        }
        g.committed(&batch, now_us);
        let next = g.open_from();
        assert!(
            next >= frontier,
            "the frontier went back: {frontier} → {next}"
        );
        advanced += u64::from(next > frontier);
        frontier = next;
    }
    assert!(advanced > 100, "the frontier hardly moved: {advanced}");
    // Without mutations the pool does not hold the frontier back.
    let still = GenConfig {
        update_probability: 0.0,
        delete_probability: 0.0,
        return_probability: 0.0,
        ..GenConfig::default()
    };
    let mut g = Generator::new(still, 7, 0..100_000);
    let batch: Vec<Write> = (0..500).map(|_| g.next_write(0)).collect();
    g.committed(&batch, 0);
    assert!(
        g.open_from() + 2 >= g.tickets_used().end,
        "{}",
        g.open_from()
    );
}
