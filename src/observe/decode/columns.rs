//! The audited columns of each table and how each is rendered in the
//! canonical text (see `audit::sql` for the text in SQL, [`super::canonical`]
//! for it from a Kafka image).

use crate::model::Table;

/// How a column is rendered in the canonical text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// INT / BIGINT.
    Int,
    /// DECIMAL(7,2): money; summed per range as well.
    Money,
    /// DATETIME(6) in MySQL, `timestamp(6)` in the warehouse.
    Timestamp,
}

/// The audited columns of `table`, in DDL order. Left out: the harness's
/// stamp `bench_ts` (the ledger checks versions by it) and the warehouse's
/// own `arrived_at`. `updated_at` is MySQL's own value and is carried by the
/// pipeline, so it is audited (it is where a time-zone shift would show).
pub fn columns(table: Table) -> Vec<(String, Kind)> {
    use Kind::*;
    let (ints_before, ints_after, money): (&[&str], &[&str], &[&str]) = match table {
        Table::StoreSales => (
            &[
                "sold_date_sk",
                "sold_time_sk",
                "item_sk",
                "customer_sk",
                "cdemo_sk",
                "hdemo_sk",
                "addr_sk",
                "store_sk",
                "promo_sk",
                "ticket_number",
            ],
            &["quantity"],
            &[
                "wholesale_cost",
                "list_price",
                "sales_price",
                "ext_discount_amt",
                "ext_sales_price",
                "ext_wholesale_cost",
                "ext_list_price",
                "ext_tax",
                "coupon_amt",
                "net_paid",
                "net_paid_inc_tax",
                "net_profit",
            ],
        ),
        Table::StoreReturns => (
            &[
                "returned_date_sk",
                "return_time_sk",
                "item_sk",
                "customer_sk",
                "cdemo_sk",
                "hdemo_sk",
                "addr_sk",
                "store_sk",
                "reason_sk",
                "ticket_number",
            ],
            &["return_quantity"],
            &[
                "return_amt",
                "return_tax",
                "return_amt_inc_tax",
                "fee",
                "return_ship_cost",
                "refunded_cash",
                "reversed_charge",
                "store_credit",
                "net_loss",
            ],
        ),
    };
    let p = table.prefix();
    let named = |cols: &[&str], kind: Kind| -> Vec<(String, Kind)> {
        cols.iter().map(|c| (format!("{p}{c}"), kind)).collect()
    };
    let mut out = named(ints_before, Int);
    out.extend(named(ints_after, Int));
    out.extend(named(money, Money));
    out.push(("updated_at".into(), Timestamp));
    out
}

/// Where each canonical column of a table sits in its rows (a binlog row
/// image carries its values by position).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Canon {
    /// Position and kind of each canonical column, in canonical order.
    columns: Vec<(usize, Kind)>,
}

impl Canon {
    /// From the table's column names in ordinal order; `None` when one of
    /// the canonical columns is missing (the tally then cannot stand for it).
    pub fn from_names(table: Table, names: &[String]) -> Option<Canon> {
        let columns = columns(table)
            .into_iter()
            .map(|(c, k)| {
                names
                    .iter()
                    .position(|n| n.eq_ignore_ascii_case(&c))
                    .map(|i| (i, k))
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Canon { columns })
    }

    /// Position and kind of each canonical column, in canonical order.
    pub fn positions(&self) -> &[(usize, Kind)] {
        &self.columns
    }
}

/// The money columns of `table` (summed per range).
pub fn money_columns(table: Table) -> Vec<String> {
    columns(table)
        .into_iter()
        .filter(|(_, k)| *k == Kind::Money)
        .map(|(c, _)| c)
        .collect()
}
