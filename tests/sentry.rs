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
    // Trace export to a closed port: spans are not delivered, but they have trace ids.
    let closed = common::free_port();
    let output = common::child::command("child_raises_alerts")
        .env(
            "SENTRY_DSN",
            format!("http://public0key@127.0.0.1:{port}/42"),
        )
        .env("SENTRY_ENVIRONMENT", "test")
        .env("SENTRY_RELEASE", "ws-observe-test@1.0")
        .env(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            format!("http://127.0.0.1:{closed}"),
        )
        .env("WS_OBSERVE_SHUTDOWN_TIMEOUT", "2s")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
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
    let trace_id = event["contexts"]["trace"]["trace_id"].as_str().unwrap();
    assert_eq!(trace_id.len(), 32);
    assert_ne!(trace_id, "00000000000000000000000000000000");
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
}
