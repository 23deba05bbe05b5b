//! The test's data: the two tables it touches, the rows it writes (a
//! ticket range unique to the run) and the change events it expects.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;
use tpcds_bench::tpcds::{RETURNS_COLUMNS, SALES_COLUMNS};

/// A row key: (item, ticket).
pub type Key = (i32, i64);

/// One table's side of the test: its name, key columns, and the column the
/// test changes on update.
pub struct TableSpec {
    pub name: &'static str,
    pub item: &'static str,
    pub ticket: &'static str,
    pub changed: &'static str,
    /// The TPC-DS columns, in table order (the generator's list: one source of truth).
    pub columns: &'static [&'static str],
}

/// The harness's columns every table carries after the TPC-DS ones.
pub const HARNESS_COLUMNS: [&str; 2] = ["bench_ts", "updated_at"];

impl TableSpec {
    /// Every column, in table order, for the final-contents comparison.
    pub fn all_columns(&self) -> impl Iterator<Item = &'static &'static str> {
        self.columns.iter().chain(HARNESS_COLUMNS.iter())
    }
}

pub const SALES: TableSpec = TableSpec {
    name: "store_sales",
    item: "ss_item_sk",
    ticket: "ss_ticket_number",
    changed: "ss_net_paid",
    columns: &SALES_COLUMNS,
};

pub const RETURNS: TableSpec = TableSpec {
    name: "store_returns",
    item: "sr_item_sk",
    ticket: "sr_ticket_number",
    changed: "sr_fee",
    columns: &RETURNS_COLUMNS,
};

pub const TIMESTAMP_COLUMNS: [&str; 2] = ["bench_ts", "updated_at"];

/// A change event as read from Kafka: topic, op ("c"/"d"), key, and the text
/// of the table's `changed` column in the event's row image.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Event {
    pub table: &'static str,
    pub op: String,
    pub key: Key,
    pub changed: String,
}

/// What one sink shows of the test's rows: per table, key -> `changed` column.
pub type Snapshot = BTreeMap<&'static str, BTreeMap<Key, String>>;

/// The test's rows, derived from a ticket base unique to this run.
pub struct Plan {
    pub lo: i64,
    pub hi: i64,
}

impl Plan {
    pub fn new() -> Self {
        let micros = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_micros() as i64;
        // Far above any generated workload's tickets; 8 tickets per
        // microsecond of start time, so two runs never share a range.
        let lo = 5_000_000_000_000_000_000 + micros * 8;
        Plan { lo, hi: lo + 8 }
    }
    pub fn t(&self, i: i64) -> i64 {
        self.lo + i
    }
}

pub fn ev(spec: &TableSpec, op: &str, key: Key, changed: &str) -> Event {
    Event {
        table: spec.name,
        op: op.to_string(),
        key,
        changed: changed.to_string(),
    }
}

/// A debezium-json envelope as Flink writes it: op "c" carries `after`, op
/// "d" carries `before`.
pub fn decode(spec: &'static TableSpec, v: &Value) -> Option<Event> {
    let op = v.get("op")?.as_str()?.to_string();
    let image = match op.as_str() {
        "c" | "r" => v.get("after")?,
        "d" => v.get("before")?,
        other => panic!("unexpected debezium op {other:?} in {v}"),
    };
    let key = (
        image.get(spec.item)?.as_i64()? as i32,
        image.get(spec.ticket)?.as_i64()?,
    );
    let changed = image
        .get(spec.changed)
        .map(|c| c.to_string())
        .unwrap_or_else(|| "null".into());
    // The stack asks for decimals as plain numbers: "77.77", never "7.777E+1".
    assert!(
        !changed.contains(['e', 'E']),
        "{} is not a plain number in {v}",
        spec.changed
    );
    Some(Event {
        table: spec.name,
        op,
        key,
        changed: normalise_decimal(&changed),
    })
}

/// JSON drops trailing zeros of decimals (37.5 for 37.50): compare at 2 places.
pub fn normalise_decimal(s: &str) -> String {
    match s.parse::<f64>() {
        Ok(x) if s.contains('.') || s.chars().all(|c| c.is_ascii_digit() || c == '-') => {
            format!("{x:.2}")
        }
        _ => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_compare_at_two_places() {
        assert_eq!(normalise_decimal("37.5"), "37.50");
        assert_eq!(normalise_decimal("77.77"), "77.77");
        assert_eq!(normalise_decimal("6000"), "6000.00");
        assert_eq!(normalise_decimal("null"), "null");
    }
}
