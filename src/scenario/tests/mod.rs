//! Overrides, environment, serialisation and redaction.

mod many;

use std::time::Duration;

use super::*;
use crate::model::Sink;

const BASE: &str = r#"duration = "1m"

[load]
workers = 2
rate = { kind = "constant", per_second = 100 }

[targets]
mysql = "mysql://root:hunter2@127.0.0.1:3306/business_db"
"#;

fn no_env(_: &str) -> Option<String> {
    None
}

fn base() -> Scenario {
    parse_with_env(BASE, "scenarios/base.toml", &no_env).unwrap()
}

fn set(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn overrides_go_through_validation() {
    let mut s = base();
    s.apply_overrides(&set(&[
        ("load.rate.per_second", "2000"),
        ("duration", "90s"),
    ]))
    .unwrap();
    assert_eq!(s.load.rate, RateSpec::Constant { per_second: 2000.0 });
    assert_eq!(s.duration, Duration::from_secs(90));
    assert_eq!(s.source.overrides.len(), 2);
    // A later override adds to the earlier ones.
    s.apply_overrides(&set(&[("load.workers", "8")])).unwrap();
    assert_eq!(s.load.workers, 8);
    assert_eq!(s.duration, Duration::from_secs(90));
    assert_eq!(s.source_text(), BASE, "the file text is kept as it was");
}

#[test]
fn a_bad_override_names_the_flag_and_changes_nothing() {
    let mut s = base();
    let before = s.clone();
    let err = s
        .apply_overrides(&set(&[("load.rate.per_second", "-5")]))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "--set load.rate.per_second=-5: load.rate.per_second = -5: must be a positive number of rows per second (e.g. 500)"
    );
    assert_eq!(err.exit_code(), 2);
    assert_eq!(s, before);

    let err = s
        .apply_overrides(&set(&[("load.wrkers", "3")]))
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("--set load.wrkers=3: unknown key load.wrkers (did you mean `workers`?)"),
        "{err}"
    );

    let err = s
        .apply_overrides(&set(&[("load.workers.x", "3")]))
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("load.workers is an integer, not a table"),
        "{err}"
    );
}

#[test]
fn override_values_may_be_whole_tables() {
    let mut s = base();
    s.apply_overrides(&set(&[(
        "load.rate",
        r#"{ kind = "ramp", from = 10, to = 20 }"#,
    )]))
    .unwrap();
    assert_eq!(
        s.load.rate,
        RateSpec::Ramp {
            from: 10.0,
            to: 20.0,
            over: None
        }
    );
    s.apply_overrides(&set(&[("observe.sinks", r#"["binlog"]"#), ("name", "123")]))
        .unwrap();
    assert_eq!(s.observe.sinks, vec![Sink::Binlog]);
    assert_eq!(s.name, "123", "unquoted flag text is accepted as a string");
}

#[test]
fn parse_override_splits_and_checks_the_key() {
    assert_eq!(
        parse_override("load.rate.per_second=2000").unwrap(),
        ("load.rate.per_second".to_string(), "2000".to_string())
    );
    assert_eq!(parse_override("a=b=c").unwrap().1, "b=c");
    let err = parse_override("load.workers").unwrap_err();
    assert!(
        err.to_string().contains("expected dotted.key=value"),
        "{err}"
    );
    assert!(parse_override("load..workers=1").is_err());
    let err = parse_override("targets mysql=mysql://u:pw@h/db").unwrap_err();
    assert!(!err.to_string().contains("pw@"), "{err}");
}

#[test]
fn environment_overrides_targets_and_is_validated() {
    let env = |var: &str| match var {
        "TPCDS_MYSQL_URL" => Some("mysql://bench:pw@db:3307/bench".to_string()),
        "TPCDS_KAFKA_BROKERS" => Some("k1:1,k2:2".to_string()),
        "TPCDS_FLINK_URL" => Some(String::new()), // empty = unset
        _ => None,
    };
    let s = parse_with_env(BASE, "b.toml", &env).unwrap();
    assert_eq!(s.targets.mysql.expose(), "mysql://bench:pw@db:3307/bench");
    assert_eq!(s.targets.kafka.brokers, "k1:1,k2:2");
    assert_eq!(s.targets.flink_rest.expose(), "http://127.0.0.1:8081/");
    assert_eq!(s.source.env, vec!["TPCDS_MYSQL_URL", "TPCDS_KAFKA_BROKERS"]);

    let bad = |var: &str| (var == "TPCDS_WAREHOUSE_URL").then(|| "mysql://u:pw@h/db".to_string());
    let err = parse_with_env(BASE, "b.toml", &bad).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.starts_with(
            "environment variable TPCDS_WAREHOUSE_URL: targets.warehouse = \"mysql://u:***@h/db\""
        ),
        "{msg}"
    );
    assert!(!msg.contains("pw@"));
}

#[test]
fn environment_respects_the_file_spelling() {
    let text = "duration = \"1m\"\nload.rate = { kind = \"constant\", per_second = 1 }\n\
                [targets]\nkafka = \"a:1\"\ncloudberry = \"postgres://u@h/db\"\n";
    let env = |var: &str| match var {
        "TPCDS_KAFKA_BROKERS" => Some("b:2".to_string()),
        "TPCDS_WAREHOUSE_URL" => Some("postgres://v@w/db2".to_string()),
        _ => None,
    };
    let s = parse_with_env(text, "x.toml", &env).unwrap();
    assert_eq!(s.targets.kafka.brokers, "b:2");
    assert_eq!(s.targets.warehouse.expose(), "postgres://v@w/db2");
}

#[test]
fn flags_win_over_environment_which_wins_over_the_file() {
    let env = |var: &str| (var == "TPCDS_MYSQL_URL").then(|| "mysql://env@h:1/db".to_string());
    let mut s = parse_with_env(BASE, "b.toml", &env).unwrap();
    assert_eq!(s.targets.mysql.expose(), "mysql://env@h:1/db");
    s.apply_overrides(&set(&[("targets.mysql", "mysql://flag@h:1/db")]))
        .unwrap();
    assert_eq!(s.targets.mysql.expose(), "mysql://flag@h:1/db");
    // Re-validation used the same environment snapshot, not the process's.
    assert_eq!(s.source.env, vec!["TPCDS_MYSQL_URL"]);
}

#[test]
fn serialises_for_summary_json_without_passwords() {
    let mut s = base();
    s.apply_overrides(&set(&[(
        "targets.warehouse",
        "postgres://g:topsecret@h/db",
    )]))
    .unwrap();
    let json = serde_json::to_value(&s).unwrap();
    let text = json.to_string();
    assert!(
        !text.contains("hunter2") && !text.contains("topsecret"),
        "{text}"
    );
    assert_eq!(
        json["targets"]["mysql"],
        "mysql://root:***@127.0.0.1:3306/business_db"
    );
    assert_eq!(json["duration"], "1m");
    assert_eq!(json["load"]["rate"]["kind"], "constant");
    assert_eq!(json["mix"]["return_lag"]["dist"], "lognormal");
    assert_eq!(json["mix"]["return_lag"]["median"], "2s");
    assert_eq!(json["targets"]["kafka"]["format"], "debezium-json");
    assert_eq!(json["observe"]["sinks"][0], "kafka");
    assert_eq!(json["source"]["origin"], "scenarios/base.toml");
    assert_eq!(
        json["source"]["overrides"][0],
        "targets.warehouse=postgres://g:***@h/db"
    );
    assert!(json["source"].get("text").is_none());
    let debug = format!("{s:?}");
    assert!(
        !debug.contains("hunter2") && !debug.contains("topsecret"),
        "{debug}"
    );
}

#[test]
fn name_defaults_to_a_safe_file_stem() {
    let s = parse_with_env(BASE, "dir/My Run (2).toml", &no_env).unwrap();
    assert_eq!(s.name, "My-Run--2-");
    let s = parse_with_env(BASE, "<stdin>", &no_env).unwrap();
    assert_eq!(s.name, "stdin-");
}

#[test]
fn errors_point_at_the_column_too() {
    let text = "duration = \"1m\"\n[load]\nrate = { kind = \"constant\", per_second = -5 }\n";
    let err = parse_with_env(text, "c.toml", &no_env).unwrap_err();
    assert_eq!(
        err.location(),
        Some(&Location::File {
            origin: "c.toml".into(),
            line: 3,
            column: 42
        })
    );
    assert_eq!(err.key(), Some("load.rate.per_second"));
}

#[test]
fn every_rate_kind_parses() {
    let cases = [
        (r#"{ kind = "constant", per_second = 5 }"#, "constant"),
        (
            r#"{ kind = "ramp", from = 0, to = 100, over = "30s" }"#,
            "ramp",
        ),
        (
            r#"{ kind = "step", steps = [{ at = "0s", per_second = 1 }, { at = "30s", per_second = 2 }] }"#,
            "step",
        ),
        (
            r#"{ kind = "step", start = 10, step = 5, every = "10s" }"#,
            "step",
        ),
        (
            r#"{ kind = "spike", base = 1, peak = 10, at = "10s", length = "5s" }"#,
            "spike",
        ),
        (
            r#"{ kind = "sine", mean = 10, amplitude = 5, period = "20s" }"#,
            "sine",
        ),
    ];
    for (rate, kind) in cases {
        let text = format!("duration = \"1m\"\n[load]\nrate = {rate}\n");
        let s = parse_with_env(&text, "r.toml", &no_env).unwrap_or_else(|e| panic!("{e}"));
        let json = serde_json::to_value(&s.load.rate).unwrap();
        assert_eq!(json["kind"], kind, "{json}");
        assert!(s.expected_rows() > 1.0);
    }
}

#[test]
fn every_lag_dist_parses() {
    for (lag, dist) in [
        (r#"{ dist = "fixed", value = "1s" }"#, "fixed"),
        (r#"{ dist = "uniform", min = "1s", max = "2s" }"#, "uniform"),
        (r#"{ dist = "exponential", mean = "1s" }"#, "exponential"),
        (
            r#"{ dist = "lognormal", median = "1s", sigma = 0.5 }"#,
            "lognormal",
        ),
    ] {
        let text = format!("duration = \"1m\"\nload.rate = {{ kind = \"constant\", per_second = 1 }}\n[mix]\nreturn_lag = {lag}\n");
        let s = parse_with_env(&text, "l.toml", &no_env).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            serde_json::to_value(&s.mix.return_lag).unwrap()["dist"],
            dist
        );
    }
}

#[test]
fn binlog_flag_and_sinks_list_must_agree() {
    let text = format!("{BASE}\n[observe]\nsinks = [\"binlog\", \"kafka\"]\nbinlog = false\n");
    let err = parse_with_env(&text, "o.toml", &no_env).unwrap_err();
    assert!(
        err.to_string()
            .contains("observe.binlog = false: contradicts observe.sinks"),
        "{err}"
    );
}

#[test]
fn the_duplicate_window_defaults_to_a_minute_and_is_bounded() {
    assert_eq!(base().observe.duplicate_window, Duration::from_secs(60));
    let mut s = base();
    s.apply_overrides(&set(&[("observe.duplicate_window", "10s")]))
        .unwrap();
    assert_eq!(s.observe.duplicate_window, Duration::from_secs(10));
    let err = s
        .apply_overrides(&set(&[("observe.duplicate_window", "2h")]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("observe.duplicate_window"), "{err}");
    assert!(err.contains("from 1s to 1h"), "{err}");
    assert_eq!(
        s.observe.duplicate_window,
        Duration::from_secs(10),
        "unchanged"
    );
}

#[test]
fn the_memory_budget_defaults_to_a_gibibyte_and_is_bounded() {
    assert_eq!(base().observe.memory_limit_mib, 1024);
    let mut s = base();
    s.apply_overrides(&set(&[("observe.memory_limit_mib", "256")]))
        .unwrap();
    assert_eq!(s.observe.memory_limit_mib, 256);
    for bad in ["10", "\"1GiB\""] {
        let err = s
            .apply_overrides(&set(&[("observe.memory_limit_mib", bad)]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("observe.memory_limit_mib"), "{err}");
        assert!(err.contains("from 64 to 1048576"), "{err}");
    }
    assert_eq!(s.observe.memory_limit_mib, 256, "unchanged");
}

#[test]
fn the_audit_is_on_by_default_and_its_keys_are_checked() {
    assert!(base().audit.enabled);
    assert_eq!(base().slo.max_mismatched, 0);
    let off = format!("{BASE}\n[audit]\nenabled = false\n[slo]\nmax_mismatched = 3\n");
    let s = parse_with_env(&off, "x.toml", &no_env).unwrap();
    assert!(!s.audit.enabled);
    assert_eq!(s.slo.max_mismatched, 3);
    let bad = |extra: &str| {
        parse_with_env(&format!("{BASE}\n{extra}\n"), "x.toml", &no_env)
            .unwrap_err()
            .to_string()
    };
    let e = bad("[audit]\nenabled = \"yes\"");
    assert!(
        e.contains("audit.enabled") && e.contains("true or false"),
        "{e}"
    );
    assert_eq!(base().audit.every, None);
    let every = format!("{BASE}\n[audit]\nevery = \"30s\"\n");
    let s = parse_with_env(&every, "x.toml", &no_env).unwrap();
    assert_eq!(s.audit.every, Some(std::time::Duration::from_secs(30)));
    for wrong in ["\"0s\"", "\"soon\"", "30"] {
        let e = bad(&format!("[audit]\nevery = {wrong}"));
        assert!(
            e.contains("x.toml:") && e.contains("audit.every") && e.contains("from 1s to 1 day"),
            "{wrong}: {e}"
        );
    }
    let e = bad("[audit]\nevry = \"30s\"");
    assert!(e.contains("audit.evry") && e.contains("every"), "{e}");
    let e = bad("[slo]\nmax_mismatched = -1");
    assert!(e.contains("slo.max_mismatched"), "{e}");
}
