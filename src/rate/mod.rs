//! The target rate of a scenario: its spec as the scenario file writes it
//! ([`RateSpec`]) and the profile made of it ([`RateProfile`]: the rate over
//! time, rows due by a time, when a row is due). A leaf module (it uses nothing
//! else of the crate), so the scenario's validation and the plan's schedules
//! read one profile without importing each other.

mod profile;

use std::time::Duration;

use serde::Serialize;

pub use profile::RateProfile;

/// Target rate over time (rows per second).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RateSpec {
    /// The same rate for the whole run.
    Constant {
        /// Rows per second (> 0).
        per_second: f64,
    },
    /// Linear from `from` to `to` over `over` (default: the whole run), then held at `to`.
    Ramp {
        /// Rate at t = 0.
        from: f64,
        /// Rate at t = `over`.
        to: f64,
        /// Ramp length; `None` = the run's duration.
        #[serde(with = "dur_opt", skip_serializing_if = "Option::is_none")]
        over: Option<Duration>,
    },
    /// Piecewise-constant rate.
    Step(StepSpec),
    /// `base`, except `peak` during `[at, at + length)`.
    Spike {
        /// Rate outside the spike.
        base: f64,
        /// Rate inside the spike.
        peak: f64,
        /// Spike start.
        #[serde(with = "dur")]
        at: Duration,
        /// Spike length.
        #[serde(with = "dur")]
        length: Duration,
    },
    /// `mean + amplitude · sin(2π t / period)`.
    Sine {
        /// Average rate (> 0).
        mean: f64,
        /// Swing either side of the mean (0..=mean).
        amplitude: f64,
        /// One full cycle.
        #[serde(with = "dur")]
        period: Duration,
    },
}

/// The two ways to write a step profile.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum StepSpec {
    /// Explicit steps; the first is at 0s, `at` strictly increasing.
    List {
        /// Each rate holds from its `at` until the next step.
        steps: Vec<RateStep>,
    },
    /// A staircase: `start + step · floor(t / every)`.
    Every {
        /// Rate during the first `every`.
        start: f64,
        /// Change per stair (may be negative; the rate never goes below 0 within the run).
        step: f64,
        /// Stair length.
        #[serde(with = "dur")]
        every: Duration,
    },
}

/// One explicit step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RateStep {
    /// When this rate starts.
    #[serde(with = "dur")]
    pub at: Duration,
    /// Rows per second from `at` on (>= 0).
    pub per_second: f64,
}

/// Durations as humantime strings ("1m 30s"), for the rate's and the
/// scenario's types alike.
pub(crate) mod dur {
    use std::time::Duration;

    use serde::Serializer;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(*d).to_string())
    }
}

/// Optional durations as humantime strings.
pub(crate) mod dur_opt {
    use std::time::Duration;

    use serde::Serializer;

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => super::dur::serialize(d, s),
            None => s.serialize_none(),
        }
    }
}
