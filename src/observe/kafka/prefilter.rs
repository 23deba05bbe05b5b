//! Skips another run's (or another shard's) messages before the JSON decoder
//! runs: every changelog format the stack writes carries the row's ticket as
//! `"…ticket_number":<digits>` in the value, so a byte search finds it at a
//! fraction of a full decode's cost. When a shard reads every message of N
//! shards, N − 1 of N are skipped here.

use std::ops::Range;

/// The first ticket number in `payload`, if one is written as
/// `ticket_number":123` or `ticket_number":"123"` (canal-json may quote).
pub fn ticket_hint(payload: &[u8]) -> Option<u64> {
    const NEEDLE: &[u8] = b"ticket_number\":";
    let at = payload.windows(NEEDLE.len()).position(|w| w == NEEDLE)? + NEEDLE.len();
    let rest = &payload[at..];
    let rest = rest.strip_prefix(b" ").unwrap_or(rest);
    let rest = rest.strip_prefix(b"\"").unwrap_or(rest);
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()
}

/// True when the message certainly belongs to another ticket range: its
/// ticket was found and lies outside `tickets`. Anything else is decoded.
pub fn skip(payload: Option<&[u8]>, tickets: &Range<u64>) -> bool {
    payload
        .and_then(ticket_hint)
        .is_some_and(|t| !tickets.contains(&t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_ticket_in_each_format() {
        let debezium = br#"{"before":null,"after":{"ss_item_sk":5,"ss_ticket_number":1800000000123,"x":1},"op":"c"}"#;
        let canal = br#"{"data":[{"sr_item_sk":"5","sr_ticket_number":"42"}],"type":"INSERT"}"#;
        let spaced = br#"{"ss_ticket_number": 7}"#;
        assert_eq!(ticket_hint(debezium), Some(1_800_000_000_123));
        assert_eq!(ticket_hint(canal), Some(42));
        assert_eq!(ticket_hint(spaced), Some(7));
        assert_eq!(ticket_hint(b"{\"probe\":1}"), None);
    }

    #[test]
    fn only_a_ticket_outside_the_range_is_skipped() {
        let r = 100..200;
        assert!(skip(Some(br#"{"ss_ticket_number":250}"#), &r));
        assert!(!skip(Some(br#"{"ss_ticket_number":150}"#), &r));
        assert!(!skip(Some(b"{}"), &r));
        assert!(
            !skip(None, &r),
            "a tombstone is decoded (its key says whose)"
        );
    }
}
