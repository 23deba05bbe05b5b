//! What each stack component used during a step: CPU seconds of the native
//! stack's processes and the machine's busy cores ([`crate::proc_cpu`]), and
//! Flink's busy and backpressured milliseconds per
//! second per job vertex (REST, the busiest subtask, sampled every
//! [`VERTEX_EVERY`] after warmup). The compose stack has no pid files: its CPU
//! is not measured (a note says so).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::watch;

pub use crate::proc_cpu::CpuSnapshot;
use crate::proc_cpu::CpuUse;
use crate::targets::flink::get;

/// Time between two samples of Flink's vertex metrics.
pub const VERTEX_EVERY: Duration = Duration::from_secs(2);
/// Timeout of one REST request.
const REQUEST_TIMEOUT: Duration = Duration::from_millis(800);

/// Flink's view of one operator chain during a step.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct VertexLoad {
    /// Job name.
    pub job: String,
    /// Vertex (operator chain) name, shortened.
    pub vertex: String,
    /// Mean over samples of the busiest subtask's `busyTimeMsPerSecond`.
    pub busy_ms_per_s: f64,
    /// Mean of `backPressuredTimeMsPerSecond`.
    pub backpressured_ms_per_s: f64,
    /// Samples taken.
    pub samples: u32,
}

/// What the stack used during one step.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Resources {
    /// CPU seconds per component over the step (pid-file name, and `harness`).
    pub cpu_s: BTreeMap<String, f64>,
    /// Wall-clock seconds the CPU was measured over.
    pub wall_s: f64,
    /// CPUs of the machine.
    pub machine_cores: u32,
    /// Busy cores of the whole machine over the step (other stacks included).
    pub machine_busy_cores: Option<f64>,
    /// Flink's operator chains.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vertices: Vec<VertexLoad>,
    /// Highest path 1 consumer lag of the step (messages, checkpoint granularity).
    pub kafka_lag_max: Option<i64>,
    /// Longest latest-checkpoint duration seen in the step (ms).
    pub checkpoint_ms_max: Option<u64>,
    /// What could not be measured.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl Resources {
    /// Cores a component used on average over the step.
    pub fn cores(&self, component: &str) -> Option<f64> {
        Some(self.cpu_s.get(component)? / self.wall_s.max(f64::MIN_POSITIVE))
    }

    /// CPU seconds a component spent per 1,000 committed rows.
    pub fn per_1000_rows(&self, component: &str, rows: u64) -> Option<f64> {
        Some(self.cpu_s.get(component)? * 1000.0 / rows.max(1) as f64)
    }
}

impl From<CpuUse> for Resources {
    fn from(u: CpuUse) -> Resources {
        Resources {
            cpu_s: u.cpu_s,
            wall_s: u.wall_s,
            machine_cores: u.machine_cores,
            machine_busy_cores: u.machine_busy_cores,
            notes: u.notes,
            ..Resources::default()
        }
    }
}

/// Samples Flink's vertices every [`VERTEX_EVERY`] from `skip` on until `stop`.
pub async fn sample_vertices(
    base: String,
    skip: Duration,
    mut stop: watch::Receiver<bool>,
) -> Vec<VertexLoad> {
    let mut acc: BTreeMap<(String, String), VertexLoad> = BTreeMap::new();
    let start = tokio::time::Instant::now() + skip;
    let mut tick = tokio::time::interval_at(start, VERTEX_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            c = stop.changed() => if c.is_err() || *stop.borrow() { break } else { continue },
        }
        for (job, vertex, busy, bp) in vertex_sample(&base).await {
            let v = acc
                .entry((job.clone(), vertex.clone()))
                .or_insert(VertexLoad {
                    job,
                    vertex,
                    ..VertexLoad::default()
                });
            // Running means: the step's average load of the chain.
            let n = f64::from(v.samples);
            v.busy_ms_per_s = (v.busy_ms_per_s * n + busy) / (n + 1.0);
            v.backpressured_ms_per_s = (v.backpressured_ms_per_s * n + bp) / (n + 1.0);
            v.samples += 1;
        }
    }
    acc.into_values().collect()
}

async fn json(base: &str, path: &str) -> Option<serde_json::Value> {
    let (status, body) = get(base, path, REQUEST_TIMEOUT).await.ok()?;
    (status == 200).then(|| serde_json::from_slice(&body).ok())?
}

/// (job, vertex, busy, backpressured) of every vertex of every running job.
async fn vertex_sample(base: &str) -> Vec<(String, String, f64, f64)> {
    let mut out = Vec::new();
    let Some(overview) = json(base, "/jobs/overview").await else {
        return out;
    };
    let jobs = overview["jobs"].as_array().cloned().unwrap_or_default();
    for j in jobs.iter().filter(|j| j["state"] == "RUNNING") {
        let (Some(jid), Some(name)) = (j["jid"].as_str(), j["name"].as_str()) else {
            continue;
        };
        let Some(detail) = json(base, &format!("/jobs/{jid}")).await else {
            continue;
        };
        for v in detail["vertices"].as_array().cloned().unwrap_or_default() {
            let Some(vid) = v["id"].as_str() else {
                continue;
            };
            let path = format!(
                "/jobs/{jid}/vertices/{vid}/subtasks/metrics?get=busyTimeMsPerSecond,backPressuredTimeMsPerSecond&agg=max"
            );
            let Some(m) = json(base, &path).await else {
                continue;
            };
            let metric = |id: &str| {
                m.as_array()?
                    .iter()
                    .find(|x| x["id"] == id)?
                    .get("max")?
                    .as_f64()
                    .filter(|x| x.is_finite())
            };
            let vertex: String = v["name"].as_str().unwrap_or(vid).chars().take(70).collect();
            out.push((
                name.to_string(),
                vertex,
                metric("busyTimeMsPerSecond").unwrap_or(0.0),
                metric("backPressuredTimeMsPerSecond").unwrap_or(0.0),
            ));
        }
    }
    out
}
