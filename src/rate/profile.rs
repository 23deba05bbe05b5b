//! The target rate as a function of time, its integral (rows due by t) and the
//! integral's inverse (when row i is due). Piecewise-linear profiles (constant,
//! ramp, step, spike) are inverted in closed form; the sine by bisection.

use std::sync::Arc;
use std::time::Duration;

use super::{RateSpec, StepSpec};

/// One piece of a piecewise-linear rate: `r0` at `start` to `r1` at `end`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Segment {
    start: f64,
    end: f64,
    r0: f64,
    r1: f64,
    /// Rows due before `start`.
    cum: f64,
}

impl Segment {
    fn slope(&self) -> f64 {
        (self.r1 - self.r0) / (self.end - self.start)
    }

    /// Rows due in `[start, start + tau]`.
    fn rows_in(&self, tau: f64) -> f64 {
        self.r0 * tau + 0.5 * self.slope() * tau * tau
    }

    /// The `tau` at which `rows_in(tau) == x`: `r0 τ + k τ²/2 = x` solved in the
    /// form that stays accurate when the slope `k` is zero or tiny.
    fn tau_of(&self, x: f64) -> f64 {
        let k = self.slope();
        let disc = (self.r0 * self.r0 + 2.0 * k * x).max(0.0);
        let denom = self.r0 + disc.sqrt();
        let tau = if denom > 0.0 { 2.0 * x / denom } else { 0.0 };
        tau.clamp(0.0, self.end - self.start)
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Shape {
    Piecewise(Arc<[Segment]>),
    Sine {
        mean: f64,
        amplitude: f64,
        period: f64,
    },
}

/// A rate profile over `[0, duration]`, in rows per second; zero outside it.
#[derive(Debug, Clone, PartialEq)]
pub struct RateProfile {
    duration: f64,
    shape: Shape,
    total: f64,
}

impl RateProfile {
    /// The profile of a validated rate spec over a run of `duration`. Negative
    /// rates in an unvalidated spec are treated as zero.
    pub fn new(spec: &RateSpec, duration: Duration) -> Self {
        let d = duration.as_secs_f64();
        let shape = match spec {
            RateSpec::Sine {
                mean,
                amplitude,
                period,
            } => Shape::Sine {
                mean: mean.max(0.0),
                amplitude: amplitude.clamp(0.0, mean.max(0.0)),
                period: period.as_secs_f64().max(1e-9),
            },
            _ => Shape::Piecewise(pieces(spec, d).into()),
        };
        let mut p = RateProfile {
            duration: d,
            shape,
            total: 0.0,
        };
        p.total = p.rows_by_secs(d);
        p
    }

    /// Length of the profile (the run's duration).
    pub fn duration(&self) -> Duration {
        Duration::from_secs_f64(self.duration)
    }

    /// Rows due over the whole run.
    pub fn total_rows(&self) -> f64 {
        self.total
    }

    /// Target rate at `t`, rows per second (0 after the run).
    pub fn rate_at(&self, t: Duration) -> f64 {
        let t = t.as_secs_f64();
        if t >= self.duration {
            return 0.0;
        }
        match &self.shape {
            Shape::Piecewise(segs) => match segment_at(segs, t) {
                Some(s) => s.r0 + s.slope() * (t - s.start),
                None => 0.0,
            },
            Shape::Sine {
                mean,
                amplitude,
                period,
            } => mean + amplitude * (std::f64::consts::TAU * t / period).sin(),
        }
    }

    /// Same as [`rate_at`](Self::rate_at): the report's target-rate column.
    pub fn target_rate_at(&self, t: Duration) -> f64 {
        self.rate_at(t)
    }

    /// Rows due in `[0, t]` (the integral of the rate).
    pub fn rows_by(&self, t: Duration) -> f64 {
        self.rows_by_secs(t.as_secs_f64())
    }

    /// Rows due in `[0, d]`: the report's expected-rows figure for a run cut at `d`.
    pub fn expected_rows(&self, d: Duration) -> f64 {
        self.rows_by(d)
    }

    /// Rows due in `[a, b]` (a per-second target column: `expected_rows_between(k s, (k+1) s)`).
    pub fn expected_rows_between(&self, a: Duration, b: Duration) -> f64 {
        (self.rows_by(b) - self.rows_by(a)).max(0.0)
    }

    fn rows_by_secs(&self, t: f64) -> f64 {
        let t = t.clamp(0.0, self.duration);
        match &self.shape {
            Shape::Piecewise(segs) => match segment_at(segs, t) {
                Some(s) => s.cum + s.rows_in(t - s.start),
                None => segs
                    .last()
                    .map_or(0.0, |s| s.cum + s.rows_in(s.end - s.start)),
            },
            Shape::Sine {
                mean,
                amplitude,
                period,
            } => {
                let w = std::f64::consts::TAU / period;
                mean * t + amplitude / w * (1.0 - (w * t).cos())
            }
        }
    }

    /// The earliest time at which `i` rows are due (`rows_by(t) == i`);
    /// `None` when `i` is beyond [`total_rows`](Self::total_rows).
    pub fn time_of_row(&self, i: f64) -> Option<Duration> {
        if i.is_nan() || i > self.total {
            return None;
        }
        let i = i.max(0.0);
        let secs = match &self.shape {
            Shape::Piecewise(segs) => {
                // Last segment with rows due before it < i: the earliest t, even
                // across zero-rate segments.
                let idx = segs.partition_point(|s| s.cum < i).saturating_sub(1);
                let s = segs.get(idx)?;
                s.start + s.tau_of(i - s.cum)
            }
            Shape::Sine {
                mean, amplitude, ..
            } => {
                // mean·t <= R(t) <= mean·t + 2·amplitude/ω brackets the answer;
                // Newton steps inside the bracket, bisection when a step leaves it.
                let w = std::f64::consts::TAU / self.sine_period();
                let mut lo = ((i - 2.0 * amplitude / w) / mean).max(0.0);
                let mut hi = (i / mean).min(self.duration);
                let mut t = 0.5 * (lo + hi);
                for _ in 0..200 {
                    let err = self.rows_by_secs(t) - i;
                    if err.abs() < 1e-9 || hi - lo <= 1e-12 * hi.max(1.0) {
                        break;
                    }
                    if err < 0.0 {
                        lo = t;
                    } else {
                        hi = t;
                    }
                    let rate = self.rate_at(Duration::from_secs_f64(t));
                    let newton = t - err / rate;
                    t = if rate > 0.0 && newton > lo && newton < hi {
                        newton
                    } else {
                        0.5 * (lo + hi)
                    };
                }
                t
            }
        };
        Some(Duration::from_secs_f64(secs.clamp(0.0, self.duration)))
    }

    fn sine_period(&self) -> f64 {
        match self.shape {
            Shape::Sine { period, .. } => period,
            Shape::Piecewise(_) => f64::INFINITY,
        }
    }
}

fn segment_at(segs: &[Segment], t: f64) -> Option<&Segment> {
    let idx = segs.partition_point(|s| s.start <= t);
    segs.get(idx.checked_sub(1)?).filter(|s| t <= s.end)
}

/// Piecewise-linear segments of every kind except the sine, covering `[0, d]`.
fn pieces(spec: &RateSpec, d: f64) -> Vec<Segment> {
    // (start, end, rate at start, rate at end)
    let mut raw: Vec<(f64, f64, f64, f64)> = Vec::new();
    match spec {
        RateSpec::Constant { per_second } => raw.push((0.0, d, *per_second, *per_second)),
        RateSpec::Ramp { from, to, over } => {
            let len = over.map_or(d, |o| o.as_secs_f64());
            if len >= d {
                raw.push((0.0, d, *from, from + (to - from) * d / len));
            } else {
                raw.push((0.0, len, *from, *to));
                raw.push((len, d, *to, *to));
            }
        }
        RateSpec::Step(StepSpec::List { steps }) => {
            for (k, s) in steps.iter().enumerate() {
                let start = s.at.as_secs_f64().min(d);
                let end = steps.get(k + 1).map_or(d, |n| n.at.as_secs_f64().min(d));
                raw.push((start, end, s.per_second, s.per_second));
            }
        }
        RateSpec::Step(StepSpec::Every { start, step, every }) => {
            let e = every.as_secs_f64().max(1e-9);
            let mut k = 0.0;
            while k * e < d {
                let r = start + step * k;
                raw.push((k * e, ((k + 1.0) * e).min(d), r, r));
                k += 1.0;
            }
        }
        RateSpec::Spike {
            base,
            peak,
            at,
            length,
        } => {
            let a = at.as_secs_f64().min(d);
            let b = (at.as_secs_f64() + length.as_secs_f64()).min(d);
            raw.push((0.0, a, *base, *base));
            raw.push((a, b, *peak, *peak));
            raw.push((b, d, *base, *base));
        }
        RateSpec::Sine { .. } => unreachable!("the sine is not piecewise"),
    }
    let mut out: Vec<Segment> = Vec::with_capacity(raw.len());
    let mut cum = 0.0;
    for (start, end, r0, r1) in raw {
        if end <= start {
            continue;
        }
        let s = Segment {
            start,
            end,
            r0: r0.max(0.0),
            r1: r1.max(0.0),
            cum,
        };
        cum += s.rows_in(end - start);
        out.push(s);
    }
    out
}
