//! The call guard driven directly, without the macros, and read back from the registry.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll};

use tracing::Span;
use ws_observe_runtime::classify;
use ws_observe_runtime::handler::{HandlerMeta, Outcome, instrument};

fn line(text: &str, needle: &str) -> f64 {
    let found = text
        .lines()
        .find(|l| l.starts_with(needle))
        .unwrap_or_else(|| panic!("no `{needle}` in:\n{text}"));
    found.rsplit(' ').next().unwrap().parse().unwrap()
}

fn series(handler: &str) -> [f64; 6] {
    let text = ws_observe_runtime::render();
    let ids = format!("handler=\"{handler}\",module=\"guard\"");
    let calls = |o: &str| {
        line(
            &text,
            &format!("ws_handler_calls_total{{{ids},outcome=\"{o}\"}} "),
        )
    };
    [
        calls("ok"),
        calls("error"),
        calls("panic"),
        calls("cancelled"),
        line(&text, &format!("ws_handler_in_flight{{{ids}}} ")),
        line(
            &text,
            &format!("ws_handler_duration_seconds_count{{{ids}}} "),
        ),
    ]
}

#[test]
fn ok_and_error_are_classified_from_the_value() {
    static META: HandlerMeta = HandlerMeta::new("direct_sync", module_path!(), None);
    let ok: Result<u8, std::io::Error> = Ok(1);
    META.start(Span::none()).finish(classify!(&ok));
    let err: Result<u8, std::io::Error> = Err(std::io::Error::other("nope"));
    let guard = META.start(Span::none());
    let outcome = classify!(&err);
    match outcome {
        Outcome::Error(info) => {
            assert_eq!(info.type_name(), "std::io::error::Error");
            assert_eq!(info.message().unwrap().to_string(), "nope");
            assert!(info.as_error().is_some());
        }
        Outcome::Ok => panic!("Err must classify as an error"),
    }
    guard.finish(outcome);
    assert_eq!(series("direct_sync"), [1.0, 1.0, 0.0, 0.0, 0.0, 2.0]);
}

#[test]
fn in_flight_counts_running_calls() {
    static META: HandlerMeta = HandlerMeta::new("direct_in_flight", module_path!(), None);
    let first = META.start(Span::none());
    let second = META.start(Span::none());
    assert_eq!(series("direct_in_flight")[4], 2.0);
    first.finish(Outcome::Ok);
    assert_eq!(series("direct_in_flight")[4], 1.0);
    second.finish(Outcome::Ok);
    assert_eq!(series("direct_in_flight"), [2.0, 0.0, 0.0, 0.0, 0.0, 2.0]);
}

#[test]
fn guard_dropped_while_unwinding_is_a_panic() {
    static META: HandlerMeta = HandlerMeta::new("direct_panic", module_path!(), None);
    let result = std::panic::catch_unwind(|| {
        let _guard = META.start(Span::none());
        panic!("in the body");
    });
    assert!(result.is_err());
    assert_eq!(series("direct_panic"), [0.0, 0.0, 1.0, 0.0, 0.0, 1.0]);
}

#[test]
fn guard_dropped_without_finish_is_cancelled() {
    static META: HandlerMeta = HandlerMeta::new("direct_cancel", module_path!(), None);
    drop(META.start(Span::none()));
    assert_eq!(series("direct_cancel"), [0.0, 0.0, 0.0, 1.0, 0.0, 1.0]);
}

#[test]
fn instrumented_future_dropped_pending_is_cancelled() {
    static META: HandlerMeta = HandlerMeta::new("direct_async_cancel", module_path!(), None);
    let mut cx = Context::from_waker(std::task::Waker::noop());
    {
        let mut call = pin!(instrument(
            META.start(Span::none()),
            std::future::pending::<()>()
        ));
        assert!(call.as_mut().poll(&mut cx).is_pending());
        assert_eq!(series("direct_async_cancel")[4], 1.0);
    }
    assert_eq!(
        series("direct_async_cancel"),
        [0.0, 0.0, 0.0, 1.0, 0.0, 1.0]
    );
}

#[test]
fn instrumented_future_that_panicked_in_poll_is_a_panic_even_when_dropped_later() {
    static META: HandlerMeta = HandlerMeta::new("direct_async_panic", module_path!(), None);
    let mut cx = Context::from_waker(std::task::Waker::noop());
    let mut call = Box::pin(instrument(META.start(Span::none()), async {
        panic!("in poll")
    }));
    let caught =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| call.as_mut().poll(&mut cx)));
    assert!(caught.is_err());
    // As an executor does: the panic was caught, then the future is dropped normally.
    assert!(!std::thread::panicking());
    drop(call);
    assert_eq!(series("direct_async_panic"), [0.0, 0.0, 1.0, 0.0, 0.0, 1.0]);
}

#[test]
fn instrumented_future_returns_output_and_guard() {
    static META: HandlerMeta = HandlerMeta::new("direct_async_ok", module_path!(), None);
    let mut cx = Context::from_waker(std::task::Waker::noop());
    let mut call = pin!(instrument(META.start(Span::none()), async {
        Ok::<u8, String>(7)
    }));
    let Poll::Ready((value, guard)) = call.as_mut().poll(&mut cx) else {
        panic!("ready at once")
    };
    guard.finish(classify!(&value));
    assert_eq!(value, Ok(7));
    assert_eq!(series("direct_async_ok"), [1.0, 0.0, 0.0, 0.0, 0.0, 1.0]);
}

#[test]
fn classification_covers_every_tier() {
    #[derive(Debug)]
    struct Opaque;
    let displayed: Result<(), String> = Err("text".into());
    let Outcome::Error(info) = classify!(&displayed) else {
        panic!()
    };
    assert_eq!(info.message().unwrap().to_string(), "text");
    assert!(info.as_error().is_none());
    let opaque: Result<(), Opaque> = Err(Opaque);
    let Outcome::Error(info) = classify!(&opaque) else {
        panic!()
    };
    assert!(info.type_name().ends_with("Opaque"));
    assert!(info.message().is_none());
    assert!(matches!(classify!(&()), Outcome::Ok));
    assert!(matches!(classify!(&None::<u8>), Outcome::Ok));
    assert!(matches!(classify!(&Ok::<(), Opaque>(())), Outcome::Ok));
}

#[test]
fn durations_land_in_the_right_bucket() {
    static META: HandlerMeta = HandlerMeta::new("direct_buckets", module_path!(), None);
    let guard = META.start(Span::none());
    std::thread::sleep(std::time::Duration::from_millis(30));
    guard.finish(Outcome::Ok);
    let text = ws_observe_runtime::render();
    let ids = "handler=\"direct_buckets\",module=\"guard\"";
    assert_eq!(
        line(
            &text,
            &format!("ws_handler_duration_seconds_bucket{{{ids},le=\"0.025\"}} ")
        ),
        0.0
    );
    assert_eq!(
        line(
            &text,
            &format!("ws_handler_duration_seconds_bucket{{{ids},le=\"0.05\"}} ")
        ),
        1.0
    );
    assert_eq!(
        line(
            &text,
            &format!("ws_handler_duration_seconds_bucket{{{ids},le=\"+Inf\"}} ")
        ),
        1.0
    );
    assert!(line(&text, &format!("ws_handler_duration_seconds_sum{{{ids}}} ")) >= 0.03);
}

#[test]
fn counts_survive_threads_that_come_and_go() {
    // Threads own their copy of the counters while they live and give it back when they exit;
    // waves of more threads than there are copies to own must lose no update.
    static CHURN: HandlerMeta = HandlerMeta::new("churn", module_path!(), None);
    const WAVES: u64 = 20;
    const THREADS: u64 = 20;
    const CALLS: u64 = 1_000;
    for _ in 0..WAVES {
        std::thread::scope(|scope| {
            for _ in 0..THREADS {
                scope.spawn(|| {
                    for _ in 0..CALLS {
                        CHURN.start(tracing::Span::none()).finish(Outcome::Ok);
                    }
                });
            }
        });
    }
    let snapshot = CHURN.snapshot();
    assert_eq!(
        snapshot.calls[0],
        WAVES * THREADS * CALLS,
        "{:?}",
        snapshot.calls
    );
    assert_eq!(snapshot.in_flight, 0);
    assert_eq!(snapshot.duration_nanos.count(), WAVES * THREADS * CALLS);
}
