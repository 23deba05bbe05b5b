//! Pre-flight checks: reach every target, collect versions and settings, and
//! turn each problem into a [`Diagnosis`] that says what to do. Used by
//! `tpcds-bench check` (prints everything) and by `run` before the load starts
//! (refuses to start on any problem: exit code 3).
//!
//! Targets are named by redacted URLs: passwords never appear in facts or
//! diagnoses.

pub(crate) mod flink;
mod format;
mod kafka;
pub mod mysql;
mod warehouse;

use std::time::Duration;

use serde::Serialize;

use super::ObserveError;

pub use flink::{check_flink, FlinkJob};
pub use kafka::check_kafka;
pub use mysql::check_mysql;
pub use warehouse::check_warehouse;

/// The Flink jobs the stack submits (`pipeline.name` in `flink-sql/*.sql`).
pub const DEFAULT_FLINK_JOBS: [&str; 4] = [
    "tpcds-mysql-cdc-to-kafka",
    "tpcds-kafka-to-cloudberry",
    "tpcds-mysql-cdc-to-cloudberry",
    "tpcds-streaming-analytics",
];

/// One problem found, with what to do about it. Every problem is of exit-code
/// class 3 (target unreachable or misconfigured); a warning
/// ([`TargetReport::warnings`]) has the same shape and fails nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnosis {
    /// The target (redacted URL or `kafka <brokers>`).
    pub target: String,
    /// What is wrong.
    pub problem: String,
    /// What the user should do.
    pub what_to_do: String,
}

impl Diagnosis {
    /// Builds a diagnosis.
    pub fn new(
        target: impl Into<String>,
        problem: impl Into<String>,
        what_to_do: impl Into<String>,
    ) -> Self {
        Diagnosis {
            target: target.into(),
            // Problems are printed and reported: a driver may quote a secret.
            problem: crate::redact::redact_text(&crate::exit::collapse_repeats(&problem.into()))
                .into_owned(),
            what_to_do: what_to_do.into(),
        }
    }

    /// Exit code class of any diagnosis: 3.
    pub fn exit_code(&self) -> i32 {
        3
    }

    /// The same problem as an [`ObserveError::Misconfigured`].
    pub fn into_error(self) -> ObserveError {
        ObserveError::Misconfigured {
            target: self.target,
            problem: self.problem,
            what_to_do: self.what_to_do,
        }
    }

    fn from_error(e: &ObserveError, what_to_do_if_unreachable: &str) -> Self {
        match e {
            ObserveError::Misconfigured {
                target,
                problem,
                what_to_do,
            } => Diagnosis::new(target, problem, what_to_do),
            ObserveError::Unreachable { target, source } => Diagnosis::new(
                target,
                format!("cannot reach it: {source}"),
                what_to_do_if_unreachable,
            ),
            ObserveError::Fault { target, source } => {
                Diagnosis::new(target, source.to_string(), what_to_do_if_unreachable)
            }
        }
    }
}

impl std::fmt::Display for Diagnosis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {}\n  fix: {}",
            self.target, self.problem, self.what_to_do
        )
    }
}

/// What was learned about one target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TargetReport {
    /// Kind of target: `mysql`, `kafka`, `warehouse`, `flink`.
    pub kind: &'static str,
    /// The target (redacted).
    pub target: String,
    /// Whether a connection was made.
    pub reachable: bool,
    /// Versions and settings seen, as (name, value), in a stable order.
    pub facts: Vec<(String, String)>,
    /// Problems found (empty = fine).
    pub problems: Vec<Diagnosis>,
    /// What works but costs accuracy, with how to fix it; never a failure
    /// (`run` starts anyway).
    pub warnings: Vec<Diagnosis>,
}

impl TargetReport {
    pub(crate) fn new(kind: &'static str, target: impl Into<String>) -> Self {
        TargetReport {
            kind,
            target: target.into(),
            reachable: false,
            facts: Vec::new(),
            problems: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// Records a fact. Facts go into every run's report, so a secret-looking
    /// name's value is masked and URL passwords in any value too.
    fn fact(&mut self, name: &str, value: impl ToString) {
        let value = crate::redact::redact_value(name, &value.to_string()).into_owned();
        self.facts.push((name.to_string(), value));
    }

    fn problem(&mut self, problem: impl Into<String>, what_to_do: impl Into<String>) {
        let d = Diagnosis::new(&self.target, problem, what_to_do);
        self.problems.push(d);
    }

    fn warning(&mut self, problem: impl Into<String>, what_to_do: impl Into<String>) {
        let d = Diagnosis::new(&self.target, problem, what_to_do);
        self.warnings.push(d);
    }

    /// Whether the target is reachable and has no problem (warnings allowed).
    pub fn ok(&self) -> bool {
        self.reachable && self.problems.is_empty()
    }
}

/// Which targets to check; `None` skips one.
#[derive(Debug, Clone, PartialEq)]
pub struct PreflightConfig {
    /// `mysql://user:password@host:port/db`.
    pub mysql_url: Option<String>,
    /// The business database (tables `store_sales`, `store_returns`).
    pub mysql_database: String,
    /// Whether to require binlog settings (ROW, FULL, log_bin): always for a
    /// CDC pipeline; the binlog observer needs them too.
    pub require_binlog: bool,
    /// Kafka `bootstrap.servers`.
    pub kafka_brokers: Option<String>,
    /// Topic prefix (`tpcds.`).
    pub topic_prefix: String,
    /// `postgres://user:password@host:port/db`.
    pub warehouse_url: Option<String>,
    /// Warehouse schemas to check.
    pub schemas: Vec<String>,
    /// Flink REST base URL (`http://127.0.0.1:8081`).
    pub flink_url: Option<String>,
    /// Job names that must be RUNNING; empty = at least one job RUNNING.
    pub flink_jobs: Vec<String>,
    /// The changelog format the Kafka observer will decode (the scenario's
    /// `targets.kafka.format`): a problem when the running jobs declare
    /// another. `None`: only reported.
    pub kafka_format: Option<String>,
    /// Per-target timeout.
    pub timeout: Duration,
}

impl Default for PreflightConfig {
    /// The conventional local stack.
    fn default() -> Self {
        PreflightConfig {
            mysql_url: Some("mysql://root:root123@127.0.0.1:3306/business_db".to_string()),
            mysql_database: "business_db".to_string(),
            require_binlog: true,
            kafka_brokers: Some("127.0.0.1:9092".to_string()),
            topic_prefix: "tpcds.".to_string(),
            warehouse_url: Some("postgres://gpadmin:gpadmin@127.0.0.1:5432/tpcds".to_string()),
            schemas: vec!["path1".to_string(), "path2".to_string()],
            flink_url: Some("http://127.0.0.1:8081".to_string()),
            flink_jobs: DEFAULT_FLINK_JOBS.iter().map(|s| s.to_string()).collect(),
            kafka_format: None,
            timeout: Duration::from_secs(5),
        }
    }
}

/// The result of a pre-flight check over all configured targets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PreflightReport {
    /// One entry per checked target, in the order mysql, kafka, warehouse, flink.
    pub targets: Vec<TargetReport>,
}

impl PreflightReport {
    /// Whether every target is reachable and fine.
    pub fn ok(&self) -> bool {
        self.targets.iter().all(TargetReport::ok)
    }

    /// Every warning, in target order.
    pub fn warnings(&self) -> Vec<&Diagnosis> {
        self.targets
            .iter()
            .flat_map(|t| t.warnings.iter())
            .collect()
    }

    /// Every problem, in target order.
    pub fn problems(&self) -> Vec<&Diagnosis> {
        self.targets
            .iter()
            .flat_map(|t| t.problems.iter())
            .collect()
    }

    /// 0 if fine, 3 if any target is unreachable or misconfigured.
    pub fn exit_code(&self) -> i32 {
        if self.ok() {
            0
        } else {
            3
        }
    }
}

/// Checks every configured target concurrently.
pub async fn check_all(cfg: &PreflightConfig) -> PreflightReport {
    let t = cfg.timeout;
    let mysql = async {
        match &cfg.mysql_url {
            Some(u) => Some(check_mysql(u, &cfg.mysql_database, cfg.require_binlog, t).await),
            None => None,
        }
    };
    let kafka = async {
        match &cfg.kafka_brokers {
            Some(b) => Some(check_kafka(b, &cfg.topic_prefix, t).await),
            None => None,
        }
    };
    let wh = async {
        match &cfg.warehouse_url {
            Some(u) => Some(check_warehouse(u, &cfg.schemas, t).await),
            None => None,
        }
    };
    let flink = async {
        match &cfg.flink_url {
            Some(u) => Some(check_flink(u, &cfg.flink_jobs, t).await),
            None => None,
        }
    };
    let (a, b, c, mut d) = tokio::join!(mysql, kafka, wh, flink);
    if let (Some(flink), Some(expected)) = (d.as_mut(), &cfg.kafka_format) {
        format::check_kafka_format(flink, expected);
    }
    PreflightReport {
        targets: [a, b, c, d].into_iter().flatten().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_exit_code_and_problem_list() {
        let mut a = TargetReport::new("mysql", "mysql://root:***@h/db");
        a.reachable = true;
        let mut b = TargetReport::new("kafka", "kafka h:9092");
        b.reachable = true;
        let r = PreflightReport {
            targets: vec![a.clone(), b.clone()],
        };
        assert!(r.ok() && r.exit_code() == 0 && r.problems().is_empty());
        b.problem("topic missing", "create it");
        let r = PreflightReport {
            targets: vec![a, b],
        };
        assert_eq!(r.exit_code(), 3);
        assert_eq!(r.problems()[0].target, "kafka h:9092");
        let e = r.problems()[0].clone().into_error();
        assert_eq!(e.exit_code(), 3);
        assert!(e.to_string().contains("create it"));
    }

    #[test]
    fn secret_looking_facts_are_masked() {
        let mut t = TargetReport::new("flink", "http://h:8081");
        t.fact("setting.ssl.key.password", "hunter2");
        t.fact("setting.url", "jdbc:postgresql://h/db?password=hunter2");
        t.fact("setting.checkpoint.interval", "5s");
        assert_eq!(t.facts[0].1, "***");
        assert_eq!(t.facts[1].1, "jdbc:postgresql://h/db?password=***");
        assert_eq!(t.facts[2].1, "5s");
    }

    #[test]
    fn a_warning_is_not_a_failure() {
        let mut t = TargetReport::new("warehouse", "postgres://u:***@h/db");
        t.reachable = true;
        t.warning("costs accuracy", "turn it on");
        let r = PreflightReport { targets: vec![t] };
        assert!(r.ok() && r.exit_code() == 0 && r.problems().is_empty());
        assert_eq!(r.warnings()[0].what_to_do, "turn it on");
    }

    #[test]
    fn unreachable_target_is_not_ok() {
        let t = TargetReport::new("flink", "http://h:8081");
        assert!(!t.ok());
    }
}
