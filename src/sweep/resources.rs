//! What each stack component used during a step: CPU seconds from /proc for
//! the native stack (every process under each pid file of
//! `$TPCDS_STACK_DIR/pids`, children included, reaped children through their
//! parent's `cutime`/`cstime`; the harness is this process), the machine's busy
//! cores from /proc/stat, and Flink's busy and backpressured milliseconds per
//! second per job vertex (REST, the busiest subtask, sampled every
//! [`VERTEX_EVERY`] after warmup). The compose stack has no pid files: its CPU
//! is not measured (a note says so).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::observe::preflight::flink::get;

/// Time between two samples of Flink's vertex metrics.
pub const VERTEX_EVERY: Duration = Duration::from_secs(2);
/// Timeout of one REST request.
const REQUEST_TIMEOUT: Duration = Duration::from_millis(800);
/// The harness's own row in the CPU table.
pub const HARNESS: &str = "harness";

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

/// CPU counters at one moment.
#[derive(Debug, Clone, Default)]
pub struct CpuSnapshot {
    at: Option<Instant>,
    /// Seconds per component.
    seconds: BTreeMap<String, f64>,
    /// (busy, total) jiffies of the whole machine.
    machine: Option<(u64, u64)>,
    notes: Vec<String>,
}

/// Clock ticks per second of /proc's counters (`USER_HZ`, 100 on Linux unless `getconf` says otherwise).
fn clock_ticks() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok()?.trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// `(ppid, utime + stime + cutime + cstime)` of a `/proc/<pid>/stat` line.
pub fn parse_stat(line: &str) -> Option<(u32, u64)> {
    let rest = &line[line.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let n = |i: usize| f.get(i)?.parse::<u64>().ok();
    Some((n(1)? as u32, n(11)? + n(12)? + n(13)? + n(14)?))
}

/// Every process: pid → (ppid, jiffies).
fn processes() -> BTreeMap<u32, (u32, u64)> {
    let mut out = BTreeMap::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    for e in dir.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        if let Some(v) = std::fs::read_to_string(e.path().join("stat"))
            .ok()
            .and_then(|l| parse_stat(&l))
        {
            out.insert(pid, v);
        }
    }
    out
}

/// Jiffies of `root` and every descendant.
fn tree_jiffies(procs: &BTreeMap<u32, (u32, u64)>, root: u32) -> Option<u64> {
    procs.get(&root)?;
    let mut total = 0;
    let mut stack = vec![root];
    while let Some(p) = stack.pop() {
        total += procs.get(&p).map_or(0, |v| v.1);
        stack.extend(procs.iter().filter(|(_, v)| v.0 == p).map(|(c, _)| *c));
    }
    Some(total)
}

fn machine_jiffies() -> Option<(u64, u64)> {
    let text = std::fs::read_to_string("/proc/stat").ok()?;
    let cpu: Vec<u64> = text
        .lines()
        .next()?
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    let total: u64 = cpu.iter().take(8).sum();
    let idle = cpu.get(3)? + cpu.get(4).unwrap_or(&0);
    Some((total - idle, total))
}

impl CpuSnapshot {
    /// Reads every component under `stack_dir/pids` and this process.
    pub fn take(stack_dir: Option<&Path>) -> CpuSnapshot {
        let procs = processes();
        let ticks = clock_ticks();
        let mut s = CpuSnapshot {
            at: Some(Instant::now()),
            machine: machine_jiffies(),
            ..CpuSnapshot::default()
        };
        if let Some(j) = tree_jiffies(&procs, std::process::id()) {
            s.seconds.insert(HARNESS.into(), j as f64 / ticks);
        }
        let Some(dir) = stack_dir else {
            s.notes
                .push("TPCDS_STACK_DIR is not set and ./.stack has no pid files: the stack's CPU is not measured".into());
            return s;
        };
        let Ok(files) = std::fs::read_dir(dir.join("pids")) else {
            s.notes.push(format!(
                "no pid files under {}/pids (the compose stack?): the stack's CPU is not measured",
                dir.display()
            ));
            return s;
        };
        for f in files.flatten() {
            let name = f.file_name().to_string_lossy().into_owned();
            let Some(component) = name.strip_suffix(".pid") else {
                continue;
            };
            let pid = std::fs::read_to_string(f.path())
                .ok()
                .and_then(|t| t.split_whitespace().next()?.parse::<u32>().ok());
            match pid.and_then(|p| tree_jiffies(&procs, p)) {
                Some(j) => {
                    s.seconds.insert(component.to_string(), j as f64 / ticks);
                }
                None => s
                    .notes
                    .push(format!("{component}: its pid file names no live process")),
            }
        }
        s
    }

    /// CPU used between `self` (earlier) and `later`.
    pub fn until(&self, later: &CpuSnapshot) -> Resources {
        let wall_s = match (self.at, later.at) {
            (Some(a), Some(b)) => b.saturating_duration_since(a).as_secs_f64(),
            _ => 0.0,
        };
        let mut r = Resources {
            wall_s,
            machine_cores: std::thread::available_parallelism().map_or(1, |n| n.get() as u32),
            notes: later.notes.clone(),
            ..Resources::default()
        };
        for (k, after) in &later.seconds {
            match self.seconds.get(k) {
                // A restarted component's counters start again from 0.
                Some(before) if after >= before => {
                    r.cpu_s.insert(k.clone(), after - before);
                }
                Some(_) => r
                    .notes
                    .push(format!("{k} restarted during the step: its CPU is unknown")),
                None => {}
            }
        }
        if let (Some((b0, t0)), Some((b1, t1))) = (self.machine, later.machine) {
            if t1 > t0 {
                let share = (b1 - b0) as f64 / (t1 - t0) as f64;
                r.machine_busy_cores = Some(share * r.machine_cores as f64);
            }
        }
        r
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stat_line_with_spaces_in_its_name_parses() {
        let line =
            "4242 (java (flink) x) S 17 4242 4242 0 -1 4194560 10 0 0 0 250 50 7 3 20 0 1 0 100";
        assert_eq!(parse_stat(line), Some((17, 310)));
    }

    #[test]
    fn this_process_is_measured_and_nothing_is_negative() {
        let a = CpuSnapshot::take(None);
        let mut x = 0u64;
        for i in 0..3_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        assert!(x != 1);
        let b = CpuSnapshot::take(None);
        let r = a.until(&b);
        assert!(r.cpu_s[HARNESS] >= 0.0);
        assert!(
            r.notes.iter().any(|n| n.contains("TPCDS_STACK_DIR")),
            "{:?}",
            r.notes
        );
    }
}
