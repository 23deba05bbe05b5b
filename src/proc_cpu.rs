//! The CPU the stack's processes and this one used, from /proc: every
//! process under each pid file of `$TPCDS_STACK_DIR/pids` (the native stack),
//! children included, reaped children through their parent's
//! `cutime`/`cstime`; the harness is this process; the machine's busy cores
//! from /proc/stat. A sweep's step and a snapshot's MySQL load read it. The
//! compose stack has no pid files: its CPU is not measured (a note says so).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The native stack's directory: `TPCDS_STACK_DIR` as `scripts/stack.sh`
/// has it, else the current checkout's own `.stack` when it holds pid files
/// (a run from the checkout that started the stack, the usual case).
pub fn stack_dir() -> Option<PathBuf> {
    std::env::var_os("TPCDS_STACK_DIR")
        .map(PathBuf::from)
        .or_else(|| Some(PathBuf::from(".stack")).filter(|d| d.join("pids").is_dir()))
}

/// The harness's own row in the CPU table.
pub const HARNESS: &str = "harness";

/// CPU used between two [`CpuSnapshot`]s.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CpuUse {
    /// CPU seconds per component (pid-file name, and `harness`).
    pub cpu_s: BTreeMap<String, f64>,
    /// Wall-clock seconds between the snapshots.
    pub wall_s: f64,
    /// CPUs of the machine.
    pub machine_cores: u32,
    /// Busy cores of the whole machine meanwhile (other stacks included).
    pub machine_busy_cores: Option<f64>,
    /// What could not be measured.
    pub notes: Vec<String>,
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
    pub fn until(&self, later: &CpuSnapshot) -> CpuUse {
        let wall_s = match (self.at, later.at) {
            (Some(a), Some(b)) => b.saturating_duration_since(a).as_secs_f64(),
            _ => 0.0,
        };
        let mut r = CpuUse {
            wall_s,
            machine_cores: std::thread::available_parallelism().map_or(1, |n| n.get() as u32),
            notes: later.notes.clone(),
            ..CpuUse::default()
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
