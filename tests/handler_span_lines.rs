//! The fields of handler spans in the JSON lines written through `runtime::init()`, for every
//! way a handler span is opened: with or without a `Message` argument, with or without
//! `fields(...)` and `redact(...)`, by value or by reference, nested, failing, filtered out.
//! `init()` installs its own subscriber, which receives a plain handler span's message kind
//! and size next to the span rather than through `tracing`'s field visit: the lines must be
//! the same as any subscriber would show. `init()` is process-wide, so the scenarios run in a
//! child process of this test binary.

mod common;

use serde_json::{Value, json};
use ws_observe::ws::Message;
use ws_observe::{runtime, ws_handler, ws_observe};

const MARKER: &str = "HANDLER_SPAN_LINES";

#[ws_handler]
async fn on_message(message: Message) -> Result<usize, std::io::Error> {
    tracing::info!("in on_message");
    Ok(inspect(&message))
}

/// Nested inside `on_message`, with a `&Message`.
#[ws_observe(level = "info")]
fn inspect(message: &Message) -> usize {
    tracing::info!("in inspect");
    message.len()
}

#[ws_handler(fields(room = %room))]
fn with_fields(message: Message, room: &str) -> usize {
    tracing::info!("in with_fields");
    message.len()
}

#[ws_observe(redact(user))]
fn with_redact(message: &Message, user: &str) -> usize {
    tracing::info!("in with_redact");
    message.len() + user.len()
}

#[ws_observe]
fn no_message(count: u32) -> u32 {
    tracing::info!("in no_message");
    count
}

#[ws_handler]
fn failing(message: Message) -> Result<(), std::io::Error> {
    Err(std::io::Error::other(format!(
        "refused {} bytes",
        message.len()
    )))
}

/// A handler the filter turns down (`RUST_LOG=...,handler_span_lines::quiet=warn`).
mod quiet {
    use ws_observe::ws::Message;

    #[ws_observe::ws_observe(name = "quiet_handler")]
    pub fn quiet_handler(message: &Message) -> usize {
        message.len()
    }
}

#[test]
#[ignore = "child process: run by its parent test"]
fn child_handler_spans() {
    if !common::child::in_child() {
        return;
    }
    println!();
    let _telemetry = runtime::init().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime
        .block_on(on_message(Message::text("hello")))
        .unwrap();
    with_fields(Message::binary(vec![0; 70_000]), "lobby");
    with_redact(&Message::Ping(vec![1, 2, 3].into()), "alice");
    no_message(3);
    let _ = failing(Message::text("nope"));
    // Turned down by the filter; the next span of the same name, opened by hand, must not
    // receive the message of the filtered one.
    quiet::quiet_handler(&Message::binary(vec![9; 12]));
    tracing::info_span!("quiet_handler").in_scope(|| tracing::info!("in a span of the same name"));
}

fn line<'a>(lines: &'a [Value], message: &str) -> &'a Value {
    lines
        .iter()
        .find(|l| l["message"] == message)
        .unwrap_or_else(|| panic!("no line {message:?} in {lines:#?}"))
}

#[test]
fn handler_spans_carry_their_fields_in_json_lines() {
    if common::child::in_child() {
        return;
    }
    let output = common::child::run(
        "child_handler_spans",
        MARKER,
        &[
            ("RUST_LOG", "info,handler_span_lines::quiet=warn"),
            ("WS_OBSERVE_PSEUDONYM_KEY", "a-test-key-of-enough-bytes"),
        ],
    );
    let lines = output.log_lines();
    for line in &lines {
        common::assert_ecs_line(line);
    }

    let outer = line(&lines, "in on_message");
    assert_eq!(outer["spans"], json!(["on_message"]));
    assert_eq!(outer["ws.handler"], "on_message");
    assert_eq!(outer["code.namespace"], "handler_span_lines");
    assert_eq!(outer["ws.message.kind"], "text");
    assert_eq!(outer["ws.message.size"], 5);
    assert!(outer.get("otel.kind").is_none(), "{outer}");

    // The innermost span's fields win; the spans list both.
    let inner = line(&lines, "in inspect");
    assert_eq!(inner["spans"], json!(["on_message", "inspect"]));
    assert_eq!(inner["ws.handler"], "inspect");
    assert_eq!(inner["ws.message.kind"], "text");

    let fields = line(&lines, "in with_fields");
    assert_eq!(fields["ws.message.kind"], "binary");
    assert_eq!(fields["ws.message.size"], 70_000);
    assert_eq!(fields["room"], "lobby");

    let redacted = line(&lines, "in with_redact");
    assert_eq!(redacted["ws.message.kind"], "ping");
    assert_eq!(redacted["ws.message.size"], 3);
    assert_eq!(redacted["user.pseudonym"].as_str().unwrap().len(), 32);
    assert!(!output.stdout.contains("alice"), "{output}");

    let plain = line(&lines, "in no_message");
    assert_eq!(plain["ws.handler"], "no_message");
    assert!(plain.get("ws.message.kind").is_none(), "{plain}");
    assert!(plain.get("ws.message.size").is_none(), "{plain}");

    let error = line(&lines, "handler returned an error");
    assert_eq!(error["spans"], json!(["failing"]));
    assert_eq!(error["ws.message.kind"], "text");
    assert_eq!(error["ws.message.size"], 4);
    assert_eq!(error["error.message"], "refused 4 bytes");

    let same_name = line(&lines, "in a span of the same name");
    assert_eq!(same_name["spans"], json!(["quiet_handler"]));
    assert!(same_name.get("ws.message.kind").is_none(), "{same_name}");
    assert!(same_name.get("ws.message.size").is_none(), "{same_name}");
}

/// A layer with a bug: it panics as a span opens.
struct PanickingLayer;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for PanickingLayer {
    fn on_new_span(
        &self,
        _: &tracing::span::Attributes<'_>,
        _: &tracing::span::Id,
        _: tracing_subscriber::layer::Context<'_, S>,
    ) {
        panic!("a layer's bug");
    }
}

#[ws_observe]
fn unwinding(message: &Message) -> usize {
    message.len()
}

#[test]
fn a_span_that_unwinds_as_it_opens_leaves_nothing_for_the_next_one() {
    if common::child::in_child() {
        return;
    }
    use tracing_subscriber::layer::SubscriberExt;
    let panicking = tracing::Dispatch::new(tracing_subscriber::registry().with(PanickingLayer));
    let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        tracing::dispatcher::with_default(&panicking, || unwinding(&Message::binary(vec![0; 42])))
    }));
    assert!(unwound.is_err());

    // The next span of the same name, under init()'s subscriber, with fields of its own (as
    // many as a handler span declares: only the guard that took the values back protects it).
    let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let writer = lines.clone();
    let subscriber = runtime::logs::JsonSubscriber::new(
        move || SharedLines(writer.clone()),
        "svc",
        "trace".parse().unwrap(),
    );
    tracing::subscriber::with_default(subscriber, || {
        tracing::info_span!(
            "unwinding",
            user = "bob",
            a = 1,
            b = 2,
            c = 3,
            d = 4,
            e = 5,
            f = 6,
            g = 7
        )
        .in_scope(|| tracing::info!("inside"));
    });
    let text = String::from_utf8(lines.lock().unwrap().clone()).unwrap();
    let line = &common::json_lines(&text)[0];
    assert_eq!(line["user"], "bob", "{line}");
    assert!(line.get("ws.message.kind").is_none(), "{line}");
}

/// Lines written to a shared buffer.
struct SharedLines(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for SharedLines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
