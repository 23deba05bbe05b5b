//! Each run writes its own ticket-number range, so runs never collide and rows a
//! run did not write are ignored by its observers.
//!
//! The range starts at `unix_seconds × 10⁹` (BIGINT holds that until the year
//! 2262) and is one billion tickets wide; if MySQL already holds a higher ticket
//! (a clock moved backwards, a foreign writer), the range starts above it.

use std::ops::Range;

use mysql_async::prelude::Queryable;

use crate::exit::{Classified, Exit};
use crate::scenario::Scenario;

/// Width of one run's range.
pub const RUN_SPAN: u64 = 1_000_000_000;

/// Picks this run's ticket range, checking MySQL for anything above it.
pub async fn reserve(scenario: &Scenario) -> anyhow::Result<Range<u64>> {
    let unreachable = |e: mysql_async::Error| {
        Classified::new(
            Exit::Unreachable,
            anyhow::anyhow!("MySQL ({}): {e}", scenario.targets.mysql.redacted()),
        )
    };
    let mut conn = mysql_async::Conn::from_url(scenario.targets.mysql.expose())
        .await
        .map_err(unreachable)?;
    let max: Option<u64> = conn
        .query_first("SELECT GREATEST(COALESCE((SELECT MAX(ss_ticket_number) FROM store_sales), 0), COALESCE((SELECT MAX(sr_ticket_number) FROM store_returns), 0))")
        .await
        .map_err(unreachable)?;
    let _ = conn.disconnect().await;
    Ok(range_above(
        chrono::Utc::now().timestamp() as u64,
        max.unwrap_or(0),
    ))
}

fn range_above(unix_seconds: u64, max_existing: u64) -> Range<u64> {
    let base = (unix_seconds * RUN_SPAN).max(max_existing + 1);
    base..base + RUN_SPAN
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_follow_the_clock_and_skip_existing_rows() {
        assert_eq!(
            range_above(1_800_000_000, 0).start,
            1_800_000_000 * RUN_SPAN
        );
        let r = range_above(1_800_000_000, 1_800_000_000 * RUN_SPAN + 5);
        assert_eq!(r.start, 1_800_000_000 * RUN_SPAN + 6);
        assert_eq!(r.end - r.start, RUN_SPAN);
    }
}
