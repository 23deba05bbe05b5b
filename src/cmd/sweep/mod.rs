//! `tpcds-bench sweep`: flags checked and the targets reached before anything
//! is written; then one ordinary run per step (the run command in-process,
//! `load.rate.per_second` set), the stack's CPU and Flink's operator load
//! measured around it, the sweep files rewritten after every step (a sweep cut
//! short keeps what it measured), one progress line per step on stderr.

pub mod compare;
mod setup;

use std::path::Path;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::cli::{RunArgs, SweepArgs};
use crate::exit::{fail, Classified, Exit};
use crate::sweep::resources::{sample_vertices, CpuSnapshot};
use crate::sweep::{load, render, search, Sweep, SWEEP_FORMAT};

pub use setup::{resolve, Setup};

/// Time a step needs beyond its load and drain: preflight, observers, report.
const STEP_OVERHEAD: Duration = Duration::from_secs(10);

/// Runs the sweep; exit 0 when every step ran (a failing step is a finding).
pub async fn sweep(args: SweepArgs) -> anyhow::Result<Exit> {
    let scenario = super::load_scenario(&args.scenario, &args.set)?;
    let setup = resolve(&args, &scenario)
        .map_err(|e| Classified::new(Exit::BadInput, anyhow::anyhow!(e)))?;
    // Like `run`: a scenario naming another Kafka format than the jobs write is refused.
    let preflight = super::run::preflight(&scenario, true).await;
    if !preflight.ok() {
        for d in preflight.problems() {
            eprintln!("{d}");
        }
        return fail(
            Exit::Unreachable,
            anyhow::anyhow!(
                "the targets are not ready (see above; `tpcds-bench check` tells more)"
            ),
        );
    }
    let started_at = chrono::Utc::now();
    let dir = args.out.join(crate::report::run_id(
        started_at,
        &format!("sweep-{}", scenario.name),
    ));
    std::fs::create_dir_all(dir.join("steps")).map_err(|e| {
        Classified::new(
            Exit::Fault,
            anyhow::anyhow!("cannot create {}: {e}", dir.display()),
        )
    })?;
    let mut sweep = Sweep {
        format: SWEEP_FORMAT.into(),
        format_version: 1,
        scenario: scenario.name.clone(),
        mode: if setup.find_max { "find-max" } else { "rates" }.into(),
        started_at,
        took_s: 0.0,
        spec: serde_json::to_value(&setup.spec).unwrap_or_default(),
        slo: setup.slo.clone(),
        steps: Vec::new(),
        answers: Default::default(),
        knees: Default::default(),
        notes: Vec::new(),
    };
    let step_time = scenario.duration + scenario.drain_timeout + setup.spec.settle + STEP_OVERHEAD;
    let series = search::series(&setup.spec);
    let began = Instant::now();
    eprintln!(
        "sweep {} ({}): steps of {} load ({} warmup) + up to {} drain; at most {} steps (~{} at most); directory {}",
        scenario.name,
        sweep.mode,
        humantime::format_duration(scenario.duration),
        humantime::format_duration(scenario.warmup),
        humantime::format_duration(scenario.drain_timeout),
        if setup.find_max { setup.spec.max_steps as usize } else { series.len() },
        minutes(step_time * if setup.find_max { setup.spec.max_steps } else { series.len() as u32 }),
        dir.display()
    );
    let stack_dir = crate::proc_cpu::stack_dir();
    let mut exit = Exit::Ok;
    loop {
        let n = sweep.steps.len();
        let rate = if setup.find_max {
            if n >= setup.spec.max_steps as usize {
                if let Some(r) = next(&sweep, &setup) {
                    sweep.notes.push(format!(
                        "stopped at the step budget (sweep.max_steps = {}); the search would try {r:.0} rows/s next",
                        setup.spec.max_steps
                    ));
                }
                break;
            }
            next(&sweep, &setup)
        } else {
            series.get(n).copied()
        };
        let Some(rate) = rate else { break };
        progress(&sweep, &setup, &series, rate, began.elapsed(), step_time);
        let outcome = run_step(&args, &dir, rate, &scenario, stack_dir.as_deref()).await;
        let (step_exit, mut st) = match outcome {
            Ok(x) => x,
            Err(e) => {
                sweep
                    .notes
                    .push(format!("step {} at {rate:.0} rows/s failed: {e:#}", n + 1));
                finish(&mut sweep, &setup, &dir, began)?;
                return Err(e);
            }
        };
        st.index = n as u32 + 1;
        st.judge(&setup.slo);
        sweep.steps.push(st);
        finish(&mut sweep, &setup, &dir, began)?;
        if step_exit == Exit::Interrupted {
            sweep
                .notes
                .push(format!("interrupted during step {}", n + 1));
            exit = Exit::Interrupted;
            break;
        }
        if !setup.spec.settle.is_zero() {
            tokio::time::sleep(setup.spec.settle).await;
        }
    }
    finish(&mut sweep, &setup, &dir, began)?;
    print!("{}", render::markdown(&sweep));
    println!("\nsweep directory: {}", dir.display());
    Ok(exit)
}

fn next(sweep: &Sweep, setup: &Setup) -> Option<f64> {
    let per_sink: Vec<Vec<(f64, bool)>> = sweep.outcomes().into_iter().map(|(_, s)| s).collect();
    search::next_rate(&setup.spec, &per_sink)
}

fn minutes(d: Duration) -> String {
    format!("{:.0} min", d.as_secs_f64() / 60.0)
}

/// The line before each step: which step, at what rate, what is done and what is left.
fn progress(
    sweep: &Sweep,
    setup: &Setup,
    series: &[f64],
    rate: f64,
    elapsed: Duration,
    step_time: Duration,
) {
    let n = sweep.steps.len() + 1;
    let done: Vec<String> = sweep
        .steps
        .iter()
        .map(|st| {
            let marks: String = st
                .sinks
                .values()
                .filter_map(|x| x.passed)
                .map(|p| if p { '✓' } else { '✗' })
                .collect();
            format!("{:.0}{marks}", st.target_rate)
        })
        .collect();
    let left = if setup.find_max {
        format!(
            "at most {} steps left after this one (search)",
            setup.spec.max_steps as usize - n
        )
    } else {
        let rest: Vec<String> = series[n..].iter().map(|r| format!("{r:.0}")).collect();
        format!(
            "left: {}",
            if rest.is_empty() {
                "none".into()
            } else {
                rest.join(", ")
            }
        )
    };
    let total = if setup.find_max {
        setup.spec.max_steps as usize
    } else {
        series.len()
    };
    eprintln!(
        "sweep step {n}/{total}: {rate:.0} rows/s target; done: {}; {left}; {} elapsed, up to {} per step",
        if done.is_empty() { "none".into() } else { done.join(" ") },
        humantime::format_duration(Duration::from_secs(elapsed.as_secs())),
        humantime::format_duration(step_time),
    );
}

fn finish(sweep: &mut Sweep, setup: &Setup, dir: &Path, began: Instant) -> anyhow::Result<()> {
    sweep.took_s = began.elapsed().as_secs_f64();
    sweep.conclude(setup.spec.resolution);
    render::write_all(dir, sweep).map_err(|e| Classified::new(Exit::Fault, e).into())
}

/// One step: the run at `rate`, with the stack's CPU and Flink's vertices measured around it.
async fn run_step(
    args: &SweepArgs,
    dir: &Path,
    rate: f64,
    scenario: &crate::scenario::Scenario,
    stack_dir: Option<&Path>,
) -> anyhow::Result<(Exit, crate::sweep::Step)> {
    let mut set = args.set.clone();
    set.push(format!("load.rate.per_second={rate}"));
    let run_args = RunArgs {
        scenario: args.scenario.clone(),
        set,
        out: dir.join("steps"),
        quiet: args.quiet,
        allow_faults: false,
        metrics_addr: None,
        shard: None,
        start_at: None,
    };
    let (stop_tx, stop_rx) = watch::channel(false);
    let vertices = tokio::spawn(sample_vertices(
        scenario.targets.flink_rest.expose().to_string(),
        // Preflight and observers take a few seconds before the load starts.
        scenario.warmup + Duration::from_secs(3),
        stop_rx,
    ));
    let before = CpuSnapshot::take(stack_dir);
    let began = Instant::now();
    let result = super::run::execute(run_args, false).await;
    let after = CpuSnapshot::take(stack_dir);
    let _ = stop_tx.send(true);
    let vertices = vertices.await.unwrap_or_default();
    let (exit, run_dir) = result?;
    let mut st = load::step_from_run(&run_dir).map_err(|e| Classified::new(Exit::Fault, e))?;
    let mut res: crate::sweep::resources::Resources = before.until(&after).into();
    res.vertices = vertices;
    res.kafka_lag_max = st.resources.kafka_lag_max;
    res.checkpoint_ms_max = st.resources.checkpoint_ms_max;
    st.resources = res;
    st.took_s = began.elapsed().as_secs_f64();
    st.run_dir = run_dir
        .strip_prefix(dir)
        .unwrap_or(&run_dir)
        .display()
        .to_string();
    Ok((exit, st))
}
