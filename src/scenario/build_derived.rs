//! `[derived]`: freshness probes for the derived-data sinks (views,
//! materialized views, the analytics topic) and the reads-under-load queries.

use std::time::Duration;

use super::build::opt_duration;
use super::error::ScenarioError;
use super::read::Tbl;
use super::types::{Derived, DerivedRelation};
use crate::model::Sink;

type Result<T> = std::result::Result<T, ScenarioError>;

const KEYS: &[&str] = &[
    "relation",
    "poll_interval",
    "probes_per_second",
    "reads_per_second",
    "reads_schema",
];

pub(crate) fn derived(t: &Tbl) -> Result<Derived> {
    t.allow(KEYS, &[("probes", "write derived.probes_per_second = 2")]);
    // Each key on its own: a bad one is recorded and the others still checked.
    let cx = t.cx;
    let relation = match t.get("relation") {
        Some(f) => cx.keep(
            f.choice(
                &["view", "matview"],
                "\"view\" (plain view) or \"matview\" (materialized view)",
            )
            .map(|r| match r {
                "matview" => DerivedRelation::MatView,
                _ => DerivedRelation::View,
            }),
        ),
        None => Some(DerivedRelation::View),
    };
    let poll_interval = cx.keep(opt_duration(
        t,
        "poll_interval",
        Duration::from_millis(100),
        Duration::from_millis(1),
        Duration::from_secs(60),
        "the derived-result poll interval from 1ms to 60s (e.g. \"100ms\")",
    ));
    let rate = |key: &str, default: f64| -> Option<f64> {
        cx.keep(match t.get(key) {
            Some(f) => f.number_in(0.0, true, 100.0, "a rate in (0, 100] per second (e.g. 2)"),
            None => Ok(default),
        })
    };
    let probes_per_second = rate("probes_per_second", 2.0);
    let reads_per_second = rate("reads_per_second", 1.0);
    let reads_schema = match t.get("reads_schema") {
        Some(f) => cx.keep(
            f.choice(&["path1", "path2"], "\"path1\" or \"path2\"")
                .map(str::to_string),
        ),
        None => Some("path2".to_string()),
    };
    let (
        Some(relation),
        Some(poll_interval),
        Some(probes_per_second),
        Some(reads_per_second),
        Some(reads_schema),
    ) = (
        relation,
        poll_interval,
        probes_per_second,
        reads_per_second,
        reads_schema,
    )
    else {
        return Err(cx.take_last());
    };
    Ok(Derived {
        relation,
        poll_interval,
        probes_per_second,
        reads_per_second,
        reads_schema,
    })
}

impl Derived {
    /// The warehouse relation the `sink` (`Path1View`/`Path2View`) polls.
    pub fn relation_name(&self, sink: Sink) -> String {
        let path = if sink == Sink::Path2View {
            "path2"
        } else {
            "path1"
        };
        match self.relation {
            DerivedRelation::View => format!("derived.store_daily_{path}"),
            DerivedRelation::MatView => format!("derived.store_daily_{path}_mv"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{parse_with_env, DerivedRelation};
    use crate::model::Sink;

    const BASE: &str =
        "duration = \"1m\"\n[load]\nrate = { kind = \"constant\", per_second = 100 }\n";

    fn parse(extra: &str) -> Result<super::super::Scenario, super::super::ScenarioError> {
        parse_with_env(&format!("{BASE}{extra}"), "x.toml", &|_| None)
    }

    #[test]
    fn defaults_and_a_matview_scenario() {
        let d = parse("").unwrap().derived;
        assert_eq!(d.relation, DerivedRelation::View);
        assert_eq!((d.probes_per_second, d.reads_per_second), (2.0, 1.0));
        assert_eq!(
            d.relation_name(Sink::Path2View),
            "derived.store_daily_path2"
        );
        let s = parse(
            "[observe]\nsinks = [\"path1\", \"path1_view\", \"q_top_items\"]\n\
             [derived]\nrelation = \"matview\"\nprobes_per_second = 5\n",
        )
        .unwrap();
        assert_eq!(
            s.observe.sinks,
            vec![Sink::Path1, Sink::Path1View, Sink::QTopItems]
        );
        assert_eq!(
            s.derived.relation_name(Sink::Path1View),
            "derived.store_daily_path1_mv"
        );
        assert_eq!(s.derived.probes_per_second, 5.0);
    }

    #[test]
    fn bad_derived_keys_name_the_key_and_what_is_valid() {
        let e = parse("[derived]\nrelation = \"table\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("x.toml:5: derived.relation") && e.contains("matview"),
            "{e}"
        );
        let e = parse("[derived]\nprobes_per_second = -1\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("derived.probes_per_second") && e.contains("(0, 100]"),
            "{e}"
        );
        let e = parse("[derived]\nprobes = 2\n").unwrap_err().to_string();
        assert!(e.contains("probes_per_second"), "{e}");
    }
}
