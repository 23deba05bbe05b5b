//! Command-line interface: the flags, their help text, and nothing else.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Load-testing and latency harness for MySQL → Flink CDC → Kafka → warehouse
/// pipelines on the TPC-DS sales model.
#[derive(Debug, Parser)]
#[command(name = "tpcds-bench", version, about, long_about = None, after_help = EXIT_HELP)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Appended to `--help`: the exit codes are part of the interface.
const EXIT_HELP: &str = "Exit codes: 0 success, 1 SLO breach or regression, 2 bad input, \
3 target unreachable or misconfigured, 4 fault during the run, 130 interrupted.";

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a scenario: load MySQL at the target rate, observe every sink, write a run directory.
    Run(RunArgs),
    /// Run a scenario at a series of rates (`--rates`, `--from/--to/--factor`) or
    /// search for the highest rate every SLO holds at (`--find-max`); writes a
    /// sweep directory with the latency–throughput curves, each step a run directory.
    Sweep(SweepArgs),
    /// Reach every target and report versions, binlog settings, Flink jobs and topics.
    Check(CheckArgs),
    /// Re-render a run directory's reports from its saved histograms.
    Report(ReportArgs),
    /// Two runs side by side per sink with deltas and confidence intervals, or
    /// path 1 vs path 2 of one run (paired by second).
    Compare(CompareArgs),
    /// CI regression gate: exit 1 when p99 got worse beyond noise and the
    /// practical floors, or an SLO of the current run failed.
    Gate(GateArgs),
    /// Count, and with `--yes` delete, a run's rows in MySQL and both warehouse
    /// paths (by the run's ticket range; Kafka keeps its messages until retention).
    Clean(CleanArgs),
    /// Join the run directories of a sharded run (`run --shard I/N`) into one
    /// run directory that `report`, `compare` and `gate` read like any other.
    Merge(MergeArgs),
    /// Compare a run's rows in each warehouse path, and Kafka's last image of
    /// each key (read back from the topics), with MySQL's, value for value
    /// (exit 0 equal, 1 different), e.g. again after a fault or a replay.
    Audit(AuditArgs),
}

/// Flags of `tpcds-bench audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// The run directory whose rows to audit (its ticket range is in summary.json).
    pub run_dir: PathBuf,

    /// Take the targets from this scenario file (otherwise defaults and environment;
    /// the run directory's copy has its passwords masked).
    #[arg(long)]
    pub scenario: Option<PathBuf>,

    /// Print the audit as JSON (the layout of summary.json's `audit`) instead of lines.
    #[arg(long)]
    pub json: bool,

    /// Audit only these sinks (`kafka`, `path1`, `path2`), e.g. `--sinks path1`
    /// after a repair of path 1 (default: those the run observed).
    #[arg(long, value_delimiter = ',', value_name = "SINK,...")]
    pub sinks: Vec<String>,
}

/// Flags of `tpcds-bench clean`.
#[derive(Debug, Args)]
pub struct CleanArgs {
    /// The run directory whose rows to remove (its ticket range is in summary.json).
    pub run_dir: PathBuf,

    /// Take the targets from this scenario file (otherwise defaults and environment;
    /// the run directory's copy has its passwords masked).
    #[arg(long)]
    pub scenario: Option<PathBuf>,

    /// Delete the rows; without it, only count them.
    #[arg(long)]
    pub yes: bool,
}

/// Flags of `tpcds-bench run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The scenario file (TOML); every key is in docs/SCENARIO.md.
    pub scenario: PathBuf,

    /// Override a scenario key, e.g. `--set load.rate.per_second=2000` (repeatable);
    /// validated like the file itself.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,

    /// Directory that receives the run directory `<timestamp>-<scenario>/`.
    #[arg(long, default_value = "reports", env = "TPCDS_REPORTS_DIR")]
    pub out: PathBuf,

    /// Print no live progress line (CI logs stay short).
    #[arg(long)]
    pub quiet: bool,

    /// Carry out the scenario's `[[faults]]` and `[control] script`: they stop,
    /// kill and restart services and run the program the file names, so such
    /// a scenario is trusted code. Without this flag it is refused (exit 2),
    /// listing what it would do.
    #[arg(long)]
    pub allow_faults: bool,

    /// Serve the run's figures as OpenMetrics at http://ADDR/metrics while it
    /// lasts, e.g. 127.0.0.1:9464 (sets the scenario's `live.addr`; loopback
    /// unless you name another interface).
    #[arg(long, value_name = "ADDR")]
    pub metrics_addr: Option<String>,

    /// Run as shard I of N (`0/3`, `1/3`, `2/3`): this process runs the I-th
    /// block of the scenario's workers and writes and tracks only their rows;
    /// `tpcds-bench merge` joins the shards' run directories into one. Also from
    /// `TPCDS_SHARD`, or from `JOB_COMPLETION_INDEX` with `TPCDS_SHARD_COUNT`
    /// (a Kubernetes Indexed Job). Needs `--start-at` when N > 1.
    #[arg(long, env = "TPCDS_SHARD", value_name = "I/N")]
    pub shard: Option<String>,

    /// When the load starts, on the wall clock: RFC 3339 (`2026-12-05T17:00:00Z`)
    /// or unix seconds. Every shard of a run gets the same value; it also picks
    /// the run's ticket range, so a new run needs a new time.
    #[arg(long, env = "TPCDS_START_AT", value_name = "TIME")]
    pub start_at: Option<String>,
}

/// Flags of `tpcds-bench merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The shards' run directories (one per shard of the same run).
    #[arg(required = true, num_args = 1..)]
    pub dirs: Vec<PathBuf>,

    /// Directory that receives the merged run directory `<timestamp>-<scenario>/`.
    #[arg(long, env = "TPCDS_REPORTS_DIR")]
    pub out: PathBuf,

    /// Merge even when shards are missing: the result says which, and its
    /// target counts only the shards present.
    #[arg(long)]
    pub partial: bool,
}

/// Flags of `tpcds-bench sweep`.
#[derive(Debug, Args)]
pub struct SweepArgs {
    /// The scenario file (TOML): its mix, seed and step length (duration, warmup,
    /// drain_timeout) at each rate; `[sweep]` and `[slo]` set the defaults of the flags below.
    pub scenario: PathBuf,

    /// Target rates in rows/s, run in this order, e.g. `--rates 250,500,1000`.
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "RATE,...",
        allow_negative_numbers = true
    )]
    pub rates: Vec<f64>,

    /// First rate of the geometric series (rows/s; default `sweep.from`).
    #[arg(long, allow_negative_numbers = true)]
    pub from: Option<f64>,

    /// Last rate of the series, and the highest the search tries (rows/s; default `sweep.to`).
    #[arg(long, allow_negative_numbers = true)]
    pub to: Option<f64>,

    /// Ratio between two rates of the series, and the search's growth factor (> 1).
    #[arg(long, allow_negative_numbers = true)]
    pub factor: Option<f64>,

    /// Search for the highest rate at which every SLO holds, per sink: grow by
    /// the factor until a step fails, then bisect to `sweep.resolution`.
    #[arg(long)]
    pub find_max: bool,

    /// A p99 limit for the search, e.g. `--p99 path2=1s` (repeatable; replaces
    /// `slo.p99_ms` for that sink).
    #[arg(long = "p99", value_name = "SINK=LATENCY")]
    pub p99: Vec<String>,

    /// Override a scenario key for every step (as `run --set`).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,

    /// Directory that receives the sweep directory `<timestamp>-sweep-<scenario>/`.
    #[arg(long, default_value = "reports", env = "TPCDS_REPORTS_DIR")]
    pub out: PathBuf,

    /// No per-second progress inside steps (the line per step stays).
    #[arg(long)]
    pub quiet: bool,
}

/// Flags of `tpcds-bench check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Take the targets from this scenario file (otherwise defaults and environment).
    #[arg(long)]
    pub scenario: Option<PathBuf>,
}

/// Flags of `tpcds-bench report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A run directory written by `tpcds-bench run`.
    pub run_dir: PathBuf,
}

/// How confidence intervals are computed (shared by `compare` and `gate`).
#[derive(Debug, Clone, Args)]
pub struct BootstrapArgs {
    /// Two-sided confidence level of the intervals, in (0, 1). For `gate`, the
    /// level of the whole verdict: each of its k sinks is judged at 1 − (1 − LEVEL)/k.
    #[arg(long, default_value_t = 0.95, value_name = "LEVEL")]
    pub confidence: f64,

    /// Bootstrap replicates (more: steadier interval ends, slower).
    #[arg(long, default_value_t = 2000, value_name = "N")]
    pub replicates: usize,

    /// Block length in seconds; default: estimated from the autocorrelation of
    /// the per-second p99 and counts (at least √n).
    #[arg(long, value_name = "SECONDS")]
    pub block_seconds: Option<usize>,

    /// RNG seed of the bootstrap; the same runs and seed give the same intervals.
    #[arg(long, default_value_t = 0x7470_6364_735f_6761)]
    pub seed: u64,
}

/// Flags of `tpcds-bench compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Run directory A (the baseline). Given alone: path 1 vs path 2 of this run.
    pub a: PathBuf,

    /// Run directory B (compared with A, sink by sink).
    pub b: Option<PathBuf>,

    /// Compare even when a polled sink's latencies end at different moments
    /// in A and B (commit timestamp, `arrived_at`, or the poll's sighting;
    /// `summary.json` → `sinks.<sink>.visibility.source`). Other fingerprint
    /// differences are only listed.
    #[arg(long)]
    pub force: bool,

    /// Interval settings.
    #[command(flatten)]
    pub bootstrap: BootstrapArgs,
}

/// Flags of `tpcds-bench gate`.
#[derive(Debug, Args)]
pub struct GateArgs {
    /// The baseline run directory (e.g. stored in the repository or a CI
    /// artifact). Several (`--baseline a b c` or repeated): their seconds are
    /// pooled, and each sink's interval is at least as wide as the prediction
    /// interval of one more baseline run from their per-run p99s, so the
    /// machine's run-to-run swings are not called a regression.
    #[arg(long, required = true, num_args = 1.., value_name = "RUN_DIR")]
    pub baseline: Vec<PathBuf>,

    /// The run directory to judge.
    #[arg(long)]
    pub current: PathBuf,

    /// Least relative p99 increase that counts as a regression (0.25 = 25 %).
    #[arg(long, default_value_t = 0.25, value_name = "FRACTION")]
    pub min_relative: f64,

    /// Least absolute p99 increase that counts, in ms; raised per sink to what
    /// bounds its figures (`resolution_us`: a commit timestamp's uncertainty,
    /// or the poll's detection window where the poll is the source).
    #[arg(long, default_value_t = 20.0, value_name = "MS")]
    pub min_absolute_ms: f64,

    /// Compare even when the scenario or environment fingerprints differ, or
    /// a polled sink's latencies end at different moments (commit timestamp,
    /// `arrived_at`, or the poll's sighting) in any two of the runs (the
    /// differences are listed in the verdict, and warned about on stderr).
    #[arg(long)]
    pub force: bool,

    /// Sweep directories only: least drop of a sink's highest sustainable rate
    /// that counts as a regression, beyond the baseline sweeps' own spread (0.2 = 20 %).
    #[arg(long, default_value_t = 0.20, value_name = "FRACTION")]
    pub min_rate_drop: f64,

    /// Also write the verdict as JUnit XML (one test case per sink and per SLO).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,

    /// Interval settings.
    #[command(flatten)]
    pub bootstrap: BootstrapArgs,
}
