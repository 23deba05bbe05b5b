//! `tpcds-bench merge DIR… --out DIR`: the shards of one sharded run joined
//! into one run directory.

use crate::cli::MergeArgs;
use crate::compare::merge::{merge as merge_runs, ShardRun};
use crate::exit::{Classified, Exit};
use crate::report::{load_run, write_run_dir};

/// Reads the shards, merges them, writes the merged run directory; exits
/// like `run` would have on the merged figures (0, or 1 on an SLO breach).
pub fn merge(args: MergeArgs) -> anyhow::Result<Exit> {
    let classify =
        |e: crate::report::ReportError| Classified::new(Exit::from_code(e.exit_code()), e);
    let loaded = args
        .dirs
        .iter()
        .map(|d| load_run(d).map_err(classify))
        .collect::<Result<Vec<_>, _>>()?;
    let shards: Vec<ShardRun<'_>> = loaded
        .iter()
        .map(|l| ShardRun {
            dir: l.dir.display().to_string(),
            run: &l.run,
        })
        .collect();
    let run = merge_runs(&shards, args.partial).map_err(|e| Classified::new(Exit::BadInput, e))?;
    let dir = write_run_dir(&args.out, &run).map_err(|e| Classified::new(Exit::Fault, e))?;
    print!("{}", crate::report::markdown::render(&run));
    println!("\nrun directory: {}", dir.display());
    Ok(if run.slo.passed {
        Exit::Ok
    } else {
        Exit::Breach
    })
}
