//! `summary.md`: the human-readable summary, sized for a CI job summary
//! (GitHub's `$GITHUB_STEP_SUMMARY`): verdict first, one table per sink with
//! accounting and percentiles (the detection resolution next to the percentiles
//! it bounds), client latency, SLO breaches and caveats.

use std::fmt::Write as _;
use std::path::Path;

use crate::stats::{fmt_latency, LatencySummary};

use super::data::RunData;
use super::tables::{client_rows, hop_rows, sink_rows, TableRow};
use super::{write_file, Exporter, ReportError};
use crate::redact::{redact_text, redact_value};

/// File name in the run directory.
pub const MARKDOWN_FILE: &str = "summary.md";

/// How many missing keys to list per sink.
const MISSING_KEYS_SHOWN: usize = 5;

fn fmt_rate(rate: f64) -> String {
    if rate >= 100.0 {
        format!("{rate:.0}")
    } else {
        format!("{rate:.1}")
    }
}

fn fmt_secs(secs: f64) -> String {
    if secs.fract() == 0.0 {
        format!("{secs:.0} s")
    } else {
        format!("{secs:.1} s")
    }
}

fn cells(s: &LatencySummary) -> String {
    if s.is_empty() {
        return "– | – | – | –".to_string();
    }
    [s.p50, s.p90, s.p99, s.max].map(fmt_latency).join(" | ")
}

/// A latency table whose last column is each row's note; `head` names the
/// first and the last column.
fn noted_table(md: &mut String, head: [&str; 2], rows: &[TableRow]) {
    let _ = writeln!(
        md,
        "| {} | count | p50 | p90 | p99 | max | {} |",
        head[0], head[1]
    );
    md.push_str("|:--|--:|--:|--:|--:|--:|:--|\n");
    for row in rows {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} |",
            row.label,
            row.summary.count,
            cells(&row.summary),
            row.note
        );
    }
}

/// Renders the Markdown text.
pub fn render(run: &RunData) -> String {
    let mut md = String::new();
    let verdict = if run.slo.passed {
        "✅ SLO passed"
    } else {
        "❌ SLO breached"
    };
    let _ = writeln!(md, "## tpcds-bench · `{}` · {verdict}\n", run.scenario);
    // A pipeline the run left broken comes before any figure.
    for l in run.left_changed() {
        let _ = writeln!(
            md,
            "> **⚠ Pipeline left changed:** {} ({} attempts to bring it back failed). Restore it with:\n>\n> `{}`\n",
            redact_text(&l.down),
            l.attempts,
            redact_text(&l.restore_command)
        );
    }
    let _ = writeln!(
        md,
        "Run `{}` started {} UTC, {} of load (first {} excluded as warmup).\n",
        run.run_id,
        run.started_at.format("%Y-%m-%d %H:%M:%S"),
        fmt_secs(run.duration.as_secs_f64()),
        fmt_secs(run.warmup.as_secs_f64()),
    );
    if run.interrupted {
        md.push_str(
            "**Interrupted:** the run was stopped early; figures cover what was measured.\n\n",
        );
    }
    let _ = writeln!(
        md,
        "Load: target {} rows/s, achieved {} rows/s ({} of {} rows committed); \
         late {}, dropped {}, failed {}.\n",
        fmt_rate(run.target_rate),
        fmt_rate(run.achieved_rate),
        run.achieved_rows,
        run.target_rows,
        run.late,
        run.dropped,
        run.failed
    );

    if let Some(s) = &run.snapshot {
        md.push_str(&s.markdown());
        md.push('\n');
    }
    if let Some(a) = &run.audit {
        let _ = writeln!(
            md,
            "Audit of the contents against MySQL (tickets {}):\n",
            a.tickets
        );
        for line in a.lines() {
            let _ = match line.strip_prefix("  ") {
                Some(key) => writeln!(md, "  - {key}"),
                None => writeln!(md, "- {line}"),
            };
        }
        md.push('\n');
        // The mid-run audits, one row each (`[audit] every`).
        let rows = a.series().table();
        if rows.len() > 1 {
            md.push_str("Audits during the run:\n\n");
            for (i, r) in rows.iter().enumerate() {
                let _ = writeln!(md, "| {} |", r.join(" | "));
                if i == 0 {
                    let _ = writeln!(md, "|{}", "---|".repeat(r.len()));
                }
            }
            md.push('\n');
        }
    }

    md.push_str("### End-to-end latency (commit → visible)\n\n");
    for (&sink, sr) in &run.sinks {
        let a = &sr.accounting;
        let _ = writeln!(
            md,
            "**{sink}**: seen {}, missing {}, duplicates {}, unexpected {}\n",
            a.seen, a.missing, a.duplicates, a.unexpected
        );
        noted_table(&mut md, ["op", "resolution"], &sink_rows(run, sink));
        if !a.missing_keys.is_empty() {
            let keys: Vec<String> = a
                .missing_keys
                .iter()
                .take(MISSING_KEYS_SHOWN)
                .map(|k| k.to_string())
                .collect();
            let more = if a.missing > keys.len() as u64 {
                ", …"
            } else {
                ""
            };
            let _ = writeln!(md, "\nFirst missing: {}{more}", keys.join(", "));
        }
        md.push('\n');
    }

    let hops = hop_rows(run);
    if !hops.is_empty() {
        md.push_str("### Where the time goes (per hop, one clock)\n\n");
        noted_table(&mut md, ["hop", "bounded by"], &hops);
        md.push('\n');
    }

    md.push_str("### Client write latency (commit ack − intended time)\n\n");
    md.push_str("| op | count | p50 | p90 | p99 | max |\n|:--|--:|--:|--:|--:|--:|\n");
    for row in client_rows(run) {
        let _ = writeln!(
            md,
            "| {} | {} | {} |",
            row.label,
            row.summary.count,
            cells(&row.summary)
        );
    }
    md.push('\n');

    md.push_str("### SLO\n\n");
    if run.slo.passed {
        md.push_str("✅ All objectives met.\n\n");
    } else {
        for b in &run.slo.breaches {
            let _ = writeln!(md, "- ❌ {}", redact_text(b));
        }
        md.push('\n');
    }

    if let Some(m) = &run.memory {
        let _ = writeln!(md, "Memory: {}.\n", m.line());
    }

    if !run.caveats.is_empty() {
        md.push_str("### Caveats\n\n");
        for c in &run.caveats {
            let _ = writeln!(md, "- {}", redact_text(&c.to_string()));
        }
        md.push('\n');
    }

    if !run.environment.is_empty() {
        md.push_str("<details><summary>Environment</summary>\n\n");
        for (k, v) in &run.environment {
            let _ = writeln!(md, "- {k}: `{}`", redact_value(k, v));
        }
        md.push_str("\n</details>\n");
    }
    md
}

/// Writes `summary.md`.
#[derive(Debug, Clone, Copy, Default)]
pub struct MarkdownExporter;

impl Exporter for MarkdownExporter {
    fn name(&self) -> &'static str {
        MARKDOWN_FILE
    }

    fn export(&self, run: &RunData, dir: &Path) -> Result<(), ReportError> {
        write_file(dir, MARKDOWN_FILE, render(run).as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testdata::tiny_run;

    #[test]
    fn snapshot() {
        let got = render(&tiny_run());
        let want = r#"## tpcds-bench · `tiny` · ❌ SLO breached

Run `20260301T120000Z-tiny` started 2026-03-01 12:00:00 UTC, 3 s of load (first 1 s excluded as warmup).

Load: target 2.0 rows/s, achieved 1.5 rows/s (5 of 6 rows committed); late 1, dropped 0, failed 0.

### End-to-end latency (commit → visible)

**kafka**: seen 5, missing 0, duplicates 1, unexpected 0

| op | count | p50 | p90 | p99 | max | resolution |
|:--|--:|--:|--:|--:|--:|:--|
| all | 4 | 12 ms | 50 ms | 50 ms | 50 ms | push |
| insert | 3 | 12 ms | 30 ms | 30 ms | 30 ms | push |
| update | 1 | 50 ms | 50 ms | 50 ms | 50 ms | push |

**path1**: seen 3, missing 2, duplicates 0, unexpected 0

| op | count | p50 | p90 | p99 | max | resolution |
|:--|--:|--:|--:|--:|--:|:--|
| all | 2 | 150 ms | 250 ms | 250 ms | 250 ms | ≤ 100 ms (poll) |
| insert | 2 | 150 ms | 250 ms | 250 ms | 250 ms | ≤ 100 ms (poll) |
| sink-stamped arrival − bench_ts | 1 | 140 ms | 140 ms | 140 ms | 140 ms | server clock −1.5 ms ± 0.20 ms vs harness |

First missing: store_sales(ticket=7, item=42), …

### Client write latency (commit ack − intended time)

| op | count | p50 | p90 | p99 | max |
|:--|--:|--:|--:|--:|--:|
| all | 4 | 2.0 ms | 4.0 ms | 4.0 ms | 4.0 ms |
| insert | 3 | 2.0 ms | 4.0 ms | 4.0 ms | 4.0 ms |
| update | 1 | 3.0 ms | 3.0 ms | 3.0 ms | 3.0 ms |
| schedule lateness (send − intended) | 1 | 0.1 ms | 0.1 ms | 0.1 ms | 0.1 ms |

### SLO

- ❌ path1 missing 2 > max_missing 0

### Caveats

- path1 latency includes up to 100 ms of polling

<details><summary>Environment</summary>

- mysql.version: `10.11.6-MariaDB`
- warehouse.poll_ms: `100`

</details>
"#;
        assert_eq!(got, want);
    }
}
