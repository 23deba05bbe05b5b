//! The OpenMetrics text of a [`Snapshot`], written with `prometheus-client`
//! (a custom collector: the figures already exist, nothing is observed here).

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::{Registry, Unit};

use super::{Live, Phase, Snapshot};

/// Upper bounds of the latency buckets, seconds: about 1.5× apart from 1 ms
/// to 2 min (path 1's p99 is seconds, the binlog's a few ms), so
/// `histogram_quantile` is within a bucket's width (≤ 50 %) of the truth and a
/// sink costs 30 series.
pub const BUCKETS_SECONDS: [f64; 29] = [
    0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3,
    0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 7.5, 10.0, 15.0, 20.0, 30.0, 60.0, 120.0,
];

/// The OpenMetrics text (`# EOF` included) of what `live` serves now.
pub fn encode(live: &Live) -> Result<String, std::fmt::Error> {
    let mut registry = Registry::with_prefix_and_labels(
        "tpcds",
        [("run".into(), live.run().to_string().into())].into_iter(),
    );
    registry.register_collector(Box::new(Scrape {
        snapshot: live.snapshot(),
        phase: live.phase(),
    }));
    let mut out = String::new();
    prometheus_client::encoding::text::encode(&mut out, &registry)?;
    Ok(out)
}

#[derive(Debug)]
struct Scrape {
    snapshot: Snapshot,
    phase: Phase,
}

type Labels<'a> = [(&'static str, &'a str); 1];

impl Scrape {
    fn counter(
        e: &mut DescriptorEncoder,
        name: &str,
        help: &str,
        v: u64,
    ) -> Result<(), std::fmt::Error> {
        let c = ConstCounter::new(v);
        c.encode(e.encode_descriptor(name, help, None, c.metric_type())?)
    }

    fn gauge(
        e: &mut DescriptorEncoder,
        name: &str,
        help: &str,
        unit: Option<&Unit>,
        v: f64,
    ) -> Result<(), std::fmt::Error> {
        let g = ConstGauge::new(v);
        g.encode(e.encode_descriptor(name, help, unit, g.metric_type())?)
    }

    /// One series per observed sink, labelled `sink`.
    fn per_sink(
        &self,
        e: &mut DescriptorEncoder,
        name: &str,
        help: &str,
        kind: MetricType,
        value: impl Fn(&super::SinkSnapshot) -> u64,
    ) -> Result<(), std::fmt::Error> {
        let mut d = e.encode_descriptor(name, help, None, kind)?;
        for s in &self.snapshot.sinks {
            let labels: Labels = [("sink", s.sink.name())];
            let m = d.encode_family(&labels)?;
            match kind {
                MetricType::Counter => ConstCounter::new(value(s)).encode(m)?,
                _ => ConstGauge::new(value(s) as i64).encode(m)?,
            }
        }
        Ok(())
    }
}

impl Collector for Scrape {
    fn encode(&self, mut e: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let s = &self.snapshot;
        {
            let mut d = e.encode_descriptor(
                "run_phase",
                "1 for the phase the run is in (starting, warmup, load, drain, done), 0 for the others",
                None,
                MetricType::Gauge,
            )?;
            for p in Phase::ALL {
                let labels: Labels = [("phase", p.name())];
                ConstGauge::new(i64::from(p == self.phase)).encode(d.encode_family(&labels)?)?;
            }
        }
        let elapsed = "time since the load started";
        Self::gauge(
            &mut e,
            "run_elapsed",
            elapsed,
            Some(&Unit::Seconds),
            s.elapsed_seconds,
        )?;
        let newest = "rows per second in the newest complete second (2 s behind)";
        Self::gauge(
            &mut e,
            "target_rate_rows_per_second",
            &format!("target {newest}"),
            None,
            s.target_rate,
        )?;
        Self::gauge(
            &mut e,
            "achieved_rate_rows_per_second",
            &format!("committed {newest}"),
            None,
            s.achieved_rate,
        )?;
        Self::counter(
            &mut e,
            "target_rows",
            "rows the schedule intended so far",
            s.target_rows,
        )?;
        Self::counter(
            &mut e,
            "committed_rows",
            "rows committed so far",
            s.committed_rows,
        )?;
        Self::counter(
            &mut e,
            "late_ops",
            "operations sent later than intended by more than the lateness bound",
            s.late,
        )?;
        Self::counter(
            &mut e,
            "dropped_ops",
            "operations dropped: a worker fell more than load.max_lag behind",
            s.dropped,
        )?;
        Self::counter(
            &mut e,
            "failed_ops",
            "operations the database refused",
            s.failed,
        )?;
        Self::counter(
            &mut e,
            "observer_stalls",
            "Kafka consumers found stalled and replaced at their offsets",
            s.observer_stalls,
        )?;
        self.per_sink(
            &mut e,
            "rows_expected",
            "row versions committed that the sink should show",
            MetricType::Counter,
            |x| x.expected,
        )?;
        self.per_sink(
            &mut e,
            "rows_seen",
            "row versions seen at the sink",
            MetricType::Counter,
            |x| x.seen,
        )?;
        self.per_sink(
            &mut e,
            "rows_in_flight",
            "row versions committed and not seen at the sink yet",
            MetricType::Gauge,
            |x| x.in_flight,
        )?;
        self.per_sink(
            &mut e,
            "rows_missing",
            "row versions not seen after the drain (0 until the drain ends)",
            MetricType::Gauge,
            |x| x.missing,
        )?;
        let mut d = e.encode_descriptor(
            "latency",
            "end-to-end latency from the intended time to visible at the sink, after warmup, all ops (summary.json's population)",
            Some(&Unit::Seconds),
            MetricType::Histogram,
        )?;
        for sink in &s.sinks {
            let labels: Labels = [("sink", sink.sink.name())];
            let l = &sink.latency;
            let counts = if l.counts.is_empty() {
                vec![0; BUCKETS_SECONDS.len() + 1]
            } else {
                l.counts.clone()
            };
            let buckets: Vec<(f64, u64)> = BUCKETS_SECONDS
                .iter()
                .copied()
                .chain([f64::INFINITY])
                .zip(counts)
                .collect();
            d.encode_family(&labels)?
                .encode_histogram::<prometheus_client::encoding::NoLabelSet>(
                    l.sum_seconds,
                    l.count,
                    &buckets,
                    None,
                )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::{LatencyBuckets, SinkSnapshot};
    use crate::model::Sink;

    #[test]
    fn serves_every_figure_with_run_sink_and_phase_labels() {
        let live = Live::new("steady");
        live.set_phase(Phase::Load);
        let mut counts = vec![0; BUCKETS_SECONDS.len() + 1];
        counts[9] = 7; // (30, 50] ms
        counts[BUCKETS_SECONDS.len()] = 1; // over 2 min
        live.publish(Snapshot {
            elapsed_seconds: 12.5,
            target_rate: 1000.0,
            achieved_rate: 998.0,
            target_rows: 12_000,
            committed_rows: 11_990,
            late: 3,
            dropped: 2,
            failed: 1,
            observer_stalls: 4,
            sinks: vec![SinkSnapshot {
                sink: Sink::Path1,
                expected: 11_990,
                seen: 11_500,
                in_flight: 490,
                missing: 0,
                latency: LatencyBuckets {
                    counts,
                    sum_seconds: 200.5,
                    count: 8,
                },
            }],
        });
        let text = encode(&live).unwrap();
        for line in [
            r#"tpcds_run_phase{run="steady",phase="load"} 1"#,
            r#"tpcds_run_phase{run="steady",phase="drain"} 0"#,
            r#"tpcds_target_rate_rows_per_second{run="steady"} 1000.0"#,
            r#"tpcds_achieved_rate_rows_per_second{run="steady"} 998.0"#,
            r#"tpcds_committed_rows_total{run="steady"} 11990"#,
            r#"tpcds_dropped_ops_total{run="steady"} 2"#,
            r#"tpcds_late_ops_total{run="steady"} 3"#,
            r#"tpcds_observer_stalls_total{run="steady"} 4"#,
            r#"tpcds_rows_seen_total{run="steady",sink="path1"} 11500"#,
            r#"tpcds_rows_in_flight{run="steady",sink="path1"} 490"#,
            r#"tpcds_rows_missing{run="steady",sink="path1"} 0"#,
            r#"tpcds_latency_seconds_bucket{run="steady",le="0.03",sink="path1"} 0"#,
            r#"tpcds_latency_seconds_bucket{run="steady",le="0.05",sink="path1"} 7"#,
            r#"tpcds_latency_seconds_bucket{run="steady",le="120.0",sink="path1"} 7"#,
            r#"tpcds_latency_seconds_bucket{run="steady",le="+Inf",sink="path1"} 8"#,
            r#"tpcds_latency_seconds_count{run="steady",sink="path1"} 8"#,
            "# EOF",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "no line {line:?} in\n{text}"
            );
        }
    }
}
