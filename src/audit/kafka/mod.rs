//! The Kafka sink's side of the audit: the last image of each key of the
//! run's ticket range, as the Kafka observer's decoder reads it, kept as the
//! digest of its canonical text ([`crate::observe::decode::canonical`]). The changelog topics
//! are read back after the drain from the messages appended since the run
//! started (`offsets_for_times`, a minute early for clock skew) to the high
//! watermarks seen when the audit began, so `tpcds-bench audit RUN_DIR` can
//! do the same later and the observer pays nothing during the run. The
//! mid-run audits keep one [`Tail`] and catch up from where they stopped.
//! Memory: one digest per key of the range ([`Images`]), for the audit's
//! duration only.

pub mod fast;
mod images;
mod tail;

use std::ops::Range;
use std::time::Duration;

use super::AuditError;
use crate::observe::decode::Format;

pub use images::{Images, KafkaRead};
pub use tail::Tail;

/// How the audit reads the Kafka sink.
#[derive(Debug, Clone)]
pub struct KafkaSource {
    /// `bootstrap.servers`.
    pub brokers: String,
    /// Topic prefix (`tpcds.`).
    pub topic_prefix: String,
    /// Message format.
    pub format: Format,
    /// Extra librdkafka properties of the scenario.
    pub extra: Vec<(String, String)>,
    /// When the run started: messages appended from a minute before are read.
    pub since: chrono::DateTime<chrono::Utc>,
}

/// Slack before the run's start, for the broker's clock (LogAppendTime) or
/// Flink's (CreateTime) running behind the harness's.
const EARLY: Duration = Duration::from_secs(60);
/// A read that gets no message for this long while short of the watermarks fails.
const STUCK: Duration = Duration::from_secs(15);

/// The Kafka sink's images: the read started when the audit did (so it
/// overlaps the databases' work), awaited on first use.
pub enum KafkaImages {
    /// Still reading.
    Reading(tokio::task::JoinHandle<Result<Images, AuditError>>),
    /// Read.
    Read(Images),
    /// Failed (the error was returned once).
    Failed,
}

impl KafkaImages {
    /// The images, awaiting the read the first time.
    pub async fn get(&mut self) -> Result<&Images, AuditError> {
        if let KafkaImages::Reading(h) = self {
            let read = match h.await {
                Ok(r) => r,
                Err(e) => Err(AuditError::Query {
                    side: "Kafka".into(),
                    message: format!("the read-back task failed: {e}"),
                }),
            };
            match read {
                Ok(images) => *self = KafkaImages::Read(images),
                Err(e) => {
                    *self = KafkaImages::Failed;
                    return Err(e);
                }
            }
        }
        match self {
            KafkaImages::Read(images) => Ok(images),
            _ => Err(AuditError::Query {
                side: "Kafka".into(),
                message: "the topics could not be read back".into(),
            }),
        }
    }
}
/// Reads the topics back (blocking: run it off the async runtime).
pub fn read(src: &KafkaSource, tickets: &Range<u64>) -> Result<Images, AuditError> {
    let mut tail = Tail::open(src, tickets)?;
    tail.catch_up()?;
    Ok(tail.take_images())
}

fn fail(e: impl std::fmt::Display) -> AuditError {
    AuditError::Query {
        side: "Kafka".into(),
        message: crate::redact::redact_text(&e.to_string()).into_owned(),
    }
}
