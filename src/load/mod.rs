//! Open-loop load: each worker owns one MySQL connection, one generator and one
//! absolute schedule. A batch is sent when its last row's intended time arrives;
//! a slow database never slows the schedule, it makes rows late (and, beyond
//! `max_lag`, dropped), and every row's client latency is measured from its own
//! intended time, so a stall is charged to every row it delayed.

mod caveats;
mod sql;
mod stamps;
mod worker;

pub use caveats::{FailedRows, Lateness};
pub use sql::{format_stamp, BatchSql};
pub use worker::{run_worker, WorkerConfig, WorkerError, WorkerReport, LATE_THRESHOLD};
