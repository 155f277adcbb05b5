//! Lock-free metric cells for hot paths, and the few lines that turn them into Prometheus
//! families. The `prometheus` crate's own types go through label lookups and f64 CAS loops;
//! these are plain additions on cells that live in `static`s, read only at scrape time.

use std::sync::atomic::{AtomicU64, Ordering};

use prometheus::proto::{self, MetricFamily, MetricType};

use super::stripes::Stripe;

/// A histogram with fixed integer bounds (nanoseconds, bytes): one `fetch_add` for the bucket
/// and one for the sum per observation. The count is the sum of the buckets, so it can never
/// disagree with them.
pub(crate) struct AtomicHistogram<const B: usize> {
    /// Inclusive upper bounds, ascending, in the cell's base unit: one copy shared by every
    /// histogram (and every stripe) of the metric, so an observation reads a line every core
    /// keeps cached instead of a copy of its own.
    bounds: &'static [u64; B],
    buckets: [AtomicU64; B],
    overflow: AtomicU64,
    sum: AtomicU64,
}

/// What a histogram held at one scrape.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HistogramSnapshot {
    /// Cumulative counts per bound, then the +Inf bucket (the total count).
    pub cumulative: Vec<u64>,
    /// Sum of observations, in the base unit.
    pub sum: u64,
}

impl<const B: usize> AtomicHistogram<B> {
    pub(crate) const fn new(bounds: &'static [u64; B]) -> Self {
        AtomicHistogram {
            bounds,
            buckets: [const { AtomicU64::new(0) }; B],
            overflow: AtomicU64::new(0),
            sum: AtomicU64::new(0),
        }
    }

    #[inline]
    pub(crate) fn observe(&self, value: u64) {
        let bucket = self.bucket(value);
        bucket.fetch_add(1, Ordering::Relaxed);
        self.sum.fetch_add(value, Ordering::Relaxed);
    }

    /// Observes `value` in a striped copy of a histogram (see `metrics::stripes`).
    #[inline]
    pub(crate) fn observe_on(&self, stripe: Stripe, value: u64) {
        stripe.add(self.bucket(value), 1);
        stripe.add(&self.sum, value);
    }

    #[inline]
    fn bucket(&self, value: u64) -> &AtomicU64 {
        // Linear: the low buckets are the common case, and B is small.
        match self.bounds.iter().position(|&bound| value <= bound) {
            Some(i) => &self.buckets[i],
            None => &self.overflow,
        }
    }

    pub(crate) fn snapshot(&self) -> HistogramSnapshot {
        let mut running = 0;
        let mut cumulative: Vec<u64> = self
            .buckets
            .iter()
            .map(|bucket| {
                running += bucket.load(Ordering::Relaxed);
                running
            })
            .collect();
        cumulative.push(running + self.overflow.load(Ordering::Relaxed));
        HistogramSnapshot {
            cumulative,
            sum: self.sum.load(Ordering::Relaxed),
        }
    }
}

impl HistogramSnapshot {
    /// The number of observations.
    pub fn count(&self) -> u64 {
        self.cumulative.last().copied().unwrap_or(0)
    }

    /// Adds another snapshot of a histogram with the same bounds.
    pub(crate) fn merge(&mut self, other: &HistogramSnapshot) {
        if self.cumulative.is_empty() {
            self.cumulative = vec![0; other.cumulative.len()];
        }
        for (a, b) in self.cumulative.iter_mut().zip(&other.cumulative) {
            *a += b;
        }
        self.sum += other.sum;
    }
}

/// Bounds in the exported unit (seconds, bytes), computed from base-unit bounds.
pub(crate) const fn scaled_bounds<const B: usize>(bounds: [f64; B], scale: f64) -> [u64; B] {
    let mut out = [0u64; B];
    let mut i = 0;
    while i < B {
        out[i] = (bounds[i] * scale) as u64;
        i += 1;
    }
    out
}

pub(crate) fn label(name: &str, value: &str) -> proto::LabelPair {
    let mut pair = proto::LabelPair::default();
    pair.set_name(name.to_owned());
    pair.set_value(value.to_owned());
    pair
}

pub(crate) fn family(
    name: &str,
    help: &str,
    kind: MetricType,
    metrics: Vec<proto::Metric>,
) -> MetricFamily {
    let mut family = MetricFamily::default();
    family.set_name(name.to_owned());
    family.set_help(help.to_owned());
    family.set_field_type(kind);
    family.set_metric(metrics);
    family
}

pub(crate) fn counter(labels: Vec<proto::LabelPair>, value: u64) -> proto::Metric {
    let mut counter = proto::Counter::default();
    counter.set_value(value as f64);
    let mut metric = proto::Metric::from_label(labels);
    metric.set_counter(counter);
    metric
}

pub(crate) fn gauge(labels: Vec<proto::LabelPair>, value: f64) -> proto::Metric {
    let mut gauge = proto::Gauge::default();
    gauge.set_value(value);
    let mut metric = proto::Metric::from_label(labels);
    metric.set_gauge(gauge);
    metric
}

/// `bounds` in the exported unit; `unit` converts the base-unit sum (1e-9 for nanoseconds to
/// seconds, 1.0 for bytes).
pub(crate) fn histogram(
    labels: Vec<proto::LabelPair>,
    snapshot: &HistogramSnapshot,
    bounds: &[f64],
    unit: f64,
) -> proto::Metric {
    let buckets = bounds
        .iter()
        .zip(&snapshot.cumulative)
        .map(|(&bound, &count)| {
            let mut bucket = proto::Bucket::default();
            bucket.set_upper_bound(bound);
            bucket.set_cumulative_count(count);
            bucket
        })
        .collect();
    let mut histogram = proto::Histogram::default();
    histogram.set_sample_count(snapshot.count());
    histogram.set_sample_sum(snapshot.sum as f64 * unit);
    histogram.set_bucket(buckets);
    let mut metric = proto::Metric::from_label(labels);
    metric.set_histogram(histogram);
    metric
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observations_land_in_inclusive_buckets_and_overflow() {
        let histogram = AtomicHistogram::new(&[10, 100]);
        for value in [0, 10, 11, 100, 101, 5000] {
            histogram.observe(value);
        }
        let snapshot = histogram.snapshot();
        assert_eq!(snapshot.cumulative, vec![2, 4, 6]);
        assert_eq!(snapshot.sum, 5222);
        assert_eq!(snapshot.count(), 6);
    }

    #[test]
    fn bounds_scale_to_base_units() {
        assert_eq!(scaled_bounds([0.0005, 1.0], 1e9), [500_000, 1_000_000_000]);
    }
}
