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
    /// Reach every target and report versions, binlog settings, Flink jobs and topics.
    Check(CheckArgs),
    /// Re-render a run directory's reports from its saved histograms.
    Report(ReportArgs),
}

/// Flags of `tpcds-bench run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The scenario file (TOML); see the README's scenario reference.
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
