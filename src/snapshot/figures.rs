//! Streaming latency around a snapshot, from each sink's per-second p99 of
//! the run's own (streamed) rows: its level while the snapshot ran, its
//! steady level after, and when it came back under twice that level for
//! good. Pure functions of the series, so they are tested without a stack.

/// A second's p99 counts as back to normal under this multiple of the
/// steady level: one second's p99 of a few hundred rows is noisy, a snapshot
/// moves it by far more.
pub const RECOVERED_FACTOR: f64 = 2.0;
/// The steady level is taken over seconds at least this long after the
/// snapshot ended at the sink …
pub const SETTLE_S: u32 = 10;
/// … and needs at least this many of them.
pub const MIN_STEADY_SECONDS: usize = 10;

/// Streaming latency at one sink around its snapshot.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Phases {
    /// Median over the seconds while the snapshot ran of each second's p99 (ms).
    pub p99_during_ms: Option<f64>,
    /// The highest one-second p99 while it ran (ms).
    pub p99_during_max_ms: Option<f64>,
    /// Median of the one-second p99 from [`SETTLE_S`] after the snapshot to
    /// the end of the load (ms).
    pub p99_steady_ms: Option<f64>,
    /// The load second from which every second's p99 stayed under
    /// [`RECOVERED_FACTOR`] × the steady level.
    pub recovered_at_s: Option<u32>,
}

/// `p99[s]`: the sink's p99 (ms) of load second `s` (`None`: no row seen
/// then); the snapshot ran until load second `ended_s`; the load lasted
/// `load_s` seconds.
pub fn phases(p99: &[Option<f64>], ended_s: f64, load_s: u32) -> Phases {
    let end = (ended_s.max(0.0).ceil() as usize).min(p99.len());
    let load = (load_s as usize).min(p99.len());
    let during: Vec<f64> = p99[..end].iter().flatten().copied().collect();
    let settle = (end + SETTLE_S as usize).min(load);
    let after: Vec<f64> = p99[settle..load].iter().flatten().copied().collect();
    let steady = (after.len() >= MIN_STEADY_SECONDS).then(|| median(&after));
    let recovered_at_s = steady.and_then(|level| {
        let limit = level * RECOVERED_FACTOR;
        // The last second over the limit; recovery is the one after it.
        let last_over = p99[..load]
            .iter()
            .rposition(|v| v.is_some_and(|ms| ms > limit));
        match last_over {
            Some(i) if i + 1 >= load => None,
            Some(i) => Some(i as u32 + 1),
            None => Some(0),
        }
    });
    Phases {
        p99_during_ms: (!during.is_empty()).then(|| median(&during)),
        p99_during_max_ms: during.iter().copied().reduce(f64::max),
        p99_steady_ms: steady,
        recovered_at_s,
    }
}

/// The first load second in which a sink saw one of the run's rows.
pub fn first_seen(seen: &[u64]) -> Option<u32> {
    seen.iter().position(|&n| n > 0).map(|i| i as u32)
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let m = s.len() / 2;
    if s.len() % 2 == 1 {
        s[m]
    } else {
        (s[m - 1] + s[m]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(during: usize, high: f64, after: usize, low: f64) -> Vec<Option<f64>> {
        std::iter::repeat_n(Some(high), during)
            .chain(std::iter::repeat_n(Some(low), after))
            .collect()
    }

    #[test]
    fn recovery_is_the_second_after_the_last_one_over_twice_the_steady_level() {
        // 30 s at 900 ms while the snapshot runs, then 60 s at 80 ms.
        let mut p = series(30, 900.0, 60, 80.0);
        p[35] = Some(150.0); // under 2 × 80: not a relapse
        p[40] = Some(400.0); // over: recovery is after it
        p[5] = None; // a second without rows counts for nothing
        let f = phases(&p, 30.0, 90);
        assert_eq!(f.p99_during_ms, Some(900.0));
        assert_eq!(f.p99_during_max_ms, Some(900.0));
        assert_eq!(f.p99_steady_ms, Some(80.0));
        assert_eq!(f.recovered_at_s, Some(41));
    }

    #[test]
    fn no_steady_level_without_enough_seconds_after_the_snapshot() {
        let p = series(30, 900.0, 15, 80.0);
        let f = phases(&p, 30.0, 45);
        assert_eq!(f.p99_steady_ms, None, "only 5 s after the settling time");
        assert_eq!(f.recovered_at_s, None);
        // Still high in the last second: not recovered within the load.
        let mut p = series(10, 900.0, 40, 80.0);
        p[49] = Some(900.0);
        assert_eq!(phases(&p, 10.0, 50).recovered_at_s, None);
        // Never over: recovered from the first second.
        let p = series(0, 0.0, 50, 80.0);
        assert_eq!(phases(&p, 0.0, 50).recovered_at_s, Some(0));
    }

    #[test]
    fn the_first_second_with_a_row_seen() {
        assert_eq!(first_seen(&[0, 0, 3, 0, 5]), Some(2));
        assert_eq!(first_seen(&[0, 0]), None);
    }
}
