//! The generator's configuration, derived from the scenario's `[mix]`.

use crate::scenario::{DateMode as ScenarioDates, Scenario};
use crate::tpcds::{DateMode, GenConfig};

/// The generator settings of `scenario`; `wall_start_us` anchors wall-clock dates.
pub fn gen_config(scenario: &Scenario, wall_start_us: i64) -> GenConfig {
    let m = &scenario.mix;
    GenConfig {
        items_per_ticket: m.items_per_ticket,
        return_probability: m.return_probability,
        return_lag: m.return_lag.clone(),
        update_probability: m.update_probability,
        delete_probability: m.delete_probability,
        item: m.item.clone(),
        customer: m.customer.clone(),
        dates: match m.dates {
            ScenarioDates::Dsdgen => DateMode::Dsdgen,
            ScenarioDates::WallClock => DateMode::WallClock {
                epoch_unix_us: wall_start_us,
            },
        },
        null_fraction: m.null_fraction,
        mutation_pool: mutation_pool(scenario),
        ..GenConfig::default()
    }
}

/// Seconds of a worker's newest committed lines an update or a delete picks
/// from (see [`mutation_pool`]).
pub const MUTATION_HORIZON_S: f64 = 60.0;

/// Fewest lines a worker's mutation pool holds (slow runs still mutate
/// lines older than their last few seconds).
const MIN_POOL: usize = 1_000;

/// How many of a worker's committed lines are candidates for an update or a
/// delete: its lines of the last [`MUTATION_HORIZON_S`] at the scenario's
/// peak rate, at least 1,000, at most the generator's default (100,000).
/// Everything that remembers lines for a mutation (the writers' stamp
/// memories, the warehouse pollers' last stamps) is sized from this, so it
/// reaches its working size within twice the horizon instead of after
/// 2 × 100,000 lines a worker (400 s at 500 rows/s a worker).
pub fn mutation_pool(s: &Scenario) -> usize {
    let peak = super::Plan::from_scenario(s).peak_rate(s.duration);
    let per_worker = peak / f64::from(s.load.workers.max(1));
    ((per_worker * MUTATION_HORIZON_S).ceil() as usize)
        .clamp(MIN_POOL, GenConfig::default().mutation_pool)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quickstart(overrides: &[(&str, &str)]) -> Scenario {
        let mut s = crate::scenario::parse_str(
            include_str!("../../scenarios/quickstart.toml"),
            "quickstart.toml",
        )
        .unwrap();
        let o: Vec<(String, String)> = overrides
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        s.apply_overrides(&o).unwrap();
        s
    }

    // A minute of a worker's lines at the peak rate, within 1,000 ..= 100,000:
    // what the stamp memories and the pollers' last stamps are sized from.
    #[test]
    fn the_mutation_pool_is_a_minute_of_a_workers_lines() {
        assert_eq!(mutation_pool(&quickstart(&[])), 6_000);
        let soak = quickstart(&[("load.rate.per_second", "1000")]);
        assert_eq!(mutation_pool(&soak), 30_000);
        assert_eq!(gen_config(&soak, 0).mutation_pool, 30_000);
        let slow = quickstart(&[("load.rate.per_second", "5")]);
        assert_eq!(mutation_pool(&slow), 1_000);
        let fast = quickstart(&[("load.rate.per_second", "20000")]);
        assert_eq!(mutation_pool(&fast), 100_000);
    }
}
