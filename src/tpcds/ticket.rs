//! The content of one ticket as a pure function of `(seed, ticket number,
//! config)`: its header (lines, first item, date, time, store, customer,
//! demographics, address) and each line (item, promotion, pricing draws, NULL
//! mask).
//!
//! Each ticket draws from its own ChaCha8 stream (the stream number is the ticket
//! number), so any line can be regenerated later by replaying its ticket. The
//! generator relies on that to price a correction or derive a return without
//! keeping every line it ever wrote in memory.

use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::dist::{CountRange, KeySampler};

use super::calendar::{sample_sale_time, SalesCalendar};
use super::pricing::{PricingDraws, SaleMoney};
use super::rows::{SaleRow, SALES_NULLABLE};
use super::{DateMode, GenConfig, KeyRanges, STORE_KEYS};

pub(crate) use crate::model::keys::mix64;

/// A probability as a threshold on a uniform `u64`, so a decision costs one
/// integer draw and compares exactly (no float per row).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Chance(u128);

impl Chance {
    /// `p` in `0.0..=1.0` (validated by [`GenConfig::validate`]).
    pub(crate) fn new(p: f64) -> Chance {
        // 2^64 · p; p = 1.0 gives exactly 2^64, which every u64 is below.
        Chance((p.clamp(0.0, 1.0) * 18_446_744_073_709_551_616.0) as u128)
    }

    /// Never happens: callers skip the draw altogether.
    pub(crate) fn is_never(self) -> bool {
        self.0 == 0
    }

    /// Whether the uniform draw `u` falls in the event.
    pub(crate) fn hit(self, u: u64) -> bool {
        u128::from(u) < self.0
    }

    /// Draws and decides; draws nothing when the event is impossible.
    pub(crate) fn draw<R: RngCore + ?Sized>(self, rng: &mut R) -> bool {
        !self.is_never() && self.hit(rng.next_u64())
    }
}

/// A fixed random permutation of the item keys `1..=n` and its inverse.
#[derive(Debug)]
pub(crate) struct ItemPerm {
    /// `perm[p]` is the item at position `p`.
    perm: Vec<u32>,
    /// `pos[item - 1]` is the item's position.
    pos: Vec<u32>,
}

impl ItemPerm {
    fn new(n: u32, seed: u64) -> ItemPerm {
        let mut rng = ChaCha8Rng::seed_from_u64(mix64(seed ^ 0x7065_726D)); // "perm"
        let mut perm: Vec<u32> = (1..=n).collect();
        // Fisher–Yates, written out so the permutation is fixed by our own code
        // rather than by a library's shuffle implementation.
        for i in (1..perm.len()).rev() {
            let j = rng.random_range(0..=i);
            perm.swap(i, j);
        }
        let mut pos = vec![0; perm.len()];
        for (p, &item) in perm.iter().enumerate() {
            pos[item as usize - 1] = p as u32;
        }
        ItemPerm { perm, pos }
    }

    fn len(&self) -> u32 {
        self.perm.len() as u32
    }

    fn item_at(&self, p: u32) -> u32 {
        self.perm[p as usize]
    }

    fn position(&self, item: u32) -> Option<u32> {
        self.pos.get((item as usize).checked_sub(1)?).copied()
    }
}

/// The fields every line of a ticket shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TicketHeader {
    pub ticket: u64,
    /// Number of lines.
    pub lines: u32,
    /// Permutation position of the first line's item.
    pub start: u32,
    /// Sale date and time keys (drawn in dsdgen mode; set by the caller from the
    /// clock in wall-clock mode).
    pub date: u32,
    pub time: u32,
    pub store: u32,
    pub customer: u32,
    pub cdemo: u32,
    pub hdemo: u32,
    pub addr: u32,
}

/// What is drawn per line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LineSpec {
    pub item: u32,
    pub promo: u32,
    pub pricing: PricingDraws,
    /// Column bits to set NULL (0: none).
    pub null_mask: u32,
}

/// Everything needed to draw tickets.
#[derive(Debug)]
pub(crate) struct TicketSource {
    /// Keyed by the seed and never advanced: cloned and put on the ticket's stream
    /// for each ticket (a fresh clone generates its first block lazily).
    base: ChaCha8Rng,
    perm: ItemPerm,
    item: KeySampler,
    customer: KeySampler,
    ranges: KeyRanges,
    lines: CountRange,
    dsdgen_dates: bool,
    calendar: &'static SalesCalendar,
    pub null: Chance,
}

impl TicketSource {
    /// The source for a validated config.
    pub fn new(cfg: &GenConfig, seed: u64) -> TicketSource {
        TicketSource {
            base: ChaCha8Rng::seed_from_u64(seed),
            perm: ItemPerm::new(cfg.item.n() as u32, seed),
            item: cfg.item.sampler(),
            customer: cfg.customer.sampler(),
            ranges: KeyRanges::for_scale(cfg.scale),
            lines: cfg.items_per_ticket,
            dsdgen_dates: cfg.dates == DateMode::Dsdgen,
            calendar: SalesCalendar::get(),
            null: Chance::new(cfg.null_fraction),
        }
    }

    /// The dimension key ranges in use.
    pub fn ranges(&self) -> KeyRanges {
        self.ranges
    }

    /// A customer key drawn from the configured distribution.
    pub fn random_customer<R: Rng + ?Sized>(&self, rng: &mut R) -> u32 {
        self.customer.sample(rng) as u32
    }

    /// Starts a ticket: its header and the stream to draw its lines from.
    pub fn open(&self, ticket: u64) -> (TicketHeader, ChaCha8Rng) {
        let mut rng = self.base.clone();
        rng.set_stream(ticket);
        let lines = self.lines.sample(&mut rng);
        // The first item follows the item distribution (zipf or uniform); the rest
        // follow it in the permutation, so items stay distinct.
        let first = self.item.sample(&mut rng) as u32;
        let start = self.perm.position(first).expect("sampler stays in 1..=n");
        let (date, time) = if self.dsdgen_dates {
            (
                self.calendar.sample_date(&mut rng),
                sample_sale_time(&mut rng),
            )
        } else {
            (0, 0)
        };
        let r = self.ranges;
        let header = TicketHeader {
            ticket,
            lines,
            start,
            date,
            time,
            store: STORE_KEYS[rng.random_range(0..STORE_KEYS.len())],
            customer: self.customer.sample(&mut rng) as u32,
            cdemo: rng.random_range(1..=r.cdemo),
            hdemo: rng.random_range(1..=r.hdemo),
            addr: rng.random_range(1..=r.addr),
        };
        (header, rng)
    }

    /// Draws line `index` of a ticket; lines must be drawn in order from the
    /// ticket's stream.
    pub fn line(&self, rng: &mut ChaCha8Rng, h: &TicketHeader, index: u32) -> LineSpec {
        let item = self.perm.item_at((h.start + index) % self.perm.len());
        let promo = rng.random_range(1..=self.ranges.promo);
        let pricing = PricingDraws::draw(rng);
        let null_mask = if self.null.draw(rng) {
            rng.next_u32() & SALES_NULLABLE
        } else {
            0
        };
        LineSpec {
            item,
            promo,
            pricing,
            null_mask,
        }
    }

    /// Regenerates the line of `ticket` that sold `item`, or `None` when the
    /// ticket has no such line.
    pub fn replay(&self, ticket: u64, item: u32) -> Option<(TicketHeader, LineSpec)> {
        let pos = self.perm.position(item)?;
        let (h, mut rng) = self.open(ticket);
        let n = self.perm.len();
        let index = (pos + n - h.start) % n;
        if index >= h.lines {
            return None;
        }
        let mut spec = self.line(&mut rng, &h, 0);
        for i in 1..=index {
            spec = self.line(&mut rng, &h, i);
        }
        Some((h, spec))
    }

    /// The `store_sales` row of a line.
    pub fn sale_row(&self, h: &TicketHeader, l: &LineSpec) -> SaleRow {
        let m = SaleMoney::compute(&l.pricing);
        let mut row = SaleRow {
            ss_sold_date_sk: Some(h.date),
            ss_sold_time_sk: Some(h.time),
            ss_item_sk: l.item,
            ss_customer_sk: Some(h.customer),
            ss_cdemo_sk: Some(h.cdemo),
            ss_hdemo_sk: Some(h.hdemo),
            ss_addr_sk: Some(h.addr),
            ss_store_sk: Some(h.store),
            ss_promo_sk: Some(l.promo),
            ss_ticket_number: h.ticket,
            ss_quantity: Some(m.quantity),
            ss_wholesale_cost: Some(m.wholesale_cost),
            ss_list_price: Some(m.list_price),
            ss_sales_price: Some(m.sales_price),
            ss_ext_discount_amt: Some(m.ext_discount_amt),
            ss_ext_sales_price: Some(m.ext_sales_price),
            ss_ext_wholesale_cost: Some(m.ext_wholesale_cost),
            ss_ext_list_price: Some(m.ext_list_price),
            ss_ext_tax: Some(m.ext_tax),
            ss_coupon_amt: Some(m.coupon_amt),
            ss_net_paid: Some(m.net_paid),
            ss_net_paid_inc_tax: Some(m.net_paid_inc_tax),
            ss_net_profit: Some(m.net_profit),
        };
        if l.null_mask != 0 {
            row.apply_null_mask(l.null_mask);
        }
        row
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dist::KeyDist;

    #[test]
    fn permutation_is_a_bijection_fixed_by_the_seed() {
        let p = ItemPerm::new(1000, 5);
        let mut seen = vec![false; 1000];
        for pos in 0..1000 {
            let item = p.item_at(pos);
            assert!(!seen[item as usize - 1]);
            seen[item as usize - 1] = true;
            assert_eq!(p.position(item), Some(pos));
        }
        assert_eq!(p.position(0), None);
        assert_eq!(p.position(1001), None);
        assert_eq!(ItemPerm::new(1000, 5).perm, p.perm);
        assert_ne!(ItemPerm::new(1000, 6).perm, p.perm);
        assert_ne!(p.perm, (1..=1000).collect::<Vec<_>>());
    }

    #[test]
    fn tickets_are_pure_functions_of_seed_and_number() {
        let src = TicketSource::new(&GenConfig::default(), 9);
        let draw = |t: u64| {
            let (h, mut rng) = src.open(t);
            let lines: Vec<_> = (0..h.lines).map(|i| src.line(&mut rng, &h, i)).collect();
            (h, lines)
        };
        let (h7, l7) = draw(7);
        draw(8);
        assert_eq!(draw(7), (h7, l7.clone()));
        assert_ne!(draw(8).0, h7);
        for l in &l7 {
            let (h, spec) = src.replay(7, l.item).expect("line of ticket 7");
            assert_eq!((h, spec), (h7, *l));
        }
        let absent = (1..=18_000)
            .find(|i| l7.iter().all(|l| l.item != *i))
            .unwrap();
        assert_eq!(src.replay(7, absent), None);
    }

    #[test]
    fn chance_thresholds() {
        assert!(Chance::new(0.0).is_never());
        assert!(!Chance::new(0.0).hit(0));
        assert!(Chance::new(1.0).hit(u64::MAX));
        assert!(Chance::new(0.5).hit(u64::MAX / 2));
        assert!(!Chance::new(0.5).hit(u64::MAX / 2 + 2));
    }

    #[test]
    fn zipf_first_items_are_skewed_and_lines_stay_distinct() {
        let cfg = GenConfig {
            item: KeyDist::Zipf { n: 18_000, s: 1.2 },
            ..GenConfig::default()
        };
        let src = TicketSource::new(&cfg, 1);
        let mut first_is_one = 0;
        for t in 0..2_000 {
            let (h, mut rng) = src.open(t);
            let items: Vec<u32> = (0..h.lines)
                .map(|i| src.line(&mut rng, &h, i).item)
                .collect();
            first_is_one += u32::from(items[0] == 1);
            let mut dedup = items.clone();
            dedup.sort_unstable();
            dedup.dedup();
            assert_eq!(dedup.len(), items.len(), "ticket {t}: {items:?}");
        }
        // P(first = 1) is about 0.2 for s = 1.2; uniform would give 1/18000.
        assert!(
            first_is_one > 200,
            "item 1 first in {first_is_one} of 2000 tickets"
        );
    }
}
