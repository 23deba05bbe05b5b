//! JUnit XML for CI systems that show test reports: one test case per sink
//! (the p99 regression check) and one per SLO objective.

use std::fmt::Write as _;

use super::slo::Objective;
use super::verdict::{Outcome, SinkVerdict};

/// True for the characters XML 1.0 allows in a document (§2.2); the rest
/// (control characters other than tab, newline and carriage return, U+FFFE,
/// U+FFFF) make the whole report unparseable, even escaped as `&#1;`.
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Escapes text for an XML attribute or element, dropping the characters XML
/// 1.0 forbids (a sink's error text can carry them from a driver message).
fn esc(s: &str) -> String {
    let s: String = s.chars().filter(|&c| xml_char(c)).collect();
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

struct Case {
    class: &'static str,
    name: String,
    failure: Option<String>,
    /// A case that could not be judged (runs too short): a JUnit error.
    error: Option<String>,
    skipped: Option<String>,
    detail: String,
}

/// Renders the gate's verdicts as one `<testsuite>`.
pub fn render(suite: &str, sinks: &[SinkVerdict], slos: &[Objective]) -> String {
    let mut cases: Vec<Case> = sinks
        .iter()
        .map(|v| {
            let reason = v.outcome.reason().to_string();
            Case {
                class: "regression",
                name: format!("{} p99", v.sink),
                failure: v.outcome.failed().then(|| reason.clone()),
                error: v.outcome.refused().then(|| reason.clone()),
                skipped: matches!(v.outcome, Outcome::Skipped(_)).then(|| reason.clone()),
                detail: reason,
            }
        })
        .collect();
    cases.extend(slos.iter().map(|o| Case {
        class: "slo",
        name: o.name.clone(),
        failure: (!o.passed).then(|| o.detail.clone()),
        error: None,
        skipped: None,
        detail: o.detail.clone(),
    }));
    let failures = cases.iter().filter(|c| c.failure.is_some()).count();
    let errors = cases.iter().filter(|c| c.error.is_some()).count();
    let skipped = cases.iter().filter(|c| c.skipped.is_some()).count();
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        x,
        "<testsuites><testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\">",
        esc(suite),
        cases.len()
    );
    for c in &cases {
        let _ = write!(
            x,
            "  <testcase classname=\"tpcds-bench.{}\" name=\"{}\">",
            c.class,
            esc(&c.name)
        );
        if let Some(f) = &c.failure {
            let _ = write!(x, "<failure message=\"{}\">{}</failure>", esc(f), esc(f));
        } else if let Some(e) = &c.error {
            let _ = write!(x, "<error message=\"{}\">{}</error>", esc(e), esc(e));
        } else if let Some(s) = &c.skipped {
            let _ = write!(x, "<skipped message=\"{}\"/>", esc(s));
        } else {
            let _ = write!(x, "<system-out>{}</system-out>", esc(&c.detail));
        }
        x.push_str("</testcase>\n");
    }
    x.push_str("</testsuite></testsuites>\n");
    x
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Sink;

    #[test]
    fn one_case_per_sink_and_objective_with_failures_counted() {
        let sinks = [
            SinkVerdict {
                sink: Sink::Path2,
                change: None,
                samples: (0, 0),
                absolute_floor_us: 0,
                outcome: Outcome::Regression("p99 +900 ms <worse>".into()),
            },
            SinkVerdict {
                sink: Sink::Kafka,
                change: None,
                samples: (0, 0),
                absolute_floor_us: 0,
                outcome: Outcome::Skipped("no samples".into()),
            },
        ];
        let slos = [Objective {
            name: "path2 p99".into(),
            detail: "path2 p99 = 1.2 ms ≤ 10 ms".into(),
            passed: true,
        }];
        let x = render("gate & co", &sinks, &slos);
        assert!(
            x.contains(
                "name=\"gate &amp; co\" tests=\"3\" failures=\"1\" errors=\"0\" skipped=\"1\""
            ),
            "{x}"
        );
        assert!(
            x.contains("<failure message=\"p99 +900 ms &lt;worse&gt;\">"),
            "{x}"
        );
        assert!(
            x.contains("classname=\"tpcds-bench.slo\" name=\"path2 p99\""),
            "{x}"
        );
        assert_eq!(x.matches("<testcase ").count(), 3);
    }

    #[test]
    fn characters_xml_forbids_are_dropped() {
        let slos = [Objective {
            name: "kafka\u{1}\u{1b}[31m p99\u{fffe}".into(),
            detail: "bell\u{7} nul\u{0} tab\tnewline\ncr\r é 🚀".into(),
            passed: false,
        }];
        let x = render("suite\u{8}", &[], &slos);
        for c in x.chars() {
            assert!(xml_char(c), "{:?} in {x:?}", c);
        }
        assert!(x.contains("name=\"kafka[31m p99\""), "{x}");
        assert!(x.contains("bell nul tab\tnewline\ncr\r é 🚀"), "{x}");
        assert!(x.contains("name=\"suite\""), "{x}");
    }
}
