//! The fast read of a Debezium-JSON message, the format the stack writes,
//! for the audit's read-back and the Kafka observer's tally: the envelope and the image walked once with a typed decoder that
//! keeps only the audited columns (borrowed from the message, each put in its
//! column's slot as it is read), rendered straight into one reused buffer
//! and digested. The general path ([`decode_digested`](crate::observe::decode::decode_digested)) builds a
//! `serde_json::Value` map of every column, a `String` per rendered column
//! and one per text (the two side by side per message:
//! `cargo bench --bench audit`).
//!
//! Exactness: anything this path does not read exactly as
//! [`decode_digested`](crate::observe::decode::decode_digested) does is handed to it (other formats, a `payload`
//! envelope, a `source` naming the table, an op other than c/r/u/d, a key
//! written as text, a `bench_ts` that is not an ISO date-time), so the
//! images are the same either way; a test holds the two to each other.

mod de;

use std::fmt::Write as _;
use std::sync::OnceLock;

use de::{EnvSeed, Row, Scalar};
use serde::de::DeserializeSeed;

use crate::model::Table;
use crate::observe::decode::canonical::digest;
use crate::observe::decode::columns::{columns, Kind};
use crate::observe::decode::{parse_stamp_str, STAMP_COLUMN, UNRENDERABLE};

/// One row change as the audit keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Image {
    /// The row's ticket.
    pub ticket: u64,
    /// The row's item.
    pub item: u32,
    /// The digest of the image it leaves; `None` for a delete.
    pub digest: Option<u64>,
}

/// The fast read of one message of `table`'s topic: `Some` the change it
/// carries, `None` when the message must go to the general decoder.
/// `buf` is reused between calls.
pub fn debezium(table: Table, payload: &[u8], buf: &mut String) -> Option<Image> {
    let layout = Layout::of(table);
    let env = envelope(layout, payload)?;
    let (image, delete) = match env.op.as_deref()? {
        "c" | "r" | "u" => (env.after?, false),
        "d" => (env.before?, true),
        _ => return None,
    };
    let (item, ticket) = keyed(layout, &image)?;
    let digest = (!delete).then(|| image_digest(layout, &image, buf));
    Some(Image {
        ticket,
        item,
        digest,
    })
}

/// One message as the Kafka observer's tally counts it (see
/// [`crate::observe::kafka::tally`]): the image it takes away (a delete's
/// or an update's before image) and the image it leaves, each as its
/// ticket and digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Change {
    /// The before image of a `d` or `u`.
    pub removed: Option<(u64, u64)>,
    /// The after image of a `c`, `r` or `u`.
    pub added: Option<(u64, u64)>,
}

/// The tally's read of one message of `table`'s topic: `None` when this
/// path cannot read it as the general decoder would (as [`debezium`]), or
/// when an update carries no before image (a sum cannot take away what it
/// was not told).
pub fn debezium_change(table: Table, payload: &[u8], buf: &mut String) -> Option<Change> {
    let layout = Layout::of(table);
    let env = envelope(layout, payload)?;
    let mut one = |row: &Row| -> Option<(u64, u64)> {
        let (_, ticket) = keyed(layout, row)?;
        Some((ticket, image_digest(layout, row, buf)))
    };
    match env.op.as_deref()? {
        "c" | "r" => Some(Change {
            removed: None,
            added: Some(one(env.after.as_ref()?)?),
        }),
        "d" => Some(Change {
            removed: Some(one(env.before.as_ref()?)?),
            added: None,
        }),
        "u" => Some(Change {
            removed: Some(one(env.before.as_ref()?)?),
            added: Some(one(env.after.as_ref()?)?),
        }),
        _ => None,
    }
}

/// The envelope, when this path reads it (no `source`/`payload`, an `op`).
fn envelope<'a>(layout: &'static Layout, payload: &'a [u8]) -> Option<de::Env<'a>> {
    let mut de = serde_json::Deserializer::from_slice(payload);
    let env = EnvSeed(layout).deserialize(&mut de).ok()?;
    de.end().ok()?;
    (!env.named && env.op.is_some()).then_some(env)
}

/// An image's item and ticket, when both are valid keys and its `bench_ts`
/// is one the general decoder parses (it drops the message otherwise).
fn keyed(layout: &Layout, image: &Row) -> Option<(u32, u64)> {
    let item = u32::try_from(key(image.get(layout.item)?)?).ok()?;
    let ticket = key(image.get(layout.ticket)?)?;
    match image.get(layout.stamp) {
        None | Some(Scalar::Null) => {}
        Some(Scalar::Str(s)) => {
            stamp(s)?;
        }
        Some(_) => return None,
    }
    Some((item, ticket))
}

/// The digest of an image's canonical text ([`UNRENDERABLE`] when it has none).
fn image_digest(layout: &Layout, image: &Row, buf: &mut String) -> u64 {
    render(image, layout.cols, buf).map_or(UNRENDERABLE, digest)
}

/// Where a table's columns go: the audited ones in canonical order, then
/// `bench_ts`.
#[derive(Debug)]
struct Layout {
    cols: &'static [(String, Kind)],
    item: usize,
    ticket: usize,
    stamp: usize,
}

/// Slots per image: the audited columns and `bench_ts` (store_sales has 24).
const SLOTS: usize = 32;

impl Layout {
    fn of(table: Table) -> &'static Layout {
        static L: OnceLock<[Layout; 2]> = OnceLock::new();
        let all = L.get_or_init(|| {
            [
                Layout::new(Table::StoreSales),
                Layout::new(Table::StoreReturns),
            ]
        });
        &all[table.index()]
    }

    fn new(table: Table) -> Layout {
        let cols: &'static [(String, Kind)] = Box::leak(columns(table).into_boxed_slice());
        assert!(cols.len() < SLOTS, "{table} has more columns than slots");
        let at = |c: &str| {
            cols.iter()
                .position(|(n, _)| n == c)
                .expect("the key columns are audited")
        };
        let p = table.prefix();
        Layout {
            cols,
            item: at(&format!("{p}item_sk")),
            ticket: at(&format!("{p}ticket_number")),
            stamp: cols.len(),
        }
    }

    /// The slot of column `name`; `hint` is where the next column usually
    /// is (Flink writes them in DDL order).
    fn slot(&self, name: &str, hint: usize) -> Option<usize> {
        if self.cols.get(hint).is_some_and(|(n, _)| n == name) {
            return Some(hint);
        }
        if name == STAMP_COLUMN {
            return Some(self.stamp);
        }
        self.cols.iter().position(|(n, _)| n == name)
    }
}

/// A key column as the general decoder reads it from a JSON number (text
/// goes to it); `None`: not a valid key, or text.
fn key(v: &Scalar) -> Option<u64> {
    match v {
        Scalar::U64(u) => Some(*u),
        Scalar::I64(i) => u64::try_from(*i).ok(),
        // Only exactly representable integers, as the general decoder.
        Scalar::F64(f) => {
            (f.is_finite() && *f >= 0.0 && f.fract() == 0.0 && *f <= 9_007_199_254_740_992.0)
                .then_some(*f as u64)
        }
        _ => None,
    }
}

/// The canonical text of `row` into `buf` ([`crate::observe::decode::canonical::text`],
/// character for character); `None` when a column renders as nothing MySQL
/// prints.
fn render<'b>(row: &Row, cols: &[(String, Kind)], buf: &'b mut String) -> Option<&'b str> {
    buf.clear();
    for (i, (_, kind)) in cols.iter().enumerate() {
        if i > 0 {
            buf.push('|');
        }
        match row.get(i) {
            None | Some(Scalar::Null) => buf.push_str("NULL"),
            Some(v) => value(v, *kind, buf)?,
        }
    }
    Some(buf.as_str())
}

fn value(v: &Scalar, kind: Kind, buf: &mut String) -> Option<()> {
    match kind {
        Kind::Int => {
            let i = match v {
                Scalar::I64(i) => *i,
                Scalar::U64(u) => i64::try_from(*u).ok()?,
                Scalar::Str(s) => s.trim().parse::<i64>().ok()?,
                _ => return None,
            };
            let _ = write!(buf, "{i}");
        }
        Kind::Money => {
            let f = match v {
                Scalar::I64(i) => *i as f64,
                Scalar::U64(u) => *u as f64,
                Scalar::F64(f) => *f,
                Scalar::Str(s) => s.trim().parse::<f64>().ok()?,
                _ => return None,
            };
            if !f.is_finite() {
                return None;
            }
            money(f, buf);
        }
        Kind::Timestamp => {
            let micros = match v {
                Scalar::Str(s) => stamp(s)?,
                // Epoch numbers: rare; the general parser's rules.
                Scalar::I64(i) => {
                    crate::observe::decode::parse_stamp_value(&(*i).into()).ok()??
                }
                Scalar::U64(u) => {
                    crate::observe::decode::parse_stamp_value(&(*u).into()).ok()??
                }
                Scalar::F64(f) => {
                    crate::observe::decode::parse_stamp_value(&(*f).into()).ok()??
                }
                _ => return None,
            };
            crate::observe::decode::canonical::push_timestamp(micros, buf)?;
        }
    }
    Some(())
}

/// `format!("{:.6}", f + 0.0)` (MySQL prints no negative zero), by integer
/// arithmetic when `f` is the nearest `f64` of a whole number of cents below
/// 10⁹ (every `DECIMAL(7,2)`): its six-decimal rendering is then the cents
/// and four zeros. Anything else is formatted as before.
fn money(f: f64, buf: &mut String) {
    let cents = (f * 100.0).round();
    if cents.abs() < 1e11 && cents / 100.0 == f {
        let c = cents as i64;
        let sign = if c < 0 { "-" } else { "" };
        let a = c.unsigned_abs();
        let _ = write!(buf, "{sign}{}.{:02}0000", a / 100, a % 100);
    } else {
        let _ = write!(buf, "{:.6}", f + 0.0);
    }
}

/// A date-time stamp in µs: `YYYY-MM-DDTHH:MM:SS[.f…]` (or a space for the
/// `T`) read directly, read as UTC exactly as [`parse_stamp_str`] reads it;
/// any other form through [`parse_stamp_str`].
fn stamp(s: &str) -> Option<i64> {
    fast_stamp(s.as_bytes()).or_else(|| parse_stamp_str(s))
}

fn fast_stamp(b: &[u8]) -> Option<i64> {
    if b.len() < 19 || !matches!(b[10], b'T' | b' ') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |n, c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let seps = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')];
    if seps.iter().any(|&(i, c)| b[i] != c) {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let nanos = match &b[19..] {
        [] => 0,
        [b'.', frac @ ..] if (1..=9).contains(&frac.len()) => {
            num(20..b.len())? * 10u32.pow(9 - frac.len() as u32)
        }
        _ => return None,
    };
    // A leap second (`:60`) and anything out of range: the general parser.
    if s > 59 {
        return None;
    }
    let t = chrono::NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, mo, d)?
        .and_hms_nano_opt(h, mi, s, nanos)?;
    Some(t.and_utc().timestamp_micros())
}

#[cfg(test)]
mod tests;
