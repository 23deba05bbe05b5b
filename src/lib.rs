//! tpcds-bench: a load-testing and latency harness for CDC pipelines on the
//! TPC-DS sales model.
//!
//! Data flow, one module each:
//! `scenario` (TOML → validated scenario) → `plan` (rate profile → per-worker
//! schedule) → `tpcds` (row generator) → `load` (open-loop workers writing MySQL)
//! → `observe` (Kafka, warehouse and binlog observers) → `track` (per-row
//! accounting) → `stats` (HDR histograms) → `report` (run directory).

pub mod dist;
pub mod model;
pub mod observe;
