//! The TPC-DS `store_sales` / `store_returns` row generator.
//!
//! Faithful to the TPC-DS kit's dsdgen as transcribed in `shared/TPCDS.md`:
//! whole tickets (8–16 lines sharing date, time, store and customer keys, with
//! distinct items), dsdgen's integer-cent pricing, returns derived from sale lines
//! with their own money formulas, a weighted sales calendar and weighted hours.
//! On top of dsdgen it adds what a streaming benchmark needs: returns that arrive
//! some wall-clock lag after their sale committed, price corrections (updates)
//! and voided lines (deletes), optional zipf skew, and optional wall-clock dates.
//!
//! Pure computation, no I/O: [`Generator`] is fed a clock (`now_us`) and commit /
//! failure reports by the worker that owns it, and is deterministic for a seed and
//! a sequence of calls. Submodules:
//! - [`money`]: cents, dsdgen truncation, exact decimal rendering;
//! - [`pricing`]: sale and return money formulas;
//! - [`calendar`]: Julian day keys, date and hour weights, wall-clock mapping;
//! - [`rows`]: the row types, their column lists and SQL rendering;
//! - `ticket` (private): the content of one ticket as a pure function of
//!   `(seed, ticket number)`;
//! - [`generator`]: the scheduler of inserts, returns, updates and deletes.

pub mod calendar;
pub mod generator;
pub mod money;
pub mod pricing;
pub mod rows;
mod ticket;

#[cfg(test)]
mod tests;

pub use generator::{GenStats, Generator};
pub use money::{format_cents, push_cents, Cents};
pub use rows::{
    push_sql_key_predicate, ReturnRow, SaleRow, SqlValue, Write, RETURNS_COLUMNS, SALES_COLUMNS,
};

use crate::dist::{CountRange, KeyDist, LagDist};

/// Store surrogate keys dsdgen's store_sales uses at scale factor 1 (the current
/// revisions of the slowly changing `store` dimension).
pub const STORE_KEYS: [u32; 6] = [1, 2, 4, 7, 8, 10];

/// How `ss_sold_date_sk` / `ss_sold_time_sk` (and the return's date and time) are
/// chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DateMode {
    /// dsdgen's weighted calendar: sale dates in `2450816..=2452642` (1998-01-02 to
    /// 2003-01-02) weighted by month, times by weighted hour; return date = sold
    /// date + 4..=180 days, return time in `28799..=61199`.
    #[default]
    Dsdgen,
    /// The wall-clock time (UTC) of the write: a ticket takes the time its first
    /// line was generated, a return the time it was generated. Keys are the Julian
    /// day and the second of the day, as in `date_dim` / `time_dim`.
    WallClock {
        /// Unix time in microseconds that `now_us == 0` corresponds to (the run start).
        epoch_unix_us: i64,
    },
}

/// Everything that shapes the generated rows. [`GenConfig::default`] is dsdgen at
/// scale factor 1 with no mutations.
#[derive(Debug, Clone, PartialEq)]
pub struct GenConfig {
    /// Lines per ticket (dsdgen: 8..=16). At most the number of items, since the
    /// items of a ticket are distinct.
    pub items_per_ticket: CountRange,
    /// Chance that a sale line is returned (dsdgen: 0.10).
    pub return_probability: f64,
    /// Wall-clock lag between a sale line's commit and its return's insert.
    pub return_lag: LagDist,
    /// Per row slot: chance to emit a price correction (update) of a committed,
    /// never mutated, never returned sale line instead of a new line.
    pub update_probability: f64,
    /// Per row slot: chance to void (delete) a committed, never mutated, never
    /// returned sale line instead of a new line.
    pub delete_probability: f64,
    /// Item surrogate keys (dsdgen: uniform over 18000). With zipf the ticket's
    /// *first* item follows the distribution; see [`generator`] for the rest.
    pub item: KeyDist,
    /// Customer surrogate keys (dsdgen: uniform over 100000).
    pub customer: KeyDist,
    /// Scale factor for the other key ranges: addresses (50000 × scale) and
    /// promotions (300 × scale). Demographics (cdemo 1920800, hdemo 7200), reasons
    /// (35) and stores ([`STORE_KEYS`]) keep their scale-factor-1 sizes, as the
    /// demographics do in TPC-DS at every scale.
    pub scale: u32,
    /// How date and time keys are chosen.
    pub dates: DateMode,
    /// Chance that a row has a random subset of its nullable columns set to NULL
    /// (dsdgen: about 0.09 for sales and 0.07 for returns; default 0: no NULLs).
    pub null_fraction: f64,
    /// How many committed sale lines are kept as candidates for an update or a
    /// delete (bounds memory; 24 bytes each). When full, new lines overwrite old
    /// candidates round-robin.
    pub mutation_pool: usize,
}

impl Default for GenConfig {
    fn default() -> Self {
        GenConfig {
            items_per_ticket: CountRange { min: 8, max: 16 },
            return_probability: 0.10,
            return_lag: LagDist::Fixed {
                value: std::time::Duration::from_secs(1),
            },
            update_probability: 0.0,
            delete_probability: 0.0,
            item: KeyDist::Uniform { n: 18_000 },
            customer: KeyDist::Uniform { n: 100_000 },
            scale: 1,
            dates: DateMode::Dsdgen,
            null_fraction: 0.0,
            mutation_pool: 100_000,
        }
    }
}

/// Key ranges (`1..=n`) of the dimensions drawn uniformly, derived from the scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyRanges {
    /// `customer_address` rows.
    pub addr: u32,
    /// `customer_demographics` rows.
    pub cdemo: u32,
    /// `household_demographics` rows.
    pub hdemo: u32,
    /// `promotion` rows.
    pub promo: u32,
    /// `reason` rows.
    pub reason: u32,
}

impl KeyRanges {
    /// The ranges at a scale factor (see [`GenConfig::scale`]).
    pub fn for_scale(scale: u32) -> KeyRanges {
        KeyRanges {
            addr: 50_000 * scale,
            cdemo: 1_920_800,
            hdemo: 7_200,
            promo: 300 * scale,
            reason: 35,
        }
    }
}

/// A configuration the generator cannot honour. Bad input: exit code 2.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid generator setting `{field}`: {reason}")]
pub struct GenError {
    /// The [`GenConfig`] field at fault.
    pub field: &'static str,
    /// What is wrong and what would be valid.
    pub reason: String,
}

impl GenError {
    /// The process exit code for this error class (bad input).
    pub fn exit_code(&self) -> i32 {
        2
    }
}

fn check_probability(field: &'static str, p: f64) -> Result<(), GenError> {
    if p.is_finite() && (0.0..=1.0).contains(&p) {
        Ok(())
    } else {
        Err(GenError {
            field,
            reason: format!("{p} is not a probability; use a value in 0.0..=1.0"),
        })
    }
}

fn check_keys(field: &'static str, d: &KeyDist) -> Result<(), GenError> {
    let n = d.n();
    if n == 0 || n > u64::from(u32::MAX) {
        return Err(GenError {
            field,
            reason: format!("n = {n}; use 1..={}", u32::MAX),
        });
    }
    if let KeyDist::Zipf { s, .. } = d {
        if !(s.is_finite() && *s > 0.0) {
            return Err(GenError {
                field,
                reason: format!("zipf exponent s = {s}; use a finite s > 0"),
            });
        }
    }
    Ok(())
}

impl GenConfig {
    /// Checks every field; [`Generator::try_new`] calls it.
    pub fn validate(&self) -> Result<(), GenError> {
        check_keys("item", &self.item)?;
        check_keys("customer", &self.customer)?;
        let r = self.items_per_ticket;
        if r.min == 0 || r.min > r.max || u64::from(r.max) > self.item.n() {
            return Err(GenError {
                field: "items_per_ticket",
                reason: format!(
                    "{}..={} lines; use 1 <= min <= max <= item n ({}), items within a ticket are distinct",
                    r.min,
                    r.max,
                    self.item.n()
                ),
            });
        }
        check_probability("return_probability", self.return_probability)?;
        check_probability("update_probability", self.update_probability)?;
        check_probability("delete_probability", self.delete_probability)?;
        check_probability("null_fraction", self.null_fraction)?;
        if self.update_probability + self.delete_probability > 1.0 {
            return Err(GenError {
                field: "delete_probability",
                reason: "update_probability + delete_probability exceeds 1.0".into(),
            });
        }
        match self.return_lag {
            LagDist::Uniform { min, max } if min > max => {
                return Err(GenError {
                    field: "return_lag",
                    reason: format!("uniform min {min:?} exceeds max {max:?}"),
                })
            }
            LagDist::Lognormal { sigma, .. } if !(sigma.is_finite() && sigma >= 0.0) => {
                return Err(GenError {
                    field: "return_lag",
                    reason: format!("lognormal sigma = {sigma}; use a finite sigma >= 0"),
                })
            }
            _ => {}
        }
        if self.scale == 0 || self.scale > 80_000 {
            return Err(GenError {
                field: "scale",
                reason: format!("{}; use 1..=80000", self.scale),
            });
        }
        Ok(())
    }
}
