//! How the harness reaches its targets: the MySQL driver's options and
//! Flink's REST client, one home for the workers, observers, preflight, the
//! metrics sampler and sweeps. Each Kafka client keeps its own settings with
//! its purpose (`observe::kafka::setup`, `pipeline_metrics`), and the
//! warehouse connection stays with its observers (`observe::warehouse`).

pub mod flink;
pub mod mysql;
