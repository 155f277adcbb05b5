//! `JsonSubscriber` keeps its own spans: what a user sees in the lines must be what
//! `tracing`'s semantics promise, however spans are created, moved between threads, entered,
//! recorded and closed.

mod common;

use common::Lines;
use serde_json::{Value, json};
use tracing::subscriber::with_default;
use tracing_subscriber::filter::Targets;
use ws_observe_runtime::logs::JsonSubscriber;

fn subscriber(filter: &str) -> (JsonSubscriber<impl Fn() -> Lines + 'static>, Lines) {
    let lines = Lines::default();
    let writer = lines.clone();
    let filter: Targets = filter.parse().unwrap();
    (
        JsonSubscriber::new(move || writer.clone(), "svc", filter),
        lines,
    )
}

#[test]
fn a_child_keeps_its_parent_readable_after_the_parents_handle_is_gone() {
    let (subscriber, lines) = subscriber("trace");
    with_default(subscriber, || {
        let child = {
            let parent = tracing::info_span!("connection", conn = 7);
            let _entered = parent.enter();
            tracing::info_span!("message", size = 64)
        }; // the parent's own handle is dropped here
        child.in_scope(|| tracing::info!("inside"));
    });
    let line = &lines.parsed()[0];
    assert_eq!(line["spans"], json!(["connection", "message"]));
    assert_eq!(line["conn"], 7);
    assert_eq!(line["size"], 64);
}

#[test]
fn spans_are_entered_recorded_and_closed_on_other_threads() {
    let (subscriber, lines) = subscriber("trace");
    let dispatch = tracing::Dispatch::new(subscriber);
    let span = tracing::dispatcher::with_default(&dispatch, || {
        tracing::info_span!("moved", origin = "main", late = tracing::field::Empty)
    });
    let worker_dispatch = dispatch.clone();
    std::thread::spawn(move || {
        tracing::dispatcher::with_default(&worker_dispatch, || {
            span.record("late", "worker");
            span.in_scope(|| tracing::info!("on the worker"));
            drop(span); // closed here, on another thread than its creator
        });
    })
    .join()
    .unwrap();
    tracing::dispatcher::with_default(&dispatch, || {
        // The slot the closed span used is reused: none of its fields may show.
        let fresh = tracing::info_span!("fresh");
        fresh.in_scope(|| tracing::info!("after"));
    });
    let lines = lines.parsed();
    assert_eq!(lines[0]["origin"], "main");
    assert_eq!(lines[0]["late"], "worker");
    assert_eq!(lines[0]["spans"], json!(["moved"]));
    assert_eq!(lines[1]["spans"], json!(["fresh"]));
    assert!(lines[1].get("origin").is_none() && lines[1].get("late").is_none());
}

#[test]
fn explicit_parents_and_roots_win_over_the_current_span() {
    let (subscriber, lines) = subscriber("trace");
    with_default(subscriber, || {
        let elsewhere = tracing::info_span!("elsewhere", from = "elsewhere");
        let current = tracing::info_span!("current", from = "current");
        let _entered = current.enter();
        let adopted = tracing::info_span!(parent: &elsewhere, "adopted");
        adopted.in_scope(|| tracing::info!("in adopted"));
        let root = tracing::info_span!(parent: None, "root");
        root.in_scope(|| tracing::info!("in root"));
        tracing::info!(parent: &elsewhere, "explicit event parent");
        tracing::info!(parent: None, "root event");
    });
    let lines = lines.parsed();
    assert_eq!(lines[0]["spans"], json!(["elsewhere", "adopted"]));
    assert_eq!(lines[0]["from"], "elsewhere");
    assert_eq!(lines[1]["spans"], json!(["root"]));
    assert_eq!(lines[2]["spans"], json!(["elsewhere"]));
    assert!(lines[3].get("spans").is_none(), "{}", lines[3]);
}

#[test]
fn the_current_span_is_the_innermost_entered_one() {
    let (subscriber, _lines) = subscriber("trace");
    with_default(subscriber, || {
        assert!(tracing::Span::current().is_none());
        let outer = tracing::info_span!("outer");
        let _outer = outer.enter();
        let inner = tracing::info_span!("inner");
        inner.in_scope(|| {
            assert_eq!(tracing::Span::current().metadata().unwrap().name(), "inner");
            // Entering a span that is already entered leaves the innermost one current.
            outer.in_scope(|| {
                assert_eq!(tracing::Span::current().metadata().unwrap().name(), "inner")
            });
        });
        assert_eq!(tracing::Span::current().metadata().unwrap().name(), "outer");
    });
}

#[test]
fn the_filter_decides_per_target_and_level() {
    let (subscriber, lines) = subscriber("warn,my_app=debug");
    with_default(subscriber, || {
        let quiet = tracing::info_span!(target: "other", "quiet");
        assert!(quiet.is_disabled());
        let loud = tracing::debug_span!(target: "my_app::rooms", "loud");
        assert!(!loud.is_disabled());
        loud.in_scope(|| {
            tracing::debug!(target: "my_app", "kept");
            tracing::info!(target: "other", "dropped");
            tracing::warn!(target: "other", "kept too");
        });
    });
    let messages: Vec<Value> = lines
        .parsed()
        .iter()
        .map(|l| l["message"].clone())
        .collect();
    assert_eq!(messages, [json!("kept"), json!("kept too")]);
}

#[test]
fn concurrent_spans_never_mix_their_fields() {
    const THREADS: u64 = 4;
    const SPANS: u64 = 5_000;
    let (subscriber, lines) = subscriber("trace");
    let dispatch = tracing::Dispatch::new(subscriber);
    std::thread::scope(|scope| {
        for thread in 0..THREADS {
            let dispatch = dispatch.clone();
            scope.spawn(move || {
                tracing::dispatcher::with_default(&dispatch, || {
                    let connection = tracing::info_span!("connection", thread);
                    let _connection = connection.enter();
                    for n in 0..SPANS {
                        let message = tracing::info_span!("message", n, thread_copy = thread);
                        message.in_scope(|| tracing::info!(expected = n, "m"));
                    }
                });
            });
        }
    });
    let lines = lines.parsed();
    assert_eq!(lines.len() as u64, THREADS * SPANS);
    for line in &lines {
        assert_eq!(line["n"], line["expected"], "{line}");
        assert_eq!(line["thread"], line["thread_copy"], "{line}");
        assert_eq!(line["spans"], json!(["connection", "message"]));
    }
}

#[test]
fn subscribers_side_by_side_see_only_their_own_spans() {
    let (first, first_lines) = subscriber("trace");
    let (second, second_lines) = subscriber("trace");
    let second = tracing::Dispatch::new(second);
    with_default(first, || {
        let span = tracing::info_span!("first_span", secret = "first");
        let _entered = span.enter();
        tracing::dispatcher::with_default(&second, || tracing::info!("in second"));
        tracing::info!("in first");
    });
    assert_eq!(first_lines.parsed()[0]["spans"], json!(["first_span"]));
    let second_line = &second_lines.parsed()[0];
    assert!(second_line.get("spans").is_none(), "{second_line}");
    assert!(second_line.get("secret").is_none(), "{second_line}");
}
