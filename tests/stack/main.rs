//! The integration tests that need the native stack (`scripts/stack.sh up`):
//! observers, the harness's runs, faults, audits and gates against MariaDB,
//! Kafka, Flink and the warehouse. One test at a time ([`support::turn`]):
//! they share the stack, and some stop parts of it. `cargo test --test stack`.

#[path = "../support/mod.rs"]
mod support;

mod audit;
mod audit_canonical;
mod cross_check;
mod derived;
mod faults;
mod faults_jobs;
mod gate;
mod ground_truth;
mod kafka_formats;
mod live;
mod observe_binlog;
mod observe_kafka;
mod observe_preflight;
mod observe_warehouse;
mod observe_warehouse_poll;
mod pipeline;
mod run;
mod snapshot;
mod stack_scripts;
mod sweep;
