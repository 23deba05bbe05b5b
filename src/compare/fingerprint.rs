//! What must match for two runs' latencies to be comparable: the scenario
//! (after overrides, without its target URLs and SLOs) and the environment
//! fingerprint (component versions and the settings that set latency floors:
//! JDBC flush interval and max rows per path, checkpoint interval, Kafka
//! delivery guarantee and linger, CDC poll interval, the harness's poll
//! interval), as `run` recorded them in `summary.json`.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::report::RunData;

/// Environment entries that change from run to run without changing what is
/// measured (ticket ranges, drain time, job ids and binlog positions).
fn volatile(key: &str) -> bool {
    const PREFIXES: [&str; 4] = ["tickets", "run.", "flink.job ", "kafka.topic "];
    const WORDS: [&str; 4] = ["position", "offset", "binlog_file", "gtid"];
    PREFIXES.iter().any(|p| key.starts_with(p)) || WORDS.iter().any(|w| key.contains(w))
}

/// Scenario keys that do not change what latency a run measures: where the
/// targets are (ports differ between machines) and the pass/fail limits.
fn not_measured(key: &str) -> bool {
    ["targets", "slo"]
        .iter()
        .any(|p| key == *p || key.starts_with(&format!("{p}.")))
}

fn flatten(prefix: &str, v: &Value, out: &mut BTreeMap<String, String>) {
    let join = |k: &str| {
        if prefix.is_empty() {
            k.to_string()
        } else {
            format!("{prefix}.{k}")
        }
    };
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                flatten(&join(k), v, out);
            }
        }
        Value::String(s) => {
            out.insert(prefix.to_string(), s.clone());
        }
        other => {
            out.insert(prefix.to_string(), other.to_string());
        }
    }
}

/// The comparable identity of a run: `scenario.*` and `environment.*` entries.
pub fn fingerprint(run: &RunData) -> BTreeMap<String, String> {
    let mut scenario = BTreeMap::new();
    flatten("", &run.resolved_scenario, &mut scenario);
    let mut out: BTreeMap<String, String> = scenario
        .into_iter()
        .filter(|(k, _)| !not_measured(k))
        .map(|(k, v)| (format!("scenario.{k}"), v))
        .collect();
    out.insert("scenario.name".into(), run.scenario.clone());
    for (k, v) in &run.environment {
        if !volatile(k) {
            out.insert(format!("environment.{k}"), v.clone());
        }
    }
    out
}

/// One entry that differs between two fingerprints (`None`: absent on that side).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// `scenario.…` or `environment.…`.
    pub key: String,
    /// The baseline's value.
    pub baseline: Option<String>,
    /// The current run's value.
    pub current: Option<String>,
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "(absent)".into());
        write!(
            f,
            "{}: baseline {} ≠ current {}",
            self.key,
            show(&self.baseline),
            show(&self.current)
        )
    }
}

/// Every entry whose value differs, in key order.
pub fn differences(baseline: &RunData, current: &RunData) -> Vec<Difference> {
    let (a, b) = (fingerprint(baseline), fingerprint(current));
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort_unstable();
    keys.dedup();
    keys.into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .map(|k| Difference {
            key: k.clone(),
            baseline: a.get(k).cloned(),
            current: b.get(k).cloned(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testdata::tiny_run;

    #[test]
    fn same_run_has_no_differences_and_volatile_entries_are_ignored() {
        let a = tiny_run();
        let mut b = tiny_run();
        b.environment.insert("tickets".into(), "5..6".into());
        b.environment
            .insert("flink.job tpcds-x".into(), "RUNNING (abc)".into());
        b.resolved_scenario["targets"] = serde_json::json!({"mysql": "mysql://elsewhere"});
        assert_eq!(differences(&a, &b), []);
    }

    #[test]
    fn a_changed_flush_interval_and_scenario_key_are_named() {
        let a = tiny_run();
        let mut b = tiny_run();
        b.environment.insert(
            "flink.setting.path2.sink.buffer-flush.interval".into(),
            "1s".into(),
        );
        b.resolved_scenario["duration"] = serde_json::json!("99s");
        let d = differences(&a, &b);
        let keys: Vec<_> = d.iter().map(|d| d.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "environment.flink.setting.path2.sink.buffer-flush.interval",
                "scenario.duration"
            ]
        );
        assert_eq!(
            d[0].to_string(),
            "environment.flink.setting.path2.sink.buffer-flush.interval: baseline (absent) ≠ current 1s"
        );
    }
}
