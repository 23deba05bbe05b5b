//! Faults during a run: the scenario's `[[faults]]` carried out against the
//! stack on the run's timeline ([`FaultRun`]), and what they did to each
//! sink ([`recovery`]).
//!
//! Each fault is one task: sleep until `at`, take the target down
//! ([`control::Controller::down`]), wait `duration`, bring it back
//! ([`control::Controller::up`], which returns when the component answers
//! again). The times of each step are kept as a [`FaultEvent`] in seconds of
//! the run (the load's zero), so they sit on the same axis as the per-second
//! latency series. On a stop (Ctrl-C, SIGTERM) a fault not yet started is
//! skipped and a target that is down is brought back at once. Bringing a
//! target back is retried with backoff for a bounded time ([`restore`]); when
//! it still fails the event records what was left down and the command that
//! restores it, which the report leads with. A scenario that acts on the
//! stack runs only with the user's consent ([`consent`]).

pub mod caveats;
pub mod consent;
pub mod control;
pub mod recovery;
pub mod restore;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::scenario::FaultSpec;
use control::Controller;

/// What happened to one fault of the scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultEvent {
    /// `restart` or `kill`.
    pub action: String,
    /// The component acted on (`kafka`, `flink-taskmanager`, …).
    pub target: String,
    /// `native` or `compose`.
    pub control: String,
    /// When the scenario asked for it, s from the start of the load.
    pub at_s: f64,
    /// How long the scenario asked the target to stay down, s.
    pub duration_s: f64,
    /// When the down command was issued (the fault window's start), s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_s: Option<f64>,
    /// When the down command returned (the target is down), s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub down_s: Option<f64>,
    /// When the start command was issued, s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restore_s: Option<f64>,
    /// When the start command returned, the target answering again (the fault
    /// window's end), s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended_s: Option<f64>,
    /// Why a step failed, or that the fault was skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Set when the target could not be brought back: the pipeline was left
    /// changed (what is down, the command that restores it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub left_changed: Option<restore::LeftChanged>,
}

impl FaultEvent {
    fn planned(spec: &FaultSpec, ctrl: &Controller) -> Self {
        FaultEvent {
            action: spec.action.name().into(),
            target: spec.target.name().into(),
            control: ctrl.kind().into(),
            at_s: spec.at.as_secs_f64(),
            duration_s: spec.duration.as_secs_f64(),
            started_s: None,
            down_s: None,
            restore_s: None,
            ended_s: None,
            error: None,
            left_changed: None,
        }
    }

    /// `kafka restart`, for labels.
    pub fn label(&self) -> String {
        format!("{} {}", self.target, self.action)
    }

    /// The fault window `[started, ended]` in run seconds, when it began.
    /// A window that never ended (restore failed) runs to `f64::INFINITY`.
    pub fn window(&self) -> Option<(f64, f64)> {
        self.started_s
            .map(|s| (s, self.ended_s.unwrap_or(f64::INFINITY)))
    }
}

/// The faults of a run in progress: their events so far, and the controls to
/// stop them early and to wait for them.
#[derive(Debug)]
pub struct FaultRun {
    events: Arc<Mutex<Vec<FaultEvent>>>,
    stop: watch::Sender<bool>,
    done: watch::Receiver<bool>,
}

impl FaultRun {
    /// Starts carrying out `specs` on the timeline whose zero is `start`.
    pub fn start(ctrl: Controller, specs: Vec<FaultSpec>, start: Instant) -> Self {
        let events = Arc::new(Mutex::new(
            specs
                .iter()
                .map(|s| FaultEvent::planned(s, &ctrl))
                .collect::<Vec<_>>(),
        ));
        let (stop_tx, stop_rx) = watch::channel(false);
        let (done_tx, done_rx) = watch::channel(false);
        let shared = events.clone();
        tokio::spawn(async move {
            let tasks: Vec<_> = specs
                .into_iter()
                .enumerate()
                .map(|(i, spec)| {
                    tokio::spawn(one(
                        ctrl.clone(),
                        spec,
                        start,
                        stop_rx.clone(),
                        Slot {
                            events: shared.clone(),
                            index: i,
                        },
                    ))
                })
                .collect();
            for t in futures::future::join_all(tasks).await {
                if let Err(e) = t {
                    eprintln!("a fault task failed: {e}");
                }
            }
            let _ = done_tx.send(true);
        });
        FaultRun {
            events,
            stop: stop_tx,
            done: done_rx,
        }
    }

    /// Skips faults not yet due and brings back any target that is down.
    pub fn stop(&self) {
        let _ = self.stop.send(true);
    }

    /// Waits until every fault is over (target back), at most `limit`; true when all are.
    pub async fn wait(&mut self, limit: Duration) -> bool {
        matches!(
            tokio::time::timeout(limit, self.done.wait_for(|d| *d)).await,
            Ok(Ok(_))
        )
    }

    /// The events as they stand.
    pub fn events(&self) -> Vec<FaultEvent> {
        self.events.lock().map(|e| e.clone()).unwrap_or_default()
    }
}

/// Where one fault task writes its event.
struct Slot {
    events: Arc<Mutex<Vec<FaultEvent>>>,
    index: usize,
}

impl Slot {
    fn update(&self, f: impl FnOnce(&mut FaultEvent)) {
        if let Ok(mut e) = self.events.lock() {
            if let Some(ev) = e.get_mut(self.index) {
                f(ev);
            }
        }
    }
}

fn secs(start: Instant) -> f64 {
    Instant::now()
        .saturating_duration_since(start)
        .as_secs_f64()
}

/// Sleeps until `until` unless `stop` turns true first; true when stopped.
async fn sleep_or_stop(until: Instant, stop: &mut watch::Receiver<bool>) -> bool {
    loop {
        if *stop.borrow() {
            return true;
        }
        tokio::select! {
            _ = tokio::time::sleep_until(until.into()) => return false,
            changed = stop.changed() => if changed.is_err() {
                // The run dropped its sender: nothing will stop us early.
                tokio::time::sleep_until(until.into()).await;
                return false;
            },
        }
    }
}

async fn one(
    ctrl: Controller,
    spec: FaultSpec,
    start: Instant,
    mut stop: watch::Receiver<bool>,
    slot: Slot,
) {
    let label = format!("{} {}", spec.target.name(), spec.action.name());
    if sleep_or_stop(start + spec.at, &mut stop).await {
        slot.update(|e| {
            e.error = Some("skipped: the run was stopped before the fault was due".into())
        });
        return;
    }
    let (cmd, line) = ctrl.down(spec.action, spec.target);
    let t = secs(start);
    slot.update(|e| e.started_s = Some(t));
    eprintln!("fault at {t:.1}s: {line}");
    let down = control::run(cmd, &line).await;
    let t = secs(start);
    slot.update(|e| e.down_s = Some(t));
    let mut error = None;
    if let Err(e) = down {
        // Whatever state it is in, try to bring it back below.
        error = Some(e.to_string());
    } else {
        let back_at = start + spec.at + spec.duration;
        let _ = sleep_or_stop(back_at.max(Instant::now()), &mut stop).await;
    }
    let (_, line) = ctrl.up(spec.target);
    let t = secs(start);
    slot.update(|e| e.restore_s = Some(t));
    eprintln!("fault at {t:.1}s: {line}");
    match restore::bring_back(&ctrl, spec.target, |m| eprintln!("fault {label}: {m}")).await {
        Ok(_) => {
            let t = secs(start);
            slot.update(|e| e.ended_s = Some(t));
            eprintln!("fault {label} over at {t:.1}s (target answering again)");
        }
        Err(left) => {
            eprintln!("fault {label}: {}", left.notice());
            let msg = format!("restoring failed: {}", left.error);
            error = Some(match error {
                Some(first) => format!("{first}; then {msg}"),
                None => msg,
            });
            slot.update(|e| e.left_changed = Some(left));
        }
    }
    if error.is_some() {
        slot.update(|e| e.error = error);
    }
}

/// Longest the run waits for its faults to be over (targets back) before the
/// drain timeout starts counting.
/// Covers a resubmission's attempts within [`restore::RESTORE_RETRY`].
pub const RESTORE_GRACE: Duration = Duration::from_secs(240);
