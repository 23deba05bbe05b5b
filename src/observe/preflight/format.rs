//! Does the pipeline write the changelog format the scenario says? The
//! stack's path-1 jobs declare their Kafka format as the job parameter
//! `kafka.format` (flink-sql/*.sql, from KAFKA_FORMAT), which the Flink check
//! reports as the fact `setting.kafka.format`; decoding the topics with
//! another format would count every message malformed (or, between
//! look-alike formats, misread them), so a mismatch is a problem and `run`
//! refuses to start (exit 3).
//!
//! Why the job parameter and not the rendered SQL in the stack directory: it
//! is what the *running* jobs were submitted with (a restart with another
//! KAFKA_FORMAT rewrites the files before the jobs run), it is there for
//! any stack (docker-compose, a remote cluster) the harness reaches over
//! REST, and the fingerprint that `compare` and `gate` use picks it up too.

use super::TargetReport;

/// The job parameter (and, prefixed with `setting.`, the fact) naming the format.
pub const KAFKA_FORMAT_SETTING: &str = "kafka.format";

/// Adds a problem to the Flink report when the running jobs declare a Kafka
/// format other than `expected`, and a warning when none declares one.
pub(super) fn check_kafka_format(flink: &mut TargetReport, expected: &str) {
    if !flink.ok() {
        // Unreachable or jobs not running: already a problem, nothing to read.
        return;
    }
    let fact = format!("setting.{KAFKA_FORMAT_SETTING}");
    let declared = flink
        .facts
        .iter()
        .find(|(k, _)| *k == fact)
        .map(|(_, v)| v.clone());
    match declared {
        Some(v) if v == expected => {}
        Some(v) => flink.problem(
            format!(
                "the running jobs use the Kafka format {v} (job parameter {KAFKA_FORMAT_SETTING}), \
                 but the scenario's targets.kafka.format is {expected}"
            ),
            format!(
                "set targets.kafka = {{ format = \"{v}\" }} in the scenario (or --set \
                 targets.kafka.format={v}), or switch the stack: KAFKA_FORMAT={expected} \
                 scripts/stack.sh restart-jobs"
            ),
        ),
        None => flink.warning(
            format!(
                "no running job declares its Kafka format (job parameter {KAFKA_FORMAT_SETTING}); \
                 the topics are assumed to hold {expected}"
            ),
            "add kafka.format:<format> to the jobs' pipeline.global-job-parameters as \
             flink-sql/mysql-cdc-to-kafka.sql does, or check the topics by hand",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn running(facts: &[(&str, &str)]) -> TargetReport {
        let mut t = TargetReport::new("flink", "http://h:8081");
        t.reachable = true;
        for (k, v) in facts {
            t.fact(k, v);
        }
        t
    }

    #[test]
    fn the_same_format_passes() {
        let mut t = running(&[("setting.kafka.format", "canal-json")]);
        check_kafka_format(&mut t, "canal-json");
        assert!(t.ok() && t.warnings.is_empty(), "{t:?}");
    }

    #[test]
    fn another_format_is_a_problem_naming_both_and_the_fix() {
        let mut t = running(&[("setting.kafka.format", "canal-json")]);
        check_kafka_format(&mut t, "debezium-json");
        assert!(!t.ok());
        let d = &t.problems[0];
        assert!(
            d.problem.contains("canal-json") && d.problem.contains("debezium-json"),
            "{d}"
        );
        assert!(d.what_to_do.contains("KAFKA_FORMAT=debezium-json"), "{d}");
        assert!(d.what_to_do.contains("format = \"canal-json\""), "{d}");
    }

    #[test]
    fn jobs_that_disagree_are_a_problem() {
        // One job writes debezium-json, the other reads canal-json.
        let mut t = running(&[("setting.kafka.format", "canal-json | debezium-json")]);
        check_kafka_format(&mut t, "debezium-json");
        assert!(!t.ok());
    }

    #[test]
    fn an_undeclared_format_is_a_warning_only() {
        let mut t = running(&[("setting.checkpoint.interval", "5s")]);
        check_kafka_format(&mut t, "json");
        assert!(t.ok());
        assert!(t.warnings[0].problem.contains("json"));
    }

    #[test]
    fn an_unreachable_cluster_gets_no_second_diagnosis() {
        let mut t = TargetReport::new("flink", "http://h:8081");
        check_kafka_format(&mut t, "json");
        assert!(t.problems.is_empty() && t.warnings.is_empty());
    }
}
