//! Date and time keys as TPC-DS's `date_dim` / `time_dim` define them
//! (`d_date_sk` is the Julian day number, `t_time_sk` the second of the day), the
//! dsdgen sales calendar weights (`calendar.dst`) and hour weights, and the
//! mapping of a wall-clock instant to those keys.

use std::sync::OnceLock;

use rand::Rng;

/// First `d_date_sk` a dsdgen sale falls on (1998-01-02).
pub const SALES_FIRST_DATE_SK: u32 = 2_450_816;
/// Last `d_date_sk` a dsdgen sale falls on (2003-01-02).
pub const SALES_LAST_DATE_SK: u32 = 2_452_642;
/// Julian day number of 1970-01-01.
pub const UNIX_EPOCH_JULIAN_DAY: i64 = 2_440_588;
/// Days after the sale a return is dated: `U_int[4,180]`.
pub const RETURN_LAG_DAYS: std::ops::RangeInclusive<u32> = 4..=180;
/// `sr_return_time_sk` range: `U_int[28799,61199]` (07:59:59 to 16:59:59).
pub const RETURN_TIME: std::ops::RangeInclusive<u32> = 28_799..=61_199;

/// Sales weight of every day of a month (dsdgen's sales calendar): Jan–Jul 29,
/// Aug–Oct 66, Nov–Dec 100.
pub fn sales_day_weight(month: u32) -> u32 {
    match month {
        1..=7 => 29,
        8..=10 => 66,
        _ => 100,
    }
}

/// `(hour, weight)` of the hours a store sale happens in; the weights sum to 100
/// and other hours never occur.
pub const HOUR_WEIGHTS: [(u32, u32); 13] = [
    (8, 4),
    (9, 8),
    (10, 12),
    (11, 7),
    (12, 8),
    (13, 9),
    (14, 12),
    (15, 4),
    (16, 4),
    (17, 12),
    (18, 8),
    (19, 8),
    (20, 4),
];

/// Hour for each of the 100 equally likely percent slots: one table lookup per
/// sampled time instead of a search.
const HOUR_BY_PERCENT: [u8; 100] = {
    let mut table = [0u8; 100];
    let (mut i, mut slot) = (0, 0);
    while i < HOUR_WEIGHTS.len() {
        let (hour, weight) = HOUR_WEIGHTS[i];
        let mut k = 0;
        while k < weight {
            table[slot] = hour as u8;
            slot += 1;
            k += 1;
        }
        i += 1;
    }
    assert!(slot == 100, "hour weights must sum to 100");
    table
};

/// Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from((month + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `d_date_sk` (Julian day number) of a date.
pub fn julian_day(year: i32, month: u32, day: u32) -> u32 {
    (days_from_civil(i64::from(year), month, day) + UNIX_EPOCH_JULIAN_DAY) as u32
}

/// `(year, month, day)` of a `d_date_sk`.
pub fn civil_from_julian(date_sk: u32) -> (i32, u32, u32) {
    let (y, m, d) = civil_from_days(i64::from(date_sk) - UNIX_EPOCH_JULIAN_DAY);
    (y as i32, m, d)
}

/// `(d_date_sk, t_time_sk)` of a Unix instant in microseconds, in UTC.
pub fn wall_clock_keys(unix_us: i64) -> (u32, u32) {
    let secs = unix_us.div_euclid(1_000_000);
    let day = secs.div_euclid(86_400);
    let sec_of_day = secs.rem_euclid(86_400);
    ((day + UNIX_EPOCH_JULIAN_DAY) as u32, sec_of_day as u32)
}

/// The weighted sales calendar: cumulative weights over every day from
/// [`SALES_FIRST_DATE_SK`] to [`SALES_LAST_DATE_SK`].
#[derive(Debug)]
pub struct SalesCalendar {
    cumulative: Vec<u32>,
}

impl SalesCalendar {
    fn build() -> SalesCalendar {
        let mut total = 0;
        let cumulative = (SALES_FIRST_DATE_SK..=SALES_LAST_DATE_SK)
            .map(|sk| {
                total += sales_day_weight(civil_from_julian(sk).1);
                total
            })
            .collect();
        SalesCalendar { cumulative }
    }

    /// The shared calendar (built once per process).
    pub fn get() -> &'static SalesCalendar {
        static CAL: OnceLock<SalesCalendar> = OnceLock::new();
        CAL.get_or_init(SalesCalendar::build)
    }

    /// Sum of all day weights.
    pub fn total_weight(&self) -> u32 {
        *self.cumulative.last().expect("non-empty range")
    }

    /// A sale date: day `k` with probability `weight(k) / total`.
    pub fn sample_date<R: Rng + ?Sized>(&self, rng: &mut R) -> u32 {
        let u = rng.random_range(0..self.total_weight());
        // First day whose cumulative weight exceeds u.
        let idx = self.cumulative.partition_point(|&c| c <= u);
        SALES_FIRST_DATE_SK + idx as u32
    }
}

/// A sale time: `hour·3600 + U[0,3599]` with the hour drawn by [`HOUR_WEIGHTS`].
pub fn sample_sale_time<R: Rng + ?Sized>(rng: &mut R) -> u32 {
    let hour = u32::from(HOUR_BY_PERCENT[rng.random_range(0..100usize)]);
    hour * 3600 + rng.random_range(0..3600)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn julian_days_match_date_dim() {
        assert_eq!(julian_day(1970, 1, 1), 2_440_588);
        assert_eq!(julian_day(2000, 1, 1), 2_451_545);
        assert_eq!(julian_day(1900, 1, 2), 2_415_022); // date_dim's first row
        assert_eq!(julian_day(1998, 1, 2), SALES_FIRST_DATE_SK);
        assert_eq!(julian_day(2003, 1, 2), SALES_LAST_DATE_SK);
        assert_eq!(julian_day(2000, 3, 1) - julian_day(2000, 2, 28), 2); // leap year
        assert_eq!(julian_day(1900, 3, 1) - julian_day(1900, 2, 28), 1); // not leap
        for sk in (2_415_022..2_488_070).step_by(17) {
            let (y, m, d) = civil_from_julian(sk);
            assert_eq!(julian_day(y, m, d), sk);
        }
    }

    #[test]
    fn wall_clock_maps_to_day_and_second() {
        // 2024-02-29T13:14:15.999999Z
        let secs = (julian_day(2024, 2, 29) as i64 - UNIX_EPOCH_JULIAN_DAY) * 86_400
            + 13 * 3600
            + 14 * 60
            + 15;
        let (d, t) = wall_clock_keys(secs * 1_000_000 + 999_999);
        assert_eq!(civil_from_julian(d), (2024, 2, 29));
        assert_eq!(t, 13 * 3600 + 14 * 60 + 15);
        assert_eq!(wall_clock_keys(0), (2_440_588, 0));
        assert_eq!(wall_clock_keys(-1), (2_440_587, 86_399));
    }

    /// Pearson's chi-square statistic of observed counts against expected shares.
    fn chi_square(observed: &[u64], expected_share: &[f64]) -> f64 {
        let n: u64 = observed.iter().sum();
        observed
            .iter()
            .zip(expected_share)
            .map(|(&o, &p)| {
                let e = p * n as f64;
                (o as f64 - e).powi(2) / e
            })
            .sum()
    }

    #[test]
    fn sale_dates_follow_month_weights() {
        let cal = SalesCalendar::get();
        // TPCDS.md's weights, restated here so a wrong table cannot pass by
        // agreeing with itself.
        const SPEC: [u32; 12] = [29, 29, 29, 29, 29, 29, 29, 66, 66, 66, 100, 100];
        assert!((1..=12).all(|m| sales_day_weight(m) == SPEC[m as usize - 1]));
        let mut expected = [0f64; 12];
        for sk in SALES_FIRST_DATE_SK..=SALES_LAST_DATE_SK {
            let m = civil_from_julian(sk).1;
            expected[m as usize - 1] += f64::from(SPEC[m as usize - 1]);
        }
        let total: f64 = expected.iter().sum();
        assert_eq!(total as u32, cal.total_weight());
        expected.iter_mut().for_each(|e| *e /= total);

        let mut rng = ChaCha8Rng::seed_from_u64(2024);
        let mut by_month = [0u64; 12];
        let mut by_class = [0u64; 3];
        for _ in 0..300_000 {
            let sk = cal.sample_date(&mut rng);
            assert!((SALES_FIRST_DATE_SK..=SALES_LAST_DATE_SK).contains(&sk));
            let m = civil_from_julian(sk).1;
            by_month[m as usize - 1] += 1;
            by_class[match m {
                1..=7 => 0,
                8..=10 => 1,
                _ => 2,
            }] += 1;
        }
        // 11 degrees of freedom: the 0.999 quantile is 31.3; a wrong weight moves
        // the statistic into the thousands at this sample size.
        let chi = chi_square(&by_month, &expected);
        assert!(chi < 40.0, "month chi-square {chi}, counts {by_month:?}");
        // A November day is ~3.4x as likely as a March day.
        let per_day_nov = by_month[10] as f64 / (30.0 * 5.0);
        let per_day_mar = by_month[2] as f64 / (31.0 * 5.0);
        let ratio = per_day_nov / per_day_mar;
        assert!((3.2..3.7).contains(&ratio), "nov/mar per-day ratio {ratio}");
        assert!(by_class.iter().all(|&c| c > 0));
    }

    #[test]
    fn first_and_last_days_are_reachable() {
        let cal = SalesCalendar::get();
        assert_eq!(
            cal.cumulative.len() as u32,
            SALES_LAST_DATE_SK - SALES_FIRST_DATE_SK + 1
        );
        // Draw u picks the first day whose cumulative weight exceeds u: the first
        // day (a January day, weight 29) owns 0..29, the last day the top weights.
        assert_eq!(cal.cumulative.partition_point(|&c| c <= 28), 0);
        assert_eq!(cal.cumulative.partition_point(|&c| c <= 29), 1);
        let last = cal.total_weight() - 1;
        assert_eq!(
            cal.cumulative.partition_point(|&c| c <= last),
            cal.cumulative.len() - 1
        );
    }

    #[test]
    fn sale_times_follow_hour_weights() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut by_hour = [0u64; 24];
        let mut seconds_seen = [false; 3600];
        for _ in 0..200_000 {
            let t = sample_sale_time(&mut rng);
            assert!(t < 86_400);
            by_hour[(t / 3600) as usize] += 1;
            seconds_seen[(t % 3600) as usize] = true;
        }
        const SPEC: [(u32, u32); 13] = [
            (8, 4),
            (9, 8),
            (10, 12),
            (11, 7),
            (12, 8),
            (13, 9),
            (14, 12),
            (15, 4),
            (16, 4),
            (17, 12),
            (18, 8),
            (19, 8),
            (20, 4),
        ];
        assert_eq!(HOUR_WEIGHTS, SPEC);
        let observed: Vec<u64> = HOUR_WEIGHTS
            .iter()
            .map(|&(h, _)| by_hour[h as usize])
            .collect();
        let shares: Vec<f64> = HOUR_WEIGHTS
            .iter()
            .map(|&(_, w)| f64::from(w) / 100.0)
            .collect();
        let in_weighted: u64 = observed.iter().sum();
        assert_eq!(in_weighted, 200_000, "hours outside 8..=20 never occur");
        // 12 degrees of freedom: the 0.999 quantile is 32.9.
        let chi = chi_square(&observed, &shares);
        assert!(chi < 40.0, "hour chi-square {chi}, counts {observed:?}");
        assert!(
            seconds_seen.iter().all(|s| *s),
            "every second of the hour occurs"
        );
    }
}
