//! Hostile configurations and bad days, as an attacker or an operator would try them. Here:
//! no secret of the configuration (the webhook URL's path, the Sentry DSN's key, an OTLP
//! header, the `/metrics` token, the pseudonym key) leaves through stdout, stderr, log lines,
//! `/metrics`, an `InitError` or a `{:?}`, even after every delivery has failed; a sink of the
//! user's that panics is counted failed and keeps delivering.
//!
//! `init()` installs process-wide state, so the program runs in a child process of this test
//! binary (`child_*`, ignored: only its parent runs it).

mod common;

use std::time::{Duration, Instant};

use common::child::in_child;
use ws_observe::runtime::Config;
use ws_observe::ws_handler;

const MARKER: &str = "HOSTILE_TEST";
const WEBHOOK_SECRET: &str = "WEBHOOKPATHSECRET";
const DSN_SECRET: &str = "dsnkeysecret0123";
const HEADER_SECRET: &str = "HEADERVALUESECRET";
const TOKEN_SECRET: &str = "TOKENSECRET42";
const KEY_SECRET: &str = "PSEUDONYMKEYSECRET0123456789";

#[derive(Debug)]
struct Refused;
impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("refused")
    }
}
impl std::error::Error for Refused {}

#[ws_handler(alert = "critical")]
fn pay(amount: u64) -> Result<u64, Refused> {
    if amount == 0 {
        Err(Refused)
    } else {
        Ok(amount)
    }
}

#[test]
#[ignore = "child process: run by its parent test"]
fn child_with_secrets_everywhere() {
    if !in_child() {
        return;
    }
    // Every secret also in a malformed value: the errors name the variable, not the value.
    let malformed = [
        (
            "WS_OBSERVE_ALERT_WEBHOOK_URL",
            format!("hooks.example/services/T0/{WEBHOOK_SECRET}"),
        ),
        ("SENTRY_DSN", format!("not a dsn {DSN_SECRET}")),
        (
            "OTEL_EXPORTER_OTLP_HEADERS",
            format!("x-api-key{HEADER_SECRET}"),
        ),
        ("WS_OBSERVE_METRICS_TOKEN", format!("{TOKEN_SECRET} x")),
        ("WS_OBSERVE_PSEUDONYM_KEY", "short".to_owned()),
    ];
    for (var, value) in &malformed {
        let error = Config::from_vars(|name| {
            if name == *var {
                Some(value.clone())
            } else if name == "OTEL_EXPORTER_OTLP_ENDPOINT" {
                Some("http://127.0.0.1:4318".into())
            } else {
                None
            }
        })
        .unwrap_err();
        println!("error for {var}: {error} / {error:?}");
    }

    let config = Config::from_env().unwrap();
    println!("config: {config:?}");
    let telemetry = config.init().unwrap();
    println!("telemetry: {telemetry:?}");
    for _ in 0..3 {
        let _ = pay(0);
    }
    let _ = pay(1);
    // Until the webhook and Sentry have both failed (three attempts each), and spans were
    // tried: every failure path has run and logged.
    let addr = telemetry.metrics_addr().unwrap();
    let auth = format!("Bearer {TOKEN_SECRET}");
    let deadline = Instant::now() + Duration::from_secs(20);
    let page = loop {
        let (_, page) = common::http_get(addr, "/metrics", &[("Authorization", &auth)]);
        let failed = |sink| {
            common::sample(
                &page,
                "ws_alerts_total",
                &[
                    ("severity", "critical"),
                    ("sink", sink),
                    ("result", "failed"),
                ],
            )
            .unwrap_or(0.0)
        };
        let spans_dropped =
            common::sample(&page, "ws_observe_spans_dropped_total", &[]).unwrap_or(0.0);
        if (failed("webhook") >= 1.0 && failed("sentry") >= 1.0 && spans_dropped >= 1.0)
            || Instant::now() > deadline
        {
            break page;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    println!("{page}");
    drop(telemetry);
}

#[test]
fn no_secret_leaves_through_output_errors_debug_or_metrics() {
    if in_child() {
        return;
    }
    let closed = common::free_port();
    let output = common::child::run(
        "child_with_secrets_everywhere",
        MARKER,
        &[
            (
                "WS_OBSERVE_ALERT_WEBHOOK_URL",
                format!(
                    "http://127.0.0.1:{closed}/services/T0/{WEBHOOK_SECRET}?token={WEBHOOK_SECRET}"
                ),
            ),
            (
                "SENTRY_DSN",
                format!("http://{DSN_SECRET}@127.0.0.1:{closed}/7"),
            ),
            (
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                format!("http://127.0.0.1:{closed}"),
            ),
            (
                "OTEL_EXPORTER_OTLP_HEADERS",
                format!("x-api-key={HEADER_SECRET}"),
            ),
            ("OTEL_TRACES_SAMPLER", "always_on".to_owned()),
            ("OTEL_BSP_SCHEDULE_DELAY", "100".to_owned()),
            ("WS_OBSERVE_METRICS_ADDR", "127.0.0.1:0".to_owned()),
            ("WS_OBSERVE_METRICS_TOKEN", TOKEN_SECRET.to_owned()),
            ("WS_OBSERVE_PSEUDONYM_KEY", KEY_SECRET.to_owned()),
            ("WS_OBSERVE_SHUTDOWN_TIMEOUT", "2s".to_owned()),
        ],
    );
    let everything = format!("{}\n{}", output.stdout, output.stderr);
    // The failures happened, and were reported where an operator looks.
    for sink in ["webhook", "sentry"] {
        assert!(
            everything.contains(&format!(
                "ws_alerts_total{{result=\"failed\",severity=\"critical\",sink=\"{sink}\"}} 1"
            )),
            "{sink} did not fail: {output}"
        );
    }
    assert!(
        everything.contains("alert delivery failed"),
        "no delivery failure logged: {output}"
    );
    assert!(
        everything.contains("127.0.0.1:"),
        "the failures name where they went: {output}"
    );
    for (what, secret) in [
        ("webhook URL path", WEBHOOK_SECRET),
        ("Sentry DSN key", DSN_SECRET),
        ("OTLP header", HEADER_SECRET),
        ("metrics token", TOKEN_SECRET),
        ("pseudonym key", KEY_SECRET),
    ] {
        assert!(!everything.contains(secret), "the {what} leaked: {output}");
    }
}

/// A sink of the user's that panics on its first notification.
#[derive(Clone, Default)]
struct PanicsOnce(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl ws_observe::runtime::alert::AlertSink for PanicsOnce {
    fn name(&self) -> &str {
        "panics_once"
    }
    fn notify(
        &self,
        _: &ws_observe::runtime::alert::Notification<'_>,
    ) -> Result<(), ws_observe::runtime::alert::SinkError> {
        let seen = self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if seen == 0 {
            panic!("a bug in the user's sink");
        }
        Ok(())
    }
}

#[test]
#[ignore = "child process: run by its parent test"]
fn child_with_a_panicking_sink() {
    if !in_child() {
        return;
    }
    use ws_observe::runtime::alert::{self, Alert, Severity};
    let sink = PanicsOnce::default();
    let telemetry = Config::from_env()
        .unwrap()
        .add_alert_sink(sink.clone())
        .init()
        .unwrap();
    for n in 0..3 {
        alert::raise(Alert::new(Severity::Warning, format!("manual alert {n}")));
        // One at a time: the first must reach the sink (and panic) before the next.
        let deadline = Instant::now() + Duration::from_secs(10);
        while sink.0.load(std::sync::atomic::Ordering::SeqCst) <= n && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    let page = ws_observe::runtime::render();
    for result in ["sent", "failed"] {
        let value = common::sample(
            &page,
            "ws_alerts_total",
            &[
                ("severity", "warning"),
                ("sink", "panics_once"),
                ("result", result),
            ],
        )
        .unwrap_or(-1.0);
        common::child::report(MARKER, result, value);
    }
    common::child::report(
        MARKER,
        "notified",
        sink.0.load(std::sync::atomic::Ordering::SeqCst),
    );
    drop(telemetry);
}

#[test]
fn a_panicking_sink_is_counted_failed_and_keeps_delivering() {
    if in_child() {
        return;
    }
    let output = common::child::run(
        "child_with_a_panicking_sink",
        MARKER,
        &[] as &[(&str, &str)],
    );
    assert_eq!(output.value("notified"), "3", "{output}");
    assert_eq!(output.value("failed"), "1", "{output}");
    assert_eq!(output.value("sent"), "2", "{output}");
    let panics_logged = output
        .log_lines()
        .iter()
        .filter(|line| {
            line["message"] == "alert sink panicked; its deliveries that panic count as failed"
        })
        .count();
    assert_eq!(panics_logged, 1, "{output}");
}
