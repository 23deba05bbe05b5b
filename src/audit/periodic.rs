//! Audits during the run (`[audit] every`): every `every`, a consistent cut
//! compared without stopping the load, so a long run or a fault shows when a
//! sink's contents diverged from MySQL's and when they converged again.
//!
//! The cut (see [`crate::track::Ledger::cut`]): per worker and sink, the
//! worker's tickets that no later write can touch (below its generator's
//! [`open_from`](crate::tpcds::Generator::open_from): the ticket being
//! written, the lines still in the mutation pool, the sales whose return is
//! pending) and whose every version the ledger has seen at the sink. Both
//! sides must then hold the same rows there, however long the audit takes:
//! nothing the load still does can change them, so no key has to be
//! excluded after the fact. What lags is reported by the ledger, not here.
//!
//! Cost: each audit compares the run's closed tickets from its start (so a
//! divergence that was repaired shows as converged), on its own connections
//! (one to MySQL, one per warehouse path, kept between audits), in its own
//! task; the Kafka read-back resumes where the last audit stopped. A cut due
//! while the previous audit still runs is skipped and counted.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot, watch};

use super::kafka::{KafkaImages, Tail};
use super::side::{Aggregate, Side};
use super::{narrow, PeriodicAudit, PeriodicSink, Series, Targets, KEYS_LISTED};
use crate::model::{Sink, Table};
use crate::track::{Cut, CutRequest};

/// How long the workers get to send their closed tickets after a cut is
/// asked for (one commit batch each; a worker that sends none in time is
/// cut at its previous report, which stays valid).
const CUT_WAIT: Duration = Duration::from_secs(1);

/// What the mid-run audits talk to.
pub struct Periodic {
    /// Where to connect.
    pub targets: Targets,
    /// The audited sinks (of [`super::AUDITED`]).
    pub sinks: Vec<Sink>,
    /// The run's tickets (the Kafka read-back's filter).
    pub tickets: Range<u64>,
    /// How often.
    pub every: Duration,
    /// The tracker's cut requests.
    pub cuts: mpsc::Sender<CutRequest>,
    /// Bumped to ask the workers for their closed tickets.
    pub ask: Arc<AtomicU64>,
    /// When the load started (the series' clock).
    pub start: Instant,
}

/// Audits every `every` until `stop` turns true; returns the series.
pub async fn run(p: Periodic, mut stop: watch::Receiver<bool>) -> Series {
    let mut series = Series::default();
    let mut conns = Conns::default();
    let mut next = p.start + p.every;
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(next.into()) => {}
            _ = stop.wait_for(|s| *s) => break,
        }
        p.ask.fetch_add(1, Ordering::Release);
        tokio::select! {
            _ = tokio::time::sleep(CUT_WAIT) => {}
            _ = stop.wait_for(|s| *s) => break,
        }
        let began = Instant::now();
        let (reply, answer) = oneshot::channel();
        let asked = p.cuts.send(CutRequest {
            sinks: p.sinks.clone(),
            reply,
        });
        let Ok(cut) = (match asked.await {
            Ok(()) => answer.await.map_err(|_| ()),
            Err(_) => Err(()),
        }) else {
            // The tracker is gone: the run is ending.
            break;
        };
        let at_ms = began.saturating_duration_since(p.start).as_millis() as u64;
        let sinks = conns.audit(&p, &cut).await;
        series.audits.push(PeriodicAudit {
            at_ms,
            took_ms: began.elapsed().as_millis() as u64,
            sinks,
        });
        next += p.every;
        while next <= Instant::now() {
            next += p.every;
            series.skipped += 1;
        }
    }
    conns.close().await;
    series
}

/// The mid-run audits' own connections, opened at the first audit and kept;
/// dropped after an error and opened again at the next.
#[derive(Default)]
struct Conns {
    dbs: Option<(Side, Vec<(Sink, Side)>)>,
    kafka: Option<Tail>,
}

impl Conns {
    /// Compares every sink's part of `cut`.
    async fn audit(&mut self, p: &Periodic, cut: &Cut) -> BTreeMap<Sink, PeriodicSink> {
        let mut out: BTreeMap<Sink, PeriodicSink> = BTreeMap::new();
        for s in &p.sinks {
            let ranges = cut.get(s).cloned().unwrap_or_default();
            out.insert(
                *s,
                PeriodicSink {
                    tickets: ranges
                        .iter()
                        .map(|r| format!("{}..{}", r.start, r.end))
                        .collect(),
                    ..PeriodicSink::default()
                },
            );
        }
        if self.dbs.is_none() {
            match super::connect_databases(&p.targets, &p.sinks).await {
                Ok(d) => self.dbs = Some(d),
                Err(e) => {
                    for s in out.values_mut() {
                        s.error = Some(e.to_string());
                    }
                    return out;
                }
            }
        }
        let kafka = if p.sinks.contains(&Sink::Kafka) {
            Some(self.catch_up(p).await)
        } else {
            None
        };
        let (my, paths) = self.dbs.as_mut().expect("connected above");
        // MySQL's totals per table and range, shared by the sinks cut alike.
        let mut mine: HashMap<(Table, Range<u64>), Aggregate> = HashMap::new();
        let mut failed = false;
        if let Some(k) = kafka {
            let o = out.get_mut(&Sink::Kafka).expect("every sink has an entry");
            match k {
                Ok(images) => {
                    let mut side =
                        Side::Kafka(Box::new(KafkaImages::of_images(images, p.tickets.clone())));
                    failed |= compare(my, &mut side, &cut_of(cut, Sink::Kafka), &mut mine, o).await;
                    let images = match side {
                        Side::Kafka(k) => k.into_images(),
                        _ => None,
                    };
                    match (images, self.kafka.as_mut()) {
                        (Some(images), Some(t)) => t.give_back(images),
                        // Not given back: read again from the start next time.
                        _ => self.kafka = None,
                    }
                }
                Err(e) => o.error = Some(e),
            }
        }
        for (s, side) in paths.iter_mut() {
            let o = out.get_mut(s).expect("every sink has an entry");
            failed |= compare(my, side, &cut_of(cut, *s), &mut mine, o).await;
        }
        if failed {
            // A connection may be broken: open fresh ones next time.
            self.close().await;
        }
        out
    }

    /// The Kafka sink's images, caught up to the topics' ends now (the
    /// read-back opened at the first audit and kept).
    async fn catch_up(&mut self, p: &Periodic) -> Result<super::kafka::Images, String> {
        let Some(src) = p.targets.kafka.clone() else {
            return Err("the Kafka sink cannot be read back".into());
        };
        let tail = self.kafka.take();
        let tickets = p.tickets.clone();
        let read = tokio::task::spawn_blocking(move || {
            let mut t = match tail {
                Some(t) => t,
                None => Tail::open(&src, &tickets)?,
            };
            t.catch_up()?;
            Ok::<_, super::AuditError>(t)
        })
        .await;
        match read {
            Ok(Ok(mut t)) => {
                let images = t.take_images();
                self.kafka = Some(t);
                Ok(images)
            }
            Ok(Err(e)) => Err(e.to_string()),
            Err(e) => Err(format!("the read-back task failed: {e}")),
        }
    }

    async fn close(&mut self) {
        if let Some((Side::MySql(c), _)) = self.dbs.take() {
            let _ = c.disconnect().await;
        }
    }
}

fn cut_of(cut: &Cut, sink: Sink) -> Vec<Range<u64>> {
    cut.get(&sink).cloned().unwrap_or_default()
}

/// Compares one sink with MySQL over `ranges`, both tables, into `out`;
/// true when a statement failed.
async fn compare(
    my: &mut Side,
    sink: &mut Side,
    ranges: &[Range<u64>],
    mine: &mut HashMap<(Table, Range<u64>), Aggregate>,
    out: &mut PeriodicSink,
) -> bool {
    let started = Instant::now();
    for table in Table::ALL {
        for r in ranges {
            let a = match mine.get(&(table, r.clone())) {
                Some(a) => Ok(a.clone()),
                None => my.totals(table, r).await,
            };
            let t = match (a, sink.totals(table, r).await) {
                (Ok(a), Ok(b)) => {
                    mine.insert((table, r.clone()), a.clone());
                    narrow::table(my, sink, table, r, &a, &b).await
                }
                (Err(e), _) | (_, Err(e)) => Err(e),
            };
            match t {
                Ok(t) => {
                    out.rows += t.rows_mysql;
                    out.mismatched += t.mismatched;
                    let room = KEYS_LISTED.saturating_sub(out.keys.len());
                    out.keys
                        .extend(t.keys.iter().take(room).map(|k| super::describe(table, k)));
                }
                Err(e) => {
                    out.error = Some(e.to_string());
                    out.took_ms = started.elapsed().as_millis() as u64;
                    return true;
                }
            }
        }
    }
    out.took_ms = started.elapsed().as_millis() as u64;
    false
}
