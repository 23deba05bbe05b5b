//! The knee of each sink's latency–throughput curve: the last step (by target
//! rate) before the first one whose p99 exceeds [`KNEE_RISE`] × the p99 at the
//! lowest rate, or whose rows fell short (achieved/target below
//! [`super::DEFAULT_MIN_ACHIEVED`], or rows missing). SLO-free on purpose: it
//! marks where the curve bends, whatever the limit.

use std::collections::BTreeMap;

use crate::model::Sink;

use super::{Knee, Step};

/// How far above the lowest rate's p99 a step's p99 must rise to be past the knee.
pub const KNEE_RISE: f64 = 3.0;

fn past_knee(st: &Step, sink: Sink, base_p99: u64) -> bool {
    let Some(s) = st.sinks.get(&sink) else {
        return false;
    };
    s.count == 0
        || s.p99_us as f64 > KNEE_RISE * base_p99.max(1) as f64
        || s.missing > 0
        || st.achieved_ratio() < super::DEFAULT_MIN_ACHIEVED
}

/// The knee of every sink that has one within the steps.
pub fn knees(steps: &[Step]) -> BTreeMap<Sink, Knee> {
    let mut order: Vec<&Step> = steps.iter().collect();
    order.sort_by(|a, b| a.target_rate.total_cmp(&b.target_rate));
    let sinks: Vec<Sink> = order
        .iter()
        .flat_map(|s| s.sinks.keys().copied())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut out = BTreeMap::new();
    for sink in sinks {
        let Some(base) = order
            .iter()
            .find_map(|s| s.sinks.get(&sink).filter(|x| x.count > 0).map(|x| x.p99_us))
        else {
            continue;
        };
        let Some(broken) = order.iter().position(|s| past_knee(s, sink, base)) else {
            continue;
        };
        if broken == 0 {
            continue;
        }
        let (at, next) = (order[broken - 1], order[broken]);
        out.insert(
            sink,
            Knee {
                step: at.index,
                target_rate: at.target_rate,
                achieved_rate: at.achieved_rate,
                p99_us: at.sinks[&sink].p99_us,
                bottleneck: super::bottleneck::name(sink, at, next),
            },
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::SinkStep;

    fn step(index: u32, rate: f64, p99_ms: u64) -> Step {
        Step {
            index,
            target_rate: rate,
            achieved_rate: rate,
            sinks: [(
                Sink::Path1,
                SinkStep {
                    count: 10,
                    p99_us: p99_ms * 1000,
                    ..SinkStep::default()
                },
            )]
            .into(),
            ..Step::default()
        }
    }

    #[test]
    fn the_knee_is_the_last_step_before_p99_triples() {
        // Out of order, as a search runs them.
        let steps = vec![
            step(1, 250.0, 200),
            step(2, 500.0, 250),
            step(3, 1000.0, 2000),
            step(4, 707.0, 500),
        ];
        let k = &knees(&steps)[&Sink::Path1];
        assert_eq!((k.step, k.target_rate, k.p99_us), (4, 707.0, 500_000));
    }

    #[test]
    fn a_short_rate_is_past_the_knee_and_a_flat_curve_has_none() {
        let mut steps = vec![step(1, 250.0, 200), step(2, 500.0, 210)];
        assert!(knees(&steps).is_empty());
        steps[1].achieved_rate = 400.0;
        assert_eq!(knees(&steps)[&Sink::Path1].step, 1);
    }
}
