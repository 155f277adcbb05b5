//! The span of each call, seen by a real `tracing` subscriber (scoped to the test's thread).

mod common;

use common::spans::capture;
use tracing::Level;
use ws_observe::{ws_handler, ws_observe};

const MODULE: &str = module_path!();

#[derive(Debug)]
struct PayError {
    code: u16,
}
impl std::fmt::Display for PayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "payment refused ({})", self.code)
    }
}
impl std::error::Error for PayError {}

#[ws_handler(alert = "critical")]
fn pay(secret_card: &str, amount: u32) -> Result<u32, PayError> {
    let _ = secret_card;
    if amount > 100 {
        Err(PayError { code: 402 })
    } else {
        Ok(amount)
    }
}

#[test]
fn span_has_name_target_and_standard_fields() {
    let (_, captured) = capture(Level::INFO, || pay("4111-1111", 5));
    let span = captured.span("pay");
    assert_eq!(span.target, MODULE);
    assert_eq!(span.level, "INFO");
    assert_eq!(span.fields["ws.handler"], "pay");
    assert_eq!(span.fields["code.namespace"], MODULE);
    assert_eq!(span.fields["otel.kind"], "internal");
    assert!(!span.fields.contains_key("otel.status_code"), "{span:?}");
    assert!(!span.fields.contains_key("error.type"), "{span:?}");
}

#[test]
fn argument_values_are_never_recorded_by_default() {
    let (_, captured) = capture(Level::TRACE, || pay("4111-1111", 500));
    for span in captured.spans() {
        for (key, value) in &span.fields {
            assert!(
                !value.contains("4111"),
                "argument leaked into span field {key}: {value}"
            );
            assert_ne!(key, "secret_card");
        }
    }
    for event in captured.events() {
        assert!(!format!("{:?}", event.fields).contains("4111"), "{event:?}");
    }
}

#[test]
fn error_sets_status_type_and_message_and_logs_once() {
    let (result, captured) = capture(Level::INFO, || pay("x", 500));
    assert!(result.is_err());
    let span = captured.span("pay");
    assert_eq!(span.fields["otel.status_code"], "ERROR");
    assert!(span.fields["error.type"].ends_with("PayError"), "{span:?}");
    assert_eq!(span.fields["error.message"], "payment refused (402)");
    let errors: Vec<_> = captured
        .events()
        .into_iter()
        .filter(|e| e.level == "ERROR" && e.target == "ws_observe")
        .collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    // `alert = "critical"`: the alert's log line (the log sink, always on) comes too.
    let alerts: Vec<_> = captured
        .events()
        .into_iter()
        .filter(|e| e.target == "ws_observe::alert")
        .collect();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0].fields["alert.severity"], "critical");
    assert_eq!(
        alerts[0].fields["alert.description"],
        "payment refused (402)"
    );
    assert_eq!(errors[0].span.as_deref(), Some("pay"));
    assert_eq!(errors[0].fields["error.message"], "payment refused (402)");
}

#[ws_observe]
fn explode() {
    panic!("kaboom");
}

#[test]
fn panic_marks_the_span_as_error() {
    let (_, captured) = capture(Level::INFO, || std::panic::catch_unwind(explode));
    let span = captured.span("explode");
    assert_eq!(span.fields["otel.status_code"], "ERROR");
    assert_eq!(span.fields["error.type"], "panic");
}

#[ws_handler(fields(room = %room, members = members.len(), "ws.topic" = "chat", ?kind))]
fn join(room: &str, members: &[u32], kind: Option<u8>) -> usize {
    let _ = kind;
    members.len()
}

#[test]
fn fields_argument_records_what_the_user_lists() {
    let (_, captured) = capture(Level::INFO, || join("lobby", &[1, 2, 3], Some(4)));
    let span = captured.span("join");
    assert_eq!(span.fields["room"], "lobby");
    assert_eq!(span.fields["members"], "3");
    assert_eq!(span.fields["ws.topic"], "chat");
    assert_eq!(span.fields["kind"], "Some(4)");
}

#[ws_observe(level = "debug", name = "debug_only")]
fn chatty() -> u8 {
    1
}

#[test]
fn level_filters_the_span_but_not_the_metrics() {
    let (_, at_info) = capture(Level::INFO, chatty);
    assert!(at_info.spans().is_empty(), "{:?}", at_info.spans());
    let (_, at_debug) = capture(Level::DEBUG, chatty);
    assert_eq!(at_debug.span("debug_only").level, "DEBUG");
    common::assert_calls("debug_only", MODULE, (2, 0, 0, 0));
}

#[ws_observe]
fn inner_step() -> u8 {
    let _user = tracing::info_span!("user_span").entered();
    2
}

#[ws_handler]
async fn outer_handler() -> u8 {
    tokio::task::yield_now().await;
    tracing::info!("inside the handler");
    inner_step() + 1
}

#[test]
fn nested_calls_and_user_spans_are_children() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let (value, captured) = capture(Level::INFO, || runtime.block_on(outer_handler()));
    assert_eq!(value, 3);
    let outer = captured.span("outer_handler");
    let inner = captured.span("inner_step");
    let user = captured.span("user_span");
    assert_eq!(outer.parent, None);
    assert_eq!(inner.parent, Some(outer.id));
    assert_eq!(user.parent, Some(inner.id));
    let event = captured
        .events()
        .into_iter()
        .find(|e| {
            e.fields
                .get("message")
                .is_some_and(|m| m == "inside the handler")
        })
        .unwrap();
    assert_eq!(
        event.span.as_deref(),
        Some("outer_handler"),
        "the async body runs inside its span"
    );
}
