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
        ..GenConfig::default()
    }
}
