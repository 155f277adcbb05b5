//! OTLP trace export end to end. A child process of this test binary (`init()` installs
//! process-wide state once) calls `runtime::init()` with the OpenTelemetry variables pointing
//! at a collector in this process (real gRPC and real HTTP on 127.0.0.1), runs annotated
//! handlers and drops its guard; the parent asserts what the collector received and what the
//! child printed (`OTLP_TEST key=value` lines and its JSON logs).

mod common;

use std::collections::{BTreeSet, HashMap};
use std::fmt::Display;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::child::{ChildOutput, RunningChild, in_child};
use common::otlp_receiver::{self, HangingCollector, ReceivedSpan, Receiver, Transport};
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use ws_observe::runtime::otlp::{Protocol, TraceExport};
use ws_observe::{ws_handler, ws_observe};

const MODULE: &str = module_path!();
const SERVICE: &str = "otlp-test-service";
/// On top of a configured shutdown timeout: process scheduling on a loaded two-core machine.
const SLACK: Duration = Duration::from_secs(2);
/// A child still running after this is killed and the test fails: a hang must not stall the run.
const CHILD_LIMIT: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------------------------------------
// The child side: handlers, and one `child_*` test per scenario (a no-op unless re-run).

/// A line the parent reads back with `ChildOutput::value`.
fn report(key: &str, value: impl Display) {
    common::child::report("OTLP_TEST", key, value);
}

#[derive(Debug)]
struct RoomFull;
impl std::fmt::Display for RoomFull {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("room 7 is full")
    }
}
impl std::error::Error for RoomFull {}

#[ws_handler(alert = "warning")]
fn join_room() -> Result<(), RoomFull> {
    Err(RoomFull)
}

#[ws_handler]
fn send_message(text: &str) -> Result<usize, RoomFull> {
    tracing::info!("relaying a message");
    let mut carrier = HashMap::new();
    ws_observe::runtime::propagation::inject(&mut carrier);
    report(
        "TRACEPARENT",
        carrier.get("traceparent").map_or("none", String::as_str),
    );
    Ok(count_words(text))
}

#[ws_observe]
fn count_words(text: &str) -> usize {
    let _span = tracing::info_span!("tokenize", chars = text.len()).entered();
    text.split_whitespace().count()
}

#[ws_handler]
fn ping(n: u32) -> Result<u32, RoomFull> {
    Ok(n)
}

#[ws_handler]
async fn ping_async(n: u32) -> Result<u32, RoomFull> {
    tokio::task::yield_now().await;
    Ok(n)
}

fn init() -> ws_observe::runtime::Telemetry {
    ws_observe::runtime::init().expect("init")
}

/// Drops the guard and reports how long that took.
fn timed_drop(telemetry: ws_observe::runtime::Telemetry) {
    let started = Instant::now();
    drop(telemetry);
    report("DROP_MS", started.elapsed().as_millis());
}

fn dropped_spans() -> f64 {
    let text = ws_observe::runtime::metrics::render();
    common::sample(&text, "ws_observe_spans_dropped_total", &[])
        .unwrap_or_else(|| panic!("no ws_observe_spans_dropped_total in:\n{text}"))
}

#[test]
#[ignore = "child process: run by its parent test"]
fn child_handlers() {
    if !in_child() {
        return;
    }
    let telemetry = init();
    tracing::info_span!("request").in_scope(|| {
        assert!(join_room().is_err());
        assert_eq!(send_message("hello there world").unwrap(), 3);
    });
    timed_drop(telemetry);
}

const FLAVOUR_CALLS: u32 = 5;

#[test]
#[ignore = "child process: run by its parent test"]
fn child_sync_main() {
    if !in_child() {
        return;
    }
    // No runtime anywhere in this process.
    let telemetry = init();
    for n in 0..FLAVOUR_CALLS {
        ping(n).unwrap();
    }
    timed_drop(telemetry);
}

#[test]
#[ignore = "child process: run by its parent test"]
fn child_current_thread() {
    if !in_child() {
        return;
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let telemetry = init();
        for n in 0..FLAVOUR_CALLS {
            ping_async(n).await.unwrap();
        }
        // On the runtime's only thread.
        timed_drop(telemetry);
    });
}

#[test]
#[ignore = "child process: run by its parent test"]
fn child_multi_thread() {
    if !in_child() {
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let telemetry = init();
        let tasks: Vec<_> = (0..FLAVOUR_CALLS)
            .map(|n| tokio::spawn(ping_async(n)))
            .collect();
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        timed_drop(telemetry);
    });
}

#[test]
#[ignore = "child process: run by its parent test"]
fn child_unreachable_collector() {
    if !in_child() {
        return;
    }
    let telemetry = init();
    let completed = (0..2000).filter(|&n| ping(n).is_ok()).count();
    report("CALLS_DONE", completed);
    // Long enough for a few exports to fail (500 ms timeout each).
    std::thread::sleep(Duration::from_millis(1500));
    report("DROPPED", dropped_spans());
    timed_drop(telemetry);
}

#[test]
#[ignore = "child process: run by its parent test"]
fn child_queue_overflow() {
    if !in_child() {
        return;
    }
    let telemetry = init();
    let completed = (0..1000).filter(|&n| ping(n).is_ok()).count();
    report("CALLS_DONE", completed);
    // Read at once: what is counted now was dropped at the full queue, not by a failed export.
    report("DROPPED", dropped_spans());
    timed_drop(telemetry);
}

#[test]
#[ignore = "child process: run by its parent test"]
fn child_configured_in_code() {
    if !in_child() {
        return;
    }
    // Configuration kept elsewhere than the environment (here: handed over in OTLP_TEST_*).
    let var = |name: &str| std::env::var(name).unwrap();
    let protocol = match var("OTLP_TEST_PROTOCOL").as_str() {
        "grpc" => Protocol::Grpc,
        _ => Protocol::HttpProtobuf,
    };
    let mut export = TraceExport::new(protocol, &var("OTLP_TEST_ENDPOINT")).unwrap();
    export.headers = vec![("x-api-key".into(), "from-config".into())];
    export.resource = vec![("team".into(), "chat".into())];
    let telemetry = ws_observe::runtime::Config::default()
        .disable_metrics()
        .set_service_name("config-service")
        .unwrap()
        .with_trace_export(export)
        .set_shutdown_timeout(Duration::from_secs(2))
        .init()
        .expect("init");
    ping(1).unwrap();
    timed_drop(telemetry);
}

// ---------------------------------------------------------------------------------------------
// The parent side.

impl ChildOutput {
    fn number(&self, key: &str) -> f64 {
        let value = self.value(key);
        value
            .parse()
            .unwrap_or_else(|_| panic!("{key}={value} is not a number in {self}"))
    }

    fn drop_duration(&self) -> Duration {
        Duration::from_millis(self.number("DROP_MS") as u64)
    }

    /// The child's JSON log lines.
    fn json_lines(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lines()
            .filter_map(|line| line.find("{\"@timestamp\"").map(|at| &line[at..]))
            .map(|line| {
                serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
            })
            .collect()
    }

    /// The one JSON log line whose message is `message`.
    fn log_line(&self, message: &str) -> serde_json::Value {
        let found: Vec<_> = self
            .json_lines()
            .into_iter()
            .filter(|line| line["message"] == message)
            .collect();
        assert_eq!(found.len(), 1, "lines {message:?} in {self}");
        found.into_iter().next().unwrap()
    }
}

/// Runs this test binary again, executing only `test`, with no inherited OpenTelemetry or
/// ws-observe variable, metrics off, the service name, a resource attribute and an API-key
/// header, then `env`. Fails if the child fails or outlives `CHILD_LIMIT`.
fn run_child(test: &str, env: &[(&str, String)]) -> ChildOutput {
    let mut command = common::child::command(test);
    command
        .env("OTEL_SERVICE_NAME", SERVICE)
        .env("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=test")
        .env("OTEL_EXPORTER_OTLP_HEADERS", "x-api-key=secret");
    for (name, value) in env {
        command.env(name, value);
    }
    RunningChild::spawn(command, test, "OTLP_TEST").finish(CHILD_LIMIT)
}

/// The variables that send spans to `endpoint` over `transport`: gRPC by protocol, HTTP by
/// the specification's default protocol and a base endpoint.
fn export_env(transport: Transport, endpoint: String) -> Vec<(&'static str, String)> {
    match transport {
        Transport::Grpc => vec![
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc".to_owned()),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
        ],
        Transport::Http => vec![("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)],
    }
}

fn receiver_env(receiver: &Receiver, transport: Transport) -> Vec<(&'static str, String)> {
    let endpoint = match transport {
        Transport::Grpc => receiver.grpc_endpoint(),
        Transport::Http => receiver.http_endpoint(),
    };
    export_env(transport, endpoint)
}

/// The one span named `name`.
fn one<'a>(spans: &'a [ReceivedSpan], name: &str) -> &'a ReceivedSpan {
    let found: Vec<_> = spans.iter().filter(|s| s.span.name == name).collect();
    assert_eq!(found.len(), 1, "spans named {name}: {found:#?}");
    found[0]
}

/// `child_handlers` run once per transport, shared by the tests that read it.
struct HandlersRun {
    output: ChildOutput,
    spans: Vec<ReceivedSpan>,
}

const HANDLER_SPANS: [&str; 5] = [
    "request",
    "join_room",
    "send_message",
    "count_words",
    "tokenize",
];

fn handlers_run(transport: Transport) -> &'static HandlersRun {
    static GRPC: OnceLock<HandlersRun> = OnceLock::new();
    static HTTP: OnceLock<HandlersRun> = OnceLock::new();
    let run = match transport {
        Transport::Grpc => &GRPC,
        Transport::Http => &HTTP,
    };
    run.get_or_init(|| {
        let receiver = Receiver::start();
        let output = run_child("child_handlers", &receiver_env(&receiver, transport));
        let spans = receiver.wait_for_spans(HANDLER_SPANS.len(), Duration::from_secs(5));
        HandlersRun { output, spans }
    })
}

fn assert_names_kind_attributes_status_and_parentage(transport: Transport) {
    let spans = &handlers_run(transport).spans;
    let names: BTreeSet<&str> = spans.iter().map(|s| s.span.name.as_str()).collect();
    assert_eq!(names, BTreeSet::from(HANDLER_SPANS), "{spans:#?}");
    assert_eq!(spans.len(), HANDLER_SPANS.len(), "{spans:#?}");
    assert!(spans.iter().all(|s| s.transport == transport), "{spans:#?}");

    let request = one(spans, "request");
    let failed = one(spans, "join_room");
    let ok = one(spans, "send_message");
    let nested = one(spans, "count_words");
    let user = one(spans, "tokenize");

    for (span, handler) in [
        (failed, "join_room"),
        (ok, "send_message"),
        (nested, "count_words"),
    ] {
        assert_eq!(span.span.kind(), SpanKind::Internal, "{span:#?}");
        let attributes = span.attributes();
        assert_eq!(attributes["ws.handler"], handler, "{attributes:#?}");
        assert_eq!(attributes["code.namespace"], MODULE, "{attributes:#?}");
        // Instructions to tracing-opentelemetry (kind, status), not attributes.
        assert!(
            !attributes.contains_key("otel.kind") && !attributes.contains_key("otel.status_code"),
            "{attributes:#?}"
        );
    }
    assert_eq!(user.attributes()["chars"], "17");

    let attributes = failed.attributes();
    assert_eq!(attributes["error.type"], format!("{MODULE}::RoomFull"));
    assert_eq!(attributes["error.message"], "room 7 is full");
    let status = failed.span.status.clone().unwrap_or_default();
    assert_eq!(status.code(), StatusCode::Error, "{failed:#?}");
    assert!(
        failed
            .span
            .events
            .iter()
            .any(|e| e.name == "handler returned an error"),
        "the error's log line is an event on the span: {failed:#?}"
    );

    for span in [request, ok, nested, user] {
        let code = span.span.status.clone().unwrap_or_default().code();
        assert_eq!(code, StatusCode::Unset, "{span:#?}");
        let attributes = span.attributes();
        assert!(!attributes.contains_key("error.type"), "{attributes:#?}");
        assert!(!attributes.contains_key("error.message"), "{attributes:#?}");
    }

    assert_eq!(request.parent_span_id(), "", "the outer span is a root");
    assert_eq!(failed.parent_span_id(), request.span_id());
    assert_eq!(ok.parent_span_id(), request.span_id());
    assert_eq!(nested.parent_span_id(), ok.span_id());
    assert_eq!(user.parent_span_id(), nested.span_id());
    for span in spans {
        assert_eq!(span.trace_id(), request.trace_id(), "{span:#?}");
        assert_eq!(span.trace_id().len(), 32);
        assert_ne!(span.trace_id(), "0".repeat(32));
    }
    let ids: BTreeSet<String> = spans.iter().map(ReceivedSpan::span_id).collect();
    assert_eq!(ids.len(), spans.len(), "span ids are distinct");

    // Last, so that everything above still runs while this fails.
    // RUNTIME BUG (kept failing on purpose): the Error status carries no description. The
    // handler span records `otel.status_code = "ERROR"`, which tracing-opentelemetry turns into
    // `Status::error("")`; nothing sets the message (`otel.status_description` or
    // `OpenTelemetrySpanExt::set_status` would). See the report.
    let status = failed.span.status.clone().unwrap_or_default();
    assert_eq!(status.message, "room 7 is full", "{failed:#?}");
}

#[test]
fn grpc_export_carries_names_kind_attributes_status_and_parentage() {
    if in_child() {
        return;
    }
    assert_names_kind_attributes_status_and_parentage(Transport::Grpc);
}

#[test]
fn http_export_carries_names_kind_attributes_status_and_parentage() {
    if in_child() {
        return;
    }
    assert_names_kind_attributes_status_and_parentage(Transport::Http);
}

fn assert_resource_and_api_key(transport: Transport) {
    let spans = &handlers_run(transport).spans;
    assert!(!spans.is_empty());
    for span in spans {
        let resource = &span.resource;
        assert_eq!(resource["service.name"], SERVICE, "{resource:#?}");
        // Not set through the environment: the documented default.
        assert_eq!(resource["service.version"], "unknown", "{resource:#?}");
        assert_eq!(resource["deployment.environment"], "test", "{resource:#?}");
        assert_eq!(
            resource["telemetry.sdk.name"], "opentelemetry",
            "{resource:#?}"
        );
        assert_eq!(resource["telemetry.sdk.language"], "rust", "{resource:#?}");
        assert!(
            resource["telemetry.sdk.version"].starts_with("0."),
            "{resource:#?}"
        );
        assert_eq!(span.scope, "ws-observe");
        assert_eq!(
            span.headers.get("x-api-key").map(String::as_str),
            Some("secret"),
            "{:#?}",
            span.headers
        );
        if transport == Transport::Http {
            assert_eq!(span.headers["content-type"], "application/x-protobuf");
        }
    }
}

#[test]
fn grpc_export_carries_resource_and_api_key_metadata() {
    if in_child() {
        return;
    }
    assert_resource_and_api_key(Transport::Grpc);
}

#[test]
fn http_export_carries_resource_and_api_key_header() {
    if in_child() {
        return;
    }
    assert_resource_and_api_key(Transport::Http);
}

fn assert_log_lines_carry_span_ids(transport: Transport) {
    let run = handlers_run(transport);
    for (message, handler) in [
        ("relaying a message", "send_message"),
        ("handler returned an error", "join_room"),
    ] {
        let line = run.output.log_line(message);
        let span = one(&run.spans, handler);
        assert_eq!(line["trace.id"], span.trace_id(), "{line}");
        assert_eq!(line["span.id"], span.span_id(), "{line}");
    }
}

#[test]
fn grpc_log_lines_inside_a_handler_carry_its_trace_and_span_ids() {
    if in_child() {
        return;
    }
    assert_log_lines_carry_span_ids(Transport::Grpc);
}

#[test]
fn http_log_lines_inside_a_handler_carry_its_trace_and_span_ids() {
    if in_child() {
        return;
    }
    assert_log_lines_carry_span_ids(Transport::Http);
}

#[test]
fn injected_traceparent_continues_the_handler_span() {
    if in_child() {
        return;
    }
    for transport in [Transport::Grpc, Transport::Http] {
        let run = handlers_run(transport);
        let handler = one(&run.spans, "send_message");
        let traceparent = run.output.value("TRACEPARENT");
        let expected = format!("00-{}-{}-01", handler.trace_id(), handler.span_id());
        assert_eq!(traceparent, expected, "over {transport:?}");
    }
}

/// Spans exported from `child` (which calls `handler` `FLAVOUR_CALLS` times) arrive over both
/// transports, flushed by the guard's drop alone, and the drop returns in time.
fn assert_flavour_exports_and_drops(child: &str, handler: &str) {
    const SHUTDOWN: Duration = Duration::from_secs(2);
    for transport in [Transport::Grpc, Transport::Http] {
        let receiver = Receiver::start();
        let mut env = receiver_env(&receiver, transport);
        env.push(("WS_OBSERVE_SHUTDOWN_TIMEOUT", "2s".to_owned()));
        // Far beyond the child's life: only the drop can have sent the spans.
        env.push(("OTEL_BSP_SCHEDULE_DELAY", "60000".to_owned()));
        let output = run_child(child, &env);
        let took = output.drop_duration();
        println!("{child} over {transport:?}: guard dropped in {took:?}");
        assert!(took < SHUTDOWN + SLACK, "drop took {took:?}: {output}");

        let spans = receiver.wait_for_spans(FLAVOUR_CALLS as usize, Duration::from_secs(5));
        assert_eq!(spans.len(), FLAVOUR_CALLS as usize, "{spans:#?}");
        for span in &spans {
            assert_eq!(span.span.name, handler);
            assert_eq!(span.transport, transport);
            assert_eq!(span.attributes()["ws.handler"], handler);
        }
    }
}

#[test]
fn spans_are_exported_from_a_sync_main() {
    if in_child() {
        return;
    }
    assert_flavour_exports_and_drops("child_sync_main", "ping");
}

#[test]
fn spans_are_exported_from_a_current_thread_runtime() {
    if in_child() {
        return;
    }
    assert_flavour_exports_and_drops("child_current_thread", "ping_async");
}

#[test]
fn spans_are_exported_from_a_multi_thread_runtime() {
    if in_child() {
        return;
    }
    assert_flavour_exports_and_drops("child_multi_thread", "ping_async");
}

/// Fails fast: a 1 s shutdown bound, a 500 ms request timeout, a batch every 50 ms.
fn failing_collector_env(transport: Transport, endpoint: String) -> Vec<(&'static str, String)> {
    let mut env = export_env(transport, endpoint);
    env.push(("WS_OBSERVE_SHUTDOWN_TIMEOUT", "1s".to_owned()));
    env.push(("OTEL_EXPORTER_OTLP_TIMEOUT", "500".to_owned()));
    env.push(("OTEL_BSP_SCHEDULE_DELAY", "50".to_owned()));
    env
}

const FAILING_SHUTDOWN: Duration = Duration::from_secs(1);

/// Every call completed, failed exports were counted, the drop kept its bound.
fn assert_unreachable_run(output: &ChildOutput, scenario: &str) {
    assert_eq!(output.value("CALLS_DONE"), "2000", "{output}");
    let dropped = output.number("DROPPED");
    let took = output.drop_duration();
    println!("{scenario}: {dropped} spans dropped, guard dropped in {took:?}");
    assert!(dropped > 0.0, "failed exports are counted: {output}");
    assert!(dropped <= 2000.0, "a span is counted once: {output}");
    assert!(
        took < FAILING_SHUTDOWN + SLACK,
        "drop took {took:?}: {output}"
    );
}

#[test]
fn a_down_collector_blocks_no_handler_and_counts_the_lost_spans() {
    if in_child() {
        return;
    }
    std::thread::scope(|scope| {
        for transport in [Transport::Grpc, Transport::Http] {
            scope.spawn(move || {
                let env = failing_collector_env(transport, otlp_receiver::closed_port_endpoint());
                let output = run_child("child_unreachable_collector", &env);
                assert_unreachable_run(&output, &format!("closed port over {transport:?}"));
            });
        }
    });
}

#[test]
fn a_hanging_collector_blocks_no_handler_and_counts_the_lost_spans() {
    if in_child() {
        return;
    }
    std::thread::scope(|scope| {
        for transport in [Transport::Grpc, Transport::Http] {
            scope.spawn(move || {
                let collector = HangingCollector::start();
                let env = failing_collector_env(transport, collector.endpoint());
                let output = run_child("child_unreachable_collector", &env);
                assert!(
                    collector.connections() > 0,
                    "the exporter never reached the hanging collector: {output}"
                );
                assert_unreachable_run(&output, &format!("hanging collector over {transport:?}"));
            });
        }
    });
}

#[test]
fn a_full_queue_drops_and_counts_spans_and_the_process_still_exits() {
    if in_child() {
        return;
    }
    std::thread::scope(|scope| {
        for transport in [Transport::Grpc, Transport::Http] {
            scope.spawn(move || {
                let collector = HangingCollector::start();
                let mut env = failing_collector_env(transport, collector.endpoint());
                env.push(("OTEL_BSP_MAX_QUEUE_SIZE", "10".to_owned()));
                let output = run_child("child_queue_overflow", &env);
                assert_eq!(output.value("CALLS_DONE"), "1000", "{output}");
                let dropped = output.number("DROPPED");
                let took = output.drop_duration();
                println!(
                    "queue of 10 over {transport:?}: {dropped} of 1000 spans dropped, \
                     guard dropped in {took:?}"
                );
                assert!((900.0..=1000.0).contains(&dropped), "{output}");
                assert!(
                    took < FAILING_SHUTDOWN + SLACK,
                    "drop took {took:?}: {output}"
                );
            });
        }
    });
}

/// `child_configured_in_code` run once per transport: export set up with `Config::default()`
/// ("ignoring the environment") and `with_trace_export`, while the process environment holds
/// another `x-api-key` header and another resource attribute.
fn configured_in_code_run(transport: Transport) -> &'static [ReceivedSpan] {
    static GRPC: OnceLock<Vec<ReceivedSpan>> = OnceLock::new();
    static HTTP: OnceLock<Vec<ReceivedSpan>> = OnceLock::new();
    let run = match transport {
        Transport::Grpc => &GRPC,
        Transport::Http => &HTTP,
    };
    run.get_or_init(|| {
        let receiver = Receiver::start();
        let (protocol, endpoint) = match transport {
            Transport::Grpc => ("grpc", receiver.grpc_endpoint()),
            Transport::Http => ("http/protobuf", receiver.http_endpoint()),
        };
        let output = run_child(
            "child_configured_in_code",
            &[
                ("OTLP_TEST_PROTOCOL", protocol.to_owned()),
                ("OTLP_TEST_ENDPOINT", endpoint),
            ],
        );
        let took = output.drop_duration();
        assert!(took < Duration::from_secs(2) + SLACK, "{output}");
        let spans = receiver.wait_for_spans(1, Duration::from_secs(5));
        assert_eq!(spans.len(), 1, "{spans:#?}");
        spans
    })
}

#[test]
fn headers_configured_in_code_win_over_the_process_environment() {
    if in_child() {
        return;
    }
    // RUNTIME BUG (kept failing on purpose): opentelemetry-otlp reads
    // OTEL_EXPORTER_OTLP_{TRACES_,}HEADERS from the process environment itself and merges them
    // over the headers ws-observe passes (`with_headers`, `with_metadata`), so the environment's
    // key replaces the configured one. See the report.
    let seen: Vec<(Transport, Option<String>)> = [Transport::Grpc, Transport::Http]
        .into_iter()
        .map(|transport| {
            let span = &configured_in_code_run(transport)[0];
            (transport, span.headers.get("x-api-key").cloned())
        })
        .collect();
    assert!(
        seen.iter()
            .all(|(_, key)| key.as_deref() == Some("from-config")),
        "x-api-key received (the environment says `secret`, the configuration `from-config`): \
         {seen:?}"
    );
}

#[test]
fn resource_configured_in_code_ignores_the_process_environment() {
    if in_child() {
        return;
    }
    for transport in [Transport::Grpc, Transport::Http] {
        let resource = &configured_in_code_run(transport)[0].resource;
        assert_eq!(resource["service.name"], "config-service", "{resource:#?}");
        assert_eq!(resource["team"], "chat", "{resource:#?}");
        // RUNTIME BUG (kept failing on purpose): `Resource::builder()` runs the SDK's
        // `EnvResourceDetector`, which reads OTEL_RESOURCE_ATTRIBUTES from the process
        // environment behind the configuration's back. See the report.
        assert!(
            !resource.contains_key("deployment.environment"),
            "only in the process environment, not in the configuration: {resource:#?}"
        );
    }
}
