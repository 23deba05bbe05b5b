//! `[targets]`: service addresses (environment overrides are applied to the
//! tree before this runs, so they pass through the same checks).

use super::error::ScenarioError;
use super::read::{Field, Tbl};
use super::tree::{self, Node, Origin, Val};
use super::types::*;
use super::url::{check_brokers, check_url, TargetUrl};

type Result<T> = std::result::Result<T, ScenarioError>;

/// Environment variables that override targets, and the key each one sets.
pub const ENV_OVERRIDES: [(&str, &str); 4] = [
    ("TPCDS_MYSQL_URL", "targets.mysql"),
    ("TPCDS_KAFKA_BROKERS", "targets.kafka.brokers"),
    ("TPCDS_WAREHOUSE_URL", "targets.warehouse"),
    ("TPCDS_FLINK_URL", "targets.flink_rest"),
];

use super::KAFKA_FORMAT_NAMES as FORMATS;
use crate::model::Sink;

pub(crate) fn targets(t: &Tbl) -> Result<Targets> {
    t.allow(
        &["mysql", "kafka", "warehouse", "cloudberry", "flink_rest"],
        &[
            (
                "postgres",
                "the warehouse is targets.warehouse (alias targets.cloudberry)",
            ),
            ("flink", "the Flink REST endpoint is targets.flink_rest"),
        ],
    );
    // Each target on its own: a bad one is recorded and the others still checked.
    let cx = t.cx;
    let mysql = cx.keep(url(
        t.get("mysql"),
        DEFAULT_MYSQL_URL,
        &["mysql"],
        true,
        "a MySQL URL like \"mysql://root:***@127.0.0.1:3306/business_db\"",
    ));
    let warehouse = match (t.get("warehouse"), t.get("cloudberry")) {
        (Some(_), Some(alias)) => cx.keep(Err(alias.invalid(
            "targets.cloudberry is an alias of targets.warehouse; give only one of them",
        ))),
        (w, c) => cx.keep(url(
            w.or(c),
            DEFAULT_WAREHOUSE_URL,
            &["postgres", "postgresql"],
            true,
            "a PostgreSQL URL like \"postgres://gpadmin:***@127.0.0.1:5432/tpcds\"",
        )),
    };
    let flink_rest = cx.keep(url(
        t.get("flink_rest"),
        DEFAULT_FLINK_URL,
        &["http", "https"],
        false,
        "an HTTP URL like \"http://127.0.0.1:8081\"",
    ));
    let kafka = cx.keep(kafka(t.get("kafka")));
    let (Some(mysql), Some(warehouse), Some(flink_rest), Some(kafka)) =
        (mysql, warehouse, flink_rest, kafka)
    else {
        return Err(cx.take_last());
    };
    Ok(Targets {
        mysql,
        kafka,
        warehouse,
        flink_rest,
    })
}

fn url(
    f: Option<Field>,
    default: &str,
    schemes: &[&str],
    needs_database: bool,
    hint: &str,
) -> Result<TargetUrl> {
    let Some(f) = f else {
        return Ok(TargetUrl::parse(default).expect("default URLs parse"));
    };
    let s = f.string(hint)?;
    check_url(s, schemes, needs_database).map_err(|why| f.invalid(format!("{why}; must be {hint}")))
}

fn kafka(f: Option<Field>) -> Result<KafkaTarget> {
    let brokers_hint = "a broker list like \"127.0.0.1:9092\" or \"a:9092,b:9092\"";
    let mut out = KafkaTarget {
        brokers: DEFAULT_KAFKA_BROKERS.to_string(),
        format: KafkaFormat::DebeziumJson,
        topic_prefix: DEFAULT_TOPIC_PREFIX.to_string(),
    };
    let Some(f) = f else { return Ok(out) };
    if matches!(f.node.val, Val::Str(_)) {
        out.brokers = brokers(&f, brokers_hint)?;
        return Ok(out);
    }
    let t = f.table(&format!(
        "{brokers_hint}, or a table like {{ brokers = \"127.0.0.1:9092\", format = \"debezium-json\" }}"
    ))?;
    t.allow(&["brokers", "format", "topic_prefix"], &[]);
    if let Some(b) = t.get("brokers") {
        out.brokers = brokers(&b, brokers_hint)?;
    }
    if let Some(fmt) = t.get("format") {
        out.format = match fmt.choice(
            &FORMATS,
            "one of \"debezium-json\", \"canal-json\", \"maxwell-json\", \"ogg-json\", \"upsert-kafka\", \"json\"",
        )? {
            "canal-json" => KafkaFormat::CanalJson,
            "maxwell-json" => KafkaFormat::MaxwellJson,
            "ogg-json" => KafkaFormat::OggJson,
            "upsert-kafka" => KafkaFormat::UpsertKafka,
            "json" => KafkaFormat::Json,
            _ => KafkaFormat::DebeziumJson,
        };
    }
    if let Some(p) = t.get("topic_prefix") {
        let s = p.string("a topic name prefix such as \"tpcds.\"")?;
        let ok = s.len() <= 200
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if !ok {
            return Err(p.invalid(
                "must use only the characters Kafka allows in topic names (A-Z a-z 0-9 . _ -), e.g. \"tpcds.\"",
            ));
        }
        out.topic_prefix = s.to_string();
    }
    Ok(out)
}

fn brokers(f: &Field, hint: &str) -> Result<String> {
    let list: Vec<&str> = match &f.node.val {
        Val::Array(_) => f
            .array(hint)?
            .iter()
            .map(|x| x.string(hint))
            .collect::<Result<_>>()?,
        _ => vec![f.string(hint)?],
    };
    check_brokers(&list).map_err(|why| f.invalid(format!("{why}; must be {hint}")))
}

/// Applies the environment overrides to the tree (after the file, before any
/// `--set` flag); returns the `(variable, value)` pairs applied. Empty
/// variables count as unset.
pub(crate) fn apply_env(
    root: &mut Node,
    env: &dyn Fn(&str) -> Option<String>,
) -> Vec<(String, String)> {
    let mut applied = Vec::new();
    for (var, _) in ENV_OVERRIDES {
        let Some(value) = env(var).filter(|v| !v.trim().is_empty()) else {
            continue;
        };
        let path: &[&str] = match var {
            "TPCDS_MYSQL_URL" => &["targets", "mysql"],
            "TPCDS_KAFKA_BROKERS" if kafka_is_string(root) => &["targets", "kafka"],
            "TPCDS_KAFKA_BROKERS" => &["targets", "kafka", "brokers"],
            "TPCDS_WAREHOUSE_URL" if has_alias_only(root) => &["targets", "cloudberry"],
            "TPCDS_WAREHOUSE_URL" => &["targets", "warehouse"],
            _ => &["targets", "flink_rest"],
        };
        let node = tree::string_node(&value, Origin::Env(var.to_string()));
        // A `targets` that is not a table is reported by validation, with its line.
        if tree::set_path(root, path, node).is_ok() {
            applied.push((var.to_string(), value));
        }
    }
    applied
}

fn targets_table(root: &Node) -> Option<&tree::Table> {
    let Val::Table(top) = &root.val else {
        return None;
    };
    match &top.get("targets")?.node.val {
        Val::Table(t) => Some(t),
        _ => None,
    }
}

fn kafka_is_string(root: &Node) -> bool {
    targets_table(root)
        .and_then(|t| t.get("kafka"))
        .is_some_and(|e| matches!(e.node.val, Val::Str(_)))
}

fn has_alias_only(root: &Node) -> bool {
    targets_table(root)
        .is_some_and(|t| t.get("cloudberry").is_some() && t.get("warehouse").is_none())
}

/// Plain `json` cannot say that a row was deleted (the stack's pipeline drops
/// deletes: flink-sql/mysql-cdc-to-kafka.sql), so a scenario that deletes rows
/// while watching Kafka or path 1 would report every delete missing there:
/// refused, pointing at `mix.delete_probability`.
pub(crate) fn json_without_deletes(
    top: &Tbl,
    mix: &Mix,
    targets: &Targets,
    observe: &Observe,
) -> Result<()> {
    let watched = observe
        .sinks
        .iter()
        .any(|s| matches!(s, Sink::Kafka | Sink::Path1));
    if targets.kafka.format != KafkaFormat::Json || mix.delete_probability == 0.0 || !watched {
        return Ok(());
    }
    let f = super::build::section(top, "mix")?
        .get("delete_probability")
        .expect("a non-zero delete_probability was written");
    Err(f.invalid(
        "deletes cannot be seen under targets.kafka.format = \"json\" (an append-only format: \
         the pipeline writes inserts and updates' new rows only), so every delete would count \
         as missing at kafka and path1; set mix.delete_probability = 0, or use a changelog \
         format such as \"debezium-json\"",
    ))
}
