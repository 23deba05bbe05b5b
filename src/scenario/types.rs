//! The validated scenario: plain data, every field checked, every default filled.
//! `Serialize` writes it into `summary.json` (durations as "90s", URLs redacted).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::url::TargetUrl;
use crate::dist::{CountRange, KeyDist, LagDist};
use crate::model::{Sink, Table};
use crate::rate::{dur, dur_opt, RateSpec};

/// Default MySQL target.
pub const DEFAULT_MYSQL_URL: &str = "mysql://root:root123@127.0.0.1:3306/business_db";
/// Default Kafka bootstrap servers.
pub const DEFAULT_KAFKA_BROKERS: &str = "127.0.0.1:9092";
/// Default warehouse (Cloudberry or its PostgreSQL stand-in).
pub const DEFAULT_WAREHOUSE_URL: &str = "postgres://gpadmin:gpadmin@127.0.0.1:5432/tpcds";
/// Default Flink REST endpoint.
pub const DEFAULT_FLINK_URL: &str = "http://127.0.0.1:8081";
/// Default topic prefix: topics are `tpcds.store_sales`, `tpcds.store_returns`.
pub const DEFAULT_TOPIC_PREFIX: &str = "tpcds.";
/// Seed used when a scenario names none, so two runs of one file draw the same rows.
pub const DEFAULT_SEED: u64 = 0x7C0D_5EED;

/// A validated scenario: what to run, how hard, against what, and the pass/fail gates.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scenario {
    /// Short name, used in the run directory name (`[A-Za-z0-9._-]`). Default: the file stem.
    pub name: String,
    /// Free text for reports.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Length of the load phase, warmup included.
    #[serde(with = "dur")]
    pub duration: Duration,
    /// The first part of `duration` whose latencies are left out of the headline histograms.
    #[serde(with = "dur")]
    pub warmup: Duration,
    /// After the load stops, how long observers wait for missing rows before calling them lost.
    #[serde(with = "dur")]
    pub drain_timeout: Duration,
    /// Seed of every random choice (rows, keys, Poisson arrivals).
    pub seed: u64,
    /// How hard and how the load is offered.
    pub load: Load,
    /// What the rows look like.
    pub mix: Mix,
    /// Where the services are.
    pub targets: Targets,
    /// What to observe and how.
    pub observe: Observe,
    /// Pass/fail gates.
    pub slo: Slo,
    /// Timed actions against the stack (`[[faults]]`), in start order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<FaultSpec>,
    /// How the harness reaches the stack's controls (`[control]`).
    pub control: Control,
    /// Derived-data probes and reads under load (used by the derived and query sinks).
    pub derived: Derived,
    /// The OpenMetrics endpoint served while the run lasts (`[live]`).
    pub live: Live,
    /// The end-of-run audit of what the sinks (Kafka, the warehouse paths) hold (`[audit]`).
    pub audit: Audit,
    /// How `sweep` steps through rates (`[sweep]`).
    #[serde(skip_serializing_if = "SweepSpec::is_default")]
    pub sweep: SweepSpec,
    /// Preload the tables and start the CDC jobs afresh before the load
    /// (`[snapshot]`; `None`: the pipeline streams from where it is).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<Snapshot>,
    /// Where the scenario came from and what overrode it.
    pub source: ScenarioSource,
}

/// `[snapshot]`: rows preloaded before the CDC jobs start afresh, so the run
/// measures their snapshot phase (see [`crate::snapshot`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Snapshot {
    /// Rows of the scenario's mix (sale lines and their returns) written
    /// before the jobs start.
    pub rows: u64,
    /// Rows per multi-row `INSERT` of the preload.
    pub batch_rows: usize,
    /// MySQL connections writing the preload at once.
    pub connections: usize,
}

/// `[live]`: the OpenMetrics endpoint served while the run lasts.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Live {
    /// Where `/metrics` is served; `None`: no endpoint. Loopback unless the
    /// user names another interface.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub addr: Option<std::net::SocketAddr>,
    /// How long the endpoint keeps serving after the report is written, so
    /// a scraper sees the final values.
    #[serde(with = "dur")]
    pub linger: Duration,
}

/// Open-loop load shape.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Load {
    /// Concurrent MySQL writers (1..=256).
    pub workers: u32,
    /// Rows per transaction (1..=10000).
    pub batch_rows: u32,
    /// Target rate over time, rows per second summed over all tables and operations.
    pub rate: RateSpec,
    /// How rows are spaced within the rate.
    pub arrivals: Arrivals,
    /// A worker further behind schedule than this drops the overdue rows (counted as dropped).
    #[serde(with = "dur")]
    pub max_lag: Duration,
}

/// Spacing of rows within the target rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Arrivals {
    /// Evenly spaced: row i at the instant the rate integral reaches i + 0.5.
    Uniform,
    /// A nonhomogeneous Poisson process with the target rate as intensity.
    Poisson,
}

/// The shape of the generated rows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mix {
    /// Lines per ticket (distinct items).
    pub items_per_ticket: CountRange,
    /// Probability that a sale line is later returned.
    pub return_probability: f64,
    /// Wall-clock delay between a sale line's insert and its return's insert.
    pub return_lag: LagDist,
    /// Probability that a row is updated once after insert (a price correction).
    pub update_probability: f64,
    /// Probability that a row is deleted once after insert (a voided line).
    pub delete_probability: f64,
    /// How `ss_item_sk` is chosen.
    pub item: KeyDist,
    /// How `ss_customer_sk` is chosen.
    pub customer: KeyDist,
    /// How date/time keys are chosen.
    pub dates: DateMode,
    /// Fraction of rows whose nullable columns are (partly) NULL, as dsdgen does.
    pub null_fraction: f64,
}

/// Source of `*_date_sk` / `*_time_sk`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DateMode {
    /// dsdgen's weighted calendar, 1998-01-02 .. 2003-01-02.
    Dsdgen,
    /// The wall clock at generation time.
    WallClock,
}

/// Service addresses.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Targets {
    /// `mysql://user:password@host:port/database`.
    pub mysql: TargetUrl,
    /// Kafka cluster and changelog format.
    pub kafka: KafkaTarget,
    /// `postgres://…` of Cloudberry or PostgreSQL.
    pub warehouse: TargetUrl,
    /// Flink REST endpoint, `http(s)://host:port`.
    pub flink_rest: TargetUrl,
}

/// The Kafka side of the pipeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KafkaTarget {
    /// Bootstrap servers, `host:port[,host:port…]`.
    pub brokers: String,
    /// Changelog format the pipeline writes to the topics.
    pub format: KafkaFormat,
    /// Topic name = prefix + table name.
    pub topic_prefix: String,
}

impl KafkaTarget {
    /// The changelog topic of a table, e.g. `tpcds.store_sales`.
    pub fn topic(&self, table: Table) -> String {
        format!("{}{}", self.topic_prefix, table.name())
    }
}

/// Every [`KafkaFormat`]'s name, in its order.
pub const KAFKA_FORMAT_NAMES: [&str; 6] = [
    "debezium-json",
    "canal-json",
    "maxwell-json",
    "ogg-json",
    "upsert-kafka",
    "json",
];

/// Changelog encodings the Kafka observer decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum KafkaFormat {
    /// `{"before":…,"after":…,"op":…}`.
    DebeziumJson,
    /// `{"data":[…],"old":[…],"type":"INSERT"|…}`.
    CanalJson,
    /// `{"data":{…},"old":{…},"type":"insert"|…}`.
    MaxwellJson,
    /// `{"before":…,"after":…,"op_type":"I"|…}` (Oracle GoldenGate).
    OggJson,
    /// Key + value; deletes as tombstones.
    UpsertKafka,
    /// Plain rows (inserts only).
    Json,
}

impl KafkaFormat {
    /// The name as written in a scenario and in Flink's `format` option.
    pub fn name(self) -> &'static str {
        match self {
            KafkaFormat::DebeziumJson => "debezium-json",
            KafkaFormat::CanalJson => "canal-json",
            KafkaFormat::MaxwellJson => "maxwell-json",
            KafkaFormat::OggJson => "ogg-json",
            KafkaFormat::UpsertKafka => "upsert-kafka",
            KafkaFormat::Json => "json",
        }
    }
}

/// Observation settings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Observe {
    /// Sinks to observe, in [`Sink::ALL`] order, no duplicates, at least one.
    pub sinks: Vec<Sink>,
    /// Warehouse poll interval: the detection resolution of path1/path2 latencies.
    #[serde(with = "dur")]
    pub poll_interval: Duration,
    /// How far back each warehouse poll re-reads `arrived_at`, to catch rows whose
    /// transaction committed after a later-stamped row was already read.
    #[serde(with = "dur")]
    pub arrival_overlap: Duration,
    /// Fraction of rows whose latency is recorded (loss accounting always covers all rows).
    pub sample_rate: f64,
    /// How long a row seen at every sink is remembered to count repeats as
    /// duplicates; later repeats count as unexpected. Bounds the tracker's memory.
    #[serde(with = "dur")]
    pub duplicate_window: Duration,
    /// The harness's memory budget (MiB): `run` warns before it starts when
    /// the scenario's projected peak exceeds it (`observe.memory_limit_mib`).
    pub memory_limit_mib: u64,
}

/// Default of `observe.duplicate_window`: how long a fully observed version is
/// remembered to recognise duplicates. Beyond it a repeat shows up as
/// `unexpected` instead of `duplicates` (still reported). It bounds the
/// ledger's memory: at 20,000 rows/s, 60 s is 1.2 M rows.
pub const DEFAULT_DUP_WINDOW: Duration = Duration::from_secs(60);

/// Default of `observe.memory_limit_mib`: 1 GiB.
pub const DEFAULT_MEMORY_LIMIT_MIB: u64 = 1024;

impl Observe {
    /// Whether `sink` is observed.
    pub fn observes(&self, sink: Sink) -> bool {
        self.sinks.contains(&sink)
    }
}

/// Which derived relation the `path1_view`/`path2_view` sinks poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DerivedRelation {
    /// `derived.store_daily_pathN`: a plain view, as fresh as the path.
    View,
    /// `derived.store_daily_pathN_mv`: a materialized view (PostgreSQL: refreshed
    /// on a schedule by the stack; Cloudberry: incremental).
    MatView,
}

/// `[audit]`: after the drain, compare MySQL with each warehouse path and Kafka over
/// the run's ticket range, value for value (see [`crate::audit`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Audit {
    /// Run the audit (default true); `false` turns off the mid-run audits too.
    pub enabled: bool,
    /// Audit a consistent cut this often during the run too (`None`: only
    /// after the drain). See [`crate::audit::periodic`].
    #[serde(with = "dur_opt", skip_serializing_if = "Option::is_none")]
    pub every: Option<Duration>,
}

impl Default for Audit {
    fn default() -> Self {
        Audit {
            enabled: true,
            every: None,
        }
    }
}

/// `[derived]`: freshness probes and reads under load.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Derived {
    /// The relation the view sinks poll.
    pub relation: DerivedRelation,
    /// Time between polls of the derived relation: the view sinks' resolution.
    #[serde(with = "dur")]
    pub poll_interval: Duration,
    /// Probe sales (reserved store key 999) written per second.
    pub probes_per_second: f64,
    /// Each query of the reads-under-load set runs this often (open loop).
    pub reads_per_second: f64,
    /// The schema (`path1`/`path2`) the queries read.
    pub reads_schema: String,
}

/// Pass/fail gates; any breach makes the run exit 1. Deserializable so `gate`
/// can read the SLOs back from a run's `summary.json`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Slo {
    /// Upper bound on p99 latency per sink, milliseconds.
    pub p99_ms: SinkLimits,
    /// Upper bound on p50 latency per sink, milliseconds.
    pub p50_ms: SinkLimits,
    /// Most rows a sink may still be missing after the drain (per sink).
    pub max_missing: u64,
    /// Most keys whose rows may differ from MySQL's at an audited sink (per
    /// sink; see `[audit]`).
    pub max_mismatched: u64,
    /// Most duplicated rows a sink may show (per sink); `None` = not gated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_duplicates: Option<u64>,
    /// Least achieved/target row ratio over the run; `None` = not gated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_achieved_ratio: Option<f64>,
}

/// An optional millisecond limit per sink.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SinkLimits {
    /// Limit for [`Sink::Binlog`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub binlog: Option<f64>,
    /// Limit for [`Sink::Kafka`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kafka: Option<f64>,
    /// Limit for [`Sink::Path1`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path1: Option<f64>,
    /// Limit for [`Sink::Path2`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path2: Option<f64>,
    /// Limit for [`Sink::Path1View`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path1_view: Option<f64>,
    /// Limit for [`Sink::Path2View`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path2_view: Option<f64>,
    /// Limit for [`Sink::Metrics`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics: Option<f64>,
    /// Limit for [`Sink::QStoreReturns`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub q_store_returns: Option<f64>,
    /// Limit for [`Sink::QTopItems`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub q_top_items: Option<f64>,
}

impl SinkLimits {
    /// The limit for one sink.
    pub fn get(&self, sink: Sink) -> Option<f64> {
        match sink {
            Sink::Binlog => self.binlog,
            Sink::Kafka => self.kafka,
            Sink::Path1 => self.path1,
            Sink::Path2 => self.path2,
            Sink::Path1View => self.path1_view,
            Sink::Path2View => self.path2_view,
            Sink::Metrics => self.metrics,
            Sink::QStoreReturns => self.q_store_returns,
            Sink::QTopItems => self.q_top_items,
        }
    }

    /// Sets the limit for one sink.
    pub fn set(&mut self, sink: Sink, ms: Option<f64>) {
        match sink {
            Sink::Binlog => self.binlog = ms,
            Sink::Kafka => self.kafka = ms,
            Sink::Path1 => self.path1 = ms,
            Sink::Path2 => self.path2 = ms,
            Sink::Path1View => self.path1_view = ms,
            Sink::Path2View => self.path2_view = ms,
            Sink::Metrics => self.metrics = ms,
            Sink::QStoreReturns => self.q_store_returns = ms,
            Sink::QTopItems => self.q_top_items = ms,
        }
    }

    /// The limits that are set, in [`Sink::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = (Sink, f64)> + '_ {
        Sink::ALL
            .into_iter()
            .filter_map(|s| self.get(s).map(|v| (s, v)))
    }
}

/// Where a scenario came from: kept to copy the exact input into the run
/// directory and to re-validate when overrides are added.
#[derive(Clone, PartialEq, Serialize)]
pub struct ScenarioSource {
    /// File path or origin label.
    pub origin: String,
    /// The file's text, byte for byte (not serialised; copy it as `scenario.toml`).
    #[serde(skip)]
    pub text: String,
    /// `--set` overrides applied, in order, as `(dotted.key, value)`
    /// (serialised as `key=value` with URL passwords redacted).
    #[serde(
        serialize_with = "ser_overrides",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub overrides: Vec<(String, String)>,
    /// Environment variables that overrode a target (names only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<String>,
    /// The environment overrides' values, kept so later `--set` flags re-validate
    /// against the same environment (never serialised: they may hold passwords).
    #[serde(skip)]
    pub(crate) env_values: Vec<(String, String)>,
}

impl std::fmt::Debug for ScenarioSource {
    // By hand: the text and the environment values may hold passwords.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let overrides: Vec<String> = self
            .overrides
            .iter()
            .map(|(k, v)| crate::redact::redact_text(&format!("{k}={v}")).into_owned())
            .collect();
        f.debug_struct("ScenarioSource")
            .field("origin", &self.origin)
            .field("text_bytes", &self.text.len())
            .field("overrides", &overrides)
            .field("env", &self.env)
            .finish()
    }
}

fn ser_overrides<S: serde::Serializer>(v: &[(String, String)], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(
        v.iter()
            .map(|(k, x)| crate::redact::redact_text(&format!("{k}={x}")).into_owned()),
    )
}

/// One timed action against the stack (`[[faults]]`): at `at` the target is
/// taken down, `duration` later it is brought back.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FaultSpec {
    /// When the fault starts, from the start of the load.
    #[serde(with = "dur")]
    pub at: Duration,
    /// What is done to the target.
    pub action: FaultAction,
    /// The component acted on.
    pub target: FaultTarget,
    /// How long the target stays down before it is started again.
    #[serde(with = "dur")]
    pub duration: Duration,
}

/// What a fault does to its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultAction {
    /// Graceful stop (the component's own shutdown), start after `duration`.
    Restart,
    /// SIGKILL (no shutdown), start after `duration`.
    Kill,
    /// A Flink job: stop with a savepoint, resubmit from it after `duration`.
    Pause,
}

impl FaultAction {
    /// All actions, as written in scenarios.
    pub const NAMES: [&'static str; 3] = ["restart", "kill", "pause"];

    /// The scenario spelling.
    pub fn name(self) -> &'static str {
        match self {
            FaultAction::Restart => "restart",
            FaultAction::Kill => "kill",
            FaultAction::Pause => "pause",
        }
    }
}

/// A component of the stack a fault can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultTarget {
    /// The MySQL (MariaDB) server.
    Mysql,
    /// The Kafka broker.
    Kafka,
    /// The warehouse (PostgreSQL or Cloudberry).
    Warehouse,
    /// The Flink JobManager.
    FlinkJobmanager,
    /// The Flink TaskManager.
    FlinkTaskmanager,
    /// Flink job: MySQL CDC → Kafka (path 1, first leg).
    #[serde(rename = "mysql-cdc-to-kafka")]
    JobCdcToKafka,
    /// Flink job: Kafka → warehouse `path1` (path 1, second leg).
    #[serde(rename = "kafka-to-cloudberry")]
    JobKafkaToWarehouse,
    /// Flink job: MySQL CDC → warehouse `path2` (path 2).
    #[serde(rename = "mysql-cdc-to-cloudberry")]
    JobCdcToWarehouse,
    /// Flink job: the streaming analytics (metrics and alerts topics).
    #[serde(rename = "streaming-analytics")]
    JobAnalytics,
}

impl FaultTarget {
    /// All targets, as written in scenarios (and as `scripts/stack.sh` names them).
    pub const NAMES: [&'static str; 9] = [
        "mysql",
        "kafka",
        "warehouse",
        "flink-jobmanager",
        "flink-taskmanager",
        "mysql-cdc-to-kafka",
        "kafka-to-cloudberry",
        "mysql-cdc-to-cloudberry",
        "streaming-analytics",
    ];

    /// Every target, in [`FaultTarget::NAMES`] order.
    pub const ALL: [FaultTarget; 9] = [
        FaultTarget::Mysql,
        FaultTarget::Kafka,
        FaultTarget::Warehouse,
        FaultTarget::FlinkJobmanager,
        FaultTarget::FlinkTaskmanager,
        FaultTarget::JobCdcToKafka,
        FaultTarget::JobKafkaToWarehouse,
        FaultTarget::JobCdcToWarehouse,
        FaultTarget::JobAnalytics,
    ];

    /// A Flink job (paused), not a component (restarted or killed).
    pub fn is_job(self) -> bool {
        matches!(
            self,
            FaultTarget::JobCdcToKafka
                | FaultTarget::JobKafkaToWarehouse
                | FaultTarget::JobCdcToWarehouse
                | FaultTarget::JobAnalytics
        )
    }

    /// The scenario (and `scripts/stack.sh`) spelling.
    pub fn name(self) -> &'static str {
        match self {
            FaultTarget::Mysql => "mysql",
            FaultTarget::Kafka => "kafka",
            FaultTarget::Warehouse => "warehouse",
            FaultTarget::FlinkJobmanager => "flink-jobmanager",
            FaultTarget::FlinkTaskmanager => "flink-taskmanager",
            FaultTarget::JobCdcToKafka => "mysql-cdc-to-kafka",
            FaultTarget::JobKafkaToWarehouse => "kafka-to-cloudberry",
            FaultTarget::JobCdcToWarehouse => "mysql-cdc-to-cloudberry",
            FaultTarget::JobAnalytics => "streaming-analytics",
        }
    }
}

/// How the harness acts on the stack (`[control]`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Control {
    /// Native stack, docker compose, or decided at run time.
    pub mode: ControlMode,
    /// `scripts/stack.sh` of the native stack; `None`: `$TPCDS_STACK_CONTROL`,
    /// else `scripts/stack.sh` under the current directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub script: Option<String>,
    /// The compose file for `mode = "compose"` (default `docker-compose.yml`).
    pub compose_file: String,
}

impl Default for Control {
    fn default() -> Self {
        Control {
            mode: ControlMode::Auto,
            script: None,
            compose_file: "docker-compose.yml".into(),
        }
    }
}

/// Which controls act on the stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ControlMode {
    /// Native when `scripts/stack.sh` controls the targets, else compose when `docker` is on PATH.
    Auto,
    /// `scripts/stack.sh stop|kill|start COMPONENT`.
    Native,
    /// `docker compose stop|kill|start SERVICE`.
    Compose,
}

/// How `tpcds-bench sweep` steps through rates (`[sweep]`); `run` ignores it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SweepSpec {
    /// Explicit target rates (rows/s), run in this order; empty: the geometric series.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rates: Vec<f64>,
    /// First rate of the geometric series (rows/s).
    pub from: f64,
    /// Highest rate the series or the search may ask for (rows/s).
    pub to: f64,
    /// Ratio between two rates of the series, and the search's growth factor (> 1).
    pub factor: f64,
    /// The search stops refining a sink when first fail / last pass ≤ this (> 1).
    pub resolution: f64,
    /// Most steps one sweep runs (the search's time budget).
    pub max_steps: u32,
    /// Pause between two steps, so a step's backlog does not start the next one.
    #[serde(with = "dur")]
    pub settle: Duration,
    /// A find-max step fails when the p99 of the harness's send lateness exceeds this (ms).
    pub max_lateness_ms: f64,
}

impl Default for SweepSpec {
    fn default() -> Self {
        SweepSpec {
            rates: Vec::new(),
            from: 250.0,
            to: 16_000.0,
            factor: 2.0,
            resolution: 1.25,
            max_steps: 10,
            settle: Duration::from_secs(5),
            max_lateness_ms: 1000.0,
        }
    }
}

impl SweepSpec {
    /// True when nothing was set (the section is then left out of `resolved_scenario`,
    /// so runs' fingerprints are what they were before `[sweep]` existed).
    pub fn is_default(&self) -> bool {
        *self == SweepSpec::default()
    }
}
