//! Stage two: the spanned tree → a validated [`Scenario`]. Top-level keys,
//! `[observe]` and `[slo]` live here; `[load]`, `[mix]` and `[targets]` have
//! their own files.

use std::time::Duration;

use super::build_faults::{control, faults};
use super::build_load::load;
use super::build_mix::mix;
use super::build_targets::targets;
use super::error::ScenarioError;
use super::read::{Cx, Field, Tbl};
use super::tree::Node;
use super::types::*;
use crate::model::Sink;

type Result<T> = std::result::Result<T, ScenarioError>;

/// Highest rate any profile may ask for, rows per second. Far above what one
/// MySQL sustains; it only catches typos (an extra zero or two).
pub(crate) const MAX_RATE: f64 = 1_000_000.0;
pub(crate) const SECOND: Duration = Duration::from_secs(1);
pub(crate) const DAY: Duration = Duration::from_secs(86_400);

const TOP_KEYS: &[&str] = &[
    "name",
    "description",
    "duration",
    "warmup",
    "drain_timeout",
    "seed",
    "load",
    "mix",
    "targets",
    "observe",
    "slo",
    "faults",
    "control",
    "derived",
    "live",
    "audit",
    "sweep",
    "snapshot",
];

/// Keys users put at the top level that belong in a section.
const TOP_MOVED: &[(&str, &str)] = &[
    ("workers", "it belongs in [load] (load.workers)"),
    ("batch_rows", "it belongs in [load] (load.batch_rows)"),
    ("rate", "it belongs in [load] (load.rate)"),
    ("arrivals", "it belongs in [load] (load.arrivals)"),
    ("mysql", "it belongs in [targets] (targets.mysql)"),
    ("kafka", "it belongs in [targets] (targets.kafka)"),
    ("warehouse", "it belongs in [targets] (targets.warehouse)"),
    ("cloudberry", "it belongs in [targets] (targets.cloudberry)"),
    ("sinks", "it belongs in [observe] (observe.sinks)"),
    ("p99_ms", "it belongs in [slo] (slo.p99_ms)"),
];

/// Validates the whole tree. `default_name` is used when the file has no `name`.
///
/// Each key and section is validated even when another failed (errors are
/// recorded in `cx`, see [`Cx::keep`]); what depends on a failed value gets
/// the most permissive stand-in (a 7-day duration, every sink observed), so
/// it adds no follow-on errors. Any recorded error fails the whole.
pub(crate) fn scenario(root: &Node, cx: &Cx, default_name: &str) -> Result<Scenario> {
    let top = cx.root(root);
    top.allow(TOP_KEYS, TOP_MOVED);

    let name = match top.get("name") {
        Some(f) => cx.keep(name(&f)),
        None => Some(sanitize_name(default_name)),
    };
    let description = match top.get("description") {
        Some(f) => cx.keep(f.string("a string").map(|s| Some(s.to_string()))),
        None => Some(None),
    };
    let duration = cx.keep(
        top.req(
            "duration",
            "every scenario needs a run length, e.g. duration = \"5m\"",
        )
        .and_then(|f| f.duration_in(SECOND, 7 * DAY, "a run length from 1s to 7 days")),
    );
    let warmup = match top.get("warmup") {
        Some(f) => cx.keep(
            f.duration("the part of the run left out of the headline numbers")
                .and_then(|w| match duration {
                    Some(d) if w >= d => Err(f.invalid(format!(
                        "must be shorter than duration ({}); warmup is the first part of the run",
                        fmt(d)
                    ))),
                    _ => Ok(w),
                }),
        ),
        None => Some(Duration::ZERO),
    };
    let drain_timeout = cx.keep(opt_duration(
        &top,
        "drain_timeout",
        Duration::from_secs(60),
        Duration::ZERO,
        Duration::from_secs(3600),
        "how long to wait for missing rows after the load, from 0s to 1h (e.g. \"60s\")",
    ));
    let seed = match top.get("seed") {
        Some(f) => cx.keep(f.int_in(0, i64::MAX, "a non-negative integer (e.g. 42)")),
        None => Some(DEFAULT_SEED as i64),
    };

    // Checks against the run length pass for any length when it is invalid.
    let span = duration.unwrap_or(7 * DAY);
    let load = cx.keep(section(&top, "load").and_then(|t| load(&t, span)));
    let mix = cx.keep(section(&top, "mix").and_then(|t| mix(&t)));
    let targets = cx.keep(section(&top, "targets").and_then(|t| targets(&t)));
    let observe = cx.keep(section(&top, "observe").and_then(|t| observe(&t)));
    // SLOs name sinks: with invalid [observe], any sink counts as observed.
    let all_observed = Observe {
        sinks: Sink::ALL.to_vec(),
        poll_interval: Duration::from_millis(100),
        arrival_overlap: Duration::ZERO,
        sample_rate: 1.0,
        duplicate_window: DEFAULT_DUP_WINDOW,
        memory_limit_mib: DEFAULT_MEMORY_LIMIT_MIB,
    };
    let slo = cx.keep(
        section(&top, "slo").and_then(|t| slo(&t, observe.as_ref().unwrap_or(&all_observed))),
    );
    let faults = cx.keep(faults(&top, span));
    let control = cx.keep(section(&top, "control").and_then(|t| control(&t)));
    let derived = cx.keep(section(&top, "derived").and_then(|t| super::build_derived::derived(&t)));
    let live = cx.keep(section(&top, "live").and_then(|t| super::build_live::live(&t)));
    let audit = cx.keep(section(&top, "audit").and_then(|t| audit(&t)));
    let sweep = cx.keep(section(&top, "sweep").and_then(|t| super::build_sweep::sweep(&t)));
    let snapshot = cx.keep(super::build_snapshot::snapshot(&top));

    let (
        Some(name),
        Some(description),
        Some(duration),
        Some(warmup),
        Some(drain_timeout),
        Some(seed),
        Some(load),
        Some(mix),
        Some(targets),
        Some(observe),
        Some(slo),
        Some(faults),
        Some(control),
        Some(derived),
        Some(live),
        Some(audit),
        Some(sweep),
        Some(snapshot),
    ) = (
        name,
        description,
        duration,
        warmup,
        drain_timeout,
        seed,
        load,
        mix,
        targets,
        observe,
        slo,
        faults,
        control,
        derived,
        live,
        audit,
        sweep,
        snapshot,
    )
    else {
        return Err(cx.take_last());
    };
    let seed = seed as u64;
    super::build_targets::json_without_deletes(&top, &mix, &targets, &observe)?;

    Ok(Scenario {
        name,
        description,
        duration,
        warmup,
        drain_timeout,
        seed,
        load,
        mix,
        targets,
        observe,
        slo,
        faults,
        control,
        derived,
        live,
        audit,
        sweep,
        snapshot,
        source: ScenarioSource {
            origin: String::new(),
            text: String::new(),
            overrides: Vec::new(),
            env: Vec::new(),
            env_values: Vec::new(),
        },
    })
}

/// `[audit]`: `enabled`, and `every` (audits during the run).
fn audit(t: &Tbl) -> Result<Audit> {
    t.allow(&["enabled", "every"], &[]);
    let enabled = match t.get("enabled") {
        Some(f) => {
            f.boolean("true or false (whether to audit the sinks' contents after the drain)")?
        }
        None => true,
    };
    let every = match t.get("every") {
        Some(f) => Some(f.duration_in(
            SECOND,
            DAY,
            "how often to audit during the run, from 1s to 1 day (e.g. \"30s\")",
        )?),
        None => None,
    };
    Ok(Audit { enabled, every })
}

/// A section table; an absent one reads as empty (all defaults).
pub(crate) fn section<'a>(top: &Tbl<'a>, key: &str) -> Result<Tbl<'a>> {
    static EMPTY: std::sync::OnceLock<Node> = std::sync::OnceLock::new();
    match top.get(key) {
        Some(f) => f.table(&format!("a table ([{key}])")),
        None => {
            let empty = EMPTY.get_or_init(|| Node {
                val: super::tree::Val::Table(Default::default()),
                origin: super::tree::Origin::File(0..0),
                text: String::new(),
            });
            let mut t = Field {
                cx: top.cx,
                path: key.to_string(),
                node: empty,
            }
            .table("a table")?;
            // Missing keys of an absent section point at the file's first line.
            t.path = key.to_string();
            Ok(t)
        }
    }
}

fn name(f: &Field) -> Result<String> {
    let s = f.string("a short name such as \"steady\"")?;
    let ok = !s.is_empty()
        && s.len() <= 64
        && s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !ok {
        return Err(f.invalid(
            "must be 1 to 64 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit \
             (it becomes part of the run directory name), e.g. \"steady-5k\"",
        ));
    }
    Ok(s.to_string())
}

/// A run-directory-safe version of a file stem.
fn sanitize_name(stem: &str) -> String {
    let s: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .take(64)
        .collect();
    let s = s.trim_start_matches(['.', '_', '-']).to_string();
    if s.is_empty() {
        "scenario".into()
    } else {
        s
    }
}

pub(crate) fn fmt(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

pub(crate) fn opt_duration(
    t: &Tbl,
    key: &str,
    default: Duration,
    lo: Duration,
    hi: Duration,
    hint: &str,
) -> Result<Duration> {
    match t.get(key) {
        Some(f) => f.duration_in(lo, hi, hint),
        None => Ok(default),
    }
}

const SINK_NAMES: [&str; Sink::ALL.len()] = [
    "binlog",
    "kafka",
    "path1",
    "path2",
    "path1_view",
    "path2_view",
    "metrics",
    "q_store_returns",
    "q_top_items",
];

fn sink_of(name: &str) -> Sink {
    Sink::ALL
        .into_iter()
        .find(|s| s.name() == name)
        .unwrap_or(Sink::Path2)
}

fn observe(t: &Tbl) -> Result<Observe> {
    t.allow(
        &[
            "sinks",
            "poll_interval",
            "arrival_overlap",
            "binlog",
            "sample_rate",
            "duplicate_window",
            "memory_limit_mib",
        ],
        &[
            ("kafka_format", "the changelog format is set in [targets]: targets.kafka = { format = \"debezium-json\" }"),
            ("format", "the changelog format is set in [targets]: targets.kafka = { format = \"debezium-json\" }"),
        ],
    );
    let cx = t.cx;
    let sinks = cx.keep(sinks(t));
    let poll_interval = cx.keep(opt_duration(
        t,
        "poll_interval",
        Duration::from_millis(100),
        Duration::from_millis(1),
        Duration::from_secs(60),
        "the warehouse poll interval from 1ms to 60s (e.g. \"100ms\")",
    ));
    let arrival_overlap = cx.keep(opt_duration(
        t,
        "arrival_overlap",
        Duration::from_secs(2),
        Duration::ZERO,
        Duration::from_secs(600),
        "a re-read window from 0s to 10m (e.g. \"2s\")",
    ));
    let sample_rate = match t.get("sample_rate") {
        Some(f) => cx.keep(f.number_in(
            0.0,
            true,
            1.0,
            "a fraction in (0, 1] of rows whose latency is recorded (e.g. 0.1)",
        )),
        None => Some(1.0),
    };
    // The upper bound keeps a mistyped "10h" from holding hours of rows in memory.
    let duplicate_window = cx.keep(opt_duration(
        t,
        "duplicate_window",
        DEFAULT_DUP_WINDOW,
        Duration::from_secs(1),
        Duration::from_secs(3600),
        "how long seen rows are kept to recognise duplicates, from 1s to 1h (e.g. \"60s\")",
    ));
    // `run` warns before it starts when its projection exceeds this.
    let memory_limit_mib = match t.get("memory_limit_mib") {
        Some(f) => cx.keep(f.int_in(
            64,
            1 << 20,
            "the harness's memory budget in MiB from 64 to 1048576 (e.g. 1024)",
        )),
        None => Some(DEFAULT_MEMORY_LIMIT_MIB as i64),
    };
    let (
        Some(sinks),
        Some(poll_interval),
        Some(arrival_overlap),
        Some(sample_rate),
        Some(duplicate_window),
        Some(memory_limit_mib),
    ) = (
        sinks,
        poll_interval,
        arrival_overlap,
        sample_rate,
        duplicate_window,
        memory_limit_mib,
    )
    else {
        return Err(cx.take_last());
    };
    Ok(Observe {
        sinks,
        poll_interval,
        arrival_overlap,
        sample_rate,
        duplicate_window,
        memory_limit_mib: memory_limit_mib as u64,
    })
}

/// `observe.sinks` and `observe.binlog`, which must agree.
fn sinks(t: &Tbl) -> Result<Vec<Sink>> {
    let mut sinks = vec![Sink::Kafka, Sink::Path1, Sink::Path2];
    let sink_hint = "one of \"binlog\", \"kafka\", \"path1\", \"path2\", \"path1_view\", \"path2_view\", \"metrics\", \"q_store_returns\", \"q_top_items\"";
    if let Some(f) = t.get("sinks") {
        sinks.clear();
        for item in f.array("an array of sink names, e.g. [\"kafka\", \"path1\", \"path2\"]")? {
            let s = sink_of(item.choice(&SINK_NAMES, sink_hint)?);
            if sinks.contains(&s) {
                return Err(item.invalid("is listed twice"));
            }
            sinks.push(s);
        }
    }
    if let Some(f) = t.get("binlog") {
        let on = f.boolean("true or false")?;
        if on && !sinks.contains(&Sink::Binlog) {
            sinks.push(Sink::Binlog);
        } else if !on && sinks.contains(&Sink::Binlog) {
            return Err(f.invalid("contradicts observe.sinks, which lists \"binlog\"; keep one"));
        }
    }
    if sinks.is_empty() {
        let f = t
            .get("sinks")
            .expect("only an explicit empty list gets here");
        return Err(f.invalid(format!("must name at least one sink: {sink_hint}")));
    }
    sinks.sort();
    Ok(sinks)
}

fn limits(f: Option<Field>, observe: &Observe) -> Result<SinkLimits> {
    let mut out = SinkLimits::default();
    let Some(f) = f else { return Ok(out) };
    let t = f.table("a table of milliseconds per sink, e.g. { kafka = 2000, path1 = 5000 }")?;
    t.allow(&SINK_NAMES, &[]);
    for name in SINK_NAMES {
        let Some(v) = t.get(name) else { continue };
        let sink = sink_of(name);
        let ms = v.number_in(
            0.0,
            true,
            86_400_000.0,
            "a positive number of milliseconds (e.g. 2000)",
        )?;
        if !observe.observes(sink) {
            return Err(v.invalid(format!(
                "{name} is not observed: add \"{name}\" to observe.sinks or remove this limit"
            )));
        }
        out.set(sink, Some(ms));
    }
    Ok(out)
}

fn slo(t: &Tbl, observe: &Observe) -> Result<Slo> {
    t.allow(
        &[
            "p99_ms",
            "p50_ms",
            "max_missing",
            "max_mismatched",
            "max_duplicates",
            "min_achieved_ratio",
        ],
        &[],
    );
    let cx = t.cx;
    let p99_ms = cx.keep(limits(t.get("p99_ms"), observe));
    let p50_ms = cx.keep(limits(t.get("p50_ms"), observe));
    if let (Some(p99_ms), Some(p50_ms)) = (&p99_ms, &p50_ms) {
        for (sink, p50) in p50_ms.iter() {
            if let Some(p99) = p99_ms.get(sink).filter(|p99| p50 > *p99) {
                let t50 = t.get("p50_ms").expect("has values").table("")?;
                cx.keep::<()>(Err(t50.get(sink.name()).expect("has value").invalid(format!(
                    "must not exceed slo.p99_ms.{sink} ({p99}): a median above the p99 can never pass"
                ))));
            }
        }
    }
    let count = |key: &str| -> Option<Option<u64>> {
        cx.keep(
            t.get(key)
                .map(|f| f.int_in(0, i64::MAX, "a non-negative number of rows (e.g. 0)"))
                .transpose()
                .map(|o| o.map(|v| v as u64)),
        )
    };
    let max_missing = count("max_missing");
    let max_mismatched = count("max_mismatched");
    let max_duplicates = count("max_duplicates");
    let min_achieved_ratio = cx.keep(
        t.get("min_achieved_ratio")
            .map(|f| {
                f.number_in(
                    0.0,
                    true,
                    1.0,
                    "a fraction in (0, 1] of the target rows that must be written (e.g. 0.98)",
                )
            })
            .transpose(),
    );
    let (
        Some(p99_ms),
        Some(p50_ms),
        Some(max_missing),
        Some(max_mismatched),
        Some(max_duplicates),
        Some(min_achieved_ratio),
    ) = (
        p99_ms,
        p50_ms,
        max_missing,
        max_mismatched,
        max_duplicates,
        min_achieved_ratio,
    )
    else {
        return Err(cx.take_last());
    };
    let max_missing = max_missing.unwrap_or(0);
    Ok(Slo {
        p99_ms,
        p50_ms,
        max_missing,
        max_mismatched: max_mismatched.unwrap_or(0),
        max_duplicates,
        min_achieved_ratio,
    })
}
