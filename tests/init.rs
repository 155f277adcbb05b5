//! `runtime::init()` end to end: the global subscriber, JSON logs, the listener, and errors.
//! Global state, so each process-wide step runs in a child process of this test binary.

mod common;

use common::child::{ChildOutput, in_child};
use ws_observe::ws_handler;

/// Runs this test binary again, executing only `test` with `env`; the child must succeed.
fn child(test: &str, env: &[(&str, &str)]) -> ChildOutput {
    common::child::run(test, "INIT_TEST", env)
}

#[derive(Debug)]
struct Refused;
impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("refused \"quoted\"\nsecond line")
    }
}
impl std::error::Error for Refused {}

#[ws_handler(alert = "warning")]
fn refuse() -> Result<(), Refused> {
    Err(Refused)
}

#[test]
#[ignore = "child process: run by its parent test"]
fn child_sync_main_init() {
    if !in_child() {
        return;
    }
    // A synchronous main: no tokio runtime at all.
    let telemetry = ws_observe::runtime::init().expect("init");
    let addr = telemetry.metrics_addr().expect("metrics on");
    assert_ne!(addr.port(), 0);
    let _ = refuse();
    tracing::info!(target: "init", user_field = 7, "plain event");
    let (status, body) = common::http_get(addr, "/metrics", &[("Authorization", "Bearer tok")]);
    assert_eq!(status, 200);
    assert!(
        body.contains(
            "ws_handler_calls_total{handler=\"refuse\",module=\"init\",outcome=\"error\"} 1"
        ),
        "{body}"
    );
    assert_eq!(common::http_get(addr, "/metrics", &[]).0, 401);
    assert_eq!(common::http_get(addr, "/healthz", &[]).0, 200);
    let second = ws_observe::runtime::init().unwrap_err();
    println!("INIT_TEST SECOND_INIT: {second}");
    drop(telemetry); // flushes the log lines before the process exits
}

#[test]
fn init_serves_metrics_and_writes_json_logs_from_a_sync_main() {
    if in_child() {
        return;
    }
    let output = child(
        "child_sync_main_init",
        &[
            ("WS_OBSERVE_METRICS_ADDR", "127.0.0.1:0"),
            ("WS_OBSERVE_METRICS_TOKEN", "tok"),
            ("RUST_LOG", "info"),
            ("OTEL_SERVICE_NAME", "init-test-service"),
        ],
    );
    let stdout = output.stdout.clone();
    let json = output.log_lines();
    for line in &json {
        common::assert_ecs_line(line);
        assert_eq!(line["service.name"], "init-test-service");
    }
    let error = json
        .iter()
        .find(|v| v["message"] == "handler returned an error")
        .unwrap_or_else(|| panic!("no error line in:\n{stdout}"));
    assert_eq!(error["log.level"], "error");
    assert_eq!(error["log.logger"], "ws_observe");
    assert_eq!(error["error.message"], "refused \"quoted\"\nsecond line");
    assert_eq!(error["ws.handler"], "refuse");
    assert_eq!(error["code.namespace"], "init");
    assert_eq!(error["spans"], serde_json::json!(["refuse"]));
    let plain = json.iter().find(|v| v["message"] == "plain event").unwrap();
    assert_eq!(plain["user_field"], 7);
    assert!(
        stdout.contains("INIT_TEST SECOND_INIT: ws-observe is already set up"),
        "{stdout}"
    );
}

#[test]
#[ignore = "child process: run by its parent test"]
fn child_current_thread_runtime() {
    if !in_child() {
        return;
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let telemetry = ws_observe::runtime::init().expect("init");
        let addr = telemetry.metrics_addr().unwrap();
        // The only runtime thread is busy (blocking, on purpose): the scrape must still answer.
        let scraper = std::thread::spawn(move || common::http_get(addr, "/healthz", &[]).0);
        std::thread::sleep(std::time::Duration::from_millis(200));
        assert_eq!(scraper.join().unwrap(), 200);
        drop(telemetry);
    });
}

#[test]
fn init_works_on_a_busy_current_thread_runtime() {
    if in_child() {
        return;
    }
    child(
        "child_current_thread_runtime",
        &[("WS_OBSERVE_METRICS_ADDR", "127.0.0.1:0")],
    );
}

#[test]
#[ignore = "child process: run by its parent test"]
fn child_init_in_tokio_main_with_every_back_end() {
    if !in_child() {
        return;
    }
    // What `#[tokio::main] async fn main() { let _t = init()?; ... }` does.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let telemetry = ws_observe::runtime::init().expect("init inside a tokio runtime");
        let _ = refuse();
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        drop(telemetry);
    });
    println!("SURVIVED");
}

#[test]
fn init_inside_a_tokio_runtime_with_every_back_end_configured() {
    if in_child() {
        return;
    }
    // Dead back-ends (nothing listens on port 1): init must neither panic nor fail.
    let output = child(
        "child_init_in_tokio_main_with_every_back_end",
        &[
            ("WS_OBSERVE_METRICS_ADDR", "off"),
            ("WS_OBSERVE_ALERTMANAGER_URL", "http://127.0.0.1:1"),
            ("WS_OBSERVE_ALERT_WEBHOOK_URL", "http://127.0.0.1:1/hook"),
            ("SENTRY_DSN", "http://public@127.0.0.1:1/1"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1"),
            ("WS_OBSERVE_SHUTDOWN_TIMEOUT", "1s"),
        ],
    );
    assert!(output.stdout.contains("SURVIVED"));
}

#[test]
#[ignore = "child process: run by its parent test"]
fn child_bad_env() {
    if !in_child() {
        return;
    }
    let error = ws_observe::runtime::init().unwrap_err();
    println!("INIT_ERROR: {error}");
}

/// The test harness prints `test name ... ` before the child's own output, on the same line.
fn init_error_line(stdout: &str) -> &str {
    let at = stdout
        .find("INIT_ERROR: ")
        .unwrap_or_else(|| panic!("no error printed:\n{stdout}"));
    stdout[at..].lines().next().unwrap()
}

#[test]
fn malformed_variables_are_init_errors_naming_variable_and_value() {
    if in_child() {
        return;
    }
    for (var, value) in [
        ("WS_OBSERVE_METRICS_ADDR", "not-an-address"),
        ("WS_OBSERVE_LOG_FORMAT", "yaml"),
        ("RUST_LOG", "app=shouty"),
    ] {
        let output = child("child_bad_env", &[(var, value)]);
        let stdout = output.stdout.clone();
        let line = init_error_line(&stdout);
        assert!(line.contains(var) && line.contains(value), "{line}");
    }
}

#[test]
fn address_in_use_is_an_init_error_and_nothing_starts() {
    if in_child() {
        return;
    }
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let output = child("child_bad_env", &[("WS_OBSERVE_METRICS_ADDR", &addr)]);
    let stdout = output.stdout.clone();
    let line = init_error_line(&stdout);
    assert!(
        line.contains(&addr) && line.contains("WS_OBSERVE_METRICS_ADDR"),
        "{line}"
    );
}

#[test]
#[ignore = "child process: run by its parent test"]
fn child_metrics_off() {
    if !in_child() {
        return;
    }
    let telemetry = ws_observe::runtime::init().expect("init");
    assert_eq!(telemetry.metrics_addr(), None);
    println!("METRICS_OFF_OK");
}

#[test]
fn metrics_addr_off_serves_nothing() {
    if in_child() {
        return;
    }
    let output = child("child_metrics_off", &[("WS_OBSERVE_METRICS_ADDR", "off")]);
    assert!(output.stdout.contains("METRICS_OFF_OK"));
}

#[test]
#[ignore = "child process: run by its parent test"]
fn child_pretty_logs() {
    if !in_child() {
        return;
    }
    let telemetry = ws_observe::runtime::init().expect("init");
    tracing::info!(target: "init", answer = 42, "pretty event");
    let _ = refuse();
    drop(telemetry);
}

#[test]
fn pretty_format_on_request() {
    if in_child() {
        return;
    }
    let output = child(
        "child_pretty_logs",
        &[
            ("WS_OBSERVE_METRICS_ADDR", "off"),
            ("WS_OBSERVE_LOG_FORMAT", "pretty"),
        ],
    );
    let stdout = output.stdout.clone();
    assert!(stdout.contains("pretty event"), "{stdout}");
    assert!(stdout.contains("answer: 42"), "{stdout}");
    assert!(
        !stdout.lines().any(|l| l.starts_with("{\"@timestamp\"")),
        "{stdout}"
    );
}

#[test]
#[ignore = "child process: run by its parent test"]
fn child_rust_log_filters() {
    if !in_child() {
        return;
    }
    let telemetry = ws_observe::runtime::init().expect("init");
    tracing::info!(target: "init", "below the filter level");
    tracing::warn!(target: "init", "kept");
    drop(telemetry);
}

#[test]
fn rust_log_filters_log_lines() {
    if in_child() {
        return;
    }
    let output = child(
        "child_rust_log_filters",
        &[("WS_OBSERVE_METRICS_ADDR", "off"), ("RUST_LOG", "warn")],
    );
    let stdout = output.stdout.clone();
    assert!(stdout.contains("\"message\":\"kept\""), "{stdout}");
    assert!(!stdout.contains("below the filter level"), "{stdout}");
}

#[test]
#[ignore = "child process: run by its parent test"]
fn child_error_line_without_span() {
    if !in_child() {
        return;
    }
    let telemetry = ws_observe::runtime::init().expect("init");
    let _ = refuse();
    drop(telemetry);
}

#[test]
fn a_failed_call_is_logged_even_when_its_span_is_filtered_out() {
    if in_child() {
        return;
    }
    // Handler spans have the handler's module as target (`init`), filtered out here; the
    // error line (target `ws_observe`) is kept and names the handler itself.
    let output = child(
        "child_error_line_without_span",
        &[
            ("WS_OBSERVE_METRICS_ADDR", "off"),
            ("RUST_LOG", "ws_observe=error"),
        ],
    );
    let stdout = output.stdout.clone();
    let line = stdout
        .lines()
        .find(|l| l.contains("handler returned an error"))
        .unwrap_or_else(|| panic!("no error line:\n{stdout}"));
    // The test harness may print `test name ... ` before the child's first line.
    let json: serde_json::Value = serde_json::from_str(&line[line.find('{').unwrap()..]).unwrap();
    assert_eq!(json["ws.handler"], "refuse");
    assert!(
        json.get("spans").is_none(),
        "the span was filtered out: {json}"
    );
}
