//! What a reader of the derived and query figures must know: the probes
//! written besides the workload, what each derived sink's freshness spans,
//! and how the reads under load fared.

use std::fmt;
use std::time::Duration;

use super::probe::ProbeReport;
use super::reads::ReadReport;
use super::PROBE_STORE;
use crate::caveat::Caveat;
use crate::model::Sink;
use crate::scenario::Derived;

/// One fact of the derived and query sinks.
#[derive(Debug, Clone, PartialEq)]
pub enum DerivedCaveat {
    /// Probe sales written besides the workload.
    Probes {
        /// Probes committed.
        committed: u64,
        /// Probes per second.
        per_second: f64,
        /// Probe writes that failed.
        failed: u64,
    },
    /// What a view sink's freshness spans.
    ViewFreshness {
        /// The view sink.
        sink: Sink,
        /// The relation polled.
        relation: String,
        /// Its poll interval.
        poll_interval: Duration,
    },
    /// What the analytics topic's freshness spans.
    AnalyticsTopic,
    /// The reads under load: each query's answered and failed executions.
    Reads {
        /// The schema read.
        schema: String,
        /// Executions per second per query.
        per_second: f64,
        /// Per query sink.
        counts: Vec<(Sink, ReadReport)>,
    },
}

impl fmt::Display for DerivedCaveat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Probes {
                committed,
                per_second,
                failed,
            } => {
                write!(
                    f,
                    "{committed} probe sales (store {PROBE_STORE}, {per_second}/s, each its own date key) were written besides the workload and \
                     are counted at every sink; the derived sinks expect only them"
                )?;
                if *failed > 0 {
                    write!(f, " ({failed} probe writes failed)")?;
                }
                Ok(())
            }
            Self::ViewFreshness {
                sink,
                relation,
                poll_interval,
            } => write!(
                f,
                "{sink}: freshness of {relation} (commit ack → first poll showing the probe's group), poll every {}",
                humantime::format_duration(*poll_interval)
            ),
            Self::AnalyticsTopic => f.write_str(
                "metrics: commit ack → first tpcds.sales_metrics window result that includes the probe \
                 (a window holds up to ANALYTICS_WINDOW_SECONDS of probes, so this spans the window); \
                 metrics.server is window end → result read, on the Flink host's clock",
            ),
            Self::Reads {
                schema,
                per_second,
                counts,
            } => {
                let each: Vec<String> = counts
                    .iter()
                    .map(|(q, r)| format!("{q} {} ok/{} failed", r.ok, r.failed))
                    .collect();
                write!(
                    f,
                    "reads under load over {schema}.*, {per_second}/s each, latency from the intended start: {}",
                    each.join(", ")
                )
            }
        }
    }
}

/// The caveats of the derived and query sinks among `sinks`, configured by
/// `spec`, after the probe writer's and the query runners' reports.
pub fn caveats(
    sinks: &[Sink],
    spec: &Derived,
    probes: &ProbeReport,
    reads: &[(Sink, ReadReport)],
) -> Vec<Caveat> {
    let wants = |sink| sinks.contains(&sink);
    let mut out = Vec::new();
    if Sink::DERIVED.iter().any(|d| wants(*d)) {
        out.push(DerivedCaveat::Probes {
            committed: probes.committed,
            per_second: spec.probes_per_second,
            failed: probes.failed,
        });
    }
    for sink in [Sink::Path1View, Sink::Path2View] {
        if wants(sink) {
            out.push(DerivedCaveat::ViewFreshness {
                sink,
                relation: spec.relation_name(sink),
                poll_interval: spec.poll_interval,
            });
        }
    }
    if wants(Sink::Metrics) {
        out.push(DerivedCaveat::AnalyticsTopic);
    }
    if !reads.is_empty() {
        out.push(DerivedCaveat::Reads {
            schema: spec.reads_schema.clone(),
            per_second: spec.reads_per_second,
            counts: reads.to_vec(),
        });
    }
    out.into_iter().map(Caveat::new).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes_say_how_many_failed_only_when_some_did() {
        let ok = DerivedCaveat::Probes {
            committed: 12,
            per_second: 2.0,
            failed: 0,
        };
        assert_eq!(
            ok.to_string(),
            "12 probe sales (store 999, 2/s, each its own date key) were written besides the workload and \
             are counted at every sink; the derived sinks expect only them"
        );
        let failed = DerivedCaveat::Probes {
            committed: 12,
            per_second: 2.0,
            failed: 3,
        };
        assert!(failed
            .to_string()
            .ends_with("expect only them (3 probe writes failed)"));
    }

    #[test]
    fn reads_list_every_query() {
        let r = DerivedCaveat::Reads {
            schema: "path1".into(),
            per_second: 0.5,
            counts: vec![(Sink::ALL[0], ReadReport { ok: 4, failed: 1 })],
        };
        let text = r.to_string();
        assert!(
            text.starts_with("reads under load over path1.*, 0.5/s each"),
            "{text}"
        );
        assert!(text.ends_with("4 ok/1 failed"), "{text}");
    }
}
