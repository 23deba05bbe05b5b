//! The simulation harness: a worker's loop against a model of the tables, with
//! every rule asserted on every emitted write.

use std::collections::{HashMap, HashSet};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::dist::LagDist;
use crate::model::{OpKind, Table};
use crate::tpcds::calendar::{wall_clock_keys, SALES_FIRST_DATE_SK, SALES_LAST_DATE_SK};
use crate::tpcds::money::mul_hundredths;
use crate::tpcds::pricing::tests::{assert_return_invariants, assert_sale_invariants};
use crate::tpcds::pricing::{ReturnMoney, SaleMoney};
use crate::tpcds::*;

pub(super) type Key = (u64, u32);

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
pub(super) enum State {
    Live,
    Updated,
    Deleted,
}

#[derive(Debug)]
pub(super) struct Line {
    row: SaleRow,
    committed_at: u64,
    state: State,
}

/// Drives a generator like a worker would, against a model of the tables.
pub(super) struct Sim {
    pub(super) g: Generator,
    pub(super) cfg: GenConfig,
    pub(super) tickets: std::ops::Range<u64>,
    pub(super) now: u64,
    pub(super) db: ChaCha8Rng,
    pub(super) fail_p: f64,
    pub(super) sales: HashMap<Key, Line>,
    pub(super) returns: HashMap<Key, ReturnRow>,
    pub(super) emitted_sales: HashSet<Key>,
    pub(super) emitted_returns: HashSet<Key>,
    pub(super) emitted_mutations: HashSet<Key>,
    /// Every sale line emitted, in order, for ticket-level checks.
    pub(super) sale_log: Vec<SaleRow>,
    /// Every write emitted, in order, for determinism checks.
    pub(super) log: Vec<Write>,
    pub(super) same_customer_returns: u64,
}

impl Sim {
    pub(super) fn new(
        cfg: GenConfig,
        seed: u64,
        tickets: std::ops::Range<u64>,
        fail_p: f64,
    ) -> Sim {
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
    pub(super) fn step(&mut self, batch: usize, dt_us: u64) -> usize {
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
    pub(super) fn run(&mut self, batch: usize, dt_us: u64) {
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
        let within = |v: Option<u32>, hi: u32| v.is_none_or(|v| (1..=hi).contains(&v));
        assert!(within(r.ss_customer_sk, self.cfg.customer.n() as u32));
        assert!(within(r.ss_cdemo_sk, ranges.cdemo));
        assert!(within(r.ss_hdemo_sk, ranges.hdemo));
        assert!(within(r.ss_addr_sk, ranges.addr));
        assert!(within(r.ss_promo_sk, ranges.promo));
        assert!(r.ss_store_sk.is_none_or(|s| STORE_KEYS.contains(&s)));
        if self.cfg.dates == DateMode::Dsdgen {
            assert!(r
                .ss_sold_date_sk
                .is_none_or(|d| (SALES_FIRST_DATE_SK..=SALES_LAST_DATE_SK).contains(&d)));
            assert!(r
                .ss_sold_time_sk
                .is_none_or(|t| (8 * 3600..21 * 3600).contains(&t)));
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
        let within = |v: Option<u32>, hi: u32| v.is_none_or(|v| (1..=hi).contains(&v));
        assert!(within(r.sr_customer_sk, self.cfg.customer.n() as u32));
        assert!(within(r.sr_cdemo_sk, ranges.cdemo));
        assert!(within(r.sr_hdemo_sk, ranges.hdemo));
        assert!(within(r.sr_addr_sk, ranges.addr));
        assert!(within(r.sr_reason_sk, ranges.reason));
        assert!(r.sr_store_sk.is_none_or(|s| STORE_KEYS.contains(&s)));
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
                    .is_none_or(|t| (28_799..=61_199).contains(&t)));
            }
            DateMode::WallClock { epoch_unix_us } => {
                let (d, t) = wall_clock_keys(epoch_unix_us + self.now as i64);
                assert!(r.sr_returned_date_sk.is_none_or(|v| v == d));
                assert!(r.sr_return_time_sk.is_none_or(|v| v == t));
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
