//! Exposes the handlers' inline counters (see `handler::HandlerMeta`) as Prometheus families.

use std::collections::BTreeMap;

use prometheus::core::{Collector, Desc};
use prometheus::proto::{MetricFamily, MetricType};

use crate::metrics::cells::{counter, family, gauge, histogram, label};

use super::meta::{DURATION_BUCKETS_SECONDS, HandlerSnapshot, registered_handlers};
use super::outcome::OutcomeKind;
use crate::metrics::names::{self, labels};

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
                calls.push(counter(labels, snapshot.calls[outcome as usize]));
            }
            durations.push(histogram(
                ids(),
                &snapshot.duration_nanos,
                &DURATION_BUCKETS_SECONDS,
                1e-9,
            ));
            in_flight.push(gauge(ids(), snapshot.in_flight as f64));
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
