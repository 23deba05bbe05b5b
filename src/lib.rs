//! tpcds-bench: a load-testing and latency harness for CDC pipelines on the
//! TPC-DS sales model.
//!
//! Data flow, one module each:
//! `scenario` (TOML → validated scenario) → `plan` (rate profile → per-worker
//! schedule) → `tpcds` (row generator) → `load` (open-loop workers writing MySQL)
//! → `observe` (Kafka, warehouse and binlog observers) → `track` (per-row
//! accounting) → `stats` (HDR histograms) → `report` (run directory). `audit`
//! compares what the warehouse paths hold with MySQL, value for value.
//! `derived` measures the freshness of views and the analytics topic, and
//! reads under load; `pipeline_metrics` samples the pipeline's own metrics;
//! `targets` is how they all reach MySQL and Flink's REST API.
//! Leaf modules every stage may use: `rate` (the rate spec and profile that
//! scenario and plan share), `redact` (masks secrets in everything shown or
//! written), `caveat` (what a reader must know, each fact produced by the
//! module that knows it), `model` (the shared vocabulary). `faults` carries
//! out a scenario's `[[faults]]` and analyses recovery. `live` serves the
//! run's figures as OpenMetrics while it lasts. `cmd` holds one function per
//! command; `cli` the flags; `exit` the exit codes; `clock` the run's one
//! clock and the servers' offsets from it.

pub mod audit;
pub mod caveat;
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
pub mod model;
pub mod observe;
pub mod pipeline_metrics;
pub mod plan;
pub mod proc_cpu;
pub mod rate;
pub mod redact;
pub mod report;
pub mod scenario;
pub mod snapshot;
pub mod stats;
pub mod sweep;
pub mod targets;
pub mod tpcds;
pub mod track;
