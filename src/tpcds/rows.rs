//! The generated rows (`store_sales`, `store_returns`), the writes that carry
//! them, their column lists in table order, and their rendering as SQL values.
//!
//! Money is integer cents and renders as an exact decimal literal (`12.34`,
//! unquoted: MySQL and PostgreSQL read a literal with a decimal point and no
//! exponent as an exact DECIMAL/NUMERIC, never a float). The harness's own
//! `bench_ts` / `updated_at` columns are not part of these lists.

use crate::model::{OpKind, RowKey, Table};

use super::money::{push_cents, push_u64, AsciiBuf, Cents};

/// `store_sales` columns in table order.
pub const SALES_COLUMNS: [&str; 23] = [
    "ss_sold_date_sk",
    "ss_sold_time_sk",
    "ss_item_sk",
    "ss_customer_sk",
    "ss_cdemo_sk",
    "ss_hdemo_sk",
    "ss_addr_sk",
    "ss_store_sk",
    "ss_promo_sk",
    "ss_ticket_number",
    "ss_quantity",
    "ss_wholesale_cost",
    "ss_list_price",
    "ss_sales_price",
    "ss_ext_discount_amt",
    "ss_ext_sales_price",
    "ss_ext_wholesale_cost",
    "ss_ext_list_price",
    "ss_ext_tax",
    "ss_coupon_amt",
    "ss_net_paid",
    "ss_net_paid_inc_tax",
    "ss_net_profit",
];

/// `store_returns` columns in table order.
pub const RETURNS_COLUMNS: [&str; 20] = [
    "sr_returned_date_sk",
    "sr_return_time_sk",
    "sr_item_sk",
    "sr_customer_sk",
    "sr_cdemo_sk",
    "sr_hdemo_sk",
    "sr_addr_sk",
    "sr_store_sk",
    "sr_reason_sk",
    "sr_ticket_number",
    "sr_return_quantity",
    "sr_return_amt",
    "sr_return_tax",
    "sr_return_amt_inc_tax",
    "sr_fee",
    "sr_return_ship_cost",
    "sr_refunded_cash",
    "sr_reversed_charge",
    "sr_store_credit",
    "sr_net_loss",
];

/// Positions (in both tables) of the NOT NULL key columns `*_item_sk` and
/// `*_ticket_number`.
const KEY_POSITIONS: [usize; 2] = [2, 9];

/// Bits of the columns that may be NULL (all but the key), by column position.
pub(crate) const SALES_NULLABLE: u32 = ((1 << 23) - 1) & !(1 << 2) & !(1 << 9);
/// Bits of the columns that may be NULL (all but the key), by column position.
pub(crate) const RETURNS_NULLABLE: u32 = ((1 << 20) - 1) & !(1 << 2) & !(1 << 9);

/// One SQL value of a generated row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqlValue {
    /// SQL `NULL`.
    Null,
    /// An integer column.
    Int(u64),
    /// A `DECIMAL(7,2)` column, in cents.
    Money(Cents),
}

impl SqlValue {
    /// Appends the value as a SQL literal: `NULL`, `42`, `-12.34`.
    #[inline]
    pub fn push_sql(self, out: &mut String) {
        match self {
            SqlValue::Null => out.push_str("NULL"),
            SqlValue::Int(v) => push_u64(out, v),
            SqlValue::Money(c) => push_cents(out, c),
        }
    }
}

#[inline]
fn int(v: Option<u32>) -> SqlValue {
    v.map_or(SqlValue::Null, |v| SqlValue::Int(u64::from(v)))
}

#[inline]
fn money(v: Option<Cents>) -> SqlValue {
    v.map_or(SqlValue::Null, SqlValue::Money)
}

/// Longest tuple text: 23 values of at most 22 characters (a negative cents
/// value of an `i64`), 22 commas and 2 parentheses.
const TUPLE_MAX: usize = 23 * 22 + 24;

/// Appends `(v1,v2,...)`.
fn push_tuple(values: &[SqlValue], out: &mut String) {
    debug_assert!(values.len() <= 23);
    let mut b = AsciiBuf::<TUPLE_MAX>::new();
    b.byte(b'(');
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            b.byte(b',');
        }
        match *v {
            SqlValue::Null => b.bytes(b"NULL"),
            SqlValue::Int(v) => b.u64(v),
            SqlValue::Money(c) => b.cents(c),
        }
    }
    b.byte(b')');
    b.flush(out);
}

/// Appends `col=v,...` for the non-key columns.
fn push_assignments(columns: &[&str], values: &[SqlValue], out: &mut String) {
    let mut first = true;
    for (i, (c, v)) in columns.iter().zip(values).enumerate() {
        if KEY_POSITIONS.contains(&i) {
            continue;
        }
        if !first {
            out.push(',');
        }
        first = false;
        out.push_str(c);
        out.push('=');
        v.push_sql(out);
    }
}

/// Appends the primary-key predicate of a row:
/// `ss_item_sk=5 AND ss_ticket_number=7` (or the `sr_` columns).
pub fn push_sql_key_predicate(key: &RowKey, out: &mut String) {
    let (item, ticket) = match key.table {
        Table::StoreSales => ("ss_item_sk=", " AND ss_ticket_number="),
        Table::StoreReturns => ("sr_item_sk=", " AND sr_ticket_number="),
    };
    out.push_str(item);
    push_u64(out, u64::from(key.item));
    out.push_str(ticket);
    push_u64(out, key.ticket);
}

/// One `store_sales` row: all 23 columns, money in cents, nullable columns as
/// `Option` (only `ss_item_sk` and `ss_ticket_number` are NOT NULL).
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)] // the fields are the TPC-DS columns of the same name
pub struct SaleRow {
    pub ss_sold_date_sk: Option<u32>,
    pub ss_sold_time_sk: Option<u32>,
    pub ss_item_sk: u32,
    pub ss_customer_sk: Option<u32>,
    pub ss_cdemo_sk: Option<u32>,
    pub ss_hdemo_sk: Option<u32>,
    pub ss_addr_sk: Option<u32>,
    pub ss_store_sk: Option<u32>,
    pub ss_promo_sk: Option<u32>,
    pub ss_ticket_number: u64,
    pub ss_quantity: Option<u32>,
    pub ss_wholesale_cost: Option<Cents>,
    pub ss_list_price: Option<Cents>,
    pub ss_sales_price: Option<Cents>,
    /// dsdgen writes the coupon amount here (equal to `ss_coupon_amt`).
    pub ss_ext_discount_amt: Option<Cents>,
    pub ss_ext_sales_price: Option<Cents>,
    pub ss_ext_wholesale_cost: Option<Cents>,
    pub ss_ext_list_price: Option<Cents>,
    pub ss_ext_tax: Option<Cents>,
    pub ss_coupon_amt: Option<Cents>,
    pub ss_net_paid: Option<Cents>,
    pub ss_net_paid_inc_tax: Option<Cents>,
    pub ss_net_profit: Option<Cents>,
}

impl SaleRow {
    /// The row's primary key.
    pub fn key(&self) -> RowKey {
        RowKey {
            table: Table::StoreSales,
            ticket: self.ss_ticket_number,
            item: self.ss_item_sk,
        }
    }

    /// The values in [`SALES_COLUMNS`] order.
    pub fn values(&self) -> [SqlValue; 23] {
        [
            int(self.ss_sold_date_sk),
            int(self.ss_sold_time_sk),
            SqlValue::Int(u64::from(self.ss_item_sk)),
            int(self.ss_customer_sk),
            int(self.ss_cdemo_sk),
            int(self.ss_hdemo_sk),
            int(self.ss_addr_sk),
            int(self.ss_store_sk),
            int(self.ss_promo_sk),
            SqlValue::Int(self.ss_ticket_number),
            int(self.ss_quantity),
            money(self.ss_wholesale_cost),
            money(self.ss_list_price),
            money(self.ss_sales_price),
            money(self.ss_ext_discount_amt),
            money(self.ss_ext_sales_price),
            money(self.ss_ext_wholesale_cost),
            money(self.ss_ext_list_price),
            money(self.ss_ext_tax),
            money(self.ss_coupon_amt),
            money(self.ss_net_paid),
            money(self.ss_net_paid_inc_tax),
            money(self.ss_net_profit),
        ]
    }

    /// Appends `(v1,...,v23)` for an `INSERT INTO store_sales (SALES_COLUMNS...)
    /// VALUES` list.
    pub fn push_sql_values(&self, out: &mut String) {
        push_tuple(&self.values(), out);
    }

    /// Appends `ss_sold_date_sk=v,...` for every non-key column, for an
    /// `UPDATE store_sales SET ... WHERE <key predicate>`.
    pub fn push_sql_set(&self, out: &mut String) {
        push_assignments(&SALES_COLUMNS, &self.values(), out);
    }

    /// Sets to NULL the columns whose position bit is set in `mask` (key columns
    /// are never touched).
    pub(crate) fn apply_null_mask(&mut self, mask: u32) {
        let on = |bit: u32| mask & SALES_NULLABLE & (1 << bit) != 0;
        macro_rules! null {
            ($($bit:literal => $field:ident),* $(,)?) => {
                $( if on($bit) { self.$field = None; } )*
            };
        }
        null!(0 => ss_sold_date_sk, 1 => ss_sold_time_sk, 3 => ss_customer_sk,
              4 => ss_cdemo_sk, 5 => ss_hdemo_sk, 6 => ss_addr_sk, 7 => ss_store_sk,
              8 => ss_promo_sk, 10 => ss_quantity, 11 => ss_wholesale_cost,
              12 => ss_list_price, 13 => ss_sales_price, 14 => ss_ext_discount_amt,
              15 => ss_ext_sales_price, 16 => ss_ext_wholesale_cost,
              17 => ss_ext_list_price, 18 => ss_ext_tax, 19 => ss_coupon_amt,
              20 => ss_net_paid, 21 => ss_net_paid_inc_tax, 22 => ss_net_profit);
    }
}

/// One `store_returns` row: all 20 columns, money in cents, nullable columns as
/// `Option` (only `sr_item_sk` and `sr_ticket_number` are NOT NULL).
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)] // the fields are the TPC-DS columns of the same name
pub struct ReturnRow {
    pub sr_returned_date_sk: Option<u32>,
    pub sr_return_time_sk: Option<u32>,
    pub sr_item_sk: u32,
    pub sr_customer_sk: Option<u32>,
    pub sr_cdemo_sk: Option<u32>,
    pub sr_hdemo_sk: Option<u32>,
    pub sr_addr_sk: Option<u32>,
    pub sr_store_sk: Option<u32>,
    pub sr_reason_sk: Option<u32>,
    pub sr_ticket_number: u64,
    pub sr_return_quantity: Option<u32>,
    pub sr_return_amt: Option<Cents>,
    pub sr_return_tax: Option<Cents>,
    pub sr_return_amt_inc_tax: Option<Cents>,
    pub sr_fee: Option<Cents>,
    pub sr_return_ship_cost: Option<Cents>,
    pub sr_refunded_cash: Option<Cents>,
    pub sr_reversed_charge: Option<Cents>,
    pub sr_store_credit: Option<Cents>,
    pub sr_net_loss: Option<Cents>,
}

impl ReturnRow {
    /// The row's primary key.
    pub fn key(&self) -> RowKey {
        RowKey {
            table: Table::StoreReturns,
            ticket: self.sr_ticket_number,
            item: self.sr_item_sk,
        }
    }

    /// The values in [`RETURNS_COLUMNS`] order.
    pub fn values(&self) -> [SqlValue; 20] {
        [
            int(self.sr_returned_date_sk),
            int(self.sr_return_time_sk),
            SqlValue::Int(u64::from(self.sr_item_sk)),
            int(self.sr_customer_sk),
            int(self.sr_cdemo_sk),
            int(self.sr_hdemo_sk),
            int(self.sr_addr_sk),
            int(self.sr_store_sk),
            int(self.sr_reason_sk),
            SqlValue::Int(self.sr_ticket_number),
            int(self.sr_return_quantity),
            money(self.sr_return_amt),
            money(self.sr_return_tax),
            money(self.sr_return_amt_inc_tax),
            money(self.sr_fee),
            money(self.sr_return_ship_cost),
            money(self.sr_refunded_cash),
            money(self.sr_reversed_charge),
            money(self.sr_store_credit),
            money(self.sr_net_loss),
        ]
    }

    /// Appends `(v1,...,v20)` for an `INSERT INTO store_returns
    /// (RETURNS_COLUMNS...) VALUES` list.
    pub fn push_sql_values(&self, out: &mut String) {
        push_tuple(&self.values(), out);
    }

    /// Appends `sr_returned_date_sk=v,...` for every non-key column.
    pub fn push_sql_set(&self, out: &mut String) {
        push_assignments(&RETURNS_COLUMNS, &self.values(), out);
    }

    /// Sets to NULL the columns whose position bit is set in `mask`.
    pub(crate) fn apply_null_mask(&mut self, mask: u32) {
        let on = |bit: u32| mask & RETURNS_NULLABLE & (1 << bit) != 0;
        macro_rules! null {
            ($($bit:literal => $field:ident),* $(,)?) => {
                $( if on($bit) { self.$field = None; } )*
            };
        }
        null!(0 => sr_returned_date_sk, 1 => sr_return_time_sk, 3 => sr_customer_sk,
              4 => sr_cdemo_sk, 5 => sr_hdemo_sk, 6 => sr_addr_sk, 7 => sr_store_sk,
              8 => sr_reason_sk, 10 => sr_return_quantity, 11 => sr_return_amt,
              12 => sr_return_tax, 13 => sr_return_amt_inc_tax, 14 => sr_fee,
              15 => sr_return_ship_cost, 16 => sr_refunded_cash,
              17 => sr_reversed_charge, 18 => sr_store_credit, 19 => sr_net_loss);
    }
}

/// One write the generator asks a worker to perform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    /// Insert a new sale line.
    InsertSale(SaleRow),
    /// Insert the return of a committed sale line.
    InsertReturn(ReturnRow),
    /// Replace a committed sale line with this full new version (a price
    /// correction; same key, ticket fields, item, quantity and costs; re-priced
    /// consistently).
    UpdateSale(SaleRow),
    /// Delete (void) a committed sale line.
    DeleteSale(RowKey),
}

impl Write {
    /// The key of the row written.
    pub fn key(&self) -> RowKey {
        match self {
            Write::InsertSale(r) | Write::UpdateSale(r) => r.key(),
            Write::InsertReturn(r) => r.key(),
            Write::DeleteSale(k) => *k,
        }
    }

    /// What the write does.
    pub fn op(&self) -> OpKind {
        match self {
            Write::InsertSale(_) | Write::InsertReturn(_) => OpKind::Insert,
            Write::UpdateSale(_) => OpKind::Update,
            Write::DeleteSale(_) => OpKind::Delete,
        }
    }

    /// The table written.
    pub fn table(&self) -> Table {
        match self {
            Write::InsertReturn(_) => Table::StoreReturns,
            _ => Table::StoreSales,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_sale() -> SaleRow {
        SaleRow {
            ss_sold_date_sk: Some(2_451_545),
            ss_sold_time_sk: Some(36_000),
            ss_item_sk: 17,
            ss_customer_sk: Some(99),
            ss_cdemo_sk: Some(1_920_800),
            ss_hdemo_sk: Some(7_200),
            ss_addr_sk: Some(50_000),
            ss_store_sk: Some(10),
            ss_promo_sk: Some(300),
            ss_ticket_number: 12_345_678_901,
            ss_quantity: Some(3),
            ss_wholesale_cost: Some(1000),
            ss_list_price: Some(1550),
            ss_sales_price: Some(1395),
            ss_ext_discount_amt: Some(1381),
            ss_ext_sales_price: Some(4185),
            ss_ext_wholesale_cost: Some(3000),
            ss_ext_list_price: Some(4650),
            ss_ext_tax: Some(196),
            ss_coupon_amt: Some(1381),
            ss_net_paid: Some(2804),
            ss_net_paid_inc_tax: Some(3000),
            ss_net_profit: Some(-196),
        }
    }

    #[test]
    fn sale_renders_in_column_order() {
        let mut s = String::new();
        sample_sale().push_sql_values(&mut s);
        assert_eq!(
            s,
            "(2451545,36000,17,99,1920800,7200,50000,10,300,12345678901,3,\
             10.00,15.50,13.95,13.81,41.85,30.00,46.50,1.96,13.81,28.04,30.00,-1.96)"
        );
    }

    #[test]
    fn extreme_values_fit_the_tuple_buffer() {
        let mut row = sample_sale();
        row.ss_ticket_number = u64::MAX;
        row.ss_item_sk = u32::MAX;
        row.ss_net_profit = Some(i64::MIN);
        row.ss_net_paid = Some(i64::MAX);
        let mut s = String::new();
        row.push_sql_values(&mut s);
        assert!(s.contains(",18446744073709551615,"));
        assert!(s.ends_with(",92233720368547758.07,30.00,-92233720368547758.08)"));
    }

    #[test]
    fn nulls_render_and_keys_stay() {
        let mut row = sample_sale();
        row.apply_null_mask(u32::MAX);
        assert_eq!(row.ss_item_sk, 17);
        assert_eq!(row.ss_ticket_number, 12_345_678_901);
        let mut s = String::new();
        row.push_sql_values(&mut s);
        let expected = format!(
            "(NULL,NULL,17,{},12345678901,{})",
            ["NULL"; 6].join(","),
            ["NULL"; 13].join(",")
        );
        assert_eq!(s, expected);

        let mut one = sample_sale();
        one.apply_null_mask(1 << 13);
        assert_eq!(one.ss_sales_price, None);
        assert_eq!(
            one.values()
                .iter()
                .filter(|v| **v == SqlValue::Null)
                .count(),
            1
        );
    }

    #[test]
    fn set_list_skips_the_key() {
        let mut s = String::new();
        sample_sale().push_sql_set(&mut s);
        assert!(s.starts_with("ss_sold_date_sk=2451545,ss_sold_time_sk=36000,ss_customer_sk=99,"));
        assert!(!s.contains("ss_item_sk") && !s.contains("ss_ticket_number"));
        assert!(s.ends_with("ss_net_profit=-1.96"));
        assert_eq!(s.matches('=').count(), 21);
    }

    #[test]
    fn key_predicate() {
        let mut s = String::new();
        push_sql_key_predicate(
            &RowKey {
                table: Table::StoreReturns,
                ticket: 9,
                item: 4,
            },
            &mut s,
        );
        assert_eq!(s, "sr_item_sk=4 AND sr_ticket_number=9");
    }

    #[test]
    fn return_row_shape() {
        let mut r = ReturnRow {
            sr_returned_date_sk: Some(1),
            sr_return_time_sk: Some(2),
            sr_item_sk: 3,
            sr_customer_sk: Some(4),
            sr_cdemo_sk: Some(5),
            sr_hdemo_sk: Some(6),
            sr_addr_sk: Some(7),
            sr_store_sk: Some(8),
            sr_reason_sk: Some(9),
            sr_ticket_number: 10,
            sr_return_quantity: Some(11),
            sr_return_amt: Some(1200),
            sr_return_tax: Some(1300),
            sr_return_amt_inc_tax: Some(1400),
            sr_fee: Some(1500),
            sr_return_ship_cost: Some(1600),
            sr_refunded_cash: Some(1700),
            sr_reversed_charge: Some(1800),
            sr_store_credit: Some(1900),
            sr_net_loss: Some(2000),
        };
        let mut s = String::new();
        r.push_sql_values(&mut s);
        assert_eq!(
            s,
            "(1,2,3,4,5,6,7,8,9,10,11,12.00,13.00,14.00,15.00,16.00,17.00,18.00,19.00,20.00)"
        );
        r.apply_null_mask(RETURNS_NULLABLE);
        assert_eq!(r.key().item, 3);
        assert_eq!(
            r.values().iter().filter(|v| **v != SqlValue::Null).count(),
            2
        );
        let w = Write::InsertReturn(r);
        assert_eq!(w.op(), OpKind::Insert);
        assert_eq!(w.table(), Table::StoreReturns);
        assert_eq!(
            w.key(),
            RowKey {
                table: Table::StoreReturns,
                ticket: 10,
                item: 3
            }
        );
    }

    #[test]
    fn column_lists_match_the_masks() {
        for (cols, mask, prefix) in [
            (&SALES_COLUMNS[..], SALES_NULLABLE, "ss_"),
            (&RETURNS_COLUMNS[..], RETURNS_NULLABLE, "sr_"),
        ] {
            assert!(cols.iter().all(|c| c.starts_with(prefix)));
            assert!(cols[KEY_POSITIONS[0]].ends_with("_item_sk"));
            assert!(cols[KEY_POSITIONS[1]].ends_with("_ticket_number"));
            assert_eq!(mask.count_ones() as usize, cols.len() - 2);
            let mut sorted = cols.to_vec();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(sorted.len(), cols.len());
        }
    }
}
