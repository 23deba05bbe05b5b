//! Kafka checks: metadata reachable, the changelog topics exist, and which
//! timestamp type they use (LogAppendTime gives a broker-side arrival stamp).

use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, ResourceSpecifier};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};

use super::TargetReport;
use crate::model::Table;

/// Checks the brokers answer and the topics `{prefix}store_sales` and
/// `{prefix}store_returns` exist (the analytics topics are reported as facts).
pub async fn check_kafka(brokers: &str, prefix: &str, timeout: Duration) -> TargetReport {
    let mut report = TargetReport::new("kafka", format!("kafka {brokers}"));
    let mut cfg = ClientConfig::new();
    cfg.set("bootstrap.servers", brokers)
        .set("group.id", "tpcds-bench-check")
        .set("allow.auto.create.topics", "false");
    let consumer: BaseConsumer = match cfg.create() {
        Ok(c) => c,
        Err(e) => {
            report.problem(
                format!("cannot create a Kafka client: {e}"),
                "check the brokers setting",
            );
            return report;
        }
    };
    let md = tokio::task::spawn_blocking(move || {
        consumer.fetch_metadata(None, timeout).map(|md| {
            let brokers = md.brokers().len();
            let topics: Vec<(String, usize, bool)> = md
                .topics()
                .iter()
                .map(|t| {
                    (
                        t.name().to_string(),
                        t.partitions().len(),
                        t.error().is_none(),
                    )
                })
                .collect();
            (brokers, topics)
        })
    })
    .await;
    let (n_brokers, topics) = match md {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => {
            report.problem(
                format!("cannot reach it: {e}"),
                "start Kafka (scripts/stack.sh up) or fix the brokers (scenario [targets.kafka], or TPCDS_KAFKA_BROKERS)",
            );
            return report;
        }
        Err(e) => {
            report.problem(
                format!("metadata request failed: {e}"),
                "retry; see the Kafka log",
            );
            return report;
        }
    };
    report.reachable = true;
    report.fact("brokers", n_brokers);
    let changelog: Vec<String> = Table::ALL
        .iter()
        .map(|t| format!("{prefix}{}", t.name()))
        .collect();
    let analytics = [format!("{prefix}sales_metrics"), format!("{prefix}alerts")];
    for name in changelog.iter().chain(analytics.iter()) {
        let is_changelog = changelog.contains(name);
        match topics.iter().find(|(t, _, _)| t == name) {
            Some((_, parts, true)) if *parts > 0 => report.fact(&format!("topic {name}"), format!("{parts} partition(s)")),
            _ if is_changelog => report.problem(
                format!("topic {name} does not exist"),
                "start the pipeline that writes it (scripts/stack.sh up creates the topics and submits the Flink jobs)",
            ),
            _ => report.fact(&format!("topic {name}"), "missing (analytics only; not measured)"),
        }
    }
    if report.problems.is_empty() {
        timestamp_types(brokers, &changelog, timeout, &mut report).await;
    }
    report
}

/// Adds `message.timestamp.type` of each changelog topic as a fact (best effort).
async fn timestamp_types(
    brokers: &str,
    topics: &[String],
    timeout: Duration,
    report: &mut TargetReport,
) {
    let admin: AdminClient<DefaultClientContext> = match ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
    {
        Ok(a) => a,
        Err(_) => return,
    };
    let specs: Vec<ResourceSpecifier<'_>> =
        topics.iter().map(|t| ResourceSpecifier::Topic(t)).collect();
    let opts = AdminOptions::new().request_timeout(Some(timeout));
    let Ok(results) = admin.describe_configs(specs.iter(), &opts).await else {
        return;
    };
    for (topic, res) in topics.iter().zip(results) {
        if let Ok(resource) = res {
            if let Some(v) = resource
                .get("message.timestamp.type")
                .and_then(|e| e.value.clone())
            {
                report.fact(&format!("topic {topic} timestamp"), v);
            }
        }
    }
}
