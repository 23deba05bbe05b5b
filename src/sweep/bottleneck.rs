//! Names the likely bottleneck of a sink at its knee, from the first step past
//! it (where the component gave out) with the evidence, in this order:
//! a Flink operator chain of the sink's jobs busy ≥ [`BUSY_SATURATED`] of its
//! time; the load falling short of its target (MySQL or the harness); the
//! machine's CPUs all busy (≥ [`MACHINE_SATURATED`]; other stacks on the
//! machine count too); otherwise the component that used the most CPU.

use crate::model::Sink;

use super::resources::VertexLoad;
use super::Step;

/// Busy milliseconds per second of a chain that count as saturated.
pub const BUSY_SATURATED: f64 = 700.0;
/// Share of the machine's cores busy that counts as saturated.
pub const MACHINE_SATURATED: f64 = 0.9;

/// Whether a Flink job (by name) carries `sink`'s rows.
pub fn job_serves(job: &str, sink: Sink) -> bool {
    match sink {
        Sink::Kafka => job.contains("to-kafka"),
        Sink::Path1 => job.contains("to-kafka") || job.contains("kafka-to"),
        Sink::Path2 => job.contains("cdc-to-cloudberry") || job.contains("cdc-to-warehouse"),
        _ => false,
    }
}

fn busiest(step: &Step, sink: Sink) -> Option<&VertexLoad> {
    step.resources
        .vertices
        .iter()
        .filter(|v| job_serves(&v.job, sink))
        .max_by(|a, b| a.busy_ms_per_s.total_cmp(&b.busy_ms_per_s))
}

/// The top CPU users of `step`, "flink-taskmanager 0.92 cores, mysql 0.41".
pub fn top_cpu(step: &Step, n: usize) -> String {
    let mut c: Vec<(&String, f64)> = step
        .resources
        .cpu_s
        .keys()
        .filter_map(|k| Some((k, step.resources.cores(k)?)))
        .collect();
    c.sort_by(|a, b| b.1.total_cmp(&a.1));
    c.iter()
        .take(n)
        .map(|(k, v)| format!("{k} {v:.2} cores"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One line: the likely bottleneck of `sink` between `at` (the knee) and `past`.
pub fn name(sink: Sink, at: &Step, past: &Step) -> String {
    let r = &past.resources;
    let cpu = top_cpu(past, 3);
    let evidence = format!(
        "at {:.0} rows/s target: {}{}",
        past.target_rate,
        if cpu.is_empty() {
            "CPU not measured"
        } else {
            cpu.as_str()
        },
        r.machine_busy_cores
            .map(|b| format!("; machine {b:.1} of {} cores busy", r.machine_cores))
            .unwrap_or_default()
    );
    if let Some(v) = busiest(past, sink).filter(|v| v.busy_ms_per_s >= BUSY_SATURATED) {
        return format!(
            "{sink}: Flink TaskManager busy {:.0} % in {} ({}); {evidence}",
            v.busy_ms_per_s / 10.0,
            v.vertex,
            v.job
        );
    }
    if past.achieved_ratio() < super::DEFAULT_MIN_ACHIEVED {
        return format!(
            "{sink}: the load fell short of its target (achieved/target {:.2}, was {:.2} at the knee): MySQL or the harness; {evidence}",
            past.achieved_ratio(),
            at.achieved_ratio()
        );
    }
    if let Some(b) = r.machine_busy_cores {
        if b >= MACHINE_SATURATED * r.machine_cores as f64 {
            return format!("{sink}: the machine's CPUs; {evidence}");
        }
    }
    let vertex = busiest(past, sink)
        .map(|v| {
            format!(
                "; busiest chain {} busy {:.0} %, backpressured {:.0} %",
                v.vertex,
                v.busy_ms_per_s / 10.0,
                v.backpressured_ms_per_s / 10.0
            )
        })
        .unwrap_or_default();
    if past.resources.cpu_s.is_empty() {
        format!("{sink}: not identified (no CPU figures); {evidence}{vertex}")
    } else {
        format!(
            "{sink}: no component saturated; the largest CPU user is first in {evidence}{vertex}"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::resources::Resources;

    fn step(rate: f64, achieved: f64, busy: f64) -> Step {
        Step {
            target_rate: rate,
            achieved_rate: achieved,
            resources: Resources {
                cpu_s: [
                    ("flink-taskmanager".to_string(), 18.0),
                    ("mysql".to_string(), 8.0),
                ]
                .into(),
                wall_s: 20.0,
                machine_cores: 2,
                machine_busy_cores: Some(1.2),
                vertices: vec![VertexLoad {
                    job: "tpcds-mysql-cdc-to-cloudberry".into(),
                    vertex: "Sink: store_sales".into(),
                    busy_ms_per_s: busy,
                    backpressured_ms_per_s: 0.0,
                    samples: 5,
                }],
                ..Resources::default()
            },
            ..Step::default()
        }
    }

    #[test]
    fn a_saturated_chain_of_the_sinks_job_is_named_first() {
        let s = name(
            Sink::Path2,
            &step(500.0, 500.0, 300.0),
            &step(1000.0, 1000.0, 980.0),
        );
        assert!(
            s.starts_with("path2: Flink TaskManager busy 98 % in Sink: store_sales"),
            "{s}"
        );
        assert!(
            s.contains("flink-taskmanager 0.90 cores, mysql 0.40 cores"),
            "{s}"
        );
        // Path 1's jobs are others: the chain is not path 1's.
        let s = name(
            Sink::Path1,
            &step(500.0, 500.0, 300.0),
            &step(1000.0, 1000.0, 980.0),
        );
        assert!(!s.contains("TaskManager busy"), "{s}");
    }

    #[test]
    fn a_short_load_is_named_when_no_chain_is_saturated() {
        let s = name(
            Sink::Path2,
            &step(500.0, 500.0, 100.0),
            &step(1000.0, 800.0, 100.0),
        );
        assert!(
            s.contains("the load fell short of its target (achieved/target 0.80"),
            "{s}"
        );
    }
}
