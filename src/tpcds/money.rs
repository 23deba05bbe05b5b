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

/// `"00" "01" … "99"`: two digits per division halves the divisions.
const DIGITS2: [u8; 200] = {
    let mut t = [0u8; 200];
    let mut i = 0;
    while i < 100 {
        t[2 * i] = b'0' + (i / 10) as u8;
        t[2 * i + 1] = b'0' + (i % 10) as u8;
        i += 1;
    }
    t
};

/// ASCII text built on the stack and flushed into a `String` with one UTF-8
/// check: rendering a row this way avoids a capacity check and a validation per
/// value on the load path. Writing past `N` bytes panics, so callers size `N`
/// for their worst case.
#[derive(Debug)]
pub(crate) struct AsciiBuf<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> AsciiBuf<N> {
    /// An empty buffer.
    #[inline]
    pub(crate) fn new() -> Self {
        AsciiBuf {
            buf: [0; N],
            len: 0,
        }
    }

    /// Appends ASCII bytes.
    #[inline]
    pub(crate) fn bytes(&mut self, s: &[u8]) {
        self.buf[self.len..self.len + s.len()].copy_from_slice(s);
        self.len += s.len();
    }

    /// Appends one ASCII byte.
    #[inline]
    pub(crate) fn byte(&mut self, b: u8) {
        self.buf[self.len] = b;
        self.len += 1;
    }

    /// Appends a non-negative integer in decimal.
    #[inline]
    pub(crate) fn u64(&mut self, mut v: u64) {
        // Written in place from the last digit back: no temporary, no memcpy call
        // for a handful of bytes.
        let end = self.len + v.checked_ilog10().map_or(1, |l| l as usize + 1);
        let mut i = end;
        while v >= 100 {
            let d = (v % 100) as usize * 2;
            v /= 100;
            i -= 2;
            self.buf[i] = DIGITS2[d];
            self.buf[i + 1] = DIGITS2[d + 1];
        }
        if v >= 10 {
            let d = v as usize * 2;
            self.buf[i - 2] = DIGITS2[d];
            self.buf[i - 1] = DIGITS2[d + 1];
        } else {
            self.buf[i - 1] = b'0' + v as u8;
        }
        self.len = end;
    }

    /// Appends cents as an exact two-place decimal (see [`push_cents`]).
    #[inline]
    pub(crate) fn cents(&mut self, cents: Cents) {
        if cents < 0 {
            self.byte(b'-');
        }
        let abs = cents.unsigned_abs();
        self.u64(abs / 100);
        self.byte(b'.');
        let f = (abs % 100) as usize * 2;
        self.byte(DIGITS2[f]);
        self.byte(DIGITS2[f + 1]);
    }

    /// Appends the text to `out`.
    #[inline]
    pub(crate) fn flush(&self, out: &mut String) {
        out.push_str(std::str::from_utf8(&self.buf[..self.len]).expect("only ASCII is written"));
    }
}

/// Appends a non-negative integer in decimal.
#[inline]
pub fn push_u64(out: &mut String, v: u64) {
    let mut b = AsciiBuf::<20>::new();
    b.u64(v);
    b.flush(out);
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
    let mut b = AsciiBuf::<24>::new();
    b.cents(cents);
    b.flush(out);
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
        for v in [0, 9, 10, 99, 100, 101, 999, 1000, 12_345, 100_000_000] {
            s.clear();
            push_u64(&mut s, v);
            assert_eq!(s, v.to_string());
        }
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
