//! Pure decoding of Kafka changelog messages into row changes.
//!
//! Six formats, as Flink (and Debezium/Canal/Maxwell/GoldenGate themselves) write them:
//! - `debezium-json`: `{"before":…,"after":…,"op":"c"|"u"|"d"|"r"}`, optionally inside
//!   Debezium's `{"schema":…,"payload":{…}}` wrapper with `source` and `ts_ms`.
//! - `canal-json`: `{"data":[…],"old":[…],"type":"INSERT"|"UPDATE"|"DELETE","database","table"}`,
//!   one or several rows per message.
//! - `maxwell-json`: `{"data":{…},"old":{…},"type":"insert"|"update"|"delete","database","table"}`.
//! - `ogg-json` (Oracle GoldenGate): `{"before":…,"after":…,"op_type":"I"|"U"|"D","table"}`.
//! - `upsert-kafka`: JSON key + JSON value; a null value (tombstone) is a delete.
//! - `json`: one row per message, inserts only.
//!
//! Semantics (the tracker relies on them):
//! - A change is reported as the message states it. Flink writes an update as a
//!   `d` carrying the before image followed by a `c` carrying the after image; the
//!   decoder reports a `Delete` then an `Insert`. Because each row is mutated at
//!   most once per run, the tracker can tell update-before from a real delete, and
//!   an `Insert` from an update's after image, by comparing stamps with what it wrote.
//! - `c`/`r`/`INSERT`/`insert`/`I`/an upsert value are [`OpKind::Insert`];
//!   `u`/`UPDATE`/`update`/`U` are [`OpKind::Update`]; `d`/`DELETE`/`delete`/`D`/a
//!   tombstone are [`OpKind::Delete`].
//! - The stamp of a delete is the *before* image's `bench_ts` (the version that
//!   was removed); of an insert or update, the after image's. A tombstone carries
//!   no stamp.
//! - Changes of other tables and non-data messages (DDL, truncate, Debezium
//!   tombstones) are counted in [`Decoded::ignored`], never errors.
//! - Only the key columns and `bench_ts` are read, so money columns may be plain
//!   or scientific (`1.2E+3`) numbers or strings. Keys may be JSON numbers or
//!   numeric strings.

pub mod canonical;
pub mod columns;
pub mod fast;
mod formats;
pub mod stamp;
#[cfg(test)]
mod tests;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::model::{OpKind, RowKey, StampMicros, Table};

pub use stamp::{parse_stamp_str, parse_stamp_value, StampError};

/// The harness's stamp column, present in every table at every sink.
pub const STAMP_COLUMN: &str = "bench_ts";

/// A changelog message format on the Kafka topics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// Debezium envelope (Flink's `debezium-json` or Debezium itself).
    DebeziumJson,
    /// Canal envelope (Flink's `canal-json` or Canal itself).
    CanalJson,
    /// Maxwell envelope (Flink's `maxwell-json` or Maxwell itself).
    MaxwellJson,
    /// Oracle GoldenGate envelope (Flink's `ogg-json` or GoldenGate itself).
    OggJson,
    /// Flink `upsert-kafka`: JSON key, JSON value, tombstone deletes.
    UpsertKafka,
    /// Plain JSON rows: inserts only.
    Json,
}

impl Format {
    /// The name used in scenario files and Flink DDL (`debezium-json`, …).
    pub fn name(self) -> &'static str {
        match self {
            Format::DebeziumJson => "debezium-json",
            Format::CanalJson => "canal-json",
            Format::MaxwellJson => "maxwell-json",
            Format::OggJson => "ogg-json",
            Format::UpsertKafka => "upsert-kafka",
            Format::Json => "json",
        }
    }

    /// Whether the format can say that a row was deleted. Plain `json` is
    /// append-only: a pipeline writing it drops deletes (flink-sql/mysql-cdc-to-kafka.sql).
    pub fn carries_deletes(self) -> bool {
        self != Format::Json
    }
}

impl From<crate::scenario::KafkaFormat> for Format {
    fn from(f: crate::scenario::KafkaFormat) -> Self {
        use crate::scenario::KafkaFormat as K;
        match f {
            K::DebeziumJson => Format::DebeziumJson,
            K::CanalJson => Format::CanalJson,
            K::MaxwellJson => Format::MaxwellJson,
            K::OggJson => Format::OggJson,
            K::UpsertKafka => Format::UpsertKafka,
            K::Json => Format::Json,
        }
    }
}

/// Every format's name, in [`Format`]'s order (the scenario's list: the
/// observer decodes what a scenario can name).
pub use crate::scenario::KAFKA_FORMAT_NAMES as FORMAT_NAMES;

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "debezium-json" => Ok(Format::DebeziumJson),
            "canal-json" => Ok(Format::CanalJson),
            "maxwell-json" => Ok(Format::MaxwellJson),
            "ogg-json" => Ok(Format::OggJson),
            "upsert-kafka" => Ok(Format::UpsertKafka),
            "json" => Ok(Format::Json),
            other => Err(format!(
                "unknown format {other:?}; expected {}",
                FORMAT_NAMES.join(", ")
            )),
        }
    }
}

/// One row change decoded from a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    /// Which row (table included).
    pub key: RowKey,
    /// What the message says happened (see the module docs).
    pub op: OpKind,
    /// `bench_ts` of the image the op refers to (before image for deletes);
    /// `None` when the message does not carry it.
    pub stamp: Option<StampMicros>,
}

/// The result of decoding one message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Decoded {
    /// The row changes it carries, in message order.
    pub changes: Vec<Change>,
    /// Rows of other tables and non-data messages (DDL, truncate, tombstones
    /// that carry nothing), counted but not reported.
    pub ignored: u64,
    /// Filled by [`decode_digested`] only, one per change: the digest of the
    /// row image the change leaves ([`canonical`]), `None` for
    /// a delete; an image no MySQL row renders as digests as
    /// [`UNRENDERABLE`].
    pub digests: Vec<Option<u64>>,
}

/// The digest of an image that has no canonical text: no 60-bit digest is
/// this value, so it never matches MySQL.
pub const UNRENDERABLE: u64 = u64::MAX;

impl Decoded {
    fn only_ignored(n: u64) -> Self {
        Decoded {
            changes: Vec::new(),
            ignored: n,
            digests: Vec::new(),
        }
    }
}

/// The digest of one row image of `table` (see [`Decoded::digests`]).
fn image_digest(table: Table, image: &Map<String, Value>) -> u64 {
    canonical::text(table, image).map_or(UNRENDERABLE, |t| canonical::digest(&t))
}

/// Why a message could not be decoded. The message is counted as malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The bytes are not JSON.
    #[error("not JSON: {0}")]
    NotJson(String),
    /// A part that must be a JSON object is something else.
    #[error("{0} is not a JSON object")]
    NotObject(&'static str),
    /// A required field is absent or null.
    #[error("missing field {0}")]
    MissingField(String),
    /// A key column holds something that is not a non-negative integer in range.
    #[error("key column {field} = {value} is not a valid key")]
    BadKey {
        /// The column name.
        field: String,
        /// Its JSON text (truncated).
        value: String,
    },
    /// `bench_ts` cannot be parsed.
    #[error(transparent)]
    BadStamp(#[from] StampError),
    /// An operation code this format does not define.
    #[error("unknown operation {0:?}")]
    UnknownOp(String),
    /// The topic does not name a table and neither does the message.
    #[error("cannot tell which table the message belongs to")]
    NoTable,
}

/// Decodes one Kafka message.
///
/// `topic_table` is the table the topic carries (from the configured topic
/// names), used when the message itself does not name one. `key` is the Kafka
/// message key (only `upsert-kafka` needs it); `payload` is `None` for a tombstone.
pub fn decode(
    format: Format,
    topic_table: Option<Table>,
    key: Option<&[u8]>,
    payload: Option<&[u8]>,
) -> Result<Decoded, DecodeError> {
    decode_with(format, topic_table, key, payload, false)
}

/// [`decode`], and the digest of each change's row image (for the audit of
/// the Kafka sink; the observer does not pay for it during a run).
pub fn decode_digested(
    format: Format,
    topic_table: Option<Table>,
    key: Option<&[u8]>,
    payload: Option<&[u8]>,
) -> Result<Decoded, DecodeError> {
    decode_with(format, topic_table, key, payload, true)
}

fn decode_with(
    format: Format,
    topic_table: Option<Table>,
    key: Option<&[u8]>,
    payload: Option<&[u8]>,
    digests: bool,
) -> Result<Decoded, DecodeError> {
    match format {
        Format::DebeziumJson => formats::debezium(topic_table, payload, digests),
        Format::CanalJson => formats::canal(topic_table, payload, digests),
        Format::MaxwellJson => formats::maxwell(topic_table, payload, digests),
        Format::OggJson => formats::ogg(topic_table, payload, digests),
        Format::UpsertKafka => formats::upsert(topic_table, key, payload, digests),
        Format::Json => formats::plain(topic_table, payload, digests),
    }
}

/// Parses bytes as JSON.
fn parse_json(bytes: &[u8]) -> Result<Value, DecodeError> {
    serde_json::from_slice(bytes).map_err(|e| DecodeError::NotJson(e.to_string()))
}

/// The column names of a table's key: `(item_sk, ticket_number)`.
pub fn key_columns(table: Table) -> (String, String) {
    (
        format!("{}item_sk", table.prefix()),
        format!("{}ticket_number", table.prefix()),
    )
}

/// Reads one key column from the first image that has it (non-null).
fn key_field(images: &[&Map<String, Value>], field: &str) -> Result<u64, DecodeError> {
    let v = images
        .iter()
        .find_map(|m| m.get(field).filter(|v| !v.is_null()))
        .ok_or_else(|| DecodeError::MissingField(field.to_string()))?;
    json_to_u64(v).ok_or_else(|| {
        let mut value = v.to_string();
        value.truncate(40);
        DecodeError::BadKey {
            field: field.to_string(),
            value,
        }
    })
}

/// A non-negative integer from a JSON number (integral, possibly written as
/// `1.2E3`) or a numeric string.
fn json_to_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64().or_else(|| n.as_f64().and_then(f64_to_u64)),
        Value::String(s) => {
            let s = s.trim();
            s.parse::<u64>()
                .ok()
                .or_else(|| s.parse::<f64>().ok().and_then(f64_to_u64))
        }
        _ => None,
    }
}

fn f64_to_u64(f: f64) -> Option<u64> {
    // Only exactly representable integers: beyond 2^53 a float key may already
    // have lost its last digits.
    (f.is_finite() && f >= 0.0 && f.fract() == 0.0 && f <= 9_007_199_254_740_992.0)
        .then_some(f as u64)
}

/// Builds the row key of `table` from the images (the first one holding each column wins).
fn row_key(table: Table, images: &[&Map<String, Value>]) -> Result<RowKey, DecodeError> {
    let (item_col, ticket_col) = key_columns(table);
    let item = key_field(images, &item_col)?;
    let ticket = key_field(images, &ticket_col)?;
    let item = u32::try_from(item).map_err(|_| DecodeError::BadKey {
        field: item_col,
        value: item.to_string(),
    })?;
    Ok(RowKey {
        table,
        ticket,
        item,
    })
}

/// `bench_ts` of an image; absent or null is `None`.
fn row_stamp(image: &Map<String, Value>) -> Result<Option<StampMicros>, DecodeError> {
    match image.get(STAMP_COLUMN) {
        None => Ok(None),
        Some(v) => Ok(parse_stamp_value(v)?),
    }
}

/// One change from a single image carrying both key and stamp.
fn change_from(
    table: Table,
    image: &Map<String, Value>,
    op: OpKind,
) -> Result<Change, DecodeError> {
    Ok(Change {
        key: row_key(table, &[image])?,
        op,
        stamp: row_stamp(image)?,
    })
}
