//! Histogram text encoding: HdrHistogram V2 deflate, base64 (standard alphabet),
//! the same form interval logs and other HdrHistogram tools use.

use std::io::Write;

use base64::Engine;
use flate2::write::ZlibEncoder;
use flate2::Compression;
use hdrhistogram::serialization::{Deserializer, Serializer, V2Serializer};
use hdrhistogram::Histogram;

use super::StatsError;

/// HdrHistogram's cookie for a deflated V2 histogram: the compressed base
/// `0x1c849304` with `0x10`, as the Java and Rust implementations write it.
const V2_COMPRESSED_COOKIE: u32 = 0x1c84_9314;

/// Encodes `h` as base64 of its V2-deflate serialization.
pub fn encode_histogram(h: &Histogram<u64>) -> Result<String, StatsError> {
    let mut v2 = Vec::new();
    V2Serializer::new()
        .serialize(h, &mut v2)
        .map_err(|e| StatsError::Encode(e.to_string()))?;
    encode_v2(&v2)
}

/// Encodes an already V2-serialized histogram the way [`encode_histogram`]
/// does (cookie, length, zlib at the default level, base64): packed
/// histograms are written out without being decoded first.
pub fn encode_v2(v2: &[u8]) -> Result<String, StatsError> {
    let encode = |e: std::io::Error| StatsError::Encode(e.to_string());
    let mut buf = Vec::with_capacity(8 + v2.len() / 2);
    buf.extend_from_slice(&V2_COMPRESSED_COOKIE.to_be_bytes());
    buf.extend_from_slice(&[0; 4]);
    let mut z = ZlibEncoder::new(&mut buf, Compression::default());
    z.write_all(v2).map_err(encode)?;
    z.finish().map_err(encode)?;
    let len = u32::try_from(buf.len() - 8).map_err(|e| StatsError::Encode(e.to_string()))?;
    buf[4..8].copy_from_slice(&len.to_be_bytes());
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
    fn v2_bytes_encode_as_the_deflate_serializer_does() {
        use hdrhistogram::serialization::V2DeflateSerializer;
        let mut h = new_histogram();
        for v in [3u64, 250, 250, 48_000, 9_000_000] {
            h.record(v).unwrap();
        }
        let mut theirs = Vec::new();
        V2DeflateSerializer::new()
            .serialize(&h, &mut theirs)
            .unwrap();
        let theirs = base64::engine::general_purpose::STANDARD.encode(theirs);
        assert_eq!(encode_histogram(&h).unwrap(), theirs);
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
