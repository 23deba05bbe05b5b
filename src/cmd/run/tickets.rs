//! Each run writes its own ticket-number range, so runs never collide and rows a
//! run did not write are ignored by its observers.
//!
//! The ticket space is cut into one-second blocks of `10⁹` (BIGINT holds
//! `unix_seconds × 10⁹` until the year 2262), and each block into 100 slots of
//! `10⁷` tickets. A run takes the slot picked by its process id and start time,
//! skipping slots that already hold rows, so two runs started in the same second
//! (parallel CI jobs, say) almost never share one; and if they do, MySQL's
//! primary key rejects the second run's rows loudly (counted as failed), never
//! silently. `10⁷` tickets last a run about 1.7 h at 20,000 rows/s; a worker
//! that exhausts its share stops and says so.

use std::ops::Range;

use mysql_async::prelude::Queryable;

use crate::exit::{Classified, Exit};
use crate::scenario::Scenario;

/// Tickets in one second's block.
const BLOCK: u64 = 1_000_000_000;
/// Tickets in one run's slot.
pub const RUN_SPAN: u64 = 10_000_000;
const SLOTS: u64 = BLOCK / RUN_SPAN;

/// MySQL, for the ticket checks.
async fn connect(scenario: &Scenario) -> anyhow::Result<mysql_async::Conn> {
    Ok(mysql_async::Conn::from_url(scenario.targets.mysql.expose())
        .await
        .map_err(|e| unreachable(scenario, e))?)
}

fn unreachable(scenario: &Scenario, e: mysql_async::Error) -> Classified {
    Classified::new(
        Exit::Unreachable,
        anyhow::anyhow!("MySQL ({}): {e}", scenario.targets.mysql.redacted()),
    )
}

/// True when MySQL holds a row with a ticket in `range`.
async fn used(
    conn: &mut mysql_async::Conn,
    scenario: &Scenario,
    range: &Range<u64>,
) -> anyhow::Result<bool> {
    let hit: Option<u64> = conn
        .exec_first(
            "SELECT 1 FROM store_sales WHERE ss_ticket_number >= ? AND ss_ticket_number < ? \
             UNION ALL SELECT 1 FROM store_returns WHERE sr_ticket_number >= ? AND sr_ticket_number < ? LIMIT 1",
            (range.start, range.end, range.start, range.end),
        )
        .await
        .map_err(|e| unreachable(scenario, e))?;
    Ok(hit.is_some())
}

/// Picks this run's ticket range, skipping slots MySQL already holds rows in.
pub async fn reserve(scenario: &Scenario) -> anyhow::Result<Range<u64>> {
    pick(scenario, None).await
}

/// A second slot for `[snapshot]`'s preload: empty, and not `taken` (the
/// run's, which holds no rows yet and would be picked again).
pub async fn reserve_other(scenario: &Scenario, taken: &Range<u64>) -> anyhow::Result<Range<u64>> {
    pick(scenario, Some(taken)).await
}

/// The first empty slot of this second, from one picked by the process id
/// and the time, that does not overlap `taken`.
async fn pick(scenario: &Scenario, taken: Option<&Range<u64>>) -> anyhow::Result<Range<u64>> {
    let mut conn = connect(scenario).await?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let first = (u64::from(std::process::id()) + u64::from(now.subsec_nanos())) % SLOTS;
    for i in 0..SLOTS {
        let range = slot_range(now.as_secs(), (first + i) % SLOTS);
        if taken.is_some_and(|t| range.start < t.end && t.start < range.end) {
            continue;
        }
        if !used(&mut conn, scenario, &range).await? {
            let _ = conn.disconnect().await;
            return Ok(range);
        }
    }
    Err(Classified::new(
        Exit::Fault,
        anyhow::anyhow!("every ticket slot of this second already holds rows; start the run again"),
    )
    .into())
}

/// Refuses a shard's slice that already holds rows: the same `--start-at`
/// and scenario were run before (every shard computes the same range, so a
/// second run with them would collide).
pub async fn claim(scenario: &Scenario, local: &Range<u64>) -> anyhow::Result<()> {
    let mut conn = connect(scenario).await?;
    let taken = used(&mut conn, scenario, local).await?;
    let _ = conn.disconnect().await;
    if taken {
        return Err(Classified::new(
            Exit::BadInput,
            anyhow::anyhow!(
                "tickets {}..{} already hold rows: a run with this scenario and --start-at was run before; \
                 give another --start-at",
                local.start,
                local.end
            ),
        )
        .into());
    }
    Ok(())
}

/// The ticket range of a sharded run: the block of its start second and a
/// slot picked by hashing `key` (scenario, start, shard count), so every
/// shard computes the same range without talking to the others.
pub fn group_range(start_second: u64, key: &str) -> Range<u64> {
    // FNV-1a: stable across builds and platforms (std's hasher is not).
    let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    slot_range(start_second, hash % SLOTS)
}

fn slot_range(unix_seconds: u64, slot: u64) -> Range<u64> {
    let base = unix_seconds * BLOCK + slot * RUN_SPAN;
    base..base + RUN_SPAN
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_tile_the_second_without_overlap() {
        let a = slot_range(1_800_000_000, 0);
        let b = slot_range(1_800_000_000, 1);
        let last = slot_range(1_800_000_000, SLOTS - 1);
        let next_second = slot_range(1_800_000_001, 0);
        assert_eq!(a.start, 1_800_000_000 * BLOCK);
        assert_eq!(a.end, b.start);
        assert_eq!(last.end, next_second.start);
        assert!(next_second.end < i64::MAX as u64);
    }

    #[test]
    fn every_shard_computes_the_same_group_range() {
        let a = group_range(1_800_000_000, "quickstart/1800000000/3");
        assert_eq!(a, group_range(1_800_000_000, "quickstart/1800000000/3"));
        assert_eq!(a.end - a.start, RUN_SPAN);
        assert_eq!(a.start / BLOCK, 1_800_000_000);
        assert_ne!(a, group_range(1_800_000_000, "quickstart/1800000000/2"));
    }
}
