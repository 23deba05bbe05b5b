//! Stage two: the spanned tree → a validated [`Scenario`]. Top-level keys,
//! `[load]` (with its rate profiles), `[observe]` and `[slo]` live here;
//! `[mix]` and `[targets]` have their own files.

use std::time::Duration;

use super::build_mix::mix;
use super::build_targets::targets;
use super::error::ScenarioError;
use super::read::{Cx, Field, Tbl};
use super::tree::Node;
use super::types::*;
use crate::model::Sink;
use crate::plan::RateProfile;

type Result<T> = std::result::Result<T, ScenarioError>;

/// Highest rate any profile may ask for, rows per second. Far above what one
/// MySQL sustains; it only catches typos (an extra zero or two).
pub(crate) const MAX_RATE: f64 = 1_000_000.0;
const SECOND: Duration = Duration::from_secs(1);
const DAY: Duration = Duration::from_secs(86_400);

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
pub(crate) fn scenario(root: &Node, cx: &Cx, default_name: &str) -> Result<Scenario> {
    let top = cx.root(root);
    top.allow(TOP_KEYS, TOP_MOVED)?;

    let name = match top.get("name") {
        Some(f) => name(&f)?,
        None => sanitize_name(default_name),
    };
    let description = match top.get("description") {
        Some(f) => Some(f.string("a string")?.to_string()),
        None => None,
    };
    let duration = top
        .req(
            "duration",
            "every scenario needs a run length, e.g. duration = \"5m\"",
        )?
        .duration_in(SECOND, 7 * DAY, "a run length from 1s to 7 days")?;
    let warmup = match top.get("warmup") {
        Some(f) => {
            let w = f.duration("the part of the run left out of the headline numbers")?;
            if w >= duration {
                return Err(f.invalid(format!(
                    "must be shorter than duration ({}); warmup is the first part of the run",
                    fmt(duration)
                )));
            }
            w
        }
        None => Duration::ZERO,
    };
    let drain_timeout = opt_duration(
        &top,
        "drain_timeout",
        Duration::from_secs(60),
        Duration::ZERO,
        Duration::from_secs(3600),
        "how long to wait for missing rows after the load, from 0s to 1h (e.g. \"60s\")",
    )?;
    let seed = match top.get("seed") {
        Some(f) => f.int_in(0, i64::MAX, "a non-negative integer (e.g. 42)")? as u64,
        None => DEFAULT_SEED,
    };

    let load = load(&section(&top, "load")?, duration)?;
    let mix = mix(&section(&top, "mix")?)?;
    let targets = targets(&section(&top, "targets")?)?;
    let observe = observe(&section(&top, "observe")?)?;
    let slo = slo(&section(&top, "slo")?, &observe)?;

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
        source: ScenarioSource {
            origin: String::new(),
            text: String::new(),
            overrides: Vec::new(),
            env: Vec::new(),
            env_values: Vec::new(),
        },
    })
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
        && s
            .chars()
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

fn load(t: &Tbl, duration: Duration) -> Result<Load> {
    t.allow(
        &["workers", "batch_rows", "rate", "arrivals", "max_lag"],
        &[
            ("per_second", "write the rate as rate = { kind = \"constant\", per_second = 500 }"),
            ("poisson", "write arrivals = \"poisson\""),
        ],
    )?;
    let workers = match t.get("workers") {
        Some(f) => f.int_in(1, 256, "an integer number of MySQL writers from 1 to 256 (e.g. 4)")?,
        None => 4,
    } as u32;
    let batch_rows = match t.get("batch_rows") {
        Some(f) => f.int_in(
            1,
            10_000,
            "an integer number of rows per transaction from 1 to 10000 (e.g. 10)",
        )?,
        None => 10,
    } as u32;
    let rate_field = t.req(
        "rate",
        "every scenario needs a target rate, e.g. rate = { kind = \"constant\", per_second = 500 }",
    )?;
    let rate = rate(&rate_field, duration)?;
    let total = RateProfile::new(&rate, duration).total_rows();
    if total < 1.0 {
        return Err(rate_field.invalid(format!(
            "schedules {total:.2} rows in {}: the profile must add up to at least one row",
            fmt(duration)
        )));
    }
    let arrivals = match t.get("arrivals") {
        Some(f) => match f.choice(&["uniform", "poisson"], "\"uniform\" or \"poisson\"")? {
            "poisson" => Arrivals::Poisson,
            _ => Arrivals::Uniform,
        },
        None => Arrivals::Uniform,
    };
    let max_lag = opt_duration(
        t,
        "max_lag",
        Duration::from_secs(30),
        Duration::from_millis(1),
        Duration::from_secs(3600),
        "how far a worker may fall behind before it drops rows, from 1ms to 1h (e.g. \"30s\")",
    )?;
    Ok(Load {
        workers,
        batch_rows,
        rate,
        arrivals,
        max_lag,
    })
}

const RATE_HINT: &str = "a number of rows per second from 0 to 1000000 (e.g. 500)";
const POSITIVE_RATE_HINT: &str = "a positive number of rows per second (e.g. 500)";

fn rate_value(t: &Tbl, key: &str, positive: bool) -> Result<f64> {
    let f = t.req(key, &format!("this rate kind needs {key} (rows per second)"))?;
    if positive {
        f.number_in(0.0, true, MAX_RATE, POSITIVE_RATE_HINT)
    } else {
        f.number_in(0.0, false, MAX_RATE, RATE_HINT)
    }
}

fn req_duration(t: &Tbl, key: &str, lo: Duration, hint: &str) -> Result<Duration> {
    t.req(key, &format!("this rate kind needs {key}, {hint}"))?
        .duration_in(lo, 7 * DAY, hint)
}

fn rate(f: &Field, duration: Duration) -> Result<RateSpec> {
    let t = f.table("an inline table such as { kind = \"constant\", per_second = 500 }")?;
    let kinds = ["constant", "ramp", "step", "spike", "sine"];
    let kind = t
        .req(
            "kind",
            "say which profile: kind = \"constant\", \"ramp\", \"step\", \"spike\" or \"sine\"",
        )?
        .choice(&kinds, "one of \"constant\", \"ramp\", \"step\", \"spike\", \"sine\"")?;
    let positive = "a positive duration (e.g. \"30s\")";
    Ok(match kind {
        "constant" => {
            t.allow(&["kind", "per_second"], &[])?;
            RateSpec::Constant {
                per_second: rate_value(&t, "per_second", true)?,
            }
        }
        "ramp" => {
            t.allow(&["kind", "from", "to", "over"], &[])?;
            let from = rate_value(&t, "from", false)?;
            let to = rate_value(&t, "to", false)?;
            let over = match t.get("over") {
                Some(f) => Some(f.duration_in(Duration::from_millis(1), 7 * DAY, positive)?),
                None => None,
            };
            RateSpec::Ramp { from, to, over }
        }
        "step" => RateSpec::Step(step(&t, duration)?),
        "spike" => {
            t.allow(&["kind", "base", "peak", "at", "length"], &[])?;
            let base = rate_value(&t, "base", false)?;
            let peak = rate_value(&t, "peak", true)?;
            if peak < base {
                return Err(t.get("peak").expect("read above").invalid(format!(
                    "must be at least base ({base}); a spike rises above the base rate"
                )));
            }
            let at = req_duration(&t, "at", Duration::ZERO, "when the spike starts (e.g. \"30s\")")?;
            let length = req_duration(&t, "length", Duration::from_millis(1), positive)?;
            if at + length > duration {
                return Err(t.get("length").expect("read above").invalid(format!(
                    "the spike ends at {}, after the run ends ({}); at + length must be <= duration",
                    fmt(at + length),
                    fmt(duration)
                )));
            }
            RateSpec::Spike {
                base,
                peak,
                at,
                length,
            }
        }
        _ => {
            t.allow(&["kind", "mean", "amplitude", "period"], &[])?;
            let mean = rate_value(&t, "mean", true)?;
            let amplitude = rate_value(&t, "amplitude", false)?;
            if amplitude > mean {
                return Err(t.get("amplitude").expect("read above").invalid(format!(
                    "must be at most mean ({mean}) so the rate never goes below zero"
                )));
            }
            let period = req_duration(&t, "period", Duration::from_millis(1), positive)?;
            RateSpec::Sine {
                mean,
                amplitude,
                period,
            }
        }
    })
}

fn step(t: &Tbl, duration: Duration) -> Result<StepSpec> {
    if t.get("steps").is_some() {
        if let Some(extra) = ["start", "step", "every"].iter().find_map(|k| t.get(k)) {
            return Err(extra.invalid(
                "give either steps = [{ at = \"0s\", per_second = … }, …] or start/step/every, not both",
            ));
        }
        t.allow(&["kind", "steps"], &[])?;
        let list = t.get("steps").expect("checked");
        let items = list.array("an array of { at = \"30s\", per_second = 500 } tables")?;
        if items.is_empty() {
            return Err(list.invalid("must list at least one step, starting at \"0s\""));
        }
        let mut steps: Vec<RateStep> = Vec::with_capacity(items.len());
        for item in &items {
            let s = item.table("a table like { at = \"30s\", per_second = 500 }")?;
            s.allow(&["at", "per_second"], &[])?;
            let at_f = s.req("at", "each step needs at, e.g. at = \"30s\"")?;
            let at = at_f.duration("when this step starts (e.g. \"30s\")")?;
            let per_second = rate_value(&s, "per_second", false)?;
            match steps.last() {
                None if at != Duration::ZERO => {
                    return Err(at_f.invalid("the first step must start at \"0s\""))
                }
                Some(prev) if at <= prev.at => {
                    return Err(at_f.invalid(format!(
                        "must be later than the previous step's at ({})",
                        fmt(prev.at)
                    )))
                }
                _ if at >= duration => {
                    return Err(at_f.invalid(format!(
                        "must be before the run ends ({}), or the step never takes effect",
                        fmt(duration)
                    )))
                }
                _ => {}
            }
            steps.push(RateStep { at, per_second });
        }
        return Ok(StepSpec::List { steps });
    }
    t.allow(
        &["kind", "steps", "start", "step", "every"],
        &[("at", "write explicit steps as steps = [{ at = \"0s\", per_second = 100 }, …]")],
    )?;
    let start = rate_value(t, "start", false)?;
    let step_f = t.req(
        "step",
        "a step profile needs steps = [...] or start, step and every",
    )?;
    let step = step_f.number_in(
        -MAX_RATE,
        false,
        MAX_RATE,
        "a change in rows per second per stair (e.g. 100, or -100 to step down)",
    )?;
    let every = req_duration(t, "every", Duration::from_millis(1), "a positive duration (e.g. \"30s\")")?;
    let stairs = (duration.as_secs_f64() / every.as_secs_f64()).ceil().max(1.0) - 1.0;
    let last = start + step * stairs;
    if !(0.0..=MAX_RATE).contains(&last) {
        return Err(step_f.invalid(format!(
            "the last stair (at {}) would run at {last} rows/s; keep the rate between 0 and {MAX_RATE}",
            fmt(every.mul_f64(stairs))
        )));
    }
    if stairs > 100_000.0 {
        return Err(t
            .get("every")
            .expect("read above")
            .invalid("gives more than 100000 stairs in the run; use a longer every"));
    }
    Ok(StepSpec::Every { start, step, every })
}

const SINK_NAMES: [&str; 4] = ["binlog", "kafka", "path1", "path2"];

fn sink_of(name: &str) -> Sink {
    match name {
        "binlog" => Sink::Binlog,
        "kafka" => Sink::Kafka,
        "path1" => Sink::Path1,
        _ => Sink::Path2,
    }
}

fn observe(t: &Tbl) -> Result<Observe> {
    t.allow(
        &["sinks", "poll_interval", "arrival_overlap", "binlog", "sample_rate"],
        &[
            ("kafka_format", "the changelog format is set in [targets]: targets.kafka = { format = \"debezium-json\" }"),
            ("format", "the changelog format is set in [targets]: targets.kafka = { format = \"debezium-json\" }"),
        ],
    )?;
    let mut sinks = vec![Sink::Kafka, Sink::Path1, Sink::Path2];
    let sink_hint = "one of \"binlog\", \"kafka\", \"path1\", \"path2\"";
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
        let f = t.get("sinks").expect("only an explicit empty list gets here");
        return Err(f.invalid(format!("must name at least one sink: {sink_hint}")));
    }
    sinks.sort();
    let poll_interval = opt_duration(
        t,
        "poll_interval",
        Duration::from_millis(100),
        Duration::from_millis(1),
        Duration::from_secs(60),
        "the warehouse poll interval from 1ms to 60s (e.g. \"100ms\")",
    )?;
    let arrival_overlap = opt_duration(
        t,
        "arrival_overlap",
        Duration::from_secs(2),
        Duration::ZERO,
        Duration::from_secs(600),
        "a re-read window from 0s to 10m (e.g. \"2s\")",
    )?;
    let sample_rate = match t.get("sample_rate") {
        Some(f) => f.number_in(
            0.0,
            true,
            1.0,
            "a fraction in (0, 1] of rows whose latency is recorded (e.g. 0.1)",
        )?,
        None => 1.0,
    };
    Ok(Observe {
        sinks,
        poll_interval,
        arrival_overlap,
        sample_rate,
    })
}

fn limits(f: Option<Field>, observe: &Observe) -> Result<SinkLimits> {
    let mut out = SinkLimits::default();
    let Some(f) = f else { return Ok(out) };
    let t = f.table("a table of milliseconds per sink, e.g. { kafka = 2000, path1 = 5000 }")?;
    t.allow(&SINK_NAMES, &[])?;
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
        &["p99_ms", "p50_ms", "max_missing", "max_duplicates", "min_achieved_ratio"],
        &[],
    )?;
    let p99_ms = limits(t.get("p99_ms"), observe)?;
    let p50_ms = limits(t.get("p50_ms"), observe)?;
    for (sink, p50) in p50_ms.iter() {
        if let Some(p99) = p99_ms.get(sink).filter(|p99| p50 > *p99) {
            let t50 = t.get("p50_ms").expect("has values").table("")?;
            return Err(t50.get(sink.name()).expect("has value").invalid(format!(
                "must not exceed slo.p99_ms.{sink} ({p99}): a median above the p99 can never pass"
            )));
        }
    }
    let count = |key: &str| -> Result<Option<u64>> {
        t.get(key)
            .map(|f| f.int_in(0, i64::MAX, "a non-negative number of rows (e.g. 0)"))
            .transpose()
            .map(|o| o.map(|v| v as u64))
    };
    let max_missing = count("max_missing")?.unwrap_or(0);
    let max_duplicates = count("max_duplicates")?;
    let min_achieved_ratio = t
        .get("min_achieved_ratio")
        .map(|f| {
            f.number_in(
                0.0,
                true,
                1.0,
                "a fraction in (0, 1] of the target rows that must be written (e.g. 0.98)",
            )
        })
        .transpose()?;
    Ok(Slo {
        p99_ms,
        p50_ms,
        max_missing,
        max_duplicates,
        min_achieved_ratio,
    })
}
