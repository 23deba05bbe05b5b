//! tpcds-bench: a load-testing and latency harness for CDC pipelines on the
//! TPC-DS sales model.
//!
//! Data flow, one module each:
//! `scenario` (TOML → validated scenario) → `plan` (rate profile → per-worker
//! schedule) → `tpcds` (row generator) → `load` (open-loop workers writing MySQL)
//! → `observe` (Kafka, warehouse and binlog observers) → `track` (per-row
//! accounting) → `stats` (HDR histograms) → `report` (run directory). `audit`
//! compares what the warehouse paths hold with MySQL, value for value.
//! `redact` masks secrets in everything shown or written. `faults` carries out
//! a scenario's `[[faults]]` and analyses recovery. `live` serves the run's
//! figures as OpenMetrics while it lasts. `cmd` holds one function per
//! command; `cli` the flags; `exit` the exit codes; `clock` the run's one clock
//! and the servers' offsets from it.

pub mod audit;
pub mod cli;
pub mod clock;
pub mod cmd;
pub mod compare;
pub mod derived;
pub mod dist;
pub mod exit;
pub mod faults;
pub mod live;
pub mod load;
pub mod metrics;
pub mod model;
pub mod observe;
pub mod plan;
pub mod redact;
pub mod report;
pub mod scenario;
pub mod stats;
pub mod sweep;
pub mod tpcds;
pub mod track;
