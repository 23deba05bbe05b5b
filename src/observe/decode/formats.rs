//! One function per changelog format; shared helpers live in the parent module.

use serde_json::{Map, Value};

use super::{
    change_from, image_digest, parse_json, row_key, row_stamp, Change, DecodeError, Decoded,
};
use crate::model::{OpKind, Table};

/// Which table a message is about: the name the message carries wins (a Canal
/// topic may carry several tables); otherwise the topic's table. `Ok(None)`
/// means "a table we do not track": ignore the message.
fn resolve_table(
    named: Option<&str>,
    topic_table: Option<Table>,
) -> Result<Option<Table>, DecodeError> {
    match named {
        Some(name) => Ok(Table::from_qualified(name)),
        None => topic_table.map(Some).ok_or(DecodeError::NoTable),
    }
}

fn as_object<'a>(v: &'a Value, what: &'static str) -> Result<&'a Map<String, Value>, DecodeError> {
    v.as_object().ok_or(DecodeError::NotObject(what))
}

/// `field` of `obj` as a JSON object; missing or null is an error.
fn required_object<'a>(
    obj: &'a Map<String, Value>,
    field: &'static str,
) -> Result<&'a Map<String, Value>, DecodeError> {
    match obj.get(field) {
        None | Some(Value::Null) => Err(DecodeError::MissingField(field.to_string())),
        Some(v) => as_object(v, field),
    }
}

/// The message as a JSON object; `None` for a tombstone (no payload).
fn message(payload: Option<&[u8]>) -> Result<Option<Map<String, Value>>, DecodeError> {
    let Some(bytes) = payload else {
        return Ok(None);
    };
    match parse_json(bytes)? {
        Value::Object(m) => Ok(Some(m)),
        _ => Err(DecodeError::NotObject("message")),
    }
}

/// The operation code in `field`, which every change message must carry.
fn op_code<'a>(obj: &'a Map<String, Value>, field: &str) -> Result<&'a str, DecodeError> {
    obj.get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| DecodeError::MissingField(field.to_string()))
}

/// The one change of a message whose row is the object in `image_field`, and
/// (when `digests`) the digest of that row unless it is a delete's old row.
fn single(
    table: Table,
    obj: &Map<String, Value>,
    image_field: &'static str,
    op: OpKind,
    digests: bool,
) -> Result<Decoded, DecodeError> {
    let image = required_object(obj, image_field)?;
    let change = change_from(table, image, op)?;
    let left = (op != OpKind::Delete).then(|| image_digest(table, image));
    Ok(Decoded {
        changes: vec![change],
        ignored: 0,
        digests: if digests { vec![left] } else { Vec::new() },
    })
}

pub(super) fn debezium(
    topic_table: Option<Table>,
    payload: Option<&[u8]>,
    digests: bool,
) -> Result<Decoded, DecodeError> {
    // Kafka Connect writes a tombstone after each delete so compaction can drop
    // the key; it carries no change.
    let Some(root) = message(payload)? else {
        return Ok(Decoded::only_ignored(1));
    };
    // Debezium with schemas on: {"schema":{…},"payload":{…}}. Flink never
    // writes a top-level "payload" column next to "op", so this cannot misfire.
    let env = match root.get("payload") {
        Some(p) if !root.contains_key("op") => match p {
            Value::Null => return Ok(Decoded::only_ignored(1)),
            p => as_object(p, "payload")?,
        },
        _ => &root,
    };
    let op = op_code(env, "op")?;
    let named = env
        .get("source")
        .and_then(Value::as_object)
        .and_then(|s| s.get("table"))
        .and_then(Value::as_str);
    let (op, image_field) = match op {
        "c" | "r" => (OpKind::Insert, "after"),
        "u" => (OpKind::Update, "after"),
        "d" => (OpKind::Delete, "before"),
        // Truncate and logical-decoding messages carry no row.
        "t" | "m" => return Ok(Decoded::only_ignored(1)),
        other => return Err(DecodeError::UnknownOp(other.to_string())),
    };
    let Some(table) = resolve_table(named, topic_table)? else {
        return Ok(Decoded::only_ignored(1));
    };
    single(table, env, image_field, op, digests)
}

pub(super) fn canal(
    topic_table: Option<Table>,
    payload: Option<&[u8]>,
    digests: bool,
) -> Result<Decoded, DecodeError> {
    let Some(root) = message(payload)? else {
        return Ok(Decoded::only_ignored(1));
    };
    if root.get("isDdl").and_then(Value::as_bool) == Some(true) {
        return Ok(Decoded::only_ignored(1));
    }
    let kind = op_code(&root, "type")?;
    let op = match kind {
        "INSERT" => OpKind::Insert,
        "UPDATE" => OpKind::Update,
        "DELETE" => OpKind::Delete,
        // DDL and other statements (CREATE, ALTER, ERASE, TRUNCATE, QUERY…).
        k if k.chars().all(|c| c.is_ascii_uppercase() || c == '_') && !k.is_empty() => {
            return Ok(Decoded::only_ignored(1))
        }
        other => return Err(DecodeError::UnknownOp(other.to_string())),
    };
    let rows = match root.get("data") {
        Some(Value::Array(rows)) => rows,
        Some(Value::Null) | None => return Err(DecodeError::MissingField("data".to_string())),
        Some(_) => return Err(DecodeError::NotObject("data")),
    };
    let Some(table) = resolve_table(root.get("table").and_then(Value::as_str), topic_table)? else {
        return Ok(Decoded::only_ignored(rows.len().max(1) as u64));
    };
    let mut changes = Vec::with_capacity(rows.len());
    let mut left = Vec::new();
    for row in rows {
        // For UPDATE, `data` holds the new images (with the key and the new
        // stamp); `old` only the changed columns' old values: not needed.
        let image = as_object(row, "data row")?;
        changes.push(change_from(table, image, op)?);
        if digests {
            left.push((op != OpKind::Delete).then(|| image_digest(table, image)));
        }
    }
    Ok(Decoded {
        changes,
        ignored: 0,
        digests: left,
    })
}

pub(super) fn upsert(
    topic_table: Option<Table>,
    key: Option<&[u8]>,
    payload: Option<&[u8]>,
    digests: bool,
) -> Result<Decoded, DecodeError> {
    let table = topic_table.ok_or(DecodeError::NoTable)?;
    let key_json = key.map(parse_json).transpose()?;
    let key_obj = key_json.as_ref().map(|k| as_object(k, "key")).transpose()?;
    let mut left = None;
    let change = match payload {
        None => {
            let key_obj =
                key_obj.ok_or_else(|| DecodeError::MissingField("message key".to_string()))?;
            Change {
                key: row_key(table, &[key_obj])?,
                op: OpKind::Delete,
                stamp: None,
            }
        }
        Some(bytes) => {
            let value = parse_json(bytes)?;
            let value = as_object(&value, "value")?;
            // With `value.fields-include = 'EXCEPT_KEY'` the key columns are only in the key.
            let images: Vec<&Map<String, Value>> = std::iter::once(value).chain(key_obj).collect();
            if digests {
                // The key's columns join the value's (`EXCEPT_KEY` leaves them out).
                let mut whole = key_obj.cloned().unwrap_or_default();
                whole.extend(value.iter().map(|(k, v)| (k.clone(), v.clone())));
                left = Some(image_digest(table, &whole));
            }
            Change {
                key: row_key(table, &images)?,
                op: OpKind::Insert,
                stamp: row_stamp(value)?,
            }
        }
    };
    Ok(Decoded {
        changes: vec![change],
        ignored: 0,
        digests: if digests { vec![left] } else { Vec::new() },
    })
}

pub(super) fn plain(
    topic_table: Option<Table>,
    payload: Option<&[u8]>,
    digests: bool,
) -> Result<Decoded, DecodeError> {
    let table = topic_table.ok_or(DecodeError::NoTable)?;
    let Some(bytes) = payload else {
        return Ok(Decoded::only_ignored(1));
    };
    let value = parse_json(bytes)?;
    let image = as_object(&value, "message")?;
    let change = change_from(table, image, OpKind::Insert)?;
    Ok(Decoded {
        changes: vec![change],
        ignored: 0,
        digests: if digests {
            vec![Some(image_digest(table, image))]
        } else {
            Vec::new()
        },
    })
}

pub(super) fn maxwell(
    topic_table: Option<Table>,
    payload: Option<&[u8]>,
    digests: bool,
) -> Result<Decoded, DecodeError> {
    let Some(root) = message(payload)? else {
        return Ok(Decoded::only_ignored(1));
    };
    let op = match op_code(&root, "type")? {
        "insert" | "bootstrap-insert" => OpKind::Insert,
        "update" => OpKind::Update,
        "delete" => OpKind::Delete,
        // DDL (table-create, table-alter, …) and bootstrap markers.
        k if k.chars().all(|c| c.is_ascii_lowercase() || c == '-') && !k.is_empty() => {
            return Ok(Decoded::only_ignored(1))
        }
        other => return Err(DecodeError::UnknownOp(other.to_string())),
    };
    let Some(table) = resolve_table(root.get("table").and_then(Value::as_str), topic_table)? else {
        return Ok(Decoded::only_ignored(1));
    };
    // `data` is the new row of an insert or update and the removed row of a
    // delete; `old` (an update's changed columns) is not needed.
    single(table, &root, "data", op, digests)
}

pub(super) fn ogg(
    topic_table: Option<Table>,
    payload: Option<&[u8]>,
    digests: bool,
) -> Result<Decoded, DecodeError> {
    let Some(root) = message(payload)? else {
        return Ok(Decoded::only_ignored(1));
    };
    let (op, image_field) = match op_code(&root, "op_type")? {
        "I" => (OpKind::Insert, "after"),
        "U" => (OpKind::Update, "after"),
        "D" => (OpKind::Delete, "before"),
        // Truncate carries no row.
        "T" => return Ok(Decoded::only_ignored(1)),
        other => return Err(DecodeError::UnknownOp(other.to_string())),
    };
    // GoldenGate names tables in upper case (`BUSINESS_DB.STORE_SALES`).
    let named = root
        .get("table")
        .and_then(Value::as_str)
        .map(str::to_ascii_lowercase);
    let Some(table) = resolve_table(named.as_deref(), topic_table)? else {
        return Ok(Decoded::only_ignored(1));
    };
    single(table, &root, image_field, op, digests)
}
