//! Exposes the handlers' inline counters (see `handler::HandlerMeta`) as Prometheus families.

use std::collections::BTreeMap;

use prometheus::core::{Collector, Desc};
use prometheus::proto::{self, MetricFamily, MetricType};

use super::names::{self, labels};
use crate::handler::{DURATION_BUCKETS_SECONDS, HandlerSnapshot, OutcomeKind, registered_handlers};

/// The collector behind `ws_handler_calls_total`, `ws_handler_duration_seconds` and
/// `ws_handler_in_flight`.
pub(crate) struct HandlerCollector {
    descs: Vec<Desc>,
}

impl HandlerCollector {
    pub(crate) fn new() -> Self {
        let desc = |name: &str, help: &str, extra: &[&str]| {
            let mut variable = vec![labels::HANDLER.to_owned(), labels::MODULE.to_owned()];
            variable.extend(extra.iter().map(|l| (*l).to_owned()));
            Desc::new(
                name.to_owned(),
                help.to_owned(),
                variable,
                Default::default(),
            )
            .expect("static metric descriptions are valid")
        };
        HandlerCollector {
            descs: vec![
                desc(
                    names::HANDLER_CALLS,
                    names::HANDLER_CALLS_HELP,
                    &[labels::OUTCOME],
                ),
                desc(names::HANDLER_DURATION, names::HANDLER_DURATION_HELP, &[]),
                desc(names::HANDLER_IN_FLIGHT, names::HANDLER_IN_FLIGHT_HELP, &[]),
            ],
        }
    }
}

fn label(name: &str, value: &str) -> proto::LabelPair {
    let mut pair = proto::LabelPair::default();
    pair.set_name(name.to_owned());
    pair.set_value(value.to_owned());
    pair
}

fn family(name: &str, help: &str, kind: MetricType, metrics: Vec<proto::Metric>) -> MetricFamily {
    let mut family = MetricFamily::default();
    family.set_name(name.to_owned());
    family.set_help(help.to_owned());
    family.set_field_type(kind);
    family.set_metric(metrics);
    family
}

impl Collector for HandlerCollector {
    fn desc(&self) -> Vec<&Desc> {
        self.descs.iter().collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        // Two handlers may share a name and module (methods of two types in one module, or an
        // explicit `name = "..."`): their series are summed, since Prometheus rejects duplicate
        // label sets. The BTreeMap also gives a stable output order.
        let mut merged: BTreeMap<(&str, &str), HandlerSnapshot> = BTreeMap::new();
        for meta in registered_handlers() {
            merged
                .entry((meta.name(), meta.module()))
                .or_default()
                .merge(&meta.snapshot());
        }

        let mut calls = Vec::with_capacity(merged.len() * 4);
        let mut durations = Vec::with_capacity(merged.len());
        let mut in_flight = Vec::with_capacity(merged.len());
        for ((handler, module), snapshot) in &merged {
            let ids = || {
                vec![
                    label(labels::HANDLER, handler),
                    label(labels::MODULE, module),
                ]
            };
            for outcome in OutcomeKind::ALL {
                let mut labels = ids();
                labels.push(label(labels::OUTCOME, outcome.as_str()));
                let mut counter = proto::Counter::default();
                counter.set_value(snapshot.calls[outcome as usize] as f64);
                let mut metric = proto::Metric::from_label(labels);
                metric.set_counter(counter);
                calls.push(metric);
            }

            let buckets = DURATION_BUCKETS_SECONDS
                .iter()
                .zip(snapshot.cumulative_buckets)
                .map(|(&bound, count)| {
                    let mut bucket = proto::Bucket::default();
                    bucket.set_upper_bound(bound);
                    bucket.set_cumulative_count(count);
                    bucket
                })
                .collect();
            let mut histogram = proto::Histogram::default();
            histogram.set_sample_count(*snapshot.cumulative_buckets.last().unwrap_or(&0));
            histogram.set_sample_sum(snapshot.sum_seconds);
            histogram.set_bucket(buckets);
            let mut metric = proto::Metric::from_label(ids());
            metric.set_histogram(histogram);
            durations.push(metric);

            let mut gauge = proto::Gauge::default();
            gauge.set_value(snapshot.in_flight as f64);
            let mut metric = proto::Metric::from_label(ids());
            metric.set_gauge(gauge);
            in_flight.push(metric);
        }

        if merged.is_empty() {
            return Vec::new();
        }
        vec![
            family(
                names::HANDLER_CALLS,
                names::HANDLER_CALLS_HELP,
                MetricType::COUNTER,
                calls,
            ),
            family(
                names::HANDLER_DURATION,
                names::HANDLER_DURATION_HELP,
                MetricType::HISTOGRAM,
                durations,
            ),
            family(
                names::HANDLER_IN_FLIGHT,
                names::HANDLER_IN_FLIGHT_HELP,
                MetricType::GAUGE,
                in_flight,
            ),
        ]
    }
}
