//! The sweep directory's own files: `sweep.json`, `sweep.csv` (one row per
//! step and sink), `sweep-resources.csv` (one row per step and component),
//! `sweep.md`, `report.html` (self-contained, charts inline) and the charts.
//! Every file is written beside its final name and renamed into place, so a
//! reader (or a sweep stopped mid-write) never sees half a file.

use std::fmt::Write as _;
use std::path::Path;

use super::chart::SweepChart;
use crate::report::html::escape;
use crate::report::ReportError;
use crate::stats::fmt_latency;

use super::{Sweep, SWEEP_FILE};

/// A table: title, header, rows.
type Table = (String, Vec<String>, Vec<Vec<String>>);

fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), ReportError> {
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let path = dir.join(name);
    std::fs::write(&tmp, bytes).map_err(|source| ReportError::Io {
        path: tmp.clone(),
        source,
    })?;
    std::fs::rename(&tmp, &path).map_err(|source| ReportError::Io { path, source })
}

fn mark(passed: Option<bool>) -> &'static str {
    match passed {
        Some(true) => "✓",
        Some(false) => "✗",
        None => "",
    }
}

/// Rows of `sweep.csv`.
pub fn csv(s: &Sweep) -> String {
    let mut out = String::from(
        "step,target_rate,achieved_rate,achieved_ratio,lateness_p99_ms,sink,count,p50_ms,p99_ms,missing,passed,why,run_dir\n",
    );
    for st in &s.steps {
        for (sink, x) in &st.sinks {
            let _ = writeln!(
                out,
                "{},{:.1},{:.1},{:.4},{:.1},{sink},{},{:.1},{:.1},{},{},\"{}\",{}",
                st.index,
                st.target_rate,
                st.achieved_rate,
                st.achieved_ratio(),
                st.lateness_p99_us as f64 / 1000.0,
                x.count,
                x.p50_us as f64 / 1000.0,
                x.p99_us as f64 / 1000.0,
                x.missing,
                x.passed.map_or(String::new(), |p| p.to_string()),
                x.why.join("; ").replace('"', "'"),
                st.run_dir
            );
        }
    }
    out
}

/// Rows of `sweep-resources.csv`.
pub fn resources_csv(s: &Sweep) -> String {
    let mut out = String::from("step,target_rate,component,cpu_s,cores,cpu_s_per_1000_rows\n");
    for st in &s.steps {
        let r = &st.resources;
        for (k, cpu) in &r.cpu_s {
            let _ = writeln!(
                out,
                "{},{:.1},{k},{cpu:.2},{:.3},{:.4}",
                st.index,
                st.target_rate,
                r.cores(k).unwrap_or(0.0),
                r.per_1000_rows(k, st.achieved_rows).unwrap_or(0.0)
            );
        }
    }
    out
}

fn tables(s: &Sweep) -> Vec<Table> {
    let sinks: Vec<_> = s
        .steps
        .iter()
        .flat_map(|st| st.sinks.keys().copied())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut head = vec!["step".into(), "target/s".into(), "achieved/s".into()];
    head.extend(sinks.iter().map(|k| format!("{k} p50 / p99")));
    let rows = s
        .steps
        .iter()
        .map(|st| {
            let mut r = vec![
                st.index.to_string(),
                format!("{:.0}", st.target_rate),
                format!("{:.0}", st.achieved_rate),
            ];
            r.extend(sinks.iter().map(|k| match st.sinks.get(k) {
                Some(x) if x.count > 0 => format!(
                    "{} / {} {}",
                    fmt_latency(x.p50_us),
                    fmt_latency(x.p99_us),
                    mark(x.passed)
                ),
                Some(x) => format!("– {}", mark(x.passed)),
                None => "".into(),
            }));
            r
        })
        .collect();
    let mut out = vec![("Steps".to_string(), head, rows)];

    let comps: Vec<String> = s
        .steps
        .iter()
        .flat_map(|st| st.resources.cpu_s.keys().cloned())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    if !comps.is_empty() {
        let mut head = vec!["step".into(), "target/s".into(), "machine busy".into()];
        head.extend(comps.iter().cloned());
        let rows = s
            .steps
            .iter()
            .map(|st| {
                let r = &st.resources;
                let mut row = vec![
                    st.index.to_string(),
                    format!("{:.0}", st.target_rate),
                    r.machine_busy_cores
                        .map_or("–".into(), |b| format!("{b:.2}/{}", r.machine_cores)),
                ];
                row.extend(comps.iter().map(|k| {
                    match (r.per_1000_rows(k, st.achieved_rows), r.cores(k)) {
                        (Some(p), Some(c)) => format!("{p:.2} s ({c:.2} cores)"),
                        _ => "–".into(),
                    }
                }));
                row
            })
            .collect();
        out.push((
            "CPU seconds per 1,000 rows (and cores) per component".into(),
            head,
            rows,
        ));
    }
    let rows: Vec<Vec<String>> = s
        .steps
        .iter()
        .flat_map(|st| {
            let mut v: Vec<_> = st.resources.vertices.iter().collect();
            v.sort_by(|a, b| b.busy_ms_per_s.total_cmp(&a.busy_ms_per_s));
            v.into_iter().take(4).map(move |v| {
                vec![
                    st.index.to_string(),
                    format!("{:.0}", st.target_rate),
                    v.job.clone(),
                    v.vertex.clone(),
                    format!("{:.0} %", v.busy_ms_per_s / 10.0),
                    format!("{:.0} %", v.backpressured_ms_per_s / 10.0),
                ]
            })
        })
        .collect();
    if !rows.is_empty() {
        out.push((
            "Flink: the four busiest operator chains per step".into(),
            ["step", "target/s", "job", "chain", "busy", "backpressured"]
                .map(String::from)
                .to_vec(),
            rows,
        ));
    }
    let rows: Vec<Vec<String>> = s
        .steps
        .iter()
        .map(|st| {
            vec![
                st.index.to_string(),
                format!("{:.0}", st.target_rate),
                st.resources
                    .kafka_lag_max
                    .map_or("–".into(), |l| l.to_string()),
                st.resources
                    .checkpoint_ms_max
                    .map_or("–".into(), |c| format!("{c} ms")),
                format!("{:.0} s", st.took_s),
            ]
        })
        .collect();
    out.push((
        "Pipeline".into(),
        [
            "step",
            "target/s",
            "path 1 Kafka lag (max)",
            "checkpoint (max)",
            "step took",
        ]
        .map(String::from)
        .to_vec(),
        rows,
    ));
    out
}

fn headline(s: &Sweep) -> Vec<String> {
    let mut out: Vec<String> = s.answers.values().map(|a| a.text.clone()).collect();
    for (sink, k) in &s.knees {
        out.push(format!(
            "{sink} knee at {:.0} rows/s achieved (p99 {}); likely bottleneck: {}",
            k.achieved_rate,
            fmt_latency(k.p99_us),
            k.bottleneck
        ));
    }
    out.extend(s.notes.iter().cloned());
    out
}

/// `sweep.md`.
pub fn markdown(s: &Sweep) -> String {
    let mut m = format!(
        "# Sweep {} ({}), {} steps in {:.0} s\n\n",
        s.scenario,
        s.mode,
        s.steps.len(),
        s.took_s
    );
    for l in headline(s) {
        let _ = writeln!(m, "- {l}");
    }
    for (title, head, rows) in tables(s) {
        let _ = write!(
            m,
            "\n## {title}\n\n| {} |\n|{}\n",
            head.join(" | "),
            "---|".repeat(head.len())
        );
        for r in rows {
            let _ = writeln!(m, "| {} |", r.join(" | "));
        }
    }
    m.push_str("\nEach step is an ordinary run directory (see `run_dir` in sweep.csv).\n");
    m
}

/// `report.html`.
pub fn html(s: &Sweep) -> Result<String, ReportError> {
    let mut h = format!(
        "<!doctype html><html><head><meta charset=utf-8><title>sweep {0}</title>\
         <style>body{{font-family:sans-serif;max-width:1280px;margin:2rem auto;color:#282828}}\
         table{{border-collapse:collapse}}td,th{{padding:.25rem .6rem;border-bottom:1px solid #e4e4e4;text-align:left}}\
         svg{{max-width:100%;height:auto}}</style></head><body><h1>Sweep {0} ({1})</h1><ul>",
        escape(&s.scenario),
        escape(&s.mode)
    );
    for l in headline(s) {
        let _ = write!(h, "<li>{}</li>", escape(&l));
    }
    h.push_str("</ul>");
    for c in SweepChart::ALL {
        let _ = write!(h, "<figure>{}</figure>", c.render_svg(s)?);
    }
    for (title, head, rows) in tables(s) {
        let _ = write!(h, "<h2>{}</h2><table><tr>", escape(&title));
        for c in head {
            let _ = write!(h, "<th>{}</th>", escape(&c));
        }
        h.push_str("</tr>");
        for r in rows {
            h.push_str("<tr>");
            for c in r {
                let _ = write!(h, "<td>{}</td>", escape(&c));
            }
            h.push_str("</tr>");
        }
        h.push_str("</table>");
    }
    h.push_str(
        "<p><a href=sweep.json>sweep.json</a> · <a href=sweep.csv>sweep.csv</a> · \
                <a href=sweep-resources.csv>sweep-resources.csv</a></p></body></html>\n",
    );
    Ok(h)
}

/// Writes (or rewrites) every sweep file into `dir`.
pub fn write_all(dir: &Path, s: &Sweep) -> Result<(), ReportError> {
    let json = serde_json::to_vec_pretty(s).map_err(|e| ReportError::Corrupt {
        path: dir.join(SWEEP_FILE),
        message: e.to_string(),
    })?;
    write_atomic(dir, SWEEP_FILE, &json)?;
    write_atomic(dir, "sweep.csv", csv(s).as_bytes())?;
    write_atomic(dir, "sweep-resources.csv", resources_csv(s).as_bytes())?;
    write_atomic(dir, "sweep.md", markdown(s).as_bytes())?;
    if !s.steps.is_empty() {
        for c in SweepChart::ALL {
            write_atomic(
                dir,
                &format!("{}.svg", c.stem()),
                c.render_svg(s)?.as_bytes(),
            )?;
            let tmp = dir.join(format!(".{}.tmp-{}.png", c.stem(), std::process::id()));
            c.render_png(s, &tmp)?;
            let path = dir.join(format!("{}.png", c.stem()));
            std::fs::rename(&tmp, &path).map_err(|source| ReportError::Io { path, source })?;
        }
        write_atomic(dir, "report.html", html(s)?.as_bytes())?;
    }
    Ok(())
}
