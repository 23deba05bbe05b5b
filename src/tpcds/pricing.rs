//! dsdgen's store pricing (`pricing.c`, `w_store_sales.c`, `w_store_returns.c`)
//! in integer cents. Every fractional draw is in hundredths, as dsdgen's
//! two-decimal `genrand_decimal` produces, and every product is truncated toward
//! zero to two decimals ([`mul_hundredths`]), so the money is exact and the
//! invariants in `TPCDS.md` hold to the cent.

use rand::Rng;

use super::money::{mul_hundredths, Cents};

/// The random draws that fix a sale line's money. Kept separate from the derived
/// amounts so a price correction can redraw one of them and re-derive the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PricingDraws {
    /// `q = U_int[1,100]`.
    pub quantity: u32,
    /// `W = U[1.00,100.00]`, cents.
    pub wholesale: Cents,
    /// `m = U[0.00,1.00]` in hundredths: list price = `trunc2(W·(1+m))`.
    pub markup: u32,
    /// `d = U[0.00,1.00]` in hundredths: sales price = `trunc2(L·(1−d))`.
    pub discount: u32,
    /// `u = U_int[1,100]`: a coupon is used when `u <= 20`.
    pub coupon_usage: u32,
    /// `c = U[0.00,1.00]` in hundredths: coupon = `trunc2(ES·c)` when used.
    pub coupon: u32,
    /// `t = U[0.00,0.09]` in hundredths.
    pub tax_pct: u32,
}

impl PricingDraws {
    /// Draws a sale line's pricing as dsdgen does for store sales.
    pub fn draw<R: Rng + ?Sized>(rng: &mut R) -> PricingDraws {
        PricingDraws {
            quantity: rng.random_range(1..=100),
            wholesale: Cents::from(rng.random_range(100u32..=10_000)),
            markup: rng.random_range(0..=100),
            discount: rng.random_range(0..=100),
            coupon_usage: rng.random_range(1..=100),
            coupon: rng.random_range(0..=100),
            tax_pct: rng.random_range(0..=9),
        }
    }

    /// Whether the line used a coupon (`u <= 20`: 20% of lines).
    pub fn coupon_used(&self) -> bool {
        self.coupon_usage <= 20
    }
}

/// All money columns of a `store_sales` row, in cents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SaleMoney {
    /// `ss_quantity`.
    pub quantity: u32,
    /// `ss_wholesale_cost` = W.
    pub wholesale_cost: Cents,
    /// `ss_list_price` = L = trunc2(W·(1+m)).
    pub list_price: Cents,
    /// `ss_sales_price` = S = trunc2(L·(1−d)).
    pub sales_price: Cents,
    /// `ss_ext_discount_amt`: dsdgen writes the **coupon amount** here (not
    /// `ext_list_price − ext_sales_price`); we keep that quirk so the data matches
    /// dsdgen's.
    pub ext_discount_amt: Cents,
    /// `ss_ext_sales_price` = S·q.
    pub ext_sales_price: Cents,
    /// `ss_ext_wholesale_cost` = W·q.
    pub ext_wholesale_cost: Cents,
    /// `ss_ext_list_price` = L·q.
    pub ext_list_price: Cents,
    /// `ss_ext_tax` = trunc2(NP·t).
    pub ext_tax: Cents,
    /// `ss_coupon_amt` = trunc2(ES·c) when a coupon is used, else 0.
    pub coupon_amt: Cents,
    /// `ss_net_paid` = ES − coupon.
    pub net_paid: Cents,
    /// `ss_net_paid_inc_tax` = NP + ext_tax.
    pub net_paid_inc_tax: Cents,
    /// `ss_net_profit` = NP − ext_wholesale_cost (negative when sold at a loss).
    pub net_profit: Cents,
}

impl SaleMoney {
    /// Derives every money column from the draws.
    pub fn compute(d: &PricingDraws) -> SaleMoney {
        let q = Cents::from(d.quantity);
        let w = d.wholesale;
        let l = mul_hundredths(w, 100 + i64::from(d.markup));
        let s = mul_hundredths(l, 100 - i64::from(d.discount));
        let es = s * q;
        let coupon = if d.coupon_used() {
            mul_hundredths(es, i64::from(d.coupon))
        } else {
            0
        };
        let np = es - coupon;
        let tax = mul_hundredths(np, i64::from(d.tax_pct));
        let ew = w * q;
        SaleMoney {
            quantity: d.quantity,
            wholesale_cost: w,
            list_price: l,
            sales_price: s,
            ext_discount_amt: coupon,
            ext_sales_price: es,
            ext_wholesale_cost: ew,
            ext_list_price: l * q,
            ext_tax: tax,
            coupon_amt: coupon,
            net_paid: np,
            net_paid_inc_tax: np + tax,
            net_profit: np - ew,
        }
    }
}

/// The random draws that fix a return's money.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReturnDraws {
    /// `rq = U_int[1,q]`.
    pub quantity: u32,
    /// `ship = U[0.00,0.50]` in hundredths.
    pub ship: u32,
    /// `cash = U_int[0,100]` percent refunded in cash.
    pub cash: u32,
    /// `cred = U_int[1,100]` percent of the rest reversed as a charge.
    pub credit: u32,
    /// `sr_fee = U[0.50,100.00]`, cents.
    pub fee: Cents,
}

impl ReturnDraws {
    /// Draws a return's money for a sale line of `sold_quantity` items.
    pub fn draw<R: Rng + ?Sized>(rng: &mut R, sold_quantity: u32) -> ReturnDraws {
        ReturnDraws {
            quantity: rng.random_range(1..=sold_quantity.max(1)),
            ship: rng.random_range(0..=50),
            cash: rng.random_range(0..=100),
            credit: rng.random_range(1..=100),
            fee: Cents::from(rng.random_range(50u32..=10_000)),
        }
    }
}

/// All money columns of a `store_returns` row, in cents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReturnMoney {
    /// `sr_return_quantity` = rq.
    pub return_quantity: u32,
    /// `sr_return_amt` = RA = S·rq.
    pub return_amt: Cents,
    /// `sr_return_tax` = trunc2(RA·t).
    pub return_tax: Cents,
    /// `sr_return_amt_inc_tax` = RA + tax.
    pub return_amt_inc_tax: Cents,
    /// `sr_fee`.
    pub fee: Cents,
    /// `sr_return_ship_cost` = trunc2(L·ship)·rq.
    pub return_ship_cost: Cents,
    /// `sr_refunded_cash` = trunc2(cash/100·RA).
    pub refunded_cash: Cents,
    /// `sr_reversed_charge` = trunc2((RA − refunded)·cred/100).
    pub reversed_charge: Cents,
    /// `sr_store_credit` = RA − reversed − refunded.
    pub store_credit: Cents,
    /// `sr_net_loss` = tax + ship cost + fee.
    pub net_loss: Cents,
}

impl ReturnMoney {
    /// Derives a return's money from the sale's list price `L`, sales price `S`
    /// and tax rate (hundredths), and the return's draws.
    pub fn compute(list_price: Cents, sales_price: Cents, tax_pct: u32, d: &ReturnDraws) -> Self {
        let rq = Cents::from(d.quantity);
        let ra = sales_price * rq;
        let tax = mul_hundredths(ra, i64::from(tax_pct));
        let ship = mul_hundredths(list_price, i64::from(d.ship)) * rq;
        let refunded = mul_hundredths(ra, i64::from(d.cash));
        let reversed = mul_hundredths(ra - refunded, i64::from(d.credit));
        ReturnMoney {
            return_quantity: d.quantity,
            return_amt: ra,
            return_tax: tax,
            return_amt_inc_tax: ra + tax,
            fee: d.fee,
            return_ship_cost: ship,
            refunded_cash: refunded,
            reversed_charge: reversed,
            store_credit: ra - reversed - refunded,
            net_loss: tax + ship + d.fee,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    const DECIMAL_7_2_MAX: Cents = 9_999_999;

    #[test]
    fn worked_example() {
        // W=10.00, m=0.55 -> L=15.50; d=0.10 -> S=13.95; q=3 -> ES=41.85;
        // coupon c=0.33 -> trunc2(13.8105)=13.81; NP=28.04; t=0.07 -> 1.9628 -> 1.96.
        let d = PricingDraws {
            quantity: 3,
            wholesale: 1000,
            markup: 55,
            discount: 10,
            coupon_usage: 20,
            coupon: 33,
            tax_pct: 7,
        };
        let m = SaleMoney::compute(&d);
        assert_eq!(m.list_price, 1550);
        assert_eq!(m.sales_price, 1395);
        assert_eq!(m.ext_sales_price, 4185);
        assert_eq!(m.coupon_amt, 1381);
        assert_eq!(m.ext_discount_amt, 1381);
        assert_eq!(m.net_paid, 2804);
        assert_eq!(m.ext_tax, 196);
        assert_eq!(m.net_paid_inc_tax, 3000);
        assert_eq!(m.ext_wholesale_cost, 3000);
        assert_eq!(m.net_profit, -196);
        assert_eq!(m.ext_list_price, 4650);

        let no_coupon = SaleMoney::compute(&PricingDraws {
            coupon_usage: 21,
            ..d
        });
        assert_eq!(no_coupon.coupon_amt, 0);
        assert_eq!(no_coupon.net_paid, 4185);

        // rq=2: RA=27.90, tax trunc2(1.953)=1.95, ship trunc2(15.50*0.33)=5.11*2=10.22,
        // cash 40% -> 11.16, reversed trunc2(16.74*0.5)=8.37, credit 8.37.
        let r = ReturnMoney::compute(
            m.list_price,
            m.sales_price,
            d.tax_pct,
            &ReturnDraws {
                quantity: 2,
                ship: 33,
                cash: 40,
                credit: 50,
                fee: 250,
            },
        );
        assert_eq!(r.return_amt, 2790);
        assert_eq!(r.return_tax, 195);
        assert_eq!(r.return_amt_inc_tax, 2985);
        assert_eq!(r.return_ship_cost, 1022);
        assert_eq!(r.refunded_cash, 1116);
        assert_eq!(r.reversed_charge, 837);
        assert_eq!(r.store_credit, 837);
        assert_eq!(r.net_loss, 195 + 1022 + 250);
    }

    /// Every invariant of `TPCDS.md` for one sale line.
    pub(crate) fn assert_sale_invariants(m: &SaleMoney) {
        assert!((1..=100).contains(&m.quantity));
        assert!((100..=10_000).contains(&m.wholesale_cost));
        assert!(m.sales_price <= m.list_price, "{m:?}");
        assert!(m.list_price <= 2 * m.wholesale_cost, "{m:?}");
        assert!(m.list_price >= m.wholesale_cost, "{m:?}");
        assert!(m.sales_price >= 0);
        let q = Cents::from(m.quantity);
        assert_eq!(m.ext_list_price, m.list_price * q);
        assert_eq!(m.ext_sales_price, m.sales_price * q);
        assert_eq!(m.ext_wholesale_cost, m.wholesale_cost * q);
        assert!((0..=m.ext_sales_price).contains(&m.coupon_amt));
        assert_eq!(m.ext_discount_amt, m.coupon_amt);
        assert_eq!(m.net_paid, m.ext_sales_price - m.coupon_amt);
        assert!(m.ext_tax >= 0 && m.ext_tax * 100 <= m.net_paid * 9);
        assert_eq!(m.net_paid_inc_tax, m.net_paid + m.ext_tax);
        assert_eq!(m.net_profit, m.net_paid - m.ext_wholesale_cost);
        for v in [
            m.ext_list_price,
            m.ext_sales_price,
            m.ext_wholesale_cost,
            m.net_paid_inc_tax,
            m.net_profit.abs(),
        ] {
            assert!(v <= DECIMAL_7_2_MAX, "{v} overflows DECIMAL(7,2)");
        }
    }

    /// Every invariant of `TPCDS.md` for a return of a line priced `s` whose tax
    /// rate is one of `tax_pcts` (a row does not carry its rate, only its tax).
    pub(crate) fn assert_return_invariants(s: &SaleMoney, tax_pcts: &[u32], r: &ReturnMoney) {
        assert!((1..=s.quantity).contains(&r.return_quantity), "{r:?}");
        assert_eq!(r.return_amt, s.sales_price * Cents::from(r.return_quantity));
        assert!(
            tax_pcts
                .iter()
                .any(|&t| r.return_tax == mul_hundredths(r.return_amt, i64::from(t))),
            "return tax {} uses none of the sale's possible rates {tax_pcts:?}",
            r.return_tax
        );
        assert_eq!(r.return_amt_inc_tax, r.return_amt + r.return_tax);
        assert_eq!(
            r.refunded_cash + r.reversed_charge + r.store_credit,
            r.return_amt
        );
        assert!(r.refunded_cash >= 0 && r.reversed_charge >= 0 && r.store_credit >= 0);
        assert!((50..=10_000).contains(&r.fee));
        let per_unit_ship = r.return_ship_cost / Cents::from(r.return_quantity);
        assert_eq!(
            per_unit_ship * Cents::from(r.return_quantity),
            r.return_ship_cost
        );
        assert!(per_unit_ship * 2 <= s.list_price, "ship <= 0.50 * L");
        assert_eq!(r.net_loss, r.return_tax + r.return_ship_cost + r.fee);
        assert!(r.net_loss <= DECIMAL_7_2_MAX);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn drawn_lines_keep_every_invariant(seed in any::<u64>()) {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            for _ in 0..200 {
                let d = PricingDraws::draw(&mut rng);
                let m = SaleMoney::compute(&d);
                assert_sale_invariants(&m);
                let rd = ReturnDraws::draw(&mut rng, m.quantity);
                let r = ReturnMoney::compute(m.list_price, m.sales_price, d.tax_pct, &rd);
                assert_return_invariants(&m, &[d.tax_pct], &r);
            }
        }

        #[test]
        fn extreme_draws_keep_every_invariant(
            quantity in prop::sample::select(vec![1u32, 100]),
            wholesale in prop::sample::select(vec![100i64, 10_000]),
            markup in prop::sample::select(vec![0u32, 100]),
            discount in prop::sample::select(vec![0u32, 100]),
            coupon in prop::sample::select(vec![0u32, 100]),
            tax_pct in prop::sample::select(vec![0u32, 9]),
            rq in prop::sample::select(vec![1u32, 100]),
            ship in prop::sample::select(vec![0u32, 50]),
            cash in prop::sample::select(vec![0u32, 100]),
            credit in prop::sample::select(vec![1u32, 100]),
        ) {
            let d = PricingDraws { quantity, wholesale, markup, discount, coupon_usage: 1, coupon, tax_pct };
            let m = SaleMoney::compute(&d);
            assert_sale_invariants(&m);
            let rd = ReturnDraws { quantity: rq.min(quantity), ship, cash, credit, fee: 10_000 };
            let r = ReturnMoney::compute(m.list_price, m.sales_price, tax_pct, &rd);
            assert_return_invariants(&m, &[tax_pct], &r);
        }
    }

    #[test]
    fn draws_cover_their_ranges() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let (mut coupons, n) = (0, 20_000);
        let mut seen_tax = [false; 10];
        for _ in 0..n {
            let d = PricingDraws::draw(&mut rng);
            coupons += u32::from(d.coupon_used());
            seen_tax[d.tax_pct as usize] = true;
        }
        assert!(
            seen_tax.iter().all(|s| *s),
            "every tax rate 0.00..=0.09 occurs"
        );
        // 20% coupon usage; binomial sd ~ 57, bound is ~10 sd.
        assert!(
            (3_400..4_600).contains(&coupons),
            "{coupons} coupons in {n}"
        );
    }
}
