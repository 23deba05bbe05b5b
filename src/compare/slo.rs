//! The scenario's SLOs as a list of objectives, each checked on its own: `run`
//! turns the failed ones into its breach lines, `gate` into one JUnit test
//! case per objective.

use std::collections::BTreeMap;

use crate::audit::AuditReport;
use crate::model::Sink;
use crate::report::SinkRun;
use crate::scenario::Slo;
use crate::stats::{LatencySummary, RunStats};

/// One service-level objective and how the run did against it.
#[derive(Debug, Clone, PartialEq)]
pub struct Objective {
    /// Short stable name (`path1 p99`, `kafka missing`, `achieved rate`).
    pub name: String,
    /// What was measured against what limit, one line.
    pub detail: String,
    /// True when the objective held.
    pub passed: bool,
}

fn objective(name: String, passed: bool, detail: String) -> Objective {
    Objective {
        name,
        detail,
        passed,
    }
}

/// The run's verdict: every objective of `slo` checked, the failed ones as
/// breach lines (what `run` and `merge` record in `summary.json`).
pub fn verdict(
    slo: &Slo,
    stats: &RunStats,
    sinks: &BTreeMap<Sink, SinkRun>,
    achieved_ratio: f64,
    audit: Option<&crate::audit::AuditReport>,
) -> crate::report::SloVerdict {
    let breaches: Vec<String> = objectives(slo, stats, sinks, achieved_ratio, audit)
        .into_iter()
        .filter(|o| !o.passed)
        .map(|o| o.detail)
        .collect();
    crate::report::SloVerdict {
        passed: breaches.is_empty(),
        breaches,
    }
}

/// Checks every objective of `slo` against a run's stats and accounting.
/// `achieved_ratio` is achieved / target rows per second; `audit` is the
/// run's audit of the sinks' contents, when it ran.
pub fn objectives(
    slo: &Slo,
    stats: &RunStats,
    sinks: &BTreeMap<Sink, SinkRun>,
    achieved_ratio: f64,
    audit: Option<&AuditReport>,
) -> Vec<Objective> {
    let mut out = Vec::new();
    for (&sink, run) in sinks {
        let lat = LatencySummary::from_option(stats.sink_total(sink).as_ref());
        let checks = [
            ("p99", slo.p99_ms.get(sink), lat.p99),
            ("p50", slo.p50_ms.get(sink), lat.p50),
        ];
        for (name, limit, value) in checks {
            let Some(limit_ms) = limit else { continue };
            let o = if lat.is_empty() {
                objective(
                    format!("{sink} {name}"),
                    false,
                    format!("{sink} {name}: no latency measured (limit {limit_ms} ms)"),
                )
            } else {
                let ms = value as f64 / 1000.0;
                let passed = value as f64 <= limit_ms * 1000.0;
                let op = if passed { "≤" } else { ">" };
                objective(
                    format!("{sink} {name}"),
                    passed,
                    format!("{sink} {name} = {ms:.1} ms {op} {limit_ms} ms"),
                )
            };
            out.push(o);
        }
        let missing = run.accounting.missing;
        let passed = missing <= slo.max_missing;
        let op = if passed { "≤" } else { ">" };
        out.push(objective(
            format!("{sink} missing"),
            passed,
            format!(
                "{sink}: {missing} rows missing {op} max_missing {}",
                slo.max_missing
            ),
        ));
        if let Some(max) = slo.max_duplicates {
            let dups = run.accounting.duplicates;
            let passed = dups <= max;
            let op = if passed { "≤" } else { ">" };
            out.push(objective(
                format!("{sink} duplicates"),
                passed,
                format!("{sink}: {dups} duplicates {op} max_duplicates {max}"),
            ));
        }
    }
    for (sink, a) in audit.map(|a| &a.sinks).into_iter().flatten() {
        let o = match &a.error {
            Some(e) => objective(
                format!("{sink} mismatched"),
                false,
                format!("{sink}: the audit of its contents did not finish: {e}"),
            ),
            None => {
                let n = a.mismatched;
                let passed = n <= slo.max_mismatched;
                let op = if passed { "≤" } else { ">" };
                objective(
                    format!("{sink} mismatched"),
                    passed,
                    format!(
                        "{sink}: {n} rows differ from MySQL {op} max_mismatched {}",
                        slo.max_mismatched
                    ),
                )
            }
        };
        out.push(o);
    }
    if let Some(min) = slo.min_achieved_ratio {
        let passed = achieved_ratio >= min;
        let op = if passed { "≥" } else { "<" };
        out.push(objective(
            "achieved rate".into(),
            passed,
            format!("achieved/target rate = {achieved_ratio:.3} {op} min_achieved_ratio {min}"),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::SinkAccounting;

    #[test]
    fn every_objective_is_listed_and_breaches_say_why() {
        let mut slo = Slo::default();
        slo.p99_ms.set(Sink::Kafka, Some(100.0));
        slo.max_duplicates = Some(0);
        slo.min_achieved_ratio = Some(0.9);
        let mut sinks = BTreeMap::new();
        sinks.insert(
            Sink::Kafka,
            SinkRun {
                accounting: SinkAccounting {
                    missing: 3,
                    ..SinkAccounting::default()
                },
                ..SinkRun::default()
            },
        );
        let mut audit = AuditReport::default();
        audit.sinks.insert(
            Sink::Path1,
            crate::audit::SinkAudit {
                mismatched: 2,
                ..Default::default()
            },
        );
        let os = objectives(&slo, &RunStats::default(), &sinks, 0.95, Some(&audit));
        let names: Vec<_> = os.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "kafka p99",
                "kafka missing",
                "kafka duplicates",
                "path1 mismatched",
                "achieved rate"
            ]
        );
        let passed: Vec<_> = os.iter().map(|o| o.passed).collect();
        assert_eq!(passed, [false, false, true, false, true]);
        assert_eq!(
            os[3].detail,
            "path1: 2 rows differ from MySQL > max_mismatched 0"
        );
        assert_eq!(
            os[0].detail,
            "kafka p99: no latency measured (limit 100 ms)"
        );
        assert_eq!(os[1].detail, "kafka: 3 rows missing > max_missing 0");
    }
}
