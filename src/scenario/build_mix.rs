//! `[mix]`: what the generated rows look like, mapped onto `crate::dist`.

use std::time::Duration;

use super::error::ScenarioError;
use super::read::{Field, Tbl};
use super::types::{DateMode, Mix};
use crate::dist::{CountRange, KeyDist, LagDist};

type Result<T> = std::result::Result<T, ScenarioError>;

/// TPC-DS scale factor 1: 18,000 items and 100,000 customers.
const SF1_ITEMS: u64 = 18_000;
const SF1_CUSTOMERS: u64 = 100_000;
/// Longest lag a distribution parameter may name.
const MAX_LAG: Duration = Duration::from_secs(86_400);
/// Largest key space: surrogate keys are INT columns.
const MAX_KEYS: i64 = i32::MAX as i64;

pub(crate) fn mix(t: &Tbl) -> Result<Mix> {
    t.allow(
        &[
            "items_per_ticket",
            "return_probability",
            "return_lag",
            "update_probability",
            "delete_probability",
            "item",
            "customer",
            "dates",
            "null_fraction",
        ],
        &[],
    );
    // Each key on its own: a bad one is recorded and the others still checked.
    let cx = t.cx;
    let item = match t.get("item") {
        Some(f) => cx.keep(key_dist(&f)),
        None => Some(KeyDist::Uniform { n: SF1_ITEMS }),
    };
    let customer = match t.get("customer") {
        Some(f) => cx.keep(key_dist(&f)),
        None => Some(KeyDist::Uniform { n: SF1_CUSTOMERS }),
    };
    // With an invalid item distribution any count up to the largest key space passes.
    let n_items = item.as_ref().map_or(MAX_KEYS as u64, KeyDist::n);
    let items_per_ticket = match t.get("items_per_ticket") {
        Some(f) => cx.keep(count_range(&f, n_items)),
        // dsdgen's 8..=16, narrowed when there are fewer items than that.
        None => Some(CountRange {
            min: 8.min(n_items) as u32,
            max: 16.min(n_items) as u32,
        }),
    };
    let prob = |key: &str, default: f64| -> Option<f64> {
        cx.keep(t.get(key).map_or(Ok(default), |f| f.probability()))
    };
    let return_probability = prob("return_probability", 0.10);
    // An invalid one counts as 0 in their sum below.
    let update_probability = prob("update_probability", 0.0);
    let delete_probability = prob("delete_probability", 0.0);
    let (update_probability, delete_probability) = (
        update_probability.unwrap_or(0.0),
        delete_probability.unwrap_or(0.0),
    );
    if update_probability + delete_probability > 0.5 {
        // Point at whichever of the two the user wrote last in the file.
        let f = t
            .get("delete_probability")
            .or_else(|| t.get("update_probability"))
            .expect("one of them is non-zero");
        cx.keep::<()>(Err(f.invalid(format!(
            "update_probability + delete_probability = {}: together they must be at most 0.5 \
             (each row is mutated at most once after insert)",
            update_probability + delete_probability
        ))));
    }
    let return_lag = match t.get("return_lag") {
        Some(f) => cx.keep(lag_dist(&f)),
        None => Some(LagDist::Lognormal {
            median: Duration::from_secs(2),
            sigma: 1.0,
        }),
    };
    let dates = match t.get("dates") {
        Some(f) => cx.keep(
            f.choice(&["dsdgen", "wall_clock"], "\"dsdgen\" or \"wall_clock\"")
                .map(|d| match d {
                    "wall_clock" => DateMode::WallClock,
                    _ => DateMode::Dsdgen,
                }),
        ),
        None => Some(DateMode::Dsdgen),
    };
    let null_fraction = prob("null_fraction", 0.0);
    let (
        Some(item),
        Some(customer),
        Some(items_per_ticket),
        Some(return_probability),
        Some(return_lag),
        Some(dates),
        Some(null_fraction),
    ) = (
        item,
        customer,
        items_per_ticket,
        return_probability,
        return_lag,
        dates,
        null_fraction,
    )
    else {
        return Err(cx.take_last());
    };
    Ok(Mix {
        items_per_ticket,
        return_probability,
        return_lag,
        update_probability,
        delete_probability,
        item,
        customer,
        dates,
        null_fraction,
    })
}

fn dist_kind<'a>(t: &Tbl<'a>, options: &[&str], example: &str) -> Result<&'a str> {
    let hint = options
        .iter()
        .map(|o| format!("\"{o}\""))
        .collect::<Vec<_>>()
        .join(", ");
    t.req("dist", &format!("say which distribution, e.g. {example}"))?
        .choice(options, &format!("one of {hint}"))
}

fn key_dist(f: &Field) -> Result<KeyDist> {
    let example = "{ dist = \"zipf\", n = 18000, s = 1.1 }";
    let t = f.table(&format!("a table such as {example}"))?;
    let n_hint = "an integer number of keys from 1 to 2147483647 (e.g. 18000)";
    match dist_kind(&t, &["uniform", "zipf"], example)? {
        "uniform" => {
            t.allow(&["dist", "n"], &[]);
            let n = t.req("n", "the number of keys, e.g. n = 18000")?;
            Ok(KeyDist::Uniform {
                n: n.int_in(1, MAX_KEYS, n_hint)? as u64,
            })
        }
        _ => {
            t.allow(&["dist", "n", "s"], &[]);
            let n = t.req("n", "the number of keys, e.g. n = 18000")?;
            let n = n.int_in(1, MAX_KEYS, n_hint)? as u64;
            let s = t.req("s", "the skew exponent, e.g. s = 1.1")?.number_in(
                0.0,
                true,
                10.0,
                "a skew exponent > 0 and <= 10 (e.g. 1.1)",
            )?;
            Ok(KeyDist::Zipf { n, s })
        }
    }
}

fn count_range(f: &Field, items: u64) -> Result<CountRange> {
    let t = f.table("a table such as { dist = \"uniform\", min = 8, max = 16 }")?;
    t.allow(&["dist", "min", "max"], &[]);
    if let Some(d) = t.get("dist") {
        d.choice(&["uniform"], "\"uniform\" (the only count distribution)")?;
    }
    let hint = "an integer number of lines per ticket from 1 to 1000 (e.g. 8)";
    let min_f = t.req("min", "the fewest lines per ticket, e.g. min = 8")?;
    let min = min_f.int_in(1, 1000, hint)? as u32;
    let max_f = t.req("max", "the most lines per ticket, e.g. max = 16")?;
    let max = max_f.int_in(1, 1000, hint)? as u32;
    if min > max {
        return Err(max_f.invalid(format!("must be at least min ({min})")));
    }
    if u64::from(max) > items {
        return Err(max_f.invalid(format!(
            "must be at most mix.item.n ({items}): the items of a ticket are distinct"
        )));
    }
    Ok(CountRange { min, max })
}

fn lag_dist(f: &Field) -> Result<LagDist> {
    let example = "{ dist = \"lognormal\", median = \"2s\", sigma = 1.0 }";
    let t = f.table(&format!("a table such as {example}"))?;
    let kinds = ["fixed", "uniform", "exponential", "lognormal"];
    let dur = |key: &str, lo: Duration, hint: &str| -> Result<Duration> {
        t.req(key, &format!("this distribution needs {key}, {hint}"))?
            .duration_in(lo, MAX_LAG, hint)
    };
    let any = "a delay from 0s to 1 day (e.g. \"2s\")";
    let positive = "a positive delay up to 1 day (e.g. \"2s\")";
    let tiny = Duration::from_micros(1);
    Ok(match dist_kind(&t, &kinds, example)? {
        "fixed" => {
            t.allow(&["dist", "value"], &[]);
            LagDist::Fixed {
                value: dur("value", Duration::ZERO, any)?,
            }
        }
        "uniform" => {
            t.allow(&["dist", "min", "max"], &[]);
            let min = dur("min", Duration::ZERO, any)?;
            let max = dur("max", Duration::ZERO, any)?;
            if min > max {
                return Err(t.get("max").expect("read above").invalid(format!(
                    "must be at least min ({})",
                    humantime::format_duration(min)
                )));
            }
            LagDist::Uniform { min, max }
        }
        "exponential" => {
            t.allow(&["dist", "mean"], &[]);
            LagDist::Exponential {
                mean: dur("mean", tiny, positive)?,
            }
        }
        _ => {
            t.allow(&["dist", "median", "sigma"], &[]);
            let median = dur("median", tiny, positive)?;
            let sigma = t
                .req("sigma", "the lognormal shape, e.g. sigma = 1.0")?
                .number_in(0.0, false, 10.0, "a shape from 0 to 10 (e.g. 1.0)")?;
            LagDist::Lognormal { median, sigma }
        }
    })
}
