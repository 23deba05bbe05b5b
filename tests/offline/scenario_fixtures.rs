//! Every malformed scenario under `tests/fixtures/bad/` fails exactly as
//! `EXPECTED.tsv` documents (file:line, dotted key, what would be valid, exit
//! code 2, no password in the message); every shipped scenario and every
//! `tests/fixtures/good/` sample validates.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tpcds_bench::model::Sink;
use tpcds_bench::scenario::{self, Arrivals, KafkaFormat, RateSpec, Scenario, StepSpec};

fn toml_files(dir: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    v.sort();
    v
}

/// Validates a file with no environment overrides, so the host's `TPCDS_*`
/// variables cannot change the outcome.
fn parse(path: &Path) -> Result<Scenario, scenario::ScenarioError> {
    let text = std::fs::read_to_string(path).unwrap();
    scenario::parse_with_env(&text, &path.display().to_string(), &|_| None)
}

struct Expected {
    file: String,
    exit: i32,
    located: String,
    valid: String,
}

fn expected() -> Vec<Expected> {
    let text = std::fs::read_to_string("tests/fixtures/bad/EXPECTED.tsv").unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            assert_eq!(
                cols.len(),
                4,
                "EXPECTED.tsv row needs 4 tab-separated columns: {l}"
            );
            Expected {
                file: cols[0].into(),
                exit: cols[1].parse().unwrap(),
                located: cols[2].into(),
                valid: cols[3].into(),
            }
        })
        .collect()
}

#[test]
fn every_bad_fixture_is_documented() {
    let listed: BTreeSet<String> = expected().into_iter().map(|e| e.file).collect();
    let present: BTreeSet<String> = toml_files("tests/fixtures/bad")
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(listed, present, "EXPECTED.tsv and the .toml files differ");
    assert!(present.len() >= 24, "only {} bad fixtures", present.len());
}

#[test]
fn bad_fixtures_fail_as_documented() {
    let mut failures = Vec::new();
    for e in expected() {
        let path = Path::new("tests/fixtures/bad").join(&e.file);
        match parse(&path) {
            Ok(_) => failures.push(format!("{}: validated, expected an error", e.file)),
            Err(err) => {
                let msg = err.to_string();
                if err.exit_code() != e.exit {
                    failures.push(format!(
                        "{}: exit {} != {}",
                        e.file,
                        err.exit_code(),
                        e.exit
                    ));
                }
                if !msg.contains(&format!("tests/fixtures/bad/{}", e.located)) {
                    failures.push(format!("{}: `{msg}` lacks `{}`", e.file, e.located));
                }
                if !msg.contains(&e.valid) {
                    failures.push(format!("{}: `{msg}` lacks `{}`", e.file, e.valid));
                }
                // Fixtures with URLs use the password "secret"; it must never show.
                if msg.contains("secret") {
                    failures.push(format!("{}: leaks a password: {msg}", e.file));
                }
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn bad_fixture_first_line_is_its_defect() {
    for p in toml_files("tests/fixtures/bad") {
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.starts_with("# defect: "), "{}", p.display());
    }
}

#[test]
fn missing_file_is_bad_input() {
    let err = scenario::load(Path::new("tests/fixtures/bad/no-such-file.toml")).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    let msg = err.to_string();
    assert!(
        msg.starts_with("tests/fixtures/bad/no-such-file.toml: cannot read"),
        "{msg}"
    );
}

#[test]
fn shipped_scenarios_validate() {
    let files = toml_files("scenarios");
    let names: Vec<String> = files
        .iter()
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    for want in [
        "quickstart",
        "steady",
        "high-throughput",
        "spike",
        "returns-heavy",
    ] {
        assert!(
            names.iter().any(|n| n == want),
            "scenarios/{want}.toml missing"
        );
    }
    for p in files {
        let s = parse(&p).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            s.name,
            p.file_stem().unwrap().to_string_lossy(),
            "name matches the file"
        );
        assert!(s.description.is_some(), "{}: describe it", p.display());
        assert!(s.expected_rows() >= 1.0);
        assert_eq!(s.source_text(), std::fs::read_to_string(&p).unwrap());
    }
}

#[test]
fn quickstart_fits_in_two_minutes() {
    let s = parse(Path::new("scenarios/quickstart.toml")).unwrap();
    assert!(s.duration + s.drain_timeout <= Duration::from_secs(120));
    assert_eq!(
        s.observe.sinks,
        Sink::CDC.to_vec(),
        "quickstart observes every sink"
    );
}

#[test]
fn good_fixtures_validate() {
    let files = toml_files("tests/fixtures/good");
    assert!(files.len() >= 5);
    for p in files {
        parse(&p).unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn minimal_takes_every_default() {
    let s = parse(Path::new("tests/fixtures/good/minimal.toml")).unwrap();
    assert_eq!(s.name, "minimal");
    assert_eq!(s.warmup, Duration::ZERO);
    assert_eq!(s.drain_timeout, Duration::from_secs(60));
    assert_eq!(s.seed, scenario::DEFAULT_SEED);
    assert_eq!((s.load.workers, s.load.batch_rows), (4, 10));
    assert_eq!(s.load.arrivals, Arrivals::Uniform);
    assert_eq!(s.load.max_lag, Duration::from_secs(30));
    assert_eq!(
        (s.mix.items_per_ticket.min, s.mix.items_per_ticket.max),
        (8, 16)
    );
    assert_eq!(s.mix.return_probability, 0.10);
    assert_eq!(s.targets.mysql.expose(), scenario::DEFAULT_MYSQL_URL);
    assert_eq!(
        s.targets.warehouse.expose(),
        scenario::DEFAULT_WAREHOUSE_URL
    );
    assert_eq!(s.targets.kafka.brokers, "127.0.0.1:9092");
    assert_eq!(s.targets.kafka.format, KafkaFormat::DebeziumJson);
    assert_eq!(
        s.targets.kafka.topic(tpcds_bench::model::Table::StoreSales),
        "tpcds.store_sales"
    );
    assert_eq!(s.observe.sinks, vec![Sink::Kafka, Sink::Path1, Sink::Path2]);
    assert_eq!(s.observe.poll_interval, Duration::from_millis(100));
    assert_eq!(s.observe.arrival_overlap, Duration::from_secs(2));
    assert_eq!(s.observe.sample_rate, 1.0);
    assert_eq!(s.slo.max_missing, 0);
    assert!(s.slo.p99_ms.iter().next().is_none());
}

#[test]
fn all_keys_are_read() {
    let s = parse(Path::new("tests/fixtures/good/all_keys.toml")).unwrap();
    assert_eq!(s.name, "all-keys");
    assert_eq!(s.seed, 12345);
    assert_eq!(s.load.arrivals, Arrivals::Poisson);
    assert_eq!(
        s.load.rate,
        RateSpec::Ramp {
            from: 10.0,
            to: 2000.0,
            over: Some(Duration::from_secs(300))
        }
    );
    assert_eq!(
        s.observe.sinks,
        Sink::CDC.to_vec(),
        "sorted, binlog added by binlog = true"
    );
    assert_eq!(s.targets.kafka.format, KafkaFormat::CanalJson);
    assert_eq!(s.targets.kafka.topic_prefix, "cdc_");
    assert_eq!(s.targets.flink_rest.url().scheme(), "https");
    assert_eq!(s.slo.p99_ms.get(Sink::Binlog), Some(50.0));
    assert_eq!(s.slo.p50_ms.get(Sink::Path1), None);
    assert_eq!(s.slo.max_duplicates, Some(5));
    assert_eq!(s.slo.min_achieved_ratio, Some(0.9));
    let json = serde_json::to_string(&s).unwrap();
    assert!(!json.contains("pw1") && !json.contains("pw2"), "{json}");
    assert!(
        json.contains("mysql://bench:***@db.example:3307/bench_db"),
        "{json}"
    );
}

#[test]
fn table_forms_and_dotted_keys_read_the_same() {
    let s = parse(Path::new("tests/fixtures/good/step_list.toml")).unwrap();
    let RateSpec::Step(StepSpec::List { steps }) = &s.load.rate else {
        panic!("{:?}", s.load.rate)
    };
    assert_eq!(steps.len(), 3);
    assert_eq!(steps[2].at, Duration::from_secs(60));
    let s = parse(Path::new("tests/fixtures/good/staircase.toml")).unwrap();
    assert_eq!(s.load.workers, 3);
    assert_eq!(s.slo.p99_ms.get(Sink::Kafka), Some(1000.0));
    assert!(matches!(
        s.load.rate,
        RateSpec::Step(StepSpec::Every { .. })
    ));
    let s = parse(Path::new("tests/fixtures/good/targets_alt.toml")).unwrap();
    assert_eq!(s.targets.kafka.brokers, "127.0.0.1:19092");
    assert_eq!(s.targets.warehouse.url().port(), Some(6000));
    assert_eq!(
        (s.mix.items_per_ticket.min, s.mix.items_per_ticket.max),
        (8, 16)
    );
}
