//! `report.html`: one self-contained page (no external CSS, JS, fonts or images:
//! the charts are inline SVG) with the verdict, the charts, the latency tables
//! and links to the machine-readable files beside it.

use std::fmt::Write as _;
use std::path::Path;

use crate::stats::{fmt_latency, LatencySummary};

use super::charts::Chart;
use super::data::RunData;
use super::tables::{client_rows, hop_rows, sink_rows, TableRow};
use super::{hlog, write_file, Exporter, ReportError};
use crate::redact::{redact_text, redact_value};

/// File name in the run directory.
pub const HTML_FILE: &str = "report.html";

/// The page's style sheet: plain, printable, readable on a laptop.
const CSS: &str = "\
body{font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;margin:2rem auto;max-width:1320px;\
padding:0 1rem;color:#282828;line-height:1.45}\
h1{font-size:1.6rem;margin-bottom:.2rem}h2{margin-top:2.2rem;border-bottom:1px solid #ddd}\
.verdict{display:inline-block;padding:.15rem .6rem;border-radius:4px;font-weight:600;color:#fff}\
.pass{background:#2e7d32}.fail{background:#c62828}.warn{background:#ef6c00}\
table{border-collapse:collapse;margin:.6rem 0 1.2rem}th,td{padding:.3rem .7rem;border-bottom:1px solid #e4e4e4}\
th{text-align:left;background:#f6f6f6}td.n{text-align:right;font-variant-numeric:tabular-nums}\
figure{margin:1rem 0}figure svg{max-width:100%;height:auto}figcaption{color:#666;font-size:.9rem}\
.meta{color:#555}code{background:#f3f3f3;padding:0 .25rem;border-radius:3px}";

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn latency_cells(s: &LatencySummary) -> String {
    if s.is_empty() {
        return "<td class=n>–</td>".repeat(5);
    }
    [s.p50, s.p90, s.p99, s.p999, s.max]
        .map(|v| format!("<td class=n>{}</td>", fmt_latency(v)))
        .concat()
}

fn latency_table(h: &mut String, rows: &[TableRow], last_column: Option<&str>) {
    h.push_str(
        "<table><tr><th>op</th><th>count</th><th>p50</th><th>p90</th><th>p99</th>\
                <th>p99.9</th><th>max</th>",
    );
    if let Some(name) = last_column {
        let _ = write!(h, "<th>{name}</th>");
    }
    h.push_str("</tr>\n");
    for row in rows {
        let _ = write!(
            h,
            "<tr><td>{}</td><td class=n>{}</td>{}",
            escape(&row.label),
            row.summary.count,
            latency_cells(&row.summary)
        );
        if last_column.is_some() {
            let _ = write!(h, "<td>{}</td>", escape(&row.note));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table>\n");
}

/// Chart captions, saying how to read each one.
fn caption(chart: Chart) -> &'static str {
    match chart {
        Chart::Percentiles => {
            "Latency from MySQL commit to visibility at each sink, after warmup. Each step right \
             adds a nine; each curve stops at the finest percentile its sample count supports."
        }
        Chart::OverTime => {
            "Per-second p99 (solid) and p50 (dashed) latency above the load it was measured at. \
             Shaded: warmup, excluded from the headline figures."
        }
        Chart::Paths => {
            "Path 1 goes MySQL → CDC → Kafka → Flink → warehouse, path 2 MySQL → CDC → warehouse: \
             the gap is the cost of the Kafka hop."
        }
        Chart::Hops => {
            "Where a row's time goes, per hop, on the harness's clock: commit ack → binlog event \
             read → Kafka broker append → path 1 commit, and binlog → path 2 commit. Each segment is \
             that hop's own p50 or p99; the diamond is the path's end-to-end figure."
        }
    }
}

/// Renders the page, charts included.
pub fn render(run: &RunData) -> Result<String, ReportError> {
    let mut h = String::new();
    let title = format!("tpcds-bench · {}", run.scenario);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>\
         <meta name=viewport content=\"width=device-width,initial-scale=1\">\
         <title>{}</title><style>{CSS}</style></head><body>\n",
        escape(&title)
    );
    // A pipeline the run left broken comes before any figure.
    for l in run.left_changed() {
        let _ = writeln!(
            h,
            "<p class=\"verdict fail\"><strong>Pipeline left changed:</strong> {} ({} attempts to bring it \
             back failed). Restore it with: <code>{}</code></p>",
            escape(&redact_text(&l.down)),
            l.attempts,
            escape(&redact_text(&l.restore_command))
        );
    }
    let (class, verdict) = if run.slo.passed {
        ("pass", "SLO passed")
    } else {
        ("fail", "SLO breached")
    };
    let _ = writeln!(
        h,
        "<h1>{} <span class=\"verdict {class}\">{verdict}</span>{}</h1>",
        escape(&title),
        if run.interrupted {
            " <span class=\"verdict warn\">interrupted</span>"
        } else {
            ""
        }
    );
    let _ = writeln!(
        h,
        "<p class=meta>Run <code>{}</code> started {} UTC · {:.0} s of load, first {:.0} s \
         excluded as warmup · target {:.0} rows/s, achieved {:.1} rows/s ({} of {} rows) · \
         late {}, dropped {}, failed {}</p>",
        escape(&run.run_id),
        run.started_at.format("%Y-%m-%d %H:%M:%S"),
        run.duration.as_secs_f64(),
        run.warmup.as_secs_f64(),
        run.target_rate,
        run.achieved_rate,
        run.achieved_rows,
        run.target_rows,
        run.late,
        run.dropped,
        run.failed
    );
    if run.interrupted {
        h.push_str(
            "<p><strong>Interrupted:</strong> the run was stopped early; the figures \
                    cover what was measured.</p>\n",
        );
    }
    if !run.slo.passed {
        h.push_str("<ul>");
        for b in &run.slo.breaches {
            let _ = write!(h, "<li>{}</li>", escape(&redact_text(b)));
        }
        h.push_str("</ul>\n");
    }

    if let Some(s) = &run.snapshot {
        // The summary's own text: its table reads as well preformatted.
        let text = s.markdown();
        let body = text.strip_prefix("## Snapshot phase\n\n").unwrap_or(&text);
        let _ = writeln!(h, "<h2>Snapshot phase</h2>\n<pre>{}</pre>", escape(body));
    }
    if let Some(a) = &run.audit {
        let _ = writeln!(
            h,
            "<h2>Audit of the contents against MySQL</h2>\n<p>Tickets {}.</p>\n<ul>",
            escape(&a.tickets)
        );
        for line in a.lines() {
            let _ = write!(h, "<li>{}</li>", escape(line.trim_start()));
        }
        h.push_str("</ul>\n");
        // The mid-run audits, one row each (`[audit] every`).
        let rows = a.series().table();
        if rows.len() > 1 {
            h.push_str("<table>");
            for (i, r) in rows.iter().enumerate() {
                let (open, close) = if i == 0 {
                    ("<th>", "</th>")
                } else {
                    ("<td>", "</td>")
                };
                h.push_str("<tr>");
                for c in r {
                    let _ = write!(h, "{open}{}{close}", escape(c));
                }
                h.push_str("</tr>");
            }
            h.push_str("</table>\n");
        }
    }

    h.push_str("<h2>End-to-end latency (commit → visible)</h2>\n");
    h.push_str(
        "<table><tr><th>sink</th><th>seen</th><th>missing</th><th>duplicates</th>\
                <th>unexpected</th></tr>\n",
    );
    for (sink, sr) in &run.sinks {
        let a = &sr.accounting;
        let _ = writeln!(
            h,
            "<tr><td>{sink}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td>\
             <td class=n>{}</td></tr>",
            a.seen, a.missing, a.duplicates, a.unexpected
        );
    }
    h.push_str("</table>\n");
    for chart in Chart::ALL.into_iter().filter(|c| c.applies(run)) {
        let svg = chart.render_svg(run)?;
        let _ = writeln!(
            h,
            "<figure>{svg}<figcaption>{}</figcaption></figure>",
            caption(chart)
        );
    }
    for (&sink, sr) in &run.sinks {
        let _ = writeln!(h, "<h3>{sink}</h3>");
        latency_table(&mut h, &sink_rows(run, sink), Some("resolution"));
        if !sr.accounting.missing_keys.is_empty() {
            let keys: Vec<String> = sr
                .accounting
                .missing_keys
                .iter()
                .map(|k| escape(&k.to_string()))
                .collect();
            let _ = writeln!(h, "<p>First missing: {}</p>", keys.join(", "));
        }
    }

    let hops = hop_rows(run);
    if !hops.is_empty() {
        h.push_str("<h2>Where the time goes (per hop, one clock)</h2>\n");
        latency_table(&mut h, &hops, Some("bounded by"));
    }

    h.push_str("<h2>Client write latency (commit ack − intended time)</h2>\n");
    latency_table(&mut h, &client_rows(run), None);

    if let Some(m) = &run.memory {
        let _ = writeln!(h, "<p>Memory: {}.</p>", escape(&m.line()));
    }
    if !run.caveats.is_empty() {
        h.push_str("<h2>Caveats</h2>\n<ul>");
        for c in &run.caveats {
            let _ = write!(h, "<li>{}</li>", escape(&redact_text(&c.to_string())));
        }
        h.push_str("</ul>\n");
    }
    if !run.environment.is_empty() {
        h.push_str("<h2>Environment</h2>\n<table>");
        for (k, v) in &run.environment {
            let _ = write!(
                h,
                "<tr><th>{}</th><td><code>{}</code></td></tr>",
                escape(k),
                escape(&redact_value(k, v))
            );
        }
        h.push_str("</table>\n");
    }
    h.push_str("<h2>Files</h2>\n<p>");
    let mut files: Vec<String> = [
        super::SCENARIO_FILE,
        super::summary_json::SUMMARY_FILE,
        super::latency_csv::LATENCY_FILE,
        super::timeseries_csv::TIMESERIES_FILE,
        super::markdown::MARKDOWN_FILE,
    ]
    .map(String::from)
    .to_vec();
    files.extend(hlog::groups(run).into_iter().map(hlog::file_name));
    let links: Vec<String> = files
        .iter()
        .map(|f| format!("<a href=\"{0}\">{0}</a>", escape(f)))
        .collect();
    let _ = writeln!(h, "{}</p>", links.join(" · "));
    h.push_str("</body></html>\n");
    Ok(h)
}

/// Writes `report.html`.
#[derive(Debug, Clone, Copy, Default)]
pub struct HtmlExporter;

impl Exporter for HtmlExporter {
    fn name(&self) -> &'static str {
        HTML_FILE
    }

    fn export(&self, run: &RunData, dir: &Path) -> Result<(), ReportError> {
        write_file(dir, HTML_FILE, render(run)?.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testdata::{realistic_run, tiny_run};

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }

    #[test]
    fn page_is_self_contained_and_escaped() {
        let mut run = tiny_run();
        run.scenario = "<script>alert(1)</script>".into();
        run.interrupted = true;
        let page = render(&run).unwrap();
        assert!(!page.contains("<script>"), "scenario name must be escaped");
        assert!(page.contains("&lt;script&gt;"));
        assert!(page.contains("interrupted"));
        assert!(!page.contains("src=\"http"), "no external resources");
        assert!(page.contains("<svg"), "charts are inline");
        assert!(page.contains("≤ 100 ms (poll)"));
        assert!(page.contains("store_sales(ticket=7, item=42)"));
        assert!(page.contains("<a href=\"path1.hlog\">"));
    }

    #[test]
    fn realistic_page_has_every_chart() {
        let page = render(&realistic_run()).unwrap();
        assert_eq!(page.matches("<svg").count(), Chart::ALL.len());
        assert!(page.contains("Where the time goes"));
        if let Some(dir) = std::env::var_os("TPCDS_REPORT_SAMPLE_DIR") {
            std::fs::write(std::path::Path::new(&dir).join(HTML_FILE), &page).unwrap();
        }
    }
}
