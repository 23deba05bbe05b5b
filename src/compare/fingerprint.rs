//! What must match for two runs' latencies to be comparable: the scenario
//! (after overrides, without its target URLs and SLOs) and the environment
//! fingerprint (component versions and the settings that set latency floors:
//! JDBC flush interval and max rows per path, checkpoint interval, Kafka
//! delivery guarantee and linger, CDC poll interval, the harness's poll
//! interval), as `run` recorded them in `summary.json`; and, per polled sink,
//! where its latencies end (`visibility.<sink>`: the warehouse's commit
//! timestamp, the row's `arrived_at`, or the poll's own sighting). A run
//! directory written before that was recorded has no `visibility` and counts
//! as `detected`, which is how it was measured.
//!
//! A different end moment is refused on its own ([`check_sources`]), by
//! `compare` as well as `gate`: a latency that ends at the poll's sighting
//! reads up to one poll interval later than one that ends at the commit, so
//! the "change" between such runs is mostly the change of method.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::model::{Sink, VisibleSource};
use crate::report::RunData;

/// Environment entries that change from run to run without changing what is
/// measured (ticket ranges, drain time, job ids and binlog positions).
fn volatile(key: &str) -> bool {
    const PREFIXES: [&str; 4] = ["tickets", "run.", "flink.job ", "kafka.topic "];
    const WORDS: [&str; 4] = ["position", "offset", "binlog_file", "gtid"];
    PREFIXES.iter().any(|p| key.starts_with(p)) || WORDS.iter().any(|w| key.contains(w))
}

/// Scenario keys that do not change what latency a run measures: where the
/// targets are (ports differ between machines), the pass/fail limits, and
/// whether the run served its figures live (`[live]`: read once a second off
/// the hot path, see docs/LIVE.md).
fn not_measured(key: &str) -> bool {
    ["targets", "slo", "live"]
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

/// Where each polled sink's latencies end in `run` (its `visibility.source`;
/// `detected` when the run directory predates it).
pub fn visibility_sources(run: &RunData) -> BTreeMap<Sink, VisibleSource> {
    run.sinks
        .iter()
        .filter(|(sink, _)| sink.is_polled())
        .map(|(&sink, s)| {
            let source = s
                .visibility
                .as_ref()
                .map_or(VisibleSource::Detected, |v| v.source);
            (sink, source)
        })
        .collect()
}

/// The comparable identity of a run: `scenario.*`, `environment.*` and
/// `visibility.<sink>` (polled sinks) entries.
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
    for (sink, source) in visibility_sources(run) {
        out.insert(format!("visibility.{sink}"), source.name().to_string());
    }
    // Runs from before the jobs declared their Kafka format ran debezium-json,
    // the only format the stack wrote then: not a difference from such a run.
    out.entry("environment.flink.setting.kafka.format".into())
        .or_insert_with(|| "debezium-json".into());
    out
}

/// One entry that differs between two fingerprints (`None`: absent on that side).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// `scenario.…`, `environment.…` or `visibility.…`.
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

/// What a source's moment is, for messages.
fn meaning(source: VisibleSource) -> &'static str {
    match source {
        VisibleSource::CommitTs => "the warehouse's commit timestamp",
        VisibleSource::ArrivedAt => "the row's arrived_at stamp, before the commit",
        VisibleSource::LogAppendTime => "the broker's append time",
        VisibleSource::Detected => "the harness's poll sighting, up to one poll interval late",
    }
}

/// A polled sink whose latencies end at different moments in two runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceMismatch {
    /// The sink.
    pub sink: Sink,
    /// The first run (a label such as `baseline runs/a`) and its source.
    pub a: (String, VisibleSource),
    /// The second run and its source.
    pub b: (String, VisibleSource),
}

impl std::fmt::Display for SourceMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ((a, sa), (b, sb)) = (&self.a, &self.b);
        write!(
            f,
            "{}: {a} ends latencies at {sa} ({}), {b} at {sb} ({})",
            self.sink,
            meaning(*sa),
            meaning(*sb)
        )
    }
}

/// The polled sinks both runs measured whose sources differ, in sink order.
fn mismatches(a: (&str, &RunData), b: (&str, &RunData)) -> Vec<SourceMismatch> {
    let (sa, sb) = (visibility_sources(a.1), visibility_sources(b.1));
    sa.iter()
        .filter_map(|(sink, x)| {
            let y = sb.get(sink)?;
            (x != y).then(|| SourceMismatch {
                sink: *sink,
                a: (a.0.to_string(), *x),
                b: (b.0.to_string(), *y),
            })
        })
        .collect()
}

/// Checks that every run ends each polled sink's latencies at the same
/// moment: the baselines among themselves (they are pooled) and each
/// baseline with the current run. Runs are `(label, data)`, labels such as
/// `baseline runs/a`. Returns the warnings to print when `force` let
/// mismatches through (empty when none), or the refusal when it did not.
pub fn check_sources(
    baselines: &[(String, &RunData)],
    current: (&str, &RunData),
    force: bool,
) -> Result<Vec<String>, String> {
    let mut found = Vec::new();
    if let Some(((first, f), rest)) = baselines.split_first() {
        for (label, run) in rest {
            found.extend(mismatches((first, f), (label, run)));
        }
    }
    for (label, run) in baselines {
        found.extend(mismatches((label, run), current));
    }
    if found.is_empty() {
        return Ok(Vec::new());
    }
    if force {
        return Ok(found
            .iter()
            .map(|m| {
                format!(
                    "warning: compared anyway (--force) although {m}; \
                     the difference includes the change of method"
                )
            })
            .collect());
    }
    let list: Vec<String> = found.iter().map(|m| format!("  {m}")).collect();
    Err(format!(
        "refusing to compare: these runs end a sink's latencies at different moments:\n{}\n\
         the end moments differ by method alone (a poll sights a row up to one poll interval after \
         its commit; arrived_at precedes it), so the difference would be mostly the change of \
         method. Measure every run the same way: \
         rerun the odd run (an old run directory counts as detected) against a warehouse with \
         track_commit_timestamp as in the others (`tpcds-bench check` shows it), or pass --force \
         to compare anyway",
        list.join("\n")
    ))
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

    /// `tiny_run` (its path1 has no `visibility`: an old run directory) with
    /// path1's latencies ending at `source`.
    #[test]
    fn the_kafka_format_is_compared_and_absent_means_debezium_json() {
        let old = tiny_run();
        let mut debezium = tiny_run();
        debezium
            .environment
            .insert("flink.setting.kafka.format".into(), "debezium-json".into());
        assert_eq!(differences(&old, &debezium), []);
        let mut canal = tiny_run();
        canal
            .environment
            .insert("flink.setting.kafka.format".into(), "canal-json".into());
        let d = differences(&debezium, &canal);
        assert_eq!(
            d[0].to_string(),
            "environment.flink.setting.kafka.format: baseline debezium-json ≠ current canal-json"
        );
    }

    fn with_source(source: Option<VisibleSource>) -> RunData {
        let mut r = tiny_run();
        r.sinks.get_mut(&Sink::Path1).unwrap().visibility =
            source.map(|source| crate::report::SinkVisibility {
                source,
                ..Default::default()
            });
        r
    }

    fn check(bases: &[&RunData], cur: &RunData, force: bool) -> Result<Vec<String>, String> {
        let bases: Vec<(String, &RunData)> = bases
            .iter()
            .enumerate()
            .map(|(i, r)| (format!("baseline b{i}"), *r))
            .collect();
        check_sources(&bases, ("current c", cur), force)
    }

    #[test]
    fn the_same_visibility_source_passes() {
        let a = with_source(Some(VisibleSource::CommitTs));
        let b = with_source(Some(VisibleSource::CommitTs));
        assert_eq!(check(&[&a, &a], &b, false), Ok(vec![]));
        assert_eq!(differences(&a, &b), []);
        assert_eq!(
            fingerprint(&a).get("visibility.path1").map(String::as_str),
            Some("commit_ts")
        );
        // Push sinks have no visibility entry.
        assert!(!fingerprint(&a).contains_key("visibility.kafka"));
    }

    #[test]
    fn a_different_visibility_source_is_refused_naming_sink_sources_and_fix() {
        let base = with_source(Some(VisibleSource::Detected));
        let cur = with_source(Some(VisibleSource::CommitTs));
        let err = check(&[&base], &cur, false).unwrap_err();
        assert!(
            err.contains(
                "path1: baseline b0 ends latencies at detected (the harness's poll sighting, \
                 up to one poll interval late), current c at commit_ts (the warehouse's commit timestamp)"
            ),
            "{err}"
        );
        for what in ["track_commit_timestamp", "tpcds-bench check", "--force"] {
            assert!(err.contains(what), "{what}: {err}");
        }
        // The generic fingerprint lists it too (the gate's `--force` verdict shows it).
        let d = differences(&base, &cur);
        assert_eq!(
            d.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
            ["visibility.path1: baseline detected ≠ current commit_ts"]
        );
    }

    #[test]
    fn pooled_baselines_must_agree_among_themselves() {
        let a = with_source(Some(VisibleSource::CommitTs));
        let b = with_source(Some(VisibleSource::ArrivedAt));
        let err = check(&[&a, &b], &a, false).unwrap_err();
        assert!(
            err.contains("path1: baseline b0 ends latencies at commit_ts"),
            "{err}"
        );
        assert!(err.contains("baseline b1 at arrived_at"), "{err}");
    }

    #[test]
    fn force_passes_a_different_source_with_a_warning() {
        let base = with_source(None);
        let cur = with_source(Some(VisibleSource::CommitTs));
        let warnings = check(&[&base], &cur, true).unwrap();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].starts_with("warning: compared anyway (--force)"));
        assert!(
            warnings[0].contains("path1: baseline b0 ends latencies at detected"),
            "{}",
            warnings[0]
        );
        assert!(warnings[0].contains("current c at commit_ts"));
    }

    #[test]
    fn an_old_run_without_visibility_counts_as_detected() {
        let old = with_source(None);
        let new = with_source(Some(VisibleSource::Detected));
        assert_eq!(
            visibility_sources(&old).get(&Sink::Path1),
            Some(&VisibleSource::Detected)
        );
        assert_eq!(check(&[&old], &new, false), Ok(vec![]));
        assert_eq!(check(&[&new], &old, false), Ok(vec![]));
        assert_eq!(differences(&old, &new), []);
    }
}
