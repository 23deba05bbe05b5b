//! Histogram text encoding: HdrHistogram V2 deflate, base64 (standard alphabet),
//! the same form interval logs and other HdrHistogram tools use.

use base64::Engine;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use hdrhistogram::Histogram;

use super::StatsError;

/// Encodes `h` as base64 of its V2-deflate serialization.
pub fn encode_histogram(h: &Histogram<u64>) -> Result<String, StatsError> {
    let mut buf = Vec::new();
    V2DeflateSerializer::new()
        .serialize(h, &mut buf)
        .map_err(|e| StatsError::Encode(e.to_string()))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(buf))
}

/// Decodes a histogram written by [`encode_histogram`] (or any V2 / V2-deflate
/// base64 histogram). The result auto-resizes so it can be merged into.
pub fn decode_histogram(text: &str) -> Result<Histogram<u64>, StatsError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|e| StatsError::Decode(format!("not base64: {e}")))?;
    let mut h: Histogram<u64> = Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| StatsError::Decode(format!("{e:?}")))?;
    h.auto(true);
    Ok(h)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::new_histogram;

    #[test]
    fn round_trips_exactly() {
        let mut h = new_histogram();
        for v in [0u64, 1, 999, 1_000_000, 3_600_000_000] {
            h.record_n(v, v % 7 + 1).unwrap();
        }
        let back = decode_histogram(&encode_histogram(&h).unwrap()).unwrap();
        assert_eq!(back, h);
        assert_eq!(back.len(), h.len());
        assert_eq!(back.max(), h.max());
        // Still mergeable past its old range.
        let mut back = back;
        back.record(u64::MAX / 4).unwrap();
    }

    #[test]
    fn rejects_garbage() {
        assert!(matches!(
            decode_histogram("@@@"),
            Err(StatsError::Decode(_))
        ));
        assert!(matches!(
            decode_histogram("AAAA"),
            Err(StatsError::Decode(_))
        ));
    }
}
