//! Parsing `bench_ts` as the sinks print it into [`StampMicros`] (UTC µs).
//!
//! Accepted forms:
//! - ISO-8601 local `2026-11-24T04:34:40.123456` (Flink `timestamp-format.standard='ISO-8601'`),
//!   SQL `2026-11-24 04:34:40.123456` (Flink's default `SQL` standard), any number of
//!   fraction digits (0–9; digits past microseconds are truncated). Without a zone
//!   the value is UTC: MySQL's server time zone is UTC by convention and the
//!   harness writes UTC.
//! - RFC 3339 with a zone (`…Z`, `…+02:00`): converted to UTC.
//! - Epoch numbers (JSON numbers or numeric strings), unit chosen by magnitude:
//!   `|n| >= 1e17` nanoseconds, `|n| >= 1e14` microseconds (Debezium's
//!   `MicroTimestamp`), otherwise milliseconds (Kafka/Debezium `Timestamp`). The
//!   cut-offs are unambiguous for any date between 1973 and 5138.

use chrono::{DateTime, NaiveDateTime};
use serde_json::Value;

use crate::model::StampMicros;

/// Why a `bench_ts` value could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bench_ts {value:?} is not a timestamp (expected ISO-8601, SQL `YYYY-MM-DD HH:MM:SS.ffffff`, or epoch ms/µs)")]
pub struct StampError {
    /// The offending value, as JSON text (truncated).
    pub value: String,
}

impl StampError {
    fn of(v: &Value) -> Self {
        let mut value = v.to_string();
        value.truncate(80);
        StampError { value }
    }
}

const NANOS_CUTOFF: f64 = 1e17;
const MICROS_CUTOFF: f64 = 1e14;

/// Parses one `bench_ts` JSON value. `null` is `Ok(None)` (the sink did not carry it).
pub fn parse_stamp_value(v: &Value) -> Result<Option<StampMicros>, StampError> {
    match v {
        Value::Null => Ok(None),
        Value::Number(n) => {
            let micros = if let Some(i) = n.as_i64() {
                epoch_int_to_micros(i)
            } else {
                n.as_f64().and_then(epoch_float_to_micros)
            };
            micros.map(Some).ok_or_else(|| StampError::of(v))
        }
        Value::String(s) => parse_stamp_str(s)
            .map(Some)
            .ok_or_else(|| StampError::of(v)),
        _ => Err(StampError::of(v)),
    }
}

/// Parses a textual stamp (date-time or epoch number), `None` if it is neither.
pub fn parse_stamp_str(s: &str) -> Option<StampMicros> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if s.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
        if let Ok(i) = s.parse::<i64>() {
            return epoch_int_to_micros(i);
        }
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(dt.timestamp_micros());
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(n) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(n.and_utc().timestamp_micros());
        }
    }
    // A zone offset after a space (`2026-11-24 04:34:40.1 +00:00`, what some
    // JDBC/JSON writers print for TIMESTAMP WITH TIME ZONE).
    for fmt in ["%Y-%m-%d %H:%M:%S%.f %:z", "%Y-%m-%d %H:%M:%S%.f%#z"] {
        if let Ok(dt) = DateTime::parse_from_str(s, fmt) {
            return Some(dt.timestamp_micros());
        }
    }
    // Scientific or fractional epoch numbers as text.
    s.parse::<f64>().ok().and_then(epoch_float_to_micros)
}

fn epoch_int_to_micros(i: i64) -> Option<StampMicros> {
    let a = i.unsigned_abs() as f64;
    if a >= NANOS_CUTOFF {
        Some(i / 1000)
    } else if a >= MICROS_CUTOFF {
        Some(i)
    } else {
        i.checked_mul(1000)
    }
}

fn epoch_float_to_micros(f: f64) -> Option<StampMicros> {
    if !f.is_finite() {
        return None;
    }
    let a = f.abs();
    let micros = if a >= NANOS_CUTOFF {
        f / 1000.0
    } else if a >= MICROS_CUTOFF {
        f
    } else {
        f * 1000.0
    };
    // Round to the nearest µs: 1732422880123.456 ms must not become …455 µs.
    let r = micros.round();
    if r.abs() < i64::MAX as f64 {
        Some(r as i64)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// 2026-11-24T04:34:40.123456Z in µs.
    const T: StampMicros = 1_795_494_880_123_456;

    #[test]
    fn reference_constant_is_right() {
        let dt = chrono::NaiveDate::from_ymd_opt(2026, 11, 24)
            .unwrap()
            .and_hms_micro_opt(4, 34, 40, 123_456)
            .unwrap()
            .and_utc();
        assert_eq!(dt.timestamp_micros(), T);
    }

    #[test]
    fn iso_and_sql_forms() {
        for s in [
            "2026-11-24T04:34:40.123456",
            "2026-11-24 04:34:40.123456",
            "2026-11-24T04:34:40.123456Z",
            "2026-11-24T06:34:40.123456+02:00",
            "2026-11-24 04:34:40.123456 +00:00",
            "  2026-11-24 04:34:40.123456  ",
        ] {
            assert_eq!(parse_stamp_str(s), Some(T), "{s}");
        }
    }

    #[test]
    fn fraction_digits_vary() {
        let base = T - 123_456;
        assert_eq!(parse_stamp_str("2026-11-24T04:34:40"), Some(base));
        assert_eq!(
            parse_stamp_str("2026-11-24 04:34:40.1"),
            Some(base + 100_000)
        );
        assert_eq!(
            parse_stamp_str("2026-11-24T04:34:40.123"),
            Some(base + 123_000)
        );
        // Nanosecond digits are truncated to µs.
        assert_eq!(parse_stamp_str("2026-11-24T04:34:40.123456789"), Some(T));
    }

    #[test]
    fn epoch_numbers_by_magnitude() {
        assert_eq!(parse_stamp_value(&json!(T)).unwrap(), Some(T));
        assert_eq!(parse_stamp_value(&json!(T / 1000)).unwrap(), Some(T - 456));
        assert_eq!(parse_stamp_value(&json!(T * 1000)).unwrap(), Some(T));
        assert_eq!(parse_stamp_value(&json!(T.to_string())).unwrap(), Some(T));
        assert_eq!(
            parse_stamp_value(&json!((T / 1000).to_string())).unwrap(),
            Some(T - 456)
        );
        // Fractional milliseconds keep their µs.
        assert_eq!(
            parse_stamp_value(&json!(1_795_494_880_123.456_f64)).unwrap(),
            Some(T)
        );
        // Scientific notation, as a number and as text.
        assert_eq!(
            parse_stamp_value(&json!(1.795494880123456e15)).unwrap(),
            Some(T)
        );
        assert_eq!(parse_stamp_str("1.795494880123456E15"), Some(T));
    }

    #[test]
    fn null_is_absent_not_an_error() {
        assert_eq!(parse_stamp_value(&Value::Null).unwrap(), None);
    }

    #[test]
    fn garbage_is_an_error() {
        for v in [
            json!("yesterday"),
            json!(""),
            json!(true),
            json!({"a": 1}),
            json!([1]),
        ] {
            let e = parse_stamp_value(&v).unwrap_err();
            assert!(e.to_string().contains("not a timestamp"), "{e}");
        }
        assert_eq!(parse_stamp_str("2026-13-40 99:00:00"), None);
    }
}
