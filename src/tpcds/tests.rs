//! Generator-level tests. A small model of the table state the writes produce
//! (what committed, what was returned, updated or deleted) checks every rule of
//! `TPCDS.md` and of the harness on every write the generator emits, while a
//! seeded "database" commits or rolls back whole batches.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::calendar::{
    civil_from_julian, wall_clock_keys, SALES_FIRST_DATE_SK, SALES_LAST_DATE_SK,
};
use super::money::mul_hundredths;
use super::pricing::tests::{assert_return_invariants, assert_sale_invariants};
use super::pricing::{ReturnMoney, SaleMoney};
use super::*;
use crate::dist::{CountRange, KeyDist, LagDist};
use crate::model::{OpKind, Table};

type Key = (u64, u32);

fn sale_money(r: &SaleRow) -> Option<SaleMoney> {
    Some(SaleMoney {
        quantity: r.ss_quantity?,
        wholesale_cost: r.ss_wholesale_cost?,
        list_price: r.ss_list_price?,
        sales_price: r.ss_sales_price?,
        ext_discount_amt: r.ss_ext_discount_amt?,
        ext_sales_price: r.ss_ext_sales_price?,
        ext_wholesale_cost: r.ss_ext_wholesale_cost?,
        ext_list_price: r.ss_ext_list_price?,
        ext_tax: r.ss_ext_tax?,
        coupon_amt: r.ss_coupon_amt?,
        net_paid: r.ss_net_paid?,
        net_paid_inc_tax: r.ss_net_paid_inc_tax?,
        net_profit: r.ss_net_profit?,
    })
}

fn return_money(r: &ReturnRow) -> Option<ReturnMoney> {
    Some(ReturnMoney {
        return_quantity: r.sr_return_quantity?,
        return_amt: r.sr_return_amt?,
        return_tax: r.sr_return_tax?,
        return_amt_inc_tax: r.sr_return_amt_inc_tax?,
        fee: r.sr_fee?,
        return_ship_cost: r.sr_return_ship_cost?,
        refunded_cash: r.sr_refunded_cash?,
        reversed_charge: r.sr_reversed_charge?,
        store_credit: r.sr_store_credit?,
        net_loss: r.sr_net_loss?,
    })
}

/// Tax rates consistent with a sale's `ext_tax` on its `net_paid`.
fn tax_rates(m: &SaleMoney) -> Vec<u32> {
    (0..=9)
        .filter(|&t| mul_hundredths(m.net_paid, i64::from(t)) == m.ext_tax)
        .collect()
}

fn min_lag_us(lag: &LagDist) -> u64 {
    match lag {
        LagDist::Fixed { value } => value.as_micros() as u64,
        LagDist::Uniform { min, .. } => min.as_micros() as u64,
        _ => 0,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Live,
    Updated,
    Deleted,
}

#[derive(Debug)]
struct Line {
    row: SaleRow,
    committed_at: u64,
    state: State,
}

/// Drives a generator like a worker would, against a model of the tables.
struct Sim {
    g: Generator,
    cfg: GenConfig,
    tickets: std::ops::Range<u64>,
    now: u64,
    db: ChaCha8Rng,
    fail_p: f64,
    sales: HashMap<Key, Line>,
    returns: HashMap<Key, ReturnRow>,
    emitted_sales: HashSet<Key>,
    emitted_returns: HashSet<Key>,
    emitted_mutations: HashSet<Key>,
    /// Every sale line emitted, in order, for ticket-level checks.
    sale_log: Vec<SaleRow>,
    /// Every write emitted, in order, for determinism checks.
    log: Vec<Write>,
    same_customer_returns: u64,
}

impl Sim {
    fn new(cfg: GenConfig, seed: u64, tickets: std::ops::Range<u64>, fail_p: f64) -> Sim {
        Sim {
            g: Generator::new(cfg.clone(), seed, tickets.clone()),
            cfg,
            tickets,
            now: 0,
            db: ChaCha8Rng::seed_from_u64(seed ^ 0xDB),
            fail_p,
            sales: HashMap::new(),
            returns: HashMap::new(),
            emitted_sales: HashSet::new(),
            emitted_returns: HashSet::new(),
            emitted_mutations: HashSet::new(),
            sale_log: Vec::new(),
            log: Vec::new(),
            same_customer_returns: 0,
        }
    }

    /// One batch: emit up to `batch` writes at `now`, commit or roll back all of
    /// them, advance the clock by `dt_us`.
    fn step(&mut self, batch: usize, dt_us: u64) -> usize {
        let mut writes = Vec::with_capacity(batch);
        for _ in 0..batch {
            match self.g.try_next_write(self.now) {
                Some(w) => {
                    self.check_emitted(&w);
                    writes.push(w);
                }
                None => break,
            }
        }
        if self.db.random_bool(self.fail_p) {
            self.g.failed(&writes);
        } else {
            for w in &writes {
                self.apply(w);
            }
            self.g.committed(&writes, self.now);
        }
        self.now += dt_us;
        self.log.extend(writes.iter().cloned());
        writes.len()
    }

    /// Runs until the ticket range is used up, then drains every pending return.
    fn run(&mut self, batch: usize, dt_us: u64) {
        while !self.g.is_exhausted() {
            self.step(batch, dt_us);
        }
        // Drain: jump the clock past every due time.
        while let Some(due) = self.g.next_return_due() {
            self.now = self.now.max(due);
            self.step(batch, 0);
        }
        assert_eq!(self.g.pending_returns(), 0);
        assert!(self.g.try_next_write(u64::MAX).is_none());
        self.check_tickets();
    }

    fn check_emitted(&mut self, w: &Write) {
        let k = w.key();
        let key = (k.ticket, k.item);
        assert!(
            self.tickets.contains(&k.ticket),
            "{k} outside {:?}",
            self.tickets
        );
        match w {
            Write::InsertSale(r) => {
                assert_eq!(w.op(), OpKind::Insert);
                assert!(
                    self.emitted_sales.insert(key),
                    "sale line {k} emitted twice"
                );
                self.check_sale_row(r);
                self.sale_log.push(r.clone());
            }
            Write::InsertReturn(r) => {
                assert_eq!(k.table, Table::StoreReturns);
                assert!(self.emitted_returns.insert(key), "{k} returned twice");
                let sale = self
                    .sales
                    .get(&key)
                    .unwrap_or_else(|| panic!("return of {k} whose sale never committed"));
                assert_eq!(sale.state, State::Live, "return of mutated line {k}");
                assert!(
                    !self.emitted_mutations.contains(&key),
                    "return of a line with a mutation in flight: {k}"
                );
                assert!(
                    self.now >= sale.committed_at + min_lag_us(&self.cfg.return_lag),
                    "return of {k} at {} before its lag after commit at {}",
                    self.now,
                    sale.committed_at
                );
                let sale_row = sale.row.clone();
                self.check_return_row(r, &sale_row);
            }
            Write::UpdateSale(_) | Write::DeleteSale(_) => {
                assert_eq!(k.table, Table::StoreSales);
                assert!(
                    self.emitted_mutations.insert(key),
                    "{k} mutated twice (at most once after insert)"
                );
                assert!(
                    !self.emitted_returns.contains(&key),
                    "mutation of returned {k}"
                );
                let sale = self
                    .sales
                    .get(&key)
                    .unwrap_or_else(|| panic!("mutation of {k} whose sale never committed"));
                assert_eq!(sale.state, State::Live);
                if let Write::UpdateSale(r) = w {
                    assert_eq!(w.op(), OpKind::Update);
                    self.check_sale_row(r);
                    self.check_correction(&sale.row, r);
                } else {
                    assert_eq!(w.op(), OpKind::Delete);
                }
            }
        }
    }

    fn check_sale_row(&self, r: &SaleRow) {
        let ranges = KeyRanges::for_scale(self.cfg.scale);
        assert!((1..=self.cfg.item.n() as u32).contains(&r.ss_item_sk));
        let within = |v: Option<u32>, hi: u32| v.map_or(true, |v| (1..=hi).contains(&v));
        assert!(within(r.ss_customer_sk, self.cfg.customer.n() as u32));
        assert!(within(r.ss_cdemo_sk, ranges.cdemo));
        assert!(within(r.ss_hdemo_sk, ranges.hdemo));
        assert!(within(r.ss_addr_sk, ranges.addr));
        assert!(within(r.ss_promo_sk, ranges.promo));
        assert!(r.ss_store_sk.map_or(true, |s| STORE_KEYS.contains(&s)));
        if self.cfg.dates == DateMode::Dsdgen {
            assert!(r
                .ss_sold_date_sk
                .map_or(true, |d| (SALES_FIRST_DATE_SK..=SALES_LAST_DATE_SK)
                    .contains(&d)));
            assert!(r
                .ss_sold_time_sk
                .map_or(true, |t| (8 * 3600..21 * 3600).contains(&t)));
        }
        if self.cfg.null_fraction == 0.0 {
            assert!(!r.values().contains(&SqlValue::Null));
        }
        if let Some(m) = sale_money(r) {
            assert_sale_invariants(&m);
        }
    }

    /// A correction keeps everything but the price-derived money.
    fn check_correction(&self, old: &SaleRow, new: &SaleRow) {
        // Keys, ticket fields, quantity, wholesale cost, list price and their
        // extensions (columns 0..=12, 16, 17) stay; the rest is re-derived.
        let fixed = |r: &SaleRow| {
            let v = r.values();
            (0..=12).chain([16, 17]).map(|i| v[i]).collect::<Vec<_>>()
        };
        assert_eq!(fixed(old), fixed(new), "a correction changes prices only");
        let nulls = |r: &SaleRow| r.values().map(|v| v == SqlValue::Null);
        assert_eq!(
            nulls(old),
            nulls(new),
            "a correction keeps the NULL columns"
        );
        if let (Some(a), Some(b)) = (sale_money(old), sale_money(new)) {
            // Same tax rate: a rate consistent with both rows exists.
            let (ra, rb) = (tax_rates(&a), tax_rates(&b));
            assert!(ra.iter().any(|t| rb.contains(t)), "{ra:?} vs {rb:?}");
        }
    }

    fn check_return_row(&mut self, r: &ReturnRow, sale: &SaleRow) {
        assert_eq!(
            (r.sr_ticket_number, r.sr_item_sk),
            (sale.ss_ticket_number, sale.ss_item_sk)
        );
        let ranges = KeyRanges::for_scale(self.cfg.scale);
        let within = |v: Option<u32>, hi: u32| v.map_or(true, |v| (1..=hi).contains(&v));
        assert!(within(r.sr_customer_sk, self.cfg.customer.n() as u32));
        assert!(within(r.sr_cdemo_sk, ranges.cdemo));
        assert!(within(r.sr_hdemo_sk, ranges.hdemo));
        assert!(within(r.sr_addr_sk, ranges.addr));
        assert!(within(r.sr_reason_sk, ranges.reason));
        assert!(r.sr_store_sk.map_or(true, |s| STORE_KEYS.contains(&s)));
        match self.cfg.dates {
            DateMode::Dsdgen => {
                if let (Some(rd), Some(sd)) = (r.sr_returned_date_sk, sale.ss_sold_date_sk) {
                    assert!(
                        (sd + 4..=sd + 180).contains(&rd),
                        "returned {rd}, sold {sd}"
                    );
                }
                assert!(r
                    .sr_return_time_sk
                    .map_or(true, |t| (28_799..=61_199).contains(&t)));
            }
            DateMode::WallClock { epoch_unix_us } => {
                let (d, t) = wall_clock_keys(epoch_unix_us + self.now as i64);
                assert!(r.sr_returned_date_sk.map_or(true, |v| v == d));
                assert!(r.sr_return_time_sk.map_or(true, |v| v == t));
            }
        }
        if r.sr_customer_sk.is_some() && r.sr_customer_sk == sale.ss_customer_sk {
            self.same_customer_returns += 1;
        }
        if let (Some(s), Some(m)) = (sale_money(sale), return_money(r)) {
            assert_return_invariants(&s, &tax_rates(&s), &m);
        }
    }

    fn apply(&mut self, w: &Write) {
        let k = w.key();
        let key = (k.ticket, k.item);
        match w {
            Write::InsertSale(r) => {
                let line = Line {
                    row: r.clone(),
                    committed_at: self.now,
                    state: State::Live,
                };
                assert!(self.sales.insert(key, line).is_none(), "duplicate key {k}");
            }
            Write::InsertReturn(r) => {
                assert!(
                    self.returns.insert(key, r.clone()).is_none(),
                    "duplicate key {k}"
                );
            }
            Write::UpdateSale(r) => {
                let line = self.sales.get_mut(&key).expect("updated line exists");
                line.row = r.clone();
                line.state = State::Updated;
            }
            Write::DeleteSale(_) => {
                self.sales.get_mut(&key).expect("deleted line exists").state = State::Deleted;
            }
        }
    }

    /// Tickets: numbered in increasing order, whole, distinct items, shared fields.
    fn check_tickets(&self) {
        let r = self.cfg.items_per_ticket;
        let mut i = 0;
        let mut last_ticket = None;
        while i < self.sale_log.len() {
            let t = self.sale_log[i].ss_ticket_number;
            let lines: Vec<&SaleRow> = self.sale_log[i..]
                .iter()
                .take_while(|l| l.ss_ticket_number == t)
                .collect();
            i += lines.len();
            if let Some(prev) = last_ticket {
                assert_eq!(t, prev + 1, "tickets are used in order, none skipped");
            } else {
                assert_eq!(t, self.tickets.start);
            }
            last_ticket = Some(t);
            assert!(
                (r.min as usize..=r.max as usize).contains(&lines.len()),
                "ticket {t} has {} lines",
                lines.len()
            );
            let mut items: Vec<u32> = lines.iter().map(|l| l.ss_item_sk).collect();
            items.sort_unstable();
            items.dedup();
            assert_eq!(
                items.len(),
                lines.len(),
                "items within ticket {t} are distinct"
            );
            if self.cfg.null_fraction == 0.0 {
                let shared = |l: &SaleRow| {
                    (
                        l.ss_sold_date_sk,
                        l.ss_sold_time_sk,
                        l.ss_store_sk,
                        l.ss_customer_sk,
                        l.ss_cdemo_sk,
                        l.ss_hdemo_sk,
                        l.ss_addr_sk,
                    )
                };
                assert!(
                    lines.iter().all(|l| shared(l) == shared(lines[0])),
                    "ticket {t}"
                );
            }
        }
        assert_eq!(
            self.g.tickets_used(),
            self.tickets.start..last_ticket.map_or(self.tickets.start, |t| t + 1)
        );
        assert_eq!(self.g.tickets_used(), self.tickets.clone());
    }
}

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

fn lag_strategy() -> impl Strategy<Value = LagDist> {
    prop_oneof![
        (0u64..20).prop_map(|ms| LagDist::Fixed {
            value: Duration::from_millis(ms)
        }),
        (0u64..10, 0u64..40).prop_map(|(a, b)| LagDist::Uniform {
            min: Duration::from_millis(a),
            max: Duration::from_millis(a + b),
        }),
        (1u64..20).prop_map(|ms| LagDist::Exponential {
            mean: Duration::from_millis(ms)
        }),
    ]
}

prop_compose! {
    fn config()(
        min in 1u32..6, extra in 0u32..12,
        ret in 0.0f64..=1.0, upd in 0.0f64..0.4, del in 0.0f64..0.4,
        zipf in any::<bool>(), small_items in any::<bool>(),
        lag in lag_strategy(), wall in any::<bool>(), nulls in any::<bool>(),
        pool in prop::sample::select(vec![0usize, 1, 7, 100_000]),
    ) -> GenConfig {
        let n = if small_items { 20 } else { 18_000 };
        GenConfig {
            items_per_ticket: CountRange { min, max: (min + extra).min(n as u32) },
            return_probability: ret,
            return_lag: lag,
            update_probability: upd,
            delete_probability: del,
            item: if zipf { KeyDist::Zipf { n, s: 1.3 } } else { KeyDist::Uniform { n } },
            customer: if zipf { KeyDist::Zipf { n: 1000, s: 0.9 } } else { KeyDist::Uniform { n: 100_000 } },
            scale: 1,
            dates: if wall { DateMode::WallClock { epoch_unix_us: 1_600_000_000_000_000 } } else { DateMode::Dsdgen },
            null_fraction: if nulls { 0.2 } else { 0.0 },
            mutation_pool: pool,
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Any config, any batching, any failure rate: every rule holds on every write.
    #[test]
    fn random_runs_keep_every_rule(
        cfg in config(),
        seed in any::<u64>(),
        start in 0u64..1_000_000_000_000,
        tickets in 1u64..60,
        batch in 1usize..40,
        dt in 0u64..5_000,
        fail_p in 0.0f64..0.5,
    ) {
        let mut sim = Sim::new(cfg, seed, start..start + tickets, fail_p);
        sim.run(batch, dt);
    }
}
