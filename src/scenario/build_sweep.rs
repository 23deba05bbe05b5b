//! `[sweep]`: how `tpcds-bench sweep` steps through rates. Validated like every
//! other section (unknown keys, ranges), so a typo fails before any step runs.

use std::time::Duration;

use super::build::{opt_duration, MAX_RATE};
use super::error::ScenarioError;
use super::read::{Field, Tbl};
use super::types::SweepSpec;

type Result<T> = std::result::Result<T, ScenarioError>;

const RATE_HINT: &str = "a positive rate in rows per second (e.g. 500)";

fn rate(f: &Field) -> Result<f64> {
    f.number_in(0.0, true, MAX_RATE, RATE_HINT)
}

/// Validates `[sweep]`; an absent section is the defaults.
pub(crate) fn sweep(t: &Tbl) -> Result<SweepSpec> {
    t.allow(
        &[
            "rates",
            "from",
            "to",
            "factor",
            "resolution",
            "max_steps",
            "settle",
            "max_lateness_ms",
        ],
        &[("p99_ms", "it belongs in [slo] (slo.p99_ms)")],
    );
    let d = SweepSpec::default();
    let cx = t.cx;
    let rates = cx.keep(match t.get("rates") {
        Some(f) => f
            .array("an array of rates in rows per second, e.g. [250, 500, 1000]")
            .and_then(|items| {
                if items.is_empty() {
                    return Err(f.invalid("must list at least one rate (or leave it out)"));
                }
                items.iter().map(rate).collect::<Result<Vec<f64>>>()
            }),
        None => Ok(Vec::new()),
    });
    let from = cx.keep(t.get("from").map_or(Ok(d.from), |f| rate(&f)));
    let to = cx.keep(t.get("to").map_or(Ok(d.to), |f| rate(&f)));
    if let (Some(from), Some(to), Some(f)) = (from, to, t.get("to")) {
        if to < from {
            cx.keep::<()>(Err(f.invalid(format!(
                "must not be below sweep.from ({from}): the series climbs from `from` to `to`"
            ))));
        }
    }
    let factor = cx.keep(t.get("factor").map_or(Ok(d.factor), |f| {
        f.number_in(
            1.0,
            true,
            100.0,
            "a ratio above 1 between two steps (e.g. 2)",
        )
    }));
    let resolution = cx.keep(t.get("resolution").map_or(Ok(d.resolution), |f| {
        f.number_in(
            1.0,
            true,
            10.0,
            "a ratio above 1: the search stops when first fail / last pass is at most this (e.g. 1.25)",
        )
    }));
    let max_steps = cx.keep(t.get("max_steps").map_or(Ok(d.max_steps as i64), |f| {
        f.int_in(1, 100, "a number of steps from 1 to 100")
    }));
    let settle = cx.keep(opt_duration(
        t,
        "settle",
        d.settle,
        Duration::ZERO,
        Duration::from_secs(600),
        "a pause between steps from 0s to 10m (e.g. \"5s\")",
    ));
    let max_lateness_ms = cx.keep(t.get("max_lateness_ms").map_or(Ok(d.max_lateness_ms), |f| {
        f.number_in(
            0.0,
            true,
            86_400_000.0,
            "a positive number of milliseconds (e.g. 1000)",
        )
    }));
    let (
        Some(rates),
        Some(from),
        Some(to),
        Some(factor),
        Some(resolution),
        Some(max_steps),
        Some(settle),
        Some(max_lateness_ms),
    ) = (
        rates,
        from,
        to,
        factor,
        resolution,
        max_steps,
        settle,
        max_lateness_ms,
    )
    else {
        return Err(cx.take_last());
    };
    Ok(SweepSpec {
        rates,
        from,
        to,
        factor,
        resolution,
        max_steps: max_steps as u32,
        settle,
        max_lateness_ms,
    })
}

#[cfg(test)]
mod tests {
    fn parse(text: &str) -> Result<crate::scenario::Scenario, String> {
        let base = "duration = \"10s\"\n[load]\nrate = { kind = \"constant\", per_second = 100 }\n";
        crate::scenario::parse_str(&format!("{base}{text}"), "t.toml").map_err(|e| e.to_string())
    }

    #[test]
    fn an_absent_section_is_the_defaults_and_stays_out_of_the_resolved_scenario() {
        let s = parse("").unwrap();
        assert!(s.sweep.is_default());
        let json = serde_json::to_value(&s).unwrap();
        assert!(json.get("sweep").is_none());
    }

    #[test]
    fn keys_are_read() {
        let s =
            parse("[sweep]\nrates = [100, 200.5]\nfactor = 1.5\nmax_steps = 4\nsettle = \"0s\"")
                .unwrap();
        assert_eq!(s.sweep.rates, vec![100.0, 200.5]);
        assert_eq!(s.sweep.factor, 1.5);
        assert_eq!(s.sweep.max_steps, 4);
        assert_eq!(s.sweep.settle, std::time::Duration::ZERO);
    }

    #[test]
    fn bad_values_name_the_key_and_what_is_valid() {
        for (text, key, want) in [
            ("[sweep]\nfactor = 1", "sweep.factor", "a ratio above 1"),
            (
                "[sweep]\nrates = [100, -5]",
                "sweep.rates[1]",
                "a positive rate",
            ),
            (
                "[sweep]\nfrom = 500\nto = 100",
                "sweep.to",
                "must not be below sweep.from",
            ),
            ("[sweep]\nstep = 3", "sweep.step", "unknown key"),
            (
                "[sweep]\nresolution = 0.9",
                "sweep.resolution",
                "a ratio above 1",
            ),
            ("[sweep]\nrates = []", "sweep.rates", "at least one rate"),
        ] {
            let e = parse(text).unwrap_err();
            assert!(e.contains(key) && e.contains(want), "{text}: {e}");
        }
    }
}
