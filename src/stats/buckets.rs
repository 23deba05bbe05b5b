//! Each sink's headline latencies in a few fixed buckets, kept up to date as
//! the collector merges each second's parts. The live endpoint serves them
//! once a second; re-bucketing the whole run's HdrHistograms for that cost
//! ~3 ms a second (every recorded value of four sinks walked again), about
//! 4 % of the harness's CPU at 1,000 rows/s. Adding each part as it arrives
//! costs what that second recorded, nothing more.

use crate::model::Sink;

use super::histograms::SeriesHistograms;
use super::series::Series;

/// One sink's counts: per bucket (not cumulative), their sum and number.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BucketCounts {
    /// Samples per bucket, one per bound plus the `+Inf` bucket.
    pub counts: Vec<u64>,
    /// Sum of the samples, seconds.
    pub sum_seconds: f64,
    /// Number of samples.
    pub count: u64,
}

impl BucketCounts {
    /// Zero counts for `bounds` upper bounds.
    pub fn empty(bounds: usize) -> Self {
        BucketCounts {
            counts: vec![0; bounds + 1],
            ..BucketCounts::default()
        }
    }

    /// Adds every value of `h` (µs) to the bucket its highest equivalent
    /// value falls in (`bounds` ascending, seconds): rounding up, like the
    /// summary's percentiles.
    pub fn add(&mut self, h: &hdrhistogram::Histogram<u64>, bounds: &[f64]) {
        for v in h.iter_recorded() {
            let secs = h.highest_equivalent(v.value_iterated_to()) as f64 / 1e6;
            let i = bounds.partition_point(|&b| b < secs);
            self.counts[i] += v.count_since_last_iteration();
        }
        self.sum_seconds += h.mean() * h.len() as f64 / 1e6;
        self.count += h.len();
    }
}

/// Every sink's [`BucketCounts`] over the seconds after warmup.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SinkBuckets {
    bounds: Vec<f64>,
    sinks: Vec<BucketCounts>,
}

impl SinkBuckets {
    /// Buckets with upper `bounds` in seconds, ascending.
    pub fn new(bounds: &[f64]) -> Self {
        SinkBuckets {
            bounds: bounds.to_vec(),
            sinks: Sink::ALL
                .iter()
                .map(|_| BucketCounts::empty(bounds.len()))
                .collect(),
        }
    }

    /// Adds one second's histograms.
    pub fn add(&mut self, histograms: &SeriesHistograms) {
        for sink in Sink::ALL {
            for s in Series::sink_ops(sink) {
                if let Some(h) = histograms.get(s) {
                    self.sinks[sink.index()].add(&h, &self.bounds);
                }
            }
        }
    }

    /// One sink's counts.
    pub fn sink(&self, sink: Sink) -> &BucketCounts {
        &self.sinks[sink.index()]
    }
}
