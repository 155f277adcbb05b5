//! The Sentry sink against a loopback receiver of Sentry envelopes: what the `sentry` crate's
//! protocol puts on the wire (`POST /api/<project>/envelope/`, an `X-Sentry-Auth` header,
//! newline-delimited JSON), decoded and checked.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use ws_observe::ws_handler;

/// One received envelope: the request path, the auth header, and its JSON lines.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    auth: String,
    lines: Vec<Value>,
}

fn receiver() -> (u16, Arc<Mutex<Vec<Received>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let received = Arc::new(Mutex::new(Vec::new()));
    let store = Arc::clone(&received);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let store = Arc::clone(&store);
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut writer = stream;
                loop {
                    let mut request_line = String::new();
                    if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
                        return;
                    }
                    let path = request_line
                        .split_whitespace()
                        .nth(1)
                        .unwrap_or_default()
                        .to_owned();
                    let (mut length, mut auth) = (0usize, String::new());
                    loop {
                        let mut line = String::new();
                        reader.read_line(&mut line).unwrap();
                        let line = line.trim_end();
                        if line.is_empty() {
                            break;
                        }
                        let (name, value) = line.split_once(':').unwrap();
                        match name.to_ascii_lowercase().as_str() {
                            "content-length" => length = value.trim().parse().unwrap(),
                            "x-sentry-auth" => auth = value.trim().to_owned(),
                            _ => {}
                        }
                    }
                    let mut body = vec![0; length];
                    reader.read_exact(&mut body).unwrap();
                    let lines = String::from_utf8(body)
                        .unwrap()
                        .lines()
                        .filter(|l| !l.trim().is_empty())
                        .map(|l| serde_json::from_str(l).expect("every envelope line is JSON"))
                        .collect();
                    store.lock().unwrap().push(Received { path, auth, lines });
                    let _ = writer.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}");
                }
            });
        }
    });
    (port, received)
}

#[derive(Debug)]
struct Root;
impl std::fmt::Display for Root {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("card network unreachable")
    }
}
impl std::error::Error for Root {}

#[derive(Debug)]
struct PaymentFailed(Root);
impl std::fmt::Display for PaymentFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("payment failed")
    }
}
impl std::error::Error for PaymentFailed {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

#[ws_handler(alert = "critical")]
fn charge(_card_number: &str) -> Result<(), PaymentFailed> {
    Err(PaymentFailed(Root))
}

#[ws_handler(alert = "info")]
fn notice() -> Result<(), std::io::Error> {
    Err(std::io::Error::other("just so you know"))
}

#[test]
#[ignore = "child process: run by its parent test"]
fn child_raises_alerts() {
    if !common::child::in_child() {
        return;
    }
    let telemetry = ws_observe::runtime::init().expect("init");
    charge("4111 1111 1111 1111").unwrap_err();
    notice().unwrap_err();
    drop(telemetry); // delivers what is queued
}

#[test]
fn alerts_become_sentry_events_with_level_tags_fingerprint_chain_and_trace() {
    if common::child::in_child() {
        return;
    }
    let (port, received) = receiver();
    // The handler spans go to an OTLP receiver: the event must name the trace they are in.
    let collector = common::otlp_receiver::Receiver::start();
    common::child::run(
        "child_raises_alerts",
        "SENTRY_TEST",
        &[
            (
                "SENTRY_DSN",
                format!("http://public0key@127.0.0.1:{port}/42"),
            ),
            ("SENTRY_ENVIRONMENT", "test".into()),
            ("SENTRY_RELEASE", "ws-observe-test@1.0".into()),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", collector.http_endpoint()),
            ("WS_OBSERVE_SHUTDOWN_TIMEOUT", "2s".into()),
        ],
    );

    let received = received.lock().unwrap().clone();
    assert_eq!(received.len(), 2, "{received:#?}");
    let event_of = |summary: &str| -> (Received, Value) {
        let envelope = received
            .iter()
            .find(|r| r.lines.iter().any(|l| l["message"] == summary))
            .unwrap_or_else(|| panic!("no event {summary}: {received:#?}"))
            .clone();
        let event = envelope
            .lines
            .iter()
            .find(|l| l["message"] == summary)
            .unwrap()
            .clone();
        (envelope, event)
    };

    let (envelope, event) = event_of("charge failed");
    assert_eq!(envelope.path, "/api/42/envelope/");
    assert!(
        envelope.auth.contains("sentry_key=public0key"),
        "{}",
        envelope.auth
    );
    assert_eq!(event["level"], "fatal");
    assert_eq!(event["environment"], "test");
    assert_eq!(event["release"], "ws-observe-test@1.0");
    assert_eq!(event["tags"]["handler"], "charge");
    assert_eq!(event["tags"]["module"], "sentry");
    assert_eq!(event["tags"]["severity"], "critical");
    assert_eq!(
        event["fingerprint"],
        serde_json::json!(["charge", "sentry::PaymentFailed"])
    );
    let values = event["exception"]["values"].as_array().unwrap();
    assert_eq!(values.len(), 2, "{values:?}");
    assert_eq!(
        values[0]["value"], "card network unreachable",
        "innermost first"
    );
    assert_eq!(values[1]["value"], "payment failed");
    assert_eq!(values[1]["type"], "sentry::PaymentFailed");
    let spans = collector.wait_for_spans(2, std::time::Duration::from_secs(5));
    let span_of = |handler: &str| {
        let found: Vec<_> = spans.iter().filter(|s| s.span.name == handler).collect();
        assert_eq!(found.len(), 1, "spans named {handler}: {spans:#?}");
        found[0].clone()
    };
    let charge_span = span_of("charge");
    assert_eq!(
        event["contexts"]["trace"]["trace_id"],
        charge_span.trace_id(),
        "the event links to the failed call's trace: {event:#}"
    );
    // No personal data: the card number argument, an IP, a user or a host name never appear.
    let raw = serde_json::to_string(&envelope.lines).unwrap();
    assert!(!raw.contains("4111"), "{raw}");
    assert!(
        event.get("user").is_none() && event.get("server_name").is_none(),
        "{event}"
    );

    let (_, info) = event_of("notice failed");
    assert_eq!(info["level"], "info");
    assert_eq!(info["exception"]["values"][0]["value"], "just so you know");
    let notice_span = span_of("notice");
    assert_ne!(
        notice_span.trace_id(),
        charge_span.trace_id(),
        "two calls, two traces"
    );
    assert_eq!(
        info["contexts"]["trace"]["trace_id"],
        notice_span.trace_id(),
        "{info:#}"
    );
}
