//! The Kafka sink's side of the audit: the last image of each key of the
//! run's ticket range, as the Kafka observer's decoder reads it, kept as the
//! digest of its canonical text ([`crate::observe::decode::canonical`]). The changelog topics
//! are read back after the drain from the messages appended since the run
//! started (`offsets_for_times`, a minute early for clock skew) to the high
//! watermarks seen when the audit began, so `tpcds-bench audit RUN_DIR` can
//! do the same later and the observer pays nothing during the run. The
//! mid-run audits keep one [`Tail`] and catch up from where they stopped.
//! Memory: one digest per key of the range ([`Images`]), for the audit's
//! duration only. The end-of-run audit compares the Kafka observer's tally
//! first ([`crate::observe::kafka::tally`]) and reads back only when it is
//! unusable or differs from MySQL.

mod images;
mod tail;

use std::ops::Range;
use std::time::Duration;

use super::{AuditError, KafkaTallied};
use crate::model::Table;
use crate::observe::decode::Format;
use crate::observe::kafka::tally::Tally;

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

/// The Kafka sink's side: the observer's tally when the run kept a usable
/// one, else the images read back. The read starts when the audit does (so
/// it overlaps the databases' work), or when the tally differs from MySQL;
/// it is awaited on first use.
pub struct KafkaImages {
    /// Where to read back (`None`: the images were read already).
    src: Option<KafkaSource>,
    tickets: Range<u64>,
    /// The tally, while it is still what the audit compares.
    tally: Option<Tally>,
    /// The run's tally as it came (messages, why unusable), for the report.
    tallied: Option<KafkaTallied>,
    read: ReadBack,
}

/// The read-back's progress.
enum ReadBack {
    NotStarted,
    Reading(tokio::task::JoinHandle<Result<Images, AuditError>>),
    Done(Images),
    /// Failed (the error was returned once).
    Failed,
}

impl KafkaImages {
    /// The Kafka side of an audit of `tickets`: `tally` (the run's) first
    /// when it is usable, the topics read back otherwise.
    pub fn new(src: KafkaSource, tickets: Range<u64>, tally: Option<Tally>) -> KafkaImages {
        let tallied = tally.as_ref().map(|t| KafkaTallied {
            messages: t.messages,
            agreed: false,
            unusable: t.unusable.clone(),
        });
        let mut k = KafkaImages {
            src: Some(src),
            tickets,
            tally: tally.filter(|t| t.unusable.is_none()),
            tallied,
            read: ReadBack::NotStarted,
        };
        if k.tally.is_none() {
            k.start();
        }
        k
    }

    /// Images read already (the mid-run audits' catch-up), for `tickets`.
    pub fn of_images(images: Images, tickets: Range<u64>) -> KafkaImages {
        KafkaImages {
            src: None,
            tickets,
            tally: None,
            tallied: None,
            read: ReadBack::Done(images),
        }
    }

    /// The images, if read.
    pub fn into_images(self) -> Option<Images> {
        match self.read {
            ReadBack::Done(images) => Some(images),
            _ => None,
        }
    }

    fn start(&mut self) {
        if let (ReadBack::NotStarted, Some(src)) = (&self.read, &self.src) {
            let (src, tickets) = (src.clone(), self.tickets.clone());
            self.read =
                ReadBack::Reading(tokio::task::spawn_blocking(move || read(&src, &tickets)));
        }
    }

    /// Whether the tally is what is compared.
    pub fn is_tallied(&self) -> bool {
        self.tally.is_some()
    }

    /// The tally's rows and digest sum of `table`, when it is compared and
    /// `range` is the run's whole range (a chunk needs the images).
    pub fn tally_of(&self, table: Table, range: &Range<u64>) -> Option<(i64, i128)> {
        let t = self.tally.as_ref()?.of(table)?;
        (*range == self.tickets).then_some(t)
    }

    /// The tally differs from MySQL: compare the topics read back instead.
    pub fn read_back(&mut self) {
        self.tally = None;
        self.start();
    }

    /// How the tally served (`None`: the run kept none): it agreed where it
    /// is still what is compared.
    pub fn tallied(&self) -> Option<KafkaTallied> {
        self.tallied.clone().map(|t| KafkaTallied {
            agreed: self.tally.is_some(),
            ..t
        })
    }

    /// The images read back, if the topics were read (awaiting the read).
    pub async fn read_so_far(&mut self) -> Option<&Images> {
        if let ReadBack::NotStarted = self.read {
            return None;
        }
        self.get().await.ok()
    }

    /// The images, reading the topics back if that has not started yet.
    pub async fn get(&mut self) -> Result<&Images, AuditError> {
        self.start();
        if let ReadBack::Reading(h) = &mut self.read {
            let read = match h.await {
                Ok(r) => r,
                Err(e) => Err(AuditError::Query {
                    side: "Kafka".into(),
                    message: format!("the read-back task failed: {e}"),
                }),
            };
            match read {
                Ok(images) => self.read = ReadBack::Done(images),
                Err(e) => {
                    self.read = ReadBack::Failed;
                    return Err(e);
                }
            }
        }
        match &self.read {
            ReadBack::Done(images) => Ok(images),
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
