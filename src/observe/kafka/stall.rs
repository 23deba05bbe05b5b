//! The stall watch: notices a consumer that stopped fetching while its
//! partitions grow, so it can be replaced at its own offsets.
//!
//! librdkafka can leave an explicitly assigned partition unfetched after the
//! broker restarts (fede1024/rust-rdkafka#597, confluentinc/librdkafka#5153):
//! no error, no message, forever. The rows are in Kafka, but the run would
//! report every later one missing at the Kafka sink. When nothing has been
//! delivered for a while and a high watermark is past the next offset this
//! observer would read, a new consumer is assigned at exactly those offsets:
//! nothing is skipped or read twice.
//!
//! A partition must be seen behind at two checks in a row, with nothing
//! delivered in between: a message produced just before a check is behind at
//! that check for the few milliseconds its fetch takes, which on a quiet topic
//! (the analytics topic between windows) would otherwise pass for a stall.
//!
//! Offsets without a message (a transaction marker under exactly-once, aborted
//! records under `read_committed`) also leave the high watermark ahead. So a
//! replacement counts as a stall only when the new consumer then delivers a
//! message that was already below that watermark; one that does not makes the
//! watch wait twice as long before it tries again.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaResult;
use rdkafka::{Offset, TopicPartitionList};

use super::{client_config, KafkaConfig, StartOffset};
use crate::observe::ObserverStats;

/// Checks are at most this often while nothing is delivered.
const CHECK_EVERY: Duration = Duration::from_secs(1);
/// The longest wait after replacements that proved nothing.
const MAX_QUIET: Duration = Duration::from_secs(60);

/// A (topic, partition) pair.
pub type Partition = (String, i32);

/// A replacement proved to be a stall: its first message was already waiting.
#[derive(Debug, Clone, PartialEq)]
pub struct Stall {
    /// How long nothing had been delivered when the consumer was replaced.
    pub quiet: Duration,
    /// Messages (offsets) that were waiting in the lagging partitions.
    pub waiting: i64,
}

/// Where the observer is in each partition, and when it last got a message.
#[derive(Debug)]
pub struct StallWatch {
    /// Next offset per partition, sorted: a handful of partitions, looked up
    /// for every message without allocating a key.
    next: Vec<(Partition, i64)>,
    base_quiet: Duration,
    quiet: Duration,
    last_message: Instant,
    last_check: Instant,
    /// The last check found a partition behind, and nothing was delivered since.
    suspect: bool,
    /// Set by a replacement: the high watermarks it saw, and the quiet time then.
    proving: Option<(HashMap<Partition, i64>, Duration)>,
}

impl StallWatch {
    /// Starts at the assigned offsets; a replacement is considered after
    /// `quiet` without a message.
    pub fn new(starts: &[StartOffset], quiet: Duration, now: Instant) -> Self {
        let mut next: Vec<_> = starts
            .iter()
            .map(|s| ((s.topic.clone(), s.partition), s.offset))
            .collect();
        next.sort();
        StallWatch {
            next,
            base_quiet: quiet,
            quiet,
            last_message: now,
            last_check: now,
            suspect: false,
            proving: None,
        }
    }

    /// A message was delivered. Returns the stall it proves, if it is the
    /// first message after a replacement and was already waiting then.
    pub fn delivered(
        &mut self,
        topic: &str,
        partition: i32,
        offset: i64,
        now: Instant,
    ) -> Option<Stall> {
        self.last_message = now;
        self.suspect = false;
        if let Some((_, next)) = self
            .next
            .iter_mut()
            .find(|((t, p), _)| t == topic && *p == partition)
        {
            *next = (*next).max(offset + 1);
        }
        let (highs, quiet) = self.proving.take()?;
        let waited = highs
            .get(&(topic.to_string(), partition))
            .is_some_and(|&high| offset < high);
        if waited {
            self.quiet = self.base_quiet;
            let waiting = highs
                .iter()
                .map(|(p, &high)| (high - self.next_of(p).unwrap_or(high)).max(0))
                .sum::<i64>()
                + 1;
            Some(Stall { quiet, waiting })
        } else {
            self.quiet = (self.quiet * 2).min(MAX_QUIET);
            None
        }
    }

    /// Whether the watermarks should be read now: nothing delivered for the
    /// quiet time, and no check in the last second.
    pub fn due(&self, now: Instant) -> bool {
        now.duration_since(self.last_message) >= self.quiet
            && now.duration_since(self.last_check) >= CHECK_EVERY
    }

    /// A check that could not read the watermarks (the broker is not
    /// answering): the next one waits its second like any other.
    pub fn checked(&mut self, now: Instant) {
        self.last_check = now;
    }

    /// Given the high watermarks read now, the offsets to assign a new consumer
    /// at, when some partition is behind for the second check in a row; `None`
    /// when the consumer has read everything there is, or is behind for the
    /// first time.
    pub fn behind(
        &mut self,
        highs: &[(Partition, i64)],
        now: Instant,
    ) -> Option<Vec<(Partition, i64)>> {
        self.last_check = now;
        let lagging = highs
            .iter()
            .any(|(p, high)| self.next_of(p).is_some_and(|next| *high > next));
        if !lagging {
            self.suspect = false;
            return None;
        }
        if !std::mem::replace(&mut self.suspect, true) {
            return None;
        }
        if let Some((before, _)) = &self.proving {
            // The last replacement delivered nothing yet: only offsets that
            // came since are worth another one, and after a longer wait.
            let grew = highs
                .iter()
                .any(|(p, high)| before.get(p).is_none_or(|b| high > b));
            if !grew {
                return None;
            }
            self.quiet = (self.quiet * 2).min(MAX_QUIET);
        }
        self.suspect = false;
        self.proving = Some((
            highs.iter().cloned().collect(),
            now.duration_since(self.last_message),
        ));
        // The new consumer gets the same quiet time before it is judged.
        self.last_message = now;
        Some(self.positions())
    }

    /// The next offset of every partition, in partition order.
    pub fn positions(&self) -> Vec<(Partition, i64)> {
        self.next.clone()
    }

    fn next_of(&self, partition: &Partition) -> Option<i64> {
        self.next
            .iter()
            .find(|(p, _)| p == partition)
            .map(|&(_, o)| o)
    }
}

/// Reads the high watermarks of the partitions `watch` follows; when one has
/// offsets `consumer` has not delivered, replaces `consumer` with `fresh()`
/// assigned at the watch's next offsets. When `consumer` cannot read the
/// watermarks, a fresh client asks instead: a client stuck after a broker
/// restart may fail its watermark requests as well as its fetches (a CI run
/// saw the Kafka sink lose 5,531 rows that path 1 had read from the same
/// topic, with no replacement made), and only a second client tells a broker
/// that is down from a client that is stuck. When neither can read them the
/// broker is not answering (librdkafka is reconnecting): nothing is done then.
/// `Err` only when a fresh client could not be made, for the watermarks or
/// for a replacement that was due (the old consumer is kept and the next
/// check, a second later at the earliest, tries again).
pub fn replace_if_stalled(
    consumer: &mut BaseConsumer,
    watch: &mut StallWatch,
    fresh: impl Fn() -> KafkaResult<BaseConsumer>,
) -> KafkaResult<()> {
    // Short: a healthy broker answers in a millisecond, and while this
    // waits no message is polled (a broker coming back would be seen late).
    let timeout = Duration::from_millis(250);
    let (highs, spare) = match watermarks(consumer, watch, timeout) {
        Some(highs) => (highs, None),
        None => {
            let c = fresh().inspect_err(|_| watch.checked(Instant::now()))?;
            // A new client first connects: give it a little longer.
            match watermarks(&c, watch, Duration::from_secs(1)) {
                Some(highs) => (highs, Some(c)),
                None => {
                    watch.checked(Instant::now());
                    return Ok(());
                }
            }
        }
    };
    let Some(positions) = watch.behind(&highs, Instant::now()) else {
        return Ok(());
    };
    let mut tpl = TopicPartitionList::new();
    for ((topic, p), next) in &positions {
        tpl.add_partition_offset(topic, *p, Offset::Offset(*next))?;
    }
    let c = match spare {
        Some(c) => c,
        None => fresh()?,
    };
    c.assign(&tpl)?;
    *consumer = c;
    Ok(())
}

/// The high watermark of every partition `watch` follows, as `consumer` reads
/// them; `None` when any request fails or times out.
fn watermarks(
    consumer: &BaseConsumer,
    watch: &StallWatch,
    timeout: Duration,
) -> Option<Vec<(Partition, i64)>> {
    watch
        .positions()
        .into_iter()
        .map(|((topic, p), _)| {
            let (_, high) = consumer.fetch_watermarks(&topic, p, timeout).ok()?;
            Some(((topic, p), high))
        })
        .collect()
}

/// Once the watch is due: [`replace_if_stalled`] with a consumer built from
/// `cfg` in the same group, counting a failed replacement in `stats` and
/// saying so on stderr, naming `observer` (the old consumer is kept then and
/// the next check tries again).
pub fn check(
    consumer: &mut BaseConsumer,
    watch: &mut StallWatch,
    (cfg, group_id): (&KafkaConfig, &str),
    stats: &mut ObserverStats,
    observer: &str,
) {
    if !watch.due(Instant::now()) {
        return;
    }
    let fresh = || client_config(cfg, group_id).create();
    if let Err(e) = replace_if_stalled(consumer, watch, fresh) {
        stats.poll_errors += 1;
        eprintln!(
            "{observer}: cannot create a replacement consumer: {}",
            crate::redact::redact_text(&e.to_string())
        );
    }
}

/// Stalls proven in this process, for the live endpoint (a rare event: one
/// atomic add per stall, nothing per message).
static STALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Stalls proven so far in this process (every Kafka observer).
pub fn total() -> u64 {
    STALLS.load(std::sync::atomic::Ordering::Relaxed)
}

/// Counts a proven stall in `stats` and says so on stderr, naming `observer`.
pub fn record(stats: &mut ObserverStats, observer: &str, s: &Stall) {
    stats.stalls += 1;
    STALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    stats.longest_stall_ms = stats.longest_stall_ms.max(s.quiet.as_millis() as u64);
    eprintln!(
        "{observer}: the consumer had stopped fetching ({} offsets waited, nothing delivered for {:.1} s); \
         its replacement read on from the same offsets",
        s.waiting,
        s.quiet.as_secs_f64()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn watch(at: i64, t0: Instant) -> StallWatch {
        let starts = [StartOffset {
            topic: "t".into(),
            partition: 0,
            offset: at,
        }];
        StallWatch::new(&starts, Duration::from_secs(3), t0)
    }

    fn high(h: i64) -> Vec<(Partition, i64)> {
        vec![(("t".to_string(), 0), h)]
    }

    #[test]
    fn a_consumer_that_read_everything_is_not_behind() {
        let t0 = Instant::now();
        let mut w = watch(10, t0);
        w.delivered("t", 0, 10, t0);
        w.delivered("t", 0, 11, t0);
        let later = t0 + Duration::from_secs(4);
        assert!(w.due(later));
        assert_eq!(w.behind(&high(12), later), None);
        assert!(
            !w.due(later + Duration::from_millis(500)),
            "checks at most once a second"
        );
        let t = later + Duration::from_secs(1);
        w.checked(t);
        assert!(
            !w.due(t + Duration::from_millis(900)),
            "a failed check counts as a check"
        );
    }

    #[test]
    fn messages_waiting_past_the_quiet_time_get_a_new_consumer_at_the_next_offset() {
        let t0 = Instant::now();
        let mut w = watch(10, t0);
        w.delivered("t", 0, 10, t0);
        assert!(!w.due(t0 + Duration::from_secs(2)));
        let later = t0 + Duration::from_secs(5);
        assert_eq!(
            w.behind(&high(40), later - Duration::from_secs(1)),
            None,
            "first sight"
        );
        assert_eq!(w.behind(&high(40), later), Some(high(11)));
        // The new consumer delivers offset 11, which was waiting: a stall.
        let stall = w.delivered("t", 0, 11, later + Duration::from_millis(50));
        assert_eq!(
            stall,
            Some(Stall {
                quiet: Duration::from_secs(5),
                waiting: 29
            })
        );
        assert_eq!(w.positions(), high(12));
    }

    #[test]
    fn a_marker_offset_is_not_a_stall_and_the_watch_backs_off() {
        let t0 = Instant::now();
        let mut w = watch(10, t0);
        w.delivered("t", 0, 10, t0);
        // Offset 11 is a transaction marker: never delivered.
        let t1 = t0 + Duration::from_secs(3);
        assert!(w.behind(&high(12), t1 - Duration::from_secs(1)).is_none());
        assert!(w.behind(&high(12), t1).is_some());
        // The next message is new data at 12, not something that was waiting.
        assert_eq!(w.delivered("t", 0, 12, t1 + Duration::from_secs(1)), None);
        let t2 = t1 + Duration::from_secs(1);
        assert!(!w.due(t2 + Duration::from_secs(5)), "waits 6 s now");
        assert!(w.due(t2 + Duration::from_secs(6)));
    }

    #[test]
    fn a_replacement_that_delivers_nothing_is_not_repeated_until_offsets_grow() {
        let t0 = Instant::now();
        let mut w = watch(10, t0);
        w.delivered("t", 0, 10, t0);
        let t1 = t0 + Duration::from_secs(3);
        assert!(w.behind(&high(12), t1 - Duration::from_secs(1)).is_none());
        assert!(w.behind(&high(12), t1).is_some());
        let t2 = t1 + Duration::from_secs(3);
        assert!(w.due(t2));
        for t in [t2, t2 + Duration::from_millis(500)] {
            assert_eq!(
                w.behind(&high(12), t),
                None,
                "nothing new since the replacement"
            );
        }
        let t3 = t2 + Duration::from_secs(1);
        assert!(
            w.behind(&high(13), t3).is_some(),
            "new offsets, still nothing delivered"
        );
        assert!(!w.due(t3 + Duration::from_secs(5)), "and the wait doubled");
    }

    #[test]
    fn a_message_fetched_just_after_a_check_is_not_a_stall() {
        let t0 = Instant::now();
        let mut w = watch(10, t0);
        w.delivered("t", 0, 10, t0);
        // A quiet topic: a result lands just before the check and is
        // delivered a few milliseconds after it.
        let t1 = t0 + Duration::from_secs(4);
        assert_eq!(w.behind(&high(12), t1), None);
        w.delivered("t", 0, 11, t1 + Duration::from_millis(5));
        let t2 = t1 + Duration::from_secs(4);
        assert_eq!(
            w.behind(&high(13), t2),
            None,
            "behind once more, but a message came between"
        );
        // Behind twice with nothing delivered in between: replaced.
        assert_eq!(
            w.behind(&high(13), t2 + Duration::from_secs(1)),
            Some(high(12))
        );
    }
}
