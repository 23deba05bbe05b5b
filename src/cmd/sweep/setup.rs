//! The sweep's flags merged over the scenario's `[sweep]` and `[slo]`, and
//! checked before anything is written or connected: a bad flag is exit 2
//! with nothing on disk.

use crate::cli::SweepArgs;
use crate::model::Sink;
use crate::scenario::{RateSpec, Scenario, SweepSpec};
use crate::sweep::{SweepSlo, DEFAULT_MIN_ACHIEVED};

/// Highest rate a flag may ask for (the scenario's own limit).
const MAX_RATE: f64 = 1_000_000.0;

/// What the sweep will do.
#[derive(Debug, Clone, PartialEq)]
pub struct Setup {
    /// Rates, search bounds and step budget.
    pub spec: SweepSpec,
    /// What a step must show per sink.
    pub slo: SweepSlo,
    /// Search rather than a fixed series.
    pub find_max: bool,
}

fn rate(flag: &str, v: f64) -> Result<f64, String> {
    if v.is_finite() && v > 0.0 && v <= MAX_RATE {
        Ok(v)
    } else {
        Err(format!(
            "{flag} {v}: must be a positive rate in rows per second, at most {MAX_RATE}"
        ))
    }
}

/// `--p99 path2=1s` → (sink, ms).
fn p99_flag(arg: &str, scenario: &Scenario) -> Result<(Sink, f64), String> {
    let bad = |why: String| format!("--p99 {arg}: {why}");
    let (name, value) = arg
        .split_once('=')
        .ok_or_else(|| bad("expected SINK=LATENCY, e.g. path2=1s".into()))?;
    let sink = Sink::ALL
        .into_iter()
        .find(|s| s.name() == name.trim())
        .ok_or_else(|| {
            let names: Vec<_> = scenario.observe.sinks.iter().map(|s| s.name()).collect();
            bad(format!(
                "unknown sink {name:?}; observed sinks: {}",
                names.join(", ")
            ))
        })?;
    if !scenario.observe.sinks.contains(&sink) {
        return Err(bad(format!(
            "{name} is not in observe.sinks of the scenario"
        )));
    }
    let d = humantime::parse_duration(value.trim()).map_err(|e| {
        bad(format!(
            "{value:?} is not a latency like \"1s\" or \"800ms\" ({e})"
        ))
    })?;
    if d.is_zero() {
        return Err(bad("the limit must be above 0".into()));
    }
    Ok((sink, d.as_secs_f64() * 1000.0))
}

/// Merges `args` over `scenario`; every error names the flag and what is valid.
pub fn resolve(args: &SweepArgs, scenario: &Scenario) -> Result<Setup, String> {
    if !matches!(scenario.load.rate, RateSpec::Constant { .. }) {
        return Err(format!(
            "{}: load.rate must be {{ kind = \"constant\", per_second = … }} for a sweep (each step sets per_second)",
            scenario.source.origin
        ));
    }
    if !scenario.faults.is_empty() {
        return Err(format!(
            "{}: a sweep does not run [[faults]]; remove them (a fault would be repeated at every step)",
            scenario.source.origin
        ));
    }
    if scenario.snapshot.is_some() {
        return Err(format!(
            "{}: a sweep does not run [snapshot]; remove it (every step would cancel the CDC jobs and preload again)",
            scenario.source.origin
        ));
    }
    let mut spec = scenario.sweep.clone();
    let series_flags = args.from.is_some() || args.to.is_some() || args.factor.is_some();
    if !args.rates.is_empty() {
        if series_flags {
            return Err(
                "--rates lists the steps; it cannot be combined with --from, --to or --factor"
                    .into(),
            );
        }
        if args.find_max {
            return Err(
                "--find-max chooses its own rates (from --from/--to/--factor); leave out --rates"
                    .into(),
            );
        }
        spec.rates = args
            .rates
            .iter()
            .map(|&r| rate("--rates", r))
            .collect::<Result<_, _>>()?;
    } else if series_flags || args.find_max {
        // The series or the search: the scenario's explicit list does not apply.
        spec.rates.clear();
    }
    if let Some(v) = args.from {
        spec.from = rate("--from", v)?;
    }
    if let Some(v) = args.to {
        spec.to = rate("--to", v)?;
    }
    if let Some(f) = args.factor {
        if !(f.is_finite() && f > 1.0 && f <= 100.0) {
            return Err(format!(
                "--factor {f}: must be above 1 (and at most 100), e.g. 2"
            ));
        }
        spec.factor = f;
    }
    if spec.from > spec.to {
        return Err(format!(
            "--from {} is above --to {}: the series climbs from `from` to `to`",
            spec.from, spec.to
        ));
    }
    let mut p99_ms: std::collections::BTreeMap<Sink, f64> = scenario
        .observe
        .sinks
        .iter()
        .filter_map(|&s| Some((s, scenario.slo.p99_ms.get(s)?)))
        .collect();
    for arg in &args.p99 {
        let (sink, ms) = p99_flag(arg, scenario)?;
        p99_ms.insert(sink, ms);
    }
    if args.find_max && p99_ms.is_empty() {
        return Err(format!(
            "--find-max needs a p99 limit to search against: set slo.p99_ms in {} or pass --p99 SINK=LATENCY",
            scenario.source.origin
        ));
    }
    let slo = SweepSlo {
        p99_ms,
        max_missing: scenario.slo.max_missing,
        min_achieved_ratio: scenario
            .slo
            .min_achieved_ratio
            .unwrap_or(DEFAULT_MIN_ACHIEVED),
        max_lateness_ms: spec.max_lateness_ms,
    };
    Ok(Setup {
        spec,
        slo,
        find_max: args.find_max,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario() -> Scenario {
        crate::scenario::parse_str(
            "duration = \"10s\"\n[load]\nrate = { kind = \"constant\", per_second = 100 }\n\
             [observe]\nsinks = [\"kafka\", \"path2\"]\n[slo]\np99_ms = { path2 = 2000 }\n",
            "s.toml",
        )
        .unwrap()
    }

    fn args() -> SweepArgs {
        SweepArgs {
            scenario: "s.toml".into(),
            rates: Vec::new(),
            from: None,
            to: None,
            factor: None,
            find_max: false,
            p99: Vec::new(),
            set: Vec::new(),
            out: "reports".into(),
            quiet: true,
        }
    }

    #[test]
    fn bad_flags_say_what_is_valid() {
        let s = scenario();
        for (a, want) in [
            (
                SweepArgs {
                    rates: vec![100.0, -5.0],
                    ..args()
                },
                "--rates -5: must be a positive rate",
            ),
            (
                SweepArgs {
                    from: Some(800.0),
                    to: Some(400.0),
                    ..args()
                },
                "--from 800 is above --to 400",
            ),
            (
                SweepArgs {
                    factor: Some(1.0),
                    ..args()
                },
                "--factor 1: must be above 1",
            ),
            (
                SweepArgs {
                    rates: vec![1.0],
                    from: Some(1.0),
                    ..args()
                },
                "cannot be combined",
            ),
            (
                SweepArgs {
                    p99: vec!["path9=1s".into()],
                    ..args()
                },
                "unknown sink \"path9\"",
            ),
            (
                SweepArgs {
                    p99: vec!["path1=1s".into()],
                    ..args()
                },
                "not in observe.sinks",
            ),
            (
                SweepArgs {
                    p99: vec!["path2=fast".into()],
                    ..args()
                },
                "is not a latency",
            ),
        ] {
            let e = resolve(&a, &s).unwrap_err();
            assert!(e.contains(want), "{e}");
        }
    }

    #[test]
    fn flags_override_the_scenario_and_the_slo_comes_from_it() {
        let s = scenario();
        let a = SweepArgs {
            find_max: true,
            p99: vec!["kafka=500ms".into()],
            from: Some(100.0),
            ..args()
        };
        let setup = resolve(&a, &s).unwrap();
        assert_eq!(setup.spec.from, 100.0);
        assert_eq!(setup.slo.p99_ms[&Sink::Path2], 2000.0);
        assert_eq!(setup.slo.p99_ms[&Sink::Kafka], 500.0);
        assert_eq!(setup.slo.min_achieved_ratio, DEFAULT_MIN_ACHIEVED);
    }

    #[test]
    fn find_max_without_any_limit_is_refused() {
        let mut s = scenario();
        s.slo.p99_ms = Default::default();
        let e = resolve(
            &SweepArgs {
                find_max: true,
                ..args()
            },
            &s,
        )
        .unwrap_err();
        assert!(e.contains("--find-max needs a p99 limit"), "{e}");
    }

    #[test]
    fn a_snapshot_is_refused_as_faults_are() {
        let mut s = scenario();
        s.snapshot = Some(crate::scenario::Snapshot {
            rows: 10,
            batch_rows: 10,
            connections: 1,
        });
        let e = resolve(&args(), &s).unwrap_err();
        assert!(e.contains("a sweep does not run [snapshot]"), "{e}");
    }
}
