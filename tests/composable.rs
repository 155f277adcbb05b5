//! ws-observe in a program with a `tracing` stack of its own: `Config::into_layer()` installs
//! no global subscriber and gives a layer to stack next to the user's. The user's layer, which
//! reads span data through `LookupSpan`, sees the handler spans; ws-observe's JSON lines reach
//! stdout, `/metrics` serves the handler counts (and metrics registered on the `prometheus`
//! crate's default registry), and a handler's alert reaches a real Alertmanager (Debian's
//! `prometheus-alertmanager`, installed by `scripts/install-backends.sh`).
//!
//! The subscriber and the alert hub are process-wide, so the program runs in a child process of
//! this test binary (`child_*`, ignored: only its parent runs it).

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::alert_receivers::Alertmanager;
use common::child::in_child;
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use ws_observe::ws_handler;

const MARKER: &str = "COMPOSABLE_TEST";

#[derive(Debug)]
struct Declined;
impl std::fmt::Display for Declined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("card declined")
    }
}
impl std::error::Error for Declined {}

#[ws_handler(alert = "critical")]
fn charge(amount: u64) -> Result<u64, Declined> {
    if amount == 0 {
        Err(Declined)
    } else {
        Ok(amount)
    }
}

/// The user's own layer: it stores each span's `ws.handler` field in the span's extensions
/// when the span opens and reads it back through `LookupSpan` when it closes, as
/// tracing-subscriber's fmt layer and OpenTelemetry's layer do.
#[derive(Clone, Default)]
struct HandlerSpans(Arc<Mutex<BTreeMap<String, usize>>>);

struct HandlerField(String);

impl<S> Layer<S> for HandlerSpans
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: Context<'_, S>,
    ) {
        struct Visit(Option<String>);
        impl tracing::field::Visit for Visit {
            fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
                if field.name() == "ws.handler" {
                    self.0 = Some(value.to_owned());
                }
            }
            fn record_debug(&mut self, _: &tracing::field::Field, _: &dyn std::fmt::Debug) {}
        }
        let mut visit = Visit(None);
        attrs.record(&mut visit);
        if let (Some(handler), Some(span)) = (visit.0, ctx.span(id)) {
            span.extensions_mut().insert(HandlerField(handler));
        }
    }

    fn on_close(&self, id: tracing::span::Id, ctx: Context<'_, S>) {
        let span = ctx.span(&id).expect("a closing span is in the registry");
        if let Some(HandlerField(handler)) = span.extensions().get::<HandlerField>() {
            *self
                .0
                .lock()
                .unwrap()
                .entry(format!("{}:{handler}", span.name()))
                .or_default() += 1;
        }
    }
}

#[test]
#[ignore = "child process: run by its parent test"]
fn child_program_with_its_own_tracing_stack() {
    if !in_child() {
        return;
    }
    let jobs = ws_observe::prometheus::register_int_counter!(
        "composable_jobs_total",
        "Jobs of the program's own, on the prometheus crate's default registry."
    )
    .unwrap();
    jobs.inc_by(2);

    let (observe, telemetry) = ws_observe::runtime::Config::from_env()
        .unwrap()
        .into_layer()
        .unwrap();
    common::child::report(
        MARKER,
        "global_set_by_into_layer",
        tracing::dispatcher::has_been_set(),
    );
    let spans = HandlerSpans::default();
    tracing_subscriber::registry()
        .with(spans.clone())
        .with(observe)
        .init();

    for amount in [0, 0, 0, 5] {
        let _ = charge(amount);
    }
    let addr = telemetry.metrics_addr().expect("/metrics on");
    let (status, page) = common::http_get(addr, "/metrics", &[]);
    assert_eq!(status, 200, "{page}");
    let handler = |outcome| {
        common::sample(
            &page,
            "ws_handler_calls_total",
            &[
                ("handler", "charge"),
                ("module", module_path!()),
                ("outcome", outcome),
            ],
        )
        .unwrap_or(-1.0)
    };
    common::child::report(MARKER, "scraped_errors", handler("error"));
    common::child::report(MARKER, "scraped_ok", handler("ok"));
    common::child::report(
        MARKER,
        "scraped_jobs",
        common::sample(&page, "composable_jobs_total", &[]).unwrap_or(-1.0),
    );
    for family in ["composable_jobs_total", "process_cpu_seconds_total"] {
        common::child::report(
            MARKER,
            &format!("type_lines_{family}"),
            page.matches(&format!("# TYPE {family} ")).count(),
        );
    }
    let seen = spans.0.lock().unwrap().clone();
    common::child::report(
        MARKER,
        "user_layer_saw",
        seen.iter()
            .map(|(span, n)| format!("{span}={n}"))
            .collect::<Vec<_>>()
            .join(","),
    );
    // Dropping the guard delivers the queued alert and flushes the log lines.
    drop(telemetry);
}

#[test]
#[ignore = "needs scripts/install-backends.sh"]
fn a_program_with_its_own_tracing_stack_gets_lines_metrics_and_alerts() {
    if in_child() {
        return;
    }
    let am = Alertmanager::start();
    let output = common::child::run(
        "child_program_with_its_own_tracing_stack",
        MARKER,
        &[
            ("WS_OBSERVE_METRICS_ADDR", "127.0.0.1:0".to_owned()),
            ("WS_OBSERVE_ALERTMANAGER_URL", am.url()),
            ("OTEL_SERVICE_NAME", "composable-test".to_owned()),
        ],
    );

    // into_layer() installed nothing: the program's own stack is the global subscriber.
    assert_eq!(
        output.value("global_set_by_into_layer"),
        "false",
        "{output}"
    );
    // The user's layer read the handler spans through LookupSpan next to ws-observe's layer.
    assert_eq!(
        output.value("user_layer_saw"),
        "charge:charge=4",
        "{output}"
    );
    // /metrics: the handler's counts, and the default registry's counter, each family once.
    assert_eq!(output.value("scraped_errors"), "3", "{output}");
    assert_eq!(output.value("scraped_ok"), "1", "{output}");
    assert_eq!(output.value("scraped_jobs"), "2", "{output}");
    assert_eq!(
        output.value("type_lines_composable_jobs_total"),
        "1",
        "{output}"
    );
    assert_eq!(
        output.value("type_lines_process_cpu_seconds_total"),
        "1",
        "{output}"
    );

    // ws-observe's JSON lines on stdout: the handler's error line, inside its span.
    let lines = output.log_lines();
    let errors: Vec<_> = lines
        .iter()
        .filter(|line| line["message"] == "handler returned an error")
        .collect();
    assert_eq!(errors.len(), 3, "{output}");
    for line in &errors {
        common::assert_ecs_line(line);
        assert_eq!(line["service.name"], "composable-test", "{line}");
        assert_eq!(line["error.message"], "card declined", "{line}");
        assert_eq!(line["spans"], serde_json::json!(["charge"]), "{line}");
    }

    // The alert reached the real Alertmanager (deduplicated: one for the three errors).
    let alerts = common::wait_until(
        Duration::from_secs(15),
        "the handler's alert in Alertmanager",
        || {
            let alerts = am.alerts("");
            let ours: Vec<_> = alerts
                .into_iter()
                .filter(|a| a["labels"]["handler"] == "charge")
                .collect();
            (!ours.is_empty()).then_some(ours)
        },
        || am.log(),
    );
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    let labels = &alerts[0]["labels"];
    assert_eq!(labels["severity"], "critical", "{alerts:#?}");
    assert_eq!(labels["service"], "composable-test", "{alerts:#?}");
    assert_eq!(labels["module"], module_path!(), "{alerts:#?}");
    assert_eq!(
        alerts[0]["annotations"]["description"], "card declined",
        "{alerts:#?}"
    );
}

/// Counts the alerts it is given.
#[derive(Clone, Default)]
struct CountingSink(Arc<Mutex<usize>>);

impl ws_observe::runtime::alert::AlertSink for CountingSink {
    fn name(&self) -> &str {
        "counting"
    }
    fn notify(
        &self,
        _: &ws_observe::runtime::alert::Notification<'_>,
    ) -> Result<(), ws_observe::runtime::alert::SinkError> {
        *self.0.lock().unwrap() += 1;
        Ok(())
    }
}

#[test]
#[ignore = "child process: run by its parent test"]
fn child_init_refused_then_into_layer() {
    if !in_child() {
        return;
    }
    // The program's own global subscriber is there first.
    tracing_subscriber::registry().init();
    let refused_sink = CountingSink::default();
    let refused = ws_observe::runtime::Config::from_env()
        .unwrap()
        .add_alert_sink(refused_sink.clone())
        .init()
        .unwrap_err();
    common::child::report(
        MARKER,
        "init_error_names_into_layer",
        refused.to_string().contains("into_layer"),
    );

    let sink = CountingSink::default();
    let (observe, telemetry) = ws_observe::runtime::Config::from_env()
        .unwrap()
        .add_alert_sink(sink.clone())
        .into_layer()
        .unwrap();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(observe), || {
        let _ = charge(0);
    });
    drop(telemetry);
    common::child::report(
        MARKER,
        "alerts_to_the_refused_init",
        *refused_sink.0.lock().unwrap(),
    );
    common::child::report(MARKER, "alerts_to_into_layer", *sink.0.lock().unwrap());
}

/// A refused `init()` (another global subscriber) leaves nothing installed: `into_layer()`
/// works after it, and alerts go to its sinks only.
#[test]
fn a_refused_init_leaves_nothing_behind_and_into_layer_works_after_it() {
    if in_child() {
        return;
    }
    let output = common::child::run(
        "child_init_refused_then_into_layer",
        MARKER,
        &[] as &[(&str, &str)],
    );
    assert_eq!(
        output.value("init_error_names_into_layer"),
        "true",
        "{output}"
    );
    assert_eq!(output.value("alerts_to_the_refused_init"), "0", "{output}");
    assert_eq!(output.value("alerts_to_into_layer"), "1", "{output}");
}

/// `/metrics` serves what is registered on ws-observe's registry and on the `prometheus`
/// crate's default registry, each family once even when registered on both.
#[test]
fn metrics_of_both_registries_are_served_each_once() {
    if in_child() {
        return;
    }
    let default_only = ws_observe::prometheus::register_int_gauge!(
        "composable_default_only",
        "On the prometheus crate's default registry."
    )
    .unwrap();
    default_only.set(7);
    let ours = ws_observe::prometheus::IntCounter::new(
        "composable_registered_on_both_total",
        "On both registries.",
    )
    .unwrap();
    ws_observe::runtime::registry()
        .register(Box::new(ours.clone()))
        .unwrap();
    ws_observe::prometheus::default_registry()
        .register(Box::new(ours.clone()))
        .unwrap();
    ours.inc_by(4);

    let page = common::scrape();
    assert_eq!(
        common::sample(&page, "composable_default_only", &[]),
        Some(7.0),
        "{page}"
    );
    assert_eq!(
        common::sample(&page, "composable_registered_on_both_total", &[]),
        Some(4.0),
        "{page}"
    );
    for family in [
        "composable_registered_on_both_total",
        "process_cpu_seconds_total",
        "ws_observe_build_info",
    ] {
        assert_eq!(
            page.matches(&format!("# TYPE {family} ")).count(),
            1,
            "{family} served once:\n{page}"
        );
    }
}
