//! A file with several mistakes: every one is reported (up to
//! [`MAX_ERRORS`](super::super::error::MAX_ERRORS)), in file order, each with its
//! line and key, and none is made up from another.

use super::super::*;

fn errors_of(text: &str) -> ScenarioError {
    parse_with_env(text, "x.toml", &|_| None).unwrap_err()
}

/// (line, key) of each error listed.
fn places(err: &ScenarioError) -> Vec<(usize, String)> {
    let ScenarioError::Several { errors, .. } = err else {
        panic!("expected several errors, got: {err}");
    };
    errors
        .iter()
        .map(|e| match e.location() {
            Some(Location::File { line, .. }) => (*line, e.key().unwrap_or("").to_string()),
            other => panic!("{e}: not a file location: {other:?}"),
        })
        .collect()
}

// Issue 22: validation stopped at the first error, so a file with nine
// took nine edit-and-retry rounds.
#[test]
fn every_error_of_a_file_is_reported_in_file_order() {
    let text = r#"duration = "0s"
seed = -1
[load]
workers = 0
rate = { kind = "constant", per_second = -5 }
[mix]
retrun_lag = "3s"
return_probability = 2
[observe]
poll_interval = "0ms"
[targets]
mysql = "http://x:1/db"
[[faults]]
at = "1s"
action = "explode"
target = "kafka"
"#;
    let err = errors_of(text);
    assert_eq!(
        places(&err),
        [
            (1, "duration".to_string()),
            (2, "seed".into()),
            (4, "load.workers".into()),
            (5, "load.rate.per_second".into()),
            (7, "mix.retrun_lag".into()),
            (8, "mix.return_probability".into()),
            (10, "observe.poll_interval".into()),
            (12, "targets.mysql".into()),
            (15, "faults[0].action".into()),
        ]
    );
    let shown = err.to_string();
    assert!(
        shown.starts_with("9 problems in x.toml:\n  x.toml:1: duration = \"0s\": must be"),
        "{shown}"
    );
    assert_eq!(err.exit_code(), 2);
}

#[test]
fn a_bad_value_adds_no_follow_on_errors() {
    // An invalid duration must not make the warmup "longer than the run", nor
    // invalid sinks make an SLO name an "unobserved" sink.
    let text = r#"duration = "forever"
warmup = "10s"
[load]
rate = { kind = "constant", per_second = 5 }
[observe]
sinks = ["kafka", "nowhere"]
[slo]
p99_ms = { binlog = 100 }
"#;
    assert_eq!(
        places(&errors_of(text)),
        [(1, "duration".to_string()), (6, "observe.sinks[1]".into())]
    );
    // A misspelt required key is one mistake: not also "per_second is missing".
    let text = r#"duration = "1m"
seed = -3
[load]
rate = { kind = "constant", per_secnd = 5 }
"#;
    assert_eq!(
        places(&errors_of(text)),
        [(2, "seed".to_string()), (4, "load.rate.per_secnd".into())]
    );
}

#[test]
fn one_error_is_reported_as_itself_and_many_are_capped() {
    let one = errors_of(
        "duration = \"1m\"\n[load]\nworkers = 0\nrate = { kind = \"constant\", per_second = 5 }\n",
    );
    assert!(matches!(one, ScenarioError::InvalidValue { .. }), "{one}");

    let mut text = String::from(
        "duration = \"1m\"\n[load]\nrate = { kind = \"constant\", per_second = 5 }\n[mix]\n",
    );
    for i in 0..25 {
        text.push_str(&format!("typo{i} = 1\n"));
    }
    let many = errors_of(&text);
    let ScenarioError::Several { errors, more, .. } = &many else {
        panic!("{many}");
    };
    assert_eq!((errors.len(), *more), (20, 5));
    let shown = many.to_string();
    assert!(shown.starts_with("25 problems in x.toml:"), "{shown}");
    assert!(shown.ends_with("… and 5 more"), "{shown}");
}
