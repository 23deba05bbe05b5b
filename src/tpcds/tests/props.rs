//! Property tests: random configs, batching and failure rates through [`Sim`].

use std::time::Duration;

use proptest::prelude::*;

use super::sim::Sim;
use crate::dist::{CountRange, KeyDist, LagDist};
use crate::tpcds::*;

fn lag_strategy() -> impl Strategy<Value = LagDist> {
    prop_oneof![
        (0u64..20).prop_map(|ms| LagDist::Fixed {
            value: Duration::from_millis(ms)
        }),
        (0u64..10, 0u64..40).prop_map(|(a, b)| LagDist::Uniform {
            min: Duration::from_millis(a),
            max: Duration::from_millis(a + b),
        }),
        (1u64..20).prop_map(|ms| LagDist::Exponential {
            mean: Duration::from_millis(ms)
        }),
    ]
}

prop_compose! {
    fn config()(
        min in 1u32..6, extra in 0u32..12,
        ret in 0.0f64..=1.0, upd in 0.0f64..0.4, del in 0.0f64..0.4,
        zipf in any::<bool>(), small_items in any::<bool>(),
        lag in lag_strategy(), wall in any::<bool>(), nulls in any::<bool>(),
        pool in prop::sample::select(vec![0usize, 1, 7, 100_000]),
    ) -> GenConfig {
        let n = if small_items { 20 } else { 18_000 };
        GenConfig {
            items_per_ticket: CountRange { min, max: (min + extra).min(n as u32) },
            return_probability: ret,
            return_lag: lag,
            update_probability: upd,
            delete_probability: del,
            item: if zipf { KeyDist::Zipf { n, s: 1.3 } } else { KeyDist::Uniform { n } },
            customer: if zipf { KeyDist::Zipf { n: 1000, s: 0.9 } } else { KeyDist::Uniform { n: 100_000 } },
            scale: 1,
            dates: if wall { DateMode::WallClock { epoch_unix_us: 1_600_000_000_000_000 } } else { DateMode::Dsdgen },
            null_fraction: if nulls { 0.2 } else { 0.0 },
            mutation_pool: pool,
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Any config, any batching, any failure rate: every rule holds on every write.
    #[test]
    fn random_runs_keep_every_rule(
        cfg in config(),
        seed in any::<u64>(),
        start in 0u64..1_000_000_000_000,
        tickets in 1u64..60,
        batch in 1usize..40,
        dt in 0u64..5_000,
        fail_p in 0.0f64..0.5,
    ) {
        let mut sim = Sim::new(cfg, seed, start..start + tickets, fail_p);
        sim.run(batch, dt);
    }
}
