//! The JSON log lines, from the subscriber and from the layer alike: every line parses, carries
//! the ecs-logging fields, and no user input can break or forge a line.

mod common;

use serde_json::Value;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use ws_observe_runtime::logs::{JsonLayer, JsonSubscriber};

/// The two ways ws-observe writes JSON lines: its own subscriber (what `init()` installs for
/// JSON logs without export) and its layer over `tracing-subscriber`'s registry (with export).
/// Both must write the same lines.
#[derive(Clone, Copy, Debug)]
enum Output {
    Subscriber,
    Layer,
}

const OUTPUTS: [Output; 2] = [Output::Subscriber, Output::Layer];

fn capture(output: Output, f: impl FnOnce()) -> Vec<Value> {
    capture_raw(output, f)
        .lines()
        .map(|line| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{output:?}: not one JSON object ({e}): {line}"))
        })
        .collect()
}

fn capture_raw(output: Output, f: impl FnOnce()) -> String {
    let lines = common::Lines::default();
    let writer = lines.clone();
    let make_writer = move || writer.clone();
    match output {
        Output::Subscriber => {
            let filter = Targets::new().with_default(LevelFilter::TRACE);
            let subscriber = JsonSubscriber::new(make_writer, "svc", filter);
            tracing::subscriber::with_default(subscriber, f);
        }
        Output::Layer => {
            let subscriber =
                tracing_subscriber::registry().with(JsonLayer::new(make_writer, "svc"));
            tracing::subscriber::with_default(subscriber, f);
        }
    }
    let text = lines.text();
    assert!(text.ends_with('\n') || text.is_empty());
    text
}

#[test]
fn every_line_has_the_ecs_required_fields() {
    for output in OUTPUTS {
        let lines = capture(output, || {
            tracing::info!("hello");
            tracing::warn!(target: "my_app::rooms", room = "lobby", members = 3, ratio = 0.5, ok = true, "joined");
            tracing::error!(no_message_field = 1);
        });
        assert_eq!(lines.len(), 3);
        for line in &lines {
            for key in [
                "@timestamp",
                "log.level",
                "message",
                "ecs.version",
                "log.logger",
                "service.name",
            ] {
                assert!(line.get(key).is_some(), "{key} missing: {line}");
            }
            assert_eq!(line["service.name"], "svc");
            assert!(line["@timestamp"].as_str().unwrap().ends_with('Z'));
        }
        assert_eq!(lines[1]["log.level"], "warn");
        assert_eq!(lines[1]["log.logger"], "my_app::rooms");
        assert_eq!(lines[1]["message"], "joined");
        assert_eq!(lines[1]["room"], "lobby");
        assert_eq!(lines[1]["members"], 3);
        assert_eq!(lines[1]["ratio"], 0.5);
        assert_eq!(lines[1]["ok"], true);
        assert_eq!(lines[2]["message"], "");
    }
}

#[test]
fn hostile_input_cannot_break_or_forge_a_line() {
    for output in OUTPUTS {
        let invalid_utf8: &[u8] = &[0x66, 0x6f, 0xff, 0xfe, 0x6f];
        let hostile = "a\"b\\c\nd\re\tf\u{0}g\u{1b}[31mh\u{2028}i\n{\"forged\":true}";
        let long = "x".repeat(100_000);
        let lines = capture(output, || {
            tracing::info!(user = hostile, "msg {hostile}");
            tracing::info!(payload = String::from_utf8_lossy(invalid_utf8).as_ref(), raw = ?invalid_utf8, "bytes");
            tracing::info!(long = long.as_str(), "long");
            tracing::info!("{}", "\"}\n{\"forged\":true,\"x\":\"");
        });
        assert_eq!(lines.len(), 4, "no forged line: {lines:?}");
        assert_eq!(lines[0]["user"], hostile);
        assert_eq!(lines[0]["message"], format!("msg {hostile}"));
        assert_eq!(lines[1]["payload"], "fo\u{fffd}\u{fffd}o");
        assert_eq!(lines[2]["long"].as_str().unwrap().len(), 100_000);
        assert!(lines.iter().all(|l| l.get("forged").is_none()));
    }
}

#[test]
fn span_fields_are_flattened_innermost_first_and_event_fields_win() {
    for output in OUTPUTS {
        let lines = capture(output, || {
            let outer = tracing::info_span!("connection", conn = 7, room = "outer");
            let _outer = outer.enter();
            let inner =
                tracing::info_span!("message", room = "inner", late = tracing::field::Empty);
            let _inner = inner.enter();
            inner.record("late", "recorded later");
            tracing::info!(conn = 99, "event");
        });
        let line = &lines[0];
        assert_eq!(line["room"], "inner", "the innermost span wins");
        assert_eq!(line["conn"], 99, "the event's own field wins");
        assert_eq!(line["late"], "recorded later");
        assert_eq!(line["spans"], serde_json::json!(["connection", "message"]));
    }
}

#[test]
fn reserved_keys_are_never_duplicated() {
    for output in OUTPUTS {
        let raw = capture_raw(output, || {
            let span =
                tracing::info_span!("s", service.name = "spoof", room = "a", message = "spoof");
            let _entered = span.enter();
            tracing::info!(log.level = "spoof", spans = 1, room = "b", "x");
        });
        let line: Value = serde_json::from_str(raw.trim_end()).unwrap();
        assert_eq!(line["service.name"], "svc");
        assert_eq!(line["log.level"], "info");
        assert_eq!(line["message"], "x");
        for key in [
            "\"service.name\"",
            "\"log.level\"",
            "\"spans\"",
            "\"room\"",
            "\"message\"",
        ] {
            assert_eq!(raw.matches(key).count(), 1, "{key} duplicated in {raw}");
        }
    }
}

#[test]
fn a_plain_error_field_is_written_as_ecs_error_message() {
    for output in OUTPUTS {
        // ECS makes `error` an object; a string there would make Elasticsearch reject the line.
        let lines = capture(output, || {
            let span = tracing::info_span!("s", error = "from the span");
            let _entered = span.enter();
            tracing::warn!(error = %"connection refused", "delivery failed");
        });
        assert_eq!(lines[0]["error.message"], "connection refused");
        assert!(lines[0].get("error").is_none(), "{}", lines[0]);
        let outside = capture(output, || {
            let span = tracing::info_span!("s", error = "from the span");
            let _entered = span.enter();
            tracing::info!("inside");
        });
        assert_eq!(outside[0]["error.message"], "from the span");
    }
}

#[test]
fn numbers_keep_their_sign_and_size() {
    for output in OUTPUTS {
        let lines = capture(output, || {
            let span = tracing::info_span!("s", low = i64::MIN, high = u64::MAX, zero = 0u64);
            let _entered = span.enter();
            tracing::info!(minus_one = -1i64, big = i64::MAX, "numbers");
        });
        let line = &lines[0];
        assert_eq!(line["low"], i64::MIN, "{output:?}");
        assert_eq!(line["high"], u64::MAX, "{output:?}");
        assert_eq!(line["zero"], 0, "{output:?}");
        assert_eq!(line["minus_one"], -1, "{output:?}");
        assert_eq!(line["big"], i64::MAX, "{output:?}");
    }
}

#[test]
fn an_event_whose_parent_is_gone_has_no_scope() {
    for output in OUTPUTS {
        let lines = capture(output, || {
            let closed = tracing::info_span!("closed");
            let id = closed.id().unwrap();
            drop(closed);
            tracing::info!(parent: id, "orphan");
            // A guard forgotten while its span is dropped leaves a closed span entered.
            let forgotten = tracing::info_span!("forgotten", field = 1);
            std::mem::forget(forgotten.enter());
            drop(forgotten);
            tracing::info!("after the forgotten guard");
        });
        for line in &lines {
            assert!(line.get("spans").is_none(), "{output:?}: {line}");
            assert!(line.get("field").is_none(), "{output:?}: {line}");
        }
    }
}
