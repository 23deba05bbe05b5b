//! `[load]`: workers, batching, arrivals and the rate profile, with the
//! profile-specific rules (a spike inside the run, steps from 0s, a sine that
//! never goes negative, at least one row scheduled).

use std::time::Duration;

use super::build::{fmt, opt_duration, DAY, MAX_RATE};
use super::error::ScenarioError;
use super::read::{Field, Tbl};
use super::types::*;
use crate::rate::{RateProfile, RateSpec, RateStep, StepSpec};

type Result<T> = std::result::Result<T, ScenarioError>;

pub(crate) fn load(t: &Tbl, duration: Duration) -> Result<Load> {
    t.allow(
        &["workers", "batch_rows", "rate", "arrivals", "max_lag"],
        &[
            (
                "per_second",
                "write the rate as rate = { kind = \"constant\", per_second = 500 }",
            ),
            ("poisson", "write arrivals = \"poisson\""),
        ],
    );
    // Each key on its own: a bad one is recorded and the others still checked.
    let cx = t.cx;
    let workers = match t.get("workers") {
        Some(f) => cx.keep(f.int_in(
            1,
            256,
            "an integer number of MySQL writers from 1 to 256 (e.g. 4)",
        )),
        None => Some(4),
    };
    let batch_rows = match t.get("batch_rows") {
        Some(f) => cx.keep(f.int_in(
            1,
            10_000,
            "an integer number of rows per transaction from 1 to 10000 (e.g. 10)",
        )),
        None => Some(10),
    };
    let rate = cx.keep(
        t.req(
            "rate",
            "every scenario needs a target rate, e.g. rate = { kind = \"constant\", per_second = 500 }",
        )
        .and_then(|rate_field| {
            let rate = rate(&rate_field, duration)?;
            let total = RateProfile::new(&rate, duration).total_rows();
            if total < 1.0 {
                return Err(rate_field.invalid(format!(
                    "schedules {total:.2} rows in {}: the profile must add up to at least one row",
                    fmt(duration)
                )));
            }
            Ok(rate)
        }),
    );
    let arrivals = match t.get("arrivals") {
        Some(f) => cx.keep(
            f.choice(&["uniform", "poisson"], "\"uniform\" or \"poisson\"")
                .map(|a| match a {
                    "poisson" => Arrivals::Poisson,
                    _ => Arrivals::Uniform,
                }),
        ),
        None => Some(Arrivals::Uniform),
    };
    let max_lag = opt_duration(
        t,
        "max_lag",
        Duration::from_secs(30),
        Duration::from_millis(1),
        Duration::from_secs(3600),
        "how far a worker may fall behind before it drops rows, from 1ms to 1h (e.g. \"30s\")",
    )?;
    let (Some(workers), Some(batch_rows), Some(rate), Some(arrivals)) =
        (workers, batch_rows, rate, arrivals)
    else {
        return Err(cx.take_last());
    };
    let (workers, batch_rows) = (workers as u32, batch_rows as u32);
    Ok(Load {
        workers,
        batch_rows,
        rate,
        arrivals,
        max_lag,
    })
}

const RATE_HINT: &str = "a number of rows per second from 0 to 1000000 (e.g. 500)";
const POSITIVE_RATE_HINT: &str = "a positive number of rows per second (e.g. 500)";

fn rate_value(t: &Tbl, key: &str, positive: bool) -> Result<f64> {
    let f = t.req(
        key,
        &format!("this rate kind needs {key} (rows per second)"),
    )?;
    if positive {
        f.number_in(0.0, true, MAX_RATE, POSITIVE_RATE_HINT)
    } else {
        f.number_in(0.0, false, MAX_RATE, RATE_HINT)
    }
}

fn req_duration(t: &Tbl, key: &str, lo: Duration, hint: &str) -> Result<Duration> {
    t.req(key, &format!("this rate kind needs {key}, {hint}"))?
        .duration_in(lo, 7 * DAY, hint)
}

fn rate(f: &Field, duration: Duration) -> Result<RateSpec> {
    let t = f.table("an inline table such as { kind = \"constant\", per_second = 500 }")?;
    let kinds = ["constant", "ramp", "step", "spike", "sine"];
    let kind = t
        .req(
            "kind",
            "say which profile: kind = \"constant\", \"ramp\", \"step\", \"spike\" or \"sine\"",
        )?
        .choice(
            &kinds,
            "one of \"constant\", \"ramp\", \"step\", \"spike\", \"sine\"",
        )?;
    let positive = "a positive duration (e.g. \"30s\")";
    Ok(match kind {
        "constant" => {
            t.allow(&["kind", "per_second"], &[]);
            RateSpec::Constant {
                per_second: rate_value(&t, "per_second", true)?,
            }
        }
        "ramp" => {
            t.allow(&["kind", "from", "to", "over"], &[]);
            let from = rate_value(&t, "from", false)?;
            let to = rate_value(&t, "to", false)?;
            let over = match t.get("over") {
                Some(f) => Some(f.duration_in(Duration::from_millis(1), 7 * DAY, positive)?),
                None => None,
            };
            RateSpec::Ramp { from, to, over }
        }
        "step" => RateSpec::Step(step(&t, duration)?),
        "spike" => {
            t.allow(&["kind", "base", "peak", "at", "length"], &[]);
            let base = rate_value(&t, "base", false)?;
            let peak = rate_value(&t, "peak", true)?;
            if peak < base {
                return Err(t.get("peak").expect("read above").invalid(format!(
                    "must be at least base ({base}); a spike rises above the base rate"
                )));
            }
            let at = req_duration(
                &t,
                "at",
                Duration::ZERO,
                "when the spike starts (e.g. \"30s\")",
            )?;
            let length = req_duration(&t, "length", Duration::from_millis(1), positive)?;
            if at + length > duration {
                return Err(t.get("length").expect("read above").invalid(format!(
                    "the spike ends at {}, after the run ends ({}); at + length must be <= duration",
                    fmt(at + length),
                    fmt(duration)
                )));
            }
            RateSpec::Spike {
                base,
                peak,
                at,
                length,
            }
        }
        _ => {
            t.allow(&["kind", "mean", "amplitude", "period"], &[]);
            let mean = rate_value(&t, "mean", true)?;
            let amplitude = rate_value(&t, "amplitude", false)?;
            if amplitude > mean {
                return Err(t.get("amplitude").expect("read above").invalid(format!(
                    "must be at most mean ({mean}) so the rate never goes below zero"
                )));
            }
            let period = req_duration(&t, "period", Duration::from_millis(1), positive)?;
            RateSpec::Sine {
                mean,
                amplitude,
                period,
            }
        }
    })
}

fn step(t: &Tbl, duration: Duration) -> Result<StepSpec> {
    if t.get("steps").is_some() {
        if let Some(extra) = ["start", "step", "every"].iter().find_map(|k| t.get(k)) {
            return Err(extra.invalid(
                "give either steps = [{ at = \"0s\", per_second = … }, …] or start/step/every, not both",
            ));
        }
        t.allow(&["kind", "steps"], &[]);
        let list = t.get("steps").expect("checked");
        let items = list.array("an array of { at = \"30s\", per_second = 500 } tables")?;
        if items.is_empty() {
            return Err(list.invalid("must list at least one step, starting at \"0s\""));
        }
        let mut steps: Vec<RateStep> = Vec::with_capacity(items.len());
        for item in &items {
            let s = item.table("a table like { at = \"30s\", per_second = 500 }")?;
            s.allow(&["at", "per_second"], &[]);
            let at_f = s.req("at", "each step needs at, e.g. at = \"30s\"")?;
            let at = at_f.duration("when this step starts (e.g. \"30s\")")?;
            let per_second = rate_value(&s, "per_second", false)?;
            match steps.last() {
                None if at != Duration::ZERO => {
                    return Err(at_f.invalid("the first step must start at \"0s\""))
                }
                Some(prev) if at <= prev.at => {
                    return Err(at_f.invalid(format!(
                        "must be later than the previous step's at ({})",
                        fmt(prev.at)
                    )))
                }
                _ if at >= duration => {
                    return Err(at_f.invalid(format!(
                        "must be before the run ends ({}), or the step never takes effect",
                        fmt(duration)
                    )))
                }
                _ => {}
            }
            steps.push(RateStep { at, per_second });
        }
        return Ok(StepSpec::List { steps });
    }
    t.allow(
        &["kind", "steps", "start", "step", "every"],
        &[(
            "at",
            "write explicit steps as steps = [{ at = \"0s\", per_second = 100 }, …]",
        )],
    );
    let start = rate_value(t, "start", false)?;
    let step_f = t.req(
        "step",
        "a step profile needs steps = [...] or start, step and every",
    )?;
    let step = step_f.number_in(
        -MAX_RATE,
        false,
        MAX_RATE,
        "a change in rows per second per stair (e.g. 100, or -100 to step down)",
    )?;
    let every = req_duration(
        t,
        "every",
        Duration::from_millis(1),
        "a positive duration (e.g. \"30s\")",
    )?;
    let stairs = (duration.as_secs_f64() / every.as_secs_f64())
        .ceil()
        .max(1.0)
        - 1.0;
    let last = start + step * stairs;
    if !(0.0..=MAX_RATE).contains(&last) {
        return Err(step_f.invalid(format!(
            "the last stair (at {}) would run at {last} rows/s; keep the rate between 0 and {MAX_RATE}",
            fmt(every.mul_f64(stairs))
        )));
    }
    if stairs > 100_000.0 {
        return Err(t
            .get("every")
            .expect("read above")
            .invalid("gives more than 100000 stairs in the run; use a longer every"));
    }
    Ok(StepSpec::Every { start, step, every })
}
