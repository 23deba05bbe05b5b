//! What the ledger's counts say a reader must know: latencies clamped where
//! the ends' uncertainties overlap, and versions counted as seen without a
//! latency (overwritten before a poll, confirmed absent at the end, seen
//! before their commit ack).

use std::fmt;

use super::Ledger;
use crate::caveat::Caveat;
use crate::model::{Hop, Sink};

/// Rows of a polled sink whose visibility fell outside [ack, detected] by more
/// than the clock offset's uncertainty; their latencies were clamped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clamped {
    /// The sink.
    pub sink: Sink,
    /// Rows visible before their commit ack.
    pub before_ack: u64,
    /// Rows visible after the harness saw them.
    pub after_detection: u64,
}

impl fmt::Display for Clamped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} rows became visible before their commit ack (though seen after it) and {} after the \
             harness saw them, by more than the clock offset's uncertainty (an ack that reached a busy harness \
             late, or a server clock that moved during the run); their latencies were clamped to [0, detected]",
            self.sink, self.before_ack, self.after_detection
        )
    }
}

/// Rows that reached a hop's end before its start on the harness's clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NegativeHop {
    /// The hop.
    pub hop: Hop,
    /// Rows recorded as 0.
    pub rows: u64,
}

impl fmt::Display for NegativeHop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "hop {}: {} rows reached its end before its start on the harness's clock (recorded as 0); \
             the ends' uncertainties overlap there",
            self.hop, self.rows
        )
    }
}

/// Versions a sink is counted as having seen, though no latency was recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SeenWithoutLatency {
    /// Overwritten before a poll saw them.
    Superseded {
        /// The sink.
        sink: Sink,
        /// Versions.
        versions: u64,
    },
    /// Deletes confirmed by the end-of-run absence check.
    ConfirmedAtEnd {
        /// The sink.
        sink: Sink,
        /// Deletes.
        deletes: u64,
    },
    /// Seen before their commit ack reached the harness (latency 0).
    BeforeAck {
        /// The sink.
        sink: Sink,
        /// Versions.
        versions: u64,
    },
}

impl fmt::Display for SeenWithoutLatency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Superseded { sink, versions } => write!(
                f,
                "{sink}: {versions} row versions were overwritten before a poll saw them; counted as seen, no latency recorded"
            ),
            Self::ConfirmedAtEnd { sink, deletes } => write!(
                f,
                "{sink}: {deletes} deletes were confirmed by an end-of-run check that the row is absent \
                 (the sink never showed the row between polls); no latency recorded"
            ),
            Self::BeforeAck { sink, versions } => write!(
                f,
                "{sink}: {versions} versions were seen before their commit ack reached the harness (latency recorded as 0)"
            ),
        }
    }
}

impl Ledger {
    /// Clamped visibilities of `sinks`, then negative hops.
    pub fn clamp_caveats(&self, sinks: &[Sink]) -> Vec<Caveat> {
        let clamped = sinks.iter().filter_map(|&sink| {
            let v = self.visibility(sink);
            (v.before_ack > 0 || v.after_detection > 0).then(|| {
                Caveat::new(Clamped {
                    sink,
                    before_ack: v.before_ack,
                    after_detection: v.after_detection,
                })
            })
        });
        let hops = Hop::ALL.into_iter().filter_map(|hop| {
            let rows = self.hop_negative(hop);
            (rows > 0).then(|| Caveat::new(NegativeHop { hop, rows }))
        });
        clamped.chain(hops).collect()
    }

    /// Versions of `sinks` counted as seen without a latency, sink by sink.
    pub fn seen_caveats(&self, sinks: &[Sink]) -> Vec<Caveat> {
        let mut out = Vec::new();
        for &sink in sinks {
            let c = self.counts(sink);
            let facts = [
                SeenWithoutLatency::Superseded {
                    sink,
                    versions: c.superseded,
                },
                SeenWithoutLatency::ConfirmedAtEnd {
                    sink,
                    deletes: c.confirmed_at_end,
                },
                SeenWithoutLatency::BeforeAck {
                    sink,
                    versions: c.before_ack,
                },
            ];
            out.extend(facts.into_iter().filter(|f| f.count() > 0).map(Caveat::new));
        }
        out
    }
}

impl SeenWithoutLatency {
    fn count(&self) -> u64 {
        match *self {
            Self::Superseded { versions, .. } | Self::BeforeAck { versions, .. } => versions,
            Self::ConfirmedAtEnd { deletes, .. } => deletes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sentences_are_those_of_the_stored_quickstart_run() {
        // tests/fixtures/runs/quickstart/summary.json, caveat 2.
        let c = SeenWithoutLatency::BeforeAck {
            sink: Sink::Binlog,
            versions: 700,
        };
        assert_eq!(
            c.to_string(),
            "binlog: 700 versions were seen before their commit ack reached the harness (latency recorded as 0)"
        );
    }

    #[test]
    fn an_empty_ledger_has_no_caveats() {
        let l = Ledger::new(&Sink::ALL);
        assert!(l.clamp_caveats(&Sink::ALL).is_empty());
        assert!(l.seen_caveats(&Sink::ALL).is_empty());
    }
}
