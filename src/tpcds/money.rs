//! Money as integer cents: dsdgen's two-decimal truncating arithmetic and exact
//! decimal rendering (never through a float), plus a fast integer formatter for
//! the SQL hot path.

/// An amount of money in integer cents (`1234` is 12.34). `DECIMAL(7,2)` holds
/// `-9_999_999..=9_999_999`.
pub type Cents = i64;

/// `trunc2(amount × fraction)` where the fraction is given in hundredths
/// (`0..=100` for 0.00..=1.00): dsdgen's decimal multiply keeps two decimals and
/// truncates toward zero, which Rust's integer division also does.
#[inline]
pub fn mul_hundredths(amount: Cents, hundredths: i64) -> Cents {
    amount * hundredths / 100
}

/// Appends a non-negative integer in decimal.
#[inline]
pub fn push_u64(out: &mut String, mut v: u64) {
    // Digits from the right into a stack buffer: no allocation, no fmt machinery
    // (this runs ~20 times per row on the load path).
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.push_str(std::str::from_utf8(&buf[i..]).expect("ASCII digits"));
}

/// Appends an integer in decimal, with a leading `-` when negative.
#[inline]
pub fn push_i64(out: &mut String, v: i64) {
    if v < 0 {
        out.push('-');
    }
    push_u64(out, v.unsigned_abs());
}

/// Appends `cents` as an exact decimal with two places: `1234` → `12.34`,
/// `-5` → `-0.05`, `0` → `0.00`.
#[inline]
pub fn push_cents(out: &mut String, cents: Cents) {
    if cents < 0 {
        out.push('-');
    }
    let abs = cents.unsigned_abs();
    push_u64(out, abs / 100);
    let frac = (abs % 100) as u8;
    out.push('.');
    out.push((b'0' + frac / 10) as char);
    out.push((b'0' + frac % 10) as char);
}

/// `cents` as an exact decimal string with two places (see [`push_cents`]).
pub fn format_cents(cents: Cents) -> String {
    let mut s = String::with_capacity(12);
    push_cents(&mut s, cents);
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn cents_render_exactly() {
        assert_eq!(format_cents(0), "0.00");
        assert_eq!(format_cents(5), "0.05");
        assert_eq!(format_cents(-5), "-0.05");
        assert_eq!(format_cents(1234), "12.34");
        assert_eq!(format_cents(-100), "-1.00");
        assert_eq!(format_cents(9_999_999), "99999.99");
        assert_eq!(format_cents(i64::MIN), "-92233720368547758.08");
    }

    #[test]
    fn integers_render() {
        let mut s = String::new();
        push_u64(&mut s, 0);
        s.push(',');
        push_u64(&mut s, u64::MAX);
        s.push(',');
        push_i64(&mut s, -42);
        assert_eq!(s, "0,18446744073709551615,-42");
    }

    #[test]
    fn truncation_is_toward_zero() {
        assert_eq!(mul_hundredths(199, 50), 99); // 1.99 * 0.50 = 0.995 -> 0.99
        assert_eq!(mul_hundredths(-199, 50), -99); // toward zero, not -1.00
        assert_eq!(mul_hundredths(1000, 100), 1000);
    }

    proptest! {
        #[test]
        fn cents_round_trip_through_decimal_text(c in -10_000_000i64..10_000_000) {
            let s = format_cents(c);
            let (int, frac) = s.trim_start_matches('-').split_once('.').unwrap();
            prop_assert_eq!(frac.len(), 2);
            let back = int.parse::<i64>().unwrap() * 100 + frac.parse::<i64>().unwrap();
            prop_assert_eq!(if s.starts_with('-') { -back } else { back }, c);
            prop_assert_eq!(s, format!("{}{}.{:02}", if c < 0 { "-" } else { "" }, c.abs() / 100, c.abs() % 100));
        }

        #[test]
        fn integers_match_std(v in any::<i64>()) {
            let mut s = String::new();
            push_i64(&mut s, v);
            prop_assert_eq!(s, v.to_string());
        }
    }
}
