//! Student's t quantile, exact for integer degrees of freedom: the one every
//! interval of `compare` and `gate` uses (the block bootstrap's and the
//! prediction interval of several baseline runs).
//!
//! Series approximations (Cornish–Fisher) are poor at the 1–4 degrees of
//! freedom that short runs and few baseline runs give, exactly where the
//! interval's width matters most; the closed form below is exact there.

/// The fewest degrees of freedom an interval may rest on to support a
/// verdict. With one, the variance is estimated from two independent blocks
/// (t(1) at 97.5 % is 12.7): the interval says nothing a gate could act on.
pub const MIN_DF: u32 = 2;

/// Student's t quantile at `p` (> 0.5) for `df` degrees of freedom, by
/// bisection on the exact closed-form distribution (Abramowitz & Stegun
/// 26.7.3–4). `df = 0` has no distribution: +∞ (no finite interval).
pub fn quantile(p: f64, df: u32) -> f64 {
    if df == 0 {
        return f64::INFINITY;
    }
    let two_sided = 2.0 * p - 1.0;
    let (mut lo, mut hi) = (0.0_f64, 1.0_f64);
    while central(hi, df) < two_sided && hi < 1e12 {
        hi *= 2.0;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if central(mid, df) < two_sided {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// P(|T| < t) for Student's t with `df ≥ 1` degrees of freedom.
fn central(t: f64, df: u32) -> f64 {
    let nu = f64::from(df);
    let theta = (t / nu.sqrt()).atan();
    let (s, c) = theta.sin_cos();
    // Sum of the series' terms in cos²θ; odd df start at cos θ, even at 1.
    let odd = df % 2 == 1;
    let (mut term, mut sum, mut k) = if odd { (c, 0.0, 1.0) } else { (1.0, 0.0, 0.0) };
    let last = nu - 2.0;
    while k <= last {
        sum += term;
        term *= c * c * (k + 1.0) / (k + 2.0);
        k += 2.0;
    }
    if odd {
        (2.0 / std::f64::consts::PI) * (theta + s * sum)
    } else {
        s * sum
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_match_the_tables() {
        // Two-sided 95 % and 99 % critical values of the usual tables, and
        // t(2) at the per-sink level of a four-sink gate (98.75 %), from
        // its closed form (2p − 1) / √(2p(1 − p)).
        for (p, df, want) in [
            (0.975, 1, 12.706),
            (0.975, 2, 4.303),
            (0.975, 3, 3.182),
            (0.975, 4, 2.776),
            (0.995, 3, 5.841),
            (0.995, 9, 3.250),
            (0.975, 30, 2.042),
            (0.975, 120, 1.980),
            (0.993_75, 2, 8.860),
        ] {
            let got = quantile(p, df);
            assert!(
                (got - want).abs() < 2e-3 * want.max(1.0),
                "t({p}, {df}) = {got}, want {want}"
            );
        }
    }

    #[test]
    fn no_degrees_of_freedom_is_no_interval() {
        assert_eq!(quantile(0.975, 0), f64::INFINITY);
    }
}
