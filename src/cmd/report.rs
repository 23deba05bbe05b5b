//! `tpcds-bench report RUN_DIR`: re-render every file of a run directory from
//! its saved histograms and summary alone.

use crate::cli::ReportArgs;
use crate::exit::{Classified, Exit};
use crate::report::{load_run, rewrite_run_dir};

/// Re-renders a run directory in place.
pub fn report(args: ReportArgs) -> anyhow::Result<Exit> {
    let classify =
        |e: crate::report::ReportError| Classified::new(Exit::from_code(e.exit_code()), e);
    let loaded = load_run(&args.run_dir).map_err(classify)?;
    rewrite_run_dir(&args.run_dir, &loaded.run).map_err(classify)?;
    println!("re-rendered {}", args.run_dir.display());
    Ok(Exit::Ok)
}
