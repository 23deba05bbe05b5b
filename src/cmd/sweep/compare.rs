//! `compare` and `gate` given sweep directories: the highest sustainable rate
//! per sink side by side, and the rate gate. Fingerprints follow the runs'
//! rules, on each sweep's first step (the same rate when the sweeps share a
//! `from` or a first `--rates` entry).

use std::path::Path;

use crate::cli::{CompareArgs, GateArgs};
use crate::compare::fingerprint::differences;
use crate::compare::sweeps::{judge, render_compare, render_gate};
use crate::exit::{fail, Classified, Exit};
use crate::report::load_run;
use crate::sweep::load::{is_sweep_dir, load_sweep};
use crate::sweep::Sweep;

/// Whether any of `dirs` is a sweep directory.
pub fn any_sweep<'a>(dirs: impl IntoIterator<Item = &'a Path>) -> bool {
    dirs.into_iter().any(is_sweep_dir)
}

fn load(dir: &Path) -> anyhow::Result<Sweep> {
    if !is_sweep_dir(dir) {
        return fail(
            Exit::BadInput,
            anyhow::anyhow!(
                "{}: not a sweep directory (no sweep.json); sweeps are compared with sweeps, runs with runs",
                dir.display()
            ),
        );
    }
    load_sweep(dir).map_err(|e| Classified::new(Exit::BadInput, e).into())
}

/// The fingerprint differences of two sweeps' first steps, as lines.
fn fingerprint_diffs(
    a_dir: &Path,
    a: &Sweep,
    b_dir: &Path,
    b: &Sweep,
) -> anyhow::Result<Vec<String>> {
    let first = |dir: &Path, s: &Sweep| -> anyhow::Result<crate::report::RunData> {
        let step = s.steps.first().ok_or_else(|| {
            Classified::new(
                Exit::BadInput,
                anyhow::anyhow!("{}: the sweep has no steps", dir.display()),
            )
        })?;
        load_run(&dir.join(&step.run_dir))
            .map(|l| l.run)
            .map_err(|e| Classified::new(Exit::BadInput, e).into())
    };
    let (x, y) = (first(a_dir, a)?, first(b_dir, b)?);
    Ok(differences(&x, &y)
        .iter()
        .map(|d| format!("  {d}"))
        .collect())
}

/// `compare A B` of two sweeps.
pub fn compare(args: &CompareArgs) -> anyhow::Result<Exit> {
    let Some(b_dir) = &args.b else {
        return fail(
            Exit::BadInput,
            anyhow::anyhow!(
                "{}: a sweep is compared with another sweep: give two sweep directories",
                args.a.display()
            ),
        );
    };
    let (a, b) = (load(&args.a)?, load(b_dir)?);
    let diffs = fingerprint_diffs(&args.a, &a, b_dir, &b)?;
    print!(
        "{}",
        render_compare(
            &a,
            &b,
            &args.a.display().to_string(),
            &b_dir.display().to_string()
        )
    );
    if !diffs.is_empty() {
        println!(
            "\nfingerprint differences (first steps):\n{}",
            diffs.join("\n")
        );
    }
    Ok(Exit::Ok)
}

/// `gate --baseline SWEEP… --current SWEEP`.
pub fn gate(args: &GateArgs) -> anyhow::Result<Exit> {
    if !(args.min_rate_drop >= 0.0 && args.min_rate_drop < 1.0) {
        return fail(
            Exit::BadInput,
            anyhow::anyhow!(
                "--min-rate-drop {}: must be a fraction in [0, 1), e.g. 0.2",
                args.min_rate_drop
            ),
        );
    }
    let bases = args
        .baseline
        .iter()
        .map(|d| load(d))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let cur = load(&args.current)?;
    for (dir, base) in args.baseline.iter().zip(&bases) {
        let diffs = fingerprint_diffs(dir, base, &args.current, &cur)?;
        if !diffs.is_empty() {
            if !args.force {
                return fail(
                    Exit::BadInput,
                    anyhow::anyhow!(
                        "refusing to compare {} with {}: their first steps' fingerprints differ:\n{}\n\
                         rerun the baseline with the same settings, or pass --force",
                        dir.display(),
                        args.current.display(),
                        diffs.join("\n")
                    ),
                );
            }
            eprintln!(
                "warning: fingerprints differ (--force):\n{}",
                diffs.join("\n")
            );
        }
    }
    let verdicts = judge(&bases, &cur, args.min_rate_drop);
    if verdicts.is_empty() {
        return fail(
            Exit::BadInput,
            anyhow::anyhow!("no sink has a highest rate in both the baseline and the current sweep (were they --find-max or judged sweeps?)"),
        );
    }
    let names: Vec<String> = args
        .baseline
        .iter()
        .map(|d| d.display().to_string())
        .collect();
    print!(
        "{}",
        render_gate(&verdicts, &names, &args.current.display().to_string())
    );
    Ok(if verdicts.iter().any(|v| v.failed) {
        Exit::Breach
    } else {
        Exit::Ok
    })
}
