//! The report's caveats about a run's faults: a control that failed; for
//! each fault, the sinks it affected with how they recovered, and the sinks
//! it left alone named as unaffected (never as "did not recover"); then how
//! recovery is judged.

use std::fmt;

use super::recovery::{self, FaultRecovery, SinkRecovery};
use super::FaultEvent;
use crate::caveat::Caveat;

/// One fact of the run's injected faults.
#[derive(Debug, Clone)]
pub enum FaultCaveat {
    /// The fault's control failed: `at_s` when it failed after the fault
    /// started (the stack may be left changed), `None` when it never started.
    ControlFailed {
        /// `target action`.
        label: String,
        /// When the fault was due, when it had started.
        at_s: Option<f64>,
        /// What the control said.
        error: String,
    },
    /// What a fault that started did to each sink. `load_end_s`: when the
    /// load stopped (recovery is read from rows written before it).
    Effect {
        /// The fault and each sink's recovery (boxed: the other facts are a
        /// few words).
        fault: Box<FaultRecovery>,
        /// When the load stopped.
        load_end_s: f64,
    },
    /// How recovery is judged (after the faults' effects).
    Judged,
}

impl fmt::Display for FaultCaveat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ControlFailed {
                label,
                at_s: Some(at),
                error,
            } => write!(f, "fault {label} at {at:.0}s: {error}"),
            Self::ControlFailed {
                label,
                at_s: None,
                error,
            } => write!(f, "fault {label}: {error}"),
            Self::Effect { fault, load_end_s } => f.write_str(&one(fault, *load_end_s)),
            Self::Judged => write!(
                f,
                "faults: a sink is affected when, from the fault's start until it recovered, more than {} % of its \
                 rows were over its band (max({}× the p99 of the {} s before the fault, that p99 + {} ms)) or it \
                 had no rows while more waited than before, else unaffected; recovered = per-second p99 back in the \
                 band for {} s; drained = in flight held for {} s under max({}× the highest count of those {} s, \
                 that count + {}); see summary.json faults",
                recovery::AFFECTED_SHARE * 100.0,
                recovery::TOLERANCE,
                recovery::PRE_WINDOW_S,
                recovery::TOLERANCE_FLOOR_US / 1000,
                recovery::HOLD_S,
                recovery::HOLD_S,
                recovery::TOLERANCE,
                recovery::PRE_WINDOW_S,
                recovery::DRAIN_FLOOR
            ),
        }
    }
}

/// A caveat per fault whose control failed, in the scenario's order.
pub fn control_errors(events: &[FaultEvent]) -> Vec<Caveat> {
    events
        .iter()
        .filter_map(|ev| {
            let error = ev.error.clone()?;
            Some(Caveat::new(FaultCaveat::ControlFailed {
                label: ev.label(),
                at_s: ev.started_s.map(|_| ev.at_s),
                error,
            }))
        })
        .collect()
}

/// One caveat per fault that started, then the definitions. `load_end_s`:
/// when the load stopped (recovery is read from rows written before it).
pub fn caveats(faults: &[FaultRecovery], load_end_s: f64) -> Vec<Caveat> {
    let mut out: Vec<Caveat> = faults
        .iter()
        .filter(|f| !f.sinks.is_empty())
        .map(|f| {
            Caveat::new(FaultCaveat::Effect {
                fault: Box::new(f.clone()),
                load_end_s,
            })
        })
        .collect();
    if !out.is_empty() {
        out.push(Caveat::new(FaultCaveat::Judged));
    }
    out
}

fn one(f: &FaultRecovery, load_end_s: f64) -> String {
    let (affected, unaffected): (Vec<&SinkRecovery>, Vec<&SinkRecovery>) =
        f.sinks.iter().partition(|r| r.affected);
    let mut parts = Vec::new();
    if !affected.is_empty() {
        let each: Vec<String> = affected
            .iter()
            .map(|r| affected_text(r, load_end_s))
            .collect();
        parts.push(format!("affected {}", each.join("; ")));
    }
    if !unaffected.is_empty() {
        let names: Vec<&str> = unaffected.iter().map(|r| r.sink.as_str()).collect();
        parts.push(format!(
            "unaffected (latency never left its pre-fault band): {}",
            names.join(", ")
        ));
    }
    if !f.overlaps.is_empty() {
        parts.push(format!(
            "its window overlapped fault {} (a sink out of its band may owe it to either)",
            f.overlaps.join(", ")
        ));
    }
    format!("fault {}: {}", f.event.label(), parts.join("; "))
}

fn affected_text(r: &SinkRecovery, load_end_s: f64) -> String {
    let peak = r
        .peak_p99_ms
        .map_or(String::new(), |p| format!("p99 up to {}", secs(p / 1000.0)));
    let back = match r.recovery_s {
        Some(s) => format!("back in its band {} after the fault's end", secs(s)),
        // Recovery is read from rows written after the fault.
        None => format!(
            "did not recover while the load ran (it ended at {load_end_s:.0} s): lengthen duration to see how long recovery takes"
        ),
    };
    let drained = r.drain_s.map_or(String::new(), |d| {
        format!(", backlog drained after {}", secs(d))
    });
    let peak = if peak.is_empty() {
        peak
    } else {
        format!("{peak}, ")
    };
    format!("{} ({peak}{back}{drained})", r.sink)
}

fn secs(s: f64) -> String {
    if s < 10.0 {
        format!("{s:.1} s")
    } else {
        format!("{s:.0} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::faults::recovery::{analyse, Second};
    use crate::model::Sink;

    fn texts(c: Vec<Caveat>) -> Vec<String> {
        c.iter().map(ToString::to_string).collect()
    }

    fn steady(p99_ms: u64, n: u32) -> Vec<Second> {
        (0..n)
            .map(|s| Second {
                second: s,
                p99_us: Some(p99_ms * 1000),
                in_flight: Some(20),
            })
            .collect()
    }

    fn event() -> FaultEvent {
        FaultEvent {
            action: "pause".into(),
            target: "kafka-to-cloudberry".into(),
            control: "native".into(),
            at_s: 8.0,
            duration_s: 3.0,
            started_s: Some(8.0),
            down_s: Some(9.0),
            restore_s: Some(11.0),
            ended_s: Some(30.0),
            error: None,
            left_changed: None,
        }
    }

    // A path 1 pause as the issue saw it: path 1's rows stop (no samples, a
    // growing backlog) and arrive late after the resume; Kafka and path 2 run
    // as before, with the noise of a busy machine inside their band.
    #[test]
    fn a_path1_pause_names_path1_affected_and_kafka_and_path2_unaffected() {
        let mut path1 = steady(300, 8);
        for s in 8..30 {
            path1.push(Second {
                second: s,
                p99_us: None,
                in_flight: Some(20 + 150 * u64::from(s - 7)),
            });
        }
        for (s, ms) in [(30, 16_000), (31, 9_000), (32, 2_000), (33, 320), (34, 310)] {
            path1.push(Second {
                second: s,
                p99_us: Some(ms * 1000),
                in_flight: Some(40),
            });
        }
        path1.extend((35..60).map(|s| Second {
            second: s,
            p99_us: Some(300_000),
            in_flight: Some(20),
        }));
        let mut kafka = steady(40, 60);
        kafka[20].p99_us = Some(85_000); // within max(1.5 × 40, 40 + 50) = 90 ms
        let path2 = steady(200, 60);
        let sinks = vec![
            analyse(Sink::Kafka, &kafka, 8.0, 30.0, Some(40_000), |_, _| {
                (0, 100)
            }),
            analyse(Sink::Path1, &path1, 8.0, 30.0, Some(300_000), |s, _| {
                ((20..35).contains(&s) as u64 * 50, 100)
            }),
            analyse(Sink::Path2, &path2, 8.0, 30.0, Some(200_000), |_, _| {
                (0, 100)
            }),
        ];
        assert_eq!(
            sinks.iter().map(|r| r.affected).collect::<Vec<_>>(),
            [false, true, false]
        );
        let c = texts(caveats(
            &[FaultRecovery {
                event: event(),
                sinks,
                overlaps: vec![],
            }],
            60.0,
        ));
        let text = &c[0];
        assert!(text.starts_with("fault kafka-to-cloudberry pause: affected path1 (p99 up to 16 s, back in its band 3.0 s after"), "{text}");
        assert!(
            text.ends_with("unaffected (latency never left its pre-fault band): kafka, path2"),
            "{text}"
        );
        assert!(!c.iter().any(|c| c.contains("did not recover")), "{c:?}");
    }

    #[test]
    fn an_affected_sink_that_never_came_back_did_not_recover() {
        let mut s = steady(100, 10);
        s.extend((10..20).map(|i| Second {
            second: i,
            p99_us: Some(5_000_000),
            in_flight: Some(500),
        }));
        let r = analyse(Sink::Path2, &s, 10.0, 12.0, Some(100_000), |_, _| (1, 1));
        assert!(r.affected && r.recovered_at_s.is_none());
        let c = texts(caveats(
            &[FaultRecovery {
                event: event(),
                sinks: vec![r],
                overlaps: vec!["kafka restart".into()],
            }],
            20.0,
        ));
        assert!(
            c[0].contains(
                "path2 (p99 up to 5.0 s, did not recover while the load ran (it ended at 20 s)"
            ),
            "{c:?}"
        );
        assert!(
            c[0].ends_with("its window overlapped fault kafka restart (a sink out of its band may owe it to either)"),
            "{c:?}"
        );
    }

    #[test]
    fn a_fault_that_never_started_has_no_caveat() {
        let mut e = event();
        e.started_s = None;
        assert!(caveats(
            &[FaultRecovery {
                event: e,
                sinks: vec![],
                overlaps: vec![],
            }],
            20.0
        )
        .is_empty());
    }

    #[test]
    fn a_failed_control_says_when_it_failed() {
        let mut late = event();
        late.error = Some("resume failed".into());
        let mut early = event();
        early.started_s = None;
        early.error = Some("no such job".into());
        let c = texts(control_errors(&[late, early, event()]));
        assert_eq!(
            c,
            [
                "fault kafka-to-cloudberry pause at 8s: resume failed",
                "fault kafka-to-cloudberry pause: no such job"
            ]
        );
    }
}
