//! Every supported function shape, called for real, with its metrics scraped over HTTP from
//! `/metrics`.

mod common;

use std::fmt::Display;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll};
use std::time::Duration;

use common::assert_calls;
use ws_observe::{ws_handler, ws_observe};

const MODULE: &str = module_path!();

#[derive(Debug)]
struct AppError(&'static str);
impl Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "app error: {}", self.0)
    }
}
impl std::error::Error for AppError {}

type AppResult<T> = Result<T, AppError>;

#[ws_observe]
fn sync_free(input: u32) -> Result<u32, AppError> {
    if input == 0 {
        return Err(AppError("zero"));
    }
    Ok(input * 2)
}

#[test]
fn sync_free_function_counts_ok_and_error() {
    assert_eq!(sync_free(2).unwrap(), 4);
    assert_eq!(sync_free(3).unwrap(), 6);
    assert_eq!(sync_free(0).unwrap_err().0, "zero");
    assert_calls("sync_free", MODULE, (2, 1, 0, 0));
}

#[ws_handler]
async fn async_free(input: u32) -> Result<u32, AppError> {
    tokio::task::yield_now().await;
    if input == 0 {
        Err(AppError("zero"))
    } else {
        Ok(input + 1)
    }
}

#[tokio::test]
async fn async_free_function_counts_ok_and_error() {
    assert_eq!(async_free(1).await.unwrap(), 2);
    assert!(async_free(0).await.is_err());
    assert_calls("async_free", MODULE, (1, 1, 0, 0));
}

struct Counter {
    value: u64,
}

impl Counter {
    #[ws_observe]
    fn by_ref(&self) -> u64 {
        self.value
    }

    #[ws_observe]
    fn by_mut(&mut self) -> &mut Self {
        self.value += 1;
        self
    }

    #[ws_observe]
    fn by_value(self) -> u64 {
        self.value
    }

    #[ws_handler]
    async fn async_by_ref(&self) -> u64 {
        self.value
    }

    #[ws_handler]
    async fn async_by_mut(&mut self) -> Result<(), AppError> {
        self.value += 10;
        Ok(())
    }

    #[ws_handler]
    async fn async_by_value(self) -> u64 {
        self.value
    }
}

#[tokio::test]
async fn methods_with_every_receiver() {
    let mut counter = Counter { value: 1 };
    assert_eq!(counter.by_ref(), 1);
    counter.by_mut().by_mut();
    assert_eq!(counter.async_by_ref().await, 3);
    counter.async_by_mut().await.unwrap();
    assert_eq!(counter.async_by_value().await, 13);
    assert_eq!(Counter { value: 7 }.by_value(), 7);
    assert_calls("by_ref", MODULE, (1, 0, 0, 0));
    assert_calls("by_mut", MODULE, (2, 0, 0, 0));
    assert_calls("by_value", MODULE, (1, 0, 0, 0));
    assert_calls("async_by_ref", MODULE, (1, 0, 0, 0));
    assert_calls("async_by_mut", MODULE, (1, 0, 0, 0));
    assert_calls("async_by_value", MODULE, (1, 0, 0, 0));
}

#[ws_observe]
fn generic_display<T: Display>(value: T) -> String {
    value.to_string()
}

struct Wrapper<T>(T);

impl<T: Clone + Send + Sync> Wrapper<T> {
    #[ws_observe]
    fn generic_get(&self) -> T {
        self.0.clone()
    }

    #[ws_handler]
    async fn generic_map<U, F>(&self, f: F) -> U
    where
        F: FnOnce(T) -> U,
    {
        f(self.0.clone())
    }
}

#[tokio::test]
async fn generic_functions_and_methods_of_generic_types() {
    assert_eq!(generic_display(5), "5");
    assert_eq!(generic_display("x"), "x");
    assert_eq!(Wrapper(3u8).generic_get(), 3);
    assert_eq!(Wrapper("s").generic_get(), "s");
    assert_eq!(Wrapper(2u32).generic_map(|v| v * 10).await, 20);
    // All instantiations share one series.
    assert_calls("generic_display", MODULE, (2, 0, 0, 0));
    assert_calls("generic_get", MODULE, (2, 0, 0, 0));
    assert_calls("generic_map", MODULE, (1, 0, 0, 0));
}

#[ws_observe]
fn lifetimes<'a, 'b>(first: &'a str, _second: &'b str) -> &'a str {
    first
}

#[ws_handler]
async fn async_lifetimes<'a>(words: &'a [String]) -> Option<&'a str> {
    words.first().map(String::as_str)
}

#[ws_observe]
fn elided(text: &str) -> std::borrow::Cow<'_, str> {
    std::borrow::Cow::Borrowed(text)
}

#[tokio::test]
async fn explicit_and_elided_lifetimes() {
    assert_eq!(lifetimes("a", "b"), "a");
    let words = vec!["hi".to_owned()];
    assert_eq!(async_lifetimes(&words).await, Some("hi"));
    assert_eq!(elided("e"), "e");
    assert_calls("lifetimes", MODULE, (1, 0, 0, 0));
    assert_calls("async_lifetimes", MODULE, (1, 0, 0, 0));
    assert_calls("elided", MODULE, (1, 0, 0, 0));
}

#[ws_observe]
fn impl_trait_arg(bytes: impl IntoIterator<Item = u8>) -> usize {
    bytes.into_iter().count()
}

#[ws_observe]
fn impl_trait_return(limit: u32) -> impl Iterator<Item = u32> {
    (0..limit).filter(|n| n % 2 == 0)
}

#[ws_observe]
fn impl_trait_in_result(text: &str) -> Result<impl Display, std::num::ParseIntError> {
    let n: i64 = text.parse()?;
    Ok(n * 3)
}

#[ws_handler]
async fn async_impl_trait(limit: u32) -> impl Display {
    limit + 1
}

#[tokio::test]
async fn impl_trait_in_arguments_and_return_position() {
    assert_eq!(impl_trait_arg(vec![1, 2, 3]), 3);
    assert_eq!(impl_trait_return(5).count(), 3);
    assert_eq!(impl_trait_in_result("4").unwrap().to_string(), "12");
    assert!(impl_trait_in_result("x").is_err());
    assert_eq!(async_impl_trait(1).await.to_string(), "2");
    assert_calls("impl_trait_arg", MODULE, (1, 0, 0, 0));
    assert_calls("impl_trait_return", MODULE, (1, 0, 0, 0));
    assert_calls("impl_trait_in_result", MODULE, (1, 1, 0, 0));
    assert_calls("async_impl_trait", MODULE, (1, 0, 0, 0));
}

pub(crate) mod visibility {
    #[ws_observe::ws_observe]
    pub(crate) fn crate_visible() -> u8 {
        1
    }

    #[ws_observe::ws_observe]
    pub fn public() -> u8 {
        2
    }
}

#[ws_observe]
unsafe fn raw_read(ptr: *const u32) -> u32 {
    // SAFETY: the caller passes a valid pointer.
    unsafe { *ptr }
}

#[test]
fn visibility_and_unsafe_fn() {
    assert_eq!(visibility::crate_visible(), 1);
    assert_eq!(visibility::public(), 2);
    let value = 42u32;
    // SAFETY: `value` is alive and aligned.
    assert_eq!(unsafe { raw_read(&value) }, 42);
    let module = format!("{MODULE}::visibility");
    assert_calls("crate_visible", &module, (1, 0, 0, 0));
    assert_calls("public", &module, (1, 0, 0, 0));
    assert_calls("raw_read", MODULE, (1, 0, 0, 0));
}

#[ws_observe]
fn early_return_and_question_mark(text: &str) -> AppResult<u32> {
    if text.is_empty() {
        return Err(AppError("empty"));
    }
    let number: u32 = text.parse().map_err(|_| AppError("nan"))?;
    if number > 100 {
        return Ok(100);
    }
    Ok(number)
}

#[ws_observe]
fn io_alias(fail: bool) -> std::io::Result<u8> {
    if fail {
        Err(std::io::Error::other("disk"))?;
    }
    Ok(1)
}

#[ws_handler]
async fn boxed_dyn_error(fail: bool) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    if fail {
        Err("boxed failure")?;
    }
    Ok(())
}

#[derive(Debug)]
struct NotDisplay;

#[ws_observe]
fn error_without_display(fail: bool) -> Result<(), NotDisplay> {
    if fail { Err(NotDisplay) } else { Ok(()) }
}

#[ws_observe]
fn option_none_is_ok() -> Option<u8> {
    None
}

#[tokio::test]
async fn results_aliases_early_return_and_question_mark() {
    assert_eq!(early_return_and_question_mark("7").unwrap(), 7);
    assert_eq!(early_return_and_question_mark("700").unwrap(), 100);
    assert!(early_return_and_question_mark("").is_err());
    assert!(early_return_and_question_mark("x").is_err());
    assert!(io_alias(false).is_ok());
    assert!(io_alias(true).is_err());
    assert!(boxed_dyn_error(true).await.is_err());
    assert!(boxed_dyn_error(false).await.is_ok());
    assert!(error_without_display(true).is_err());
    assert_eq!(option_none_is_ok(), None);
    assert_calls("early_return_and_question_mark", MODULE, (2, 2, 0, 0));
    assert_calls("io_alias", MODULE, (1, 1, 0, 0));
    assert_calls("boxed_dyn_error", MODULE, (1, 1, 0, 0));
    assert_calls("error_without_display", MODULE, (0, 1, 0, 0));
    assert_calls("option_none_is_ok", MODULE, (1, 0, 0, 0));
}

#[async_trait::async_trait]
trait Room {
    async fn broadcast(&self, message: &str) -> Result<usize, AppError>;
}

struct SlowRoom;

#[async_trait::async_trait]
impl Room for SlowRoom {
    #[ws_handler(name = "room_broadcast")]
    async fn broadcast(&self, message: &str) -> Result<usize, AppError> {
        tokio::time::sleep(Duration::from_millis(60)).await;
        // The span must be the current one while the awaited body runs.
        assert_eq!(
            tracing::Span::current().metadata().map(|m| m.name()),
            Some("room_broadcast")
        );
        if message.is_empty() {
            Err(AppError("empty"))
        } else {
            Ok(message.len())
        }
    }
}

#[tokio::test]
async fn async_trait_methods_measure_the_awaited_body() {
    let room: Box<dyn Room + Send + Sync> = Box::new(SlowRoom);
    let subscriber = tracing_subscriber::registry();
    let _default = tracing::subscriber::set_default(subscriber);
    let future = room.broadcast("hello");
    // Nothing has run yet: the call starts when the boxed future is first polled.
    let in_flight = common::sample(
        &common::scrape(),
        "ws_handler_in_flight",
        &[("handler", "room_broadcast"), ("module", MODULE)],
    );
    assert!(in_flight.is_none_or(|v| v == 0.0), "{in_flight:?}");
    assert_eq!(future.await.unwrap(), 5);
    assert!(room.broadcast("").await.is_err());
    let series = assert_calls("room_broadcast", MODULE, (1, 1, 0, 0));
    assert!(
        series.sum >= 0.12,
        "the two calls slept 60 ms each: sum {}",
        series.sum
    );
}

#[ws_observe]
fn panics(should: bool) -> u8 {
    if should {
        std::panic::panic_any(String::from("boom"));
    }
    1
}

#[test]
fn panic_is_counted_and_propagates_unchanged() {
    assert_eq!(panics(false), 1);
    let payload = std::panic::catch_unwind(|| panics(true)).unwrap_err();
    assert_eq!(
        payload.downcast_ref::<String>().map(String::as_str),
        Some("boom")
    );
    assert_calls("panics", MODULE, (1, 0, 1, 0));
}

#[ws_handler]
async fn async_panics() -> u8 {
    tokio::task::yield_now().await;
    panic!("async boom");
}

#[tokio::test]
async fn async_panic_is_counted_when_the_executor_catches_it() {
    let error = tokio::spawn(async_panics()).await.unwrap_err();
    assert!(error.is_panic());
    let payload = error.into_panic();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"async boom"));
    assert_calls("async_panics", MODULE, (0, 0, 1, 0));
}

#[ws_handler]
async fn never_finishes() -> Result<(), AppError> {
    std::future::pending::<()>().await;
    Ok(())
}

#[test]
fn dropped_future_is_cancelled_and_leaves_in_flight() {
    let waker = std::task::Waker::noop();
    let mut cx = Context::from_waker(waker);
    {
        let mut future = pin!(never_finishes());
        assert!(matches!(future.as_mut().poll(&mut cx), Poll::Pending));
        assert_eq!(common::handler("never_finishes", MODULE).in_flight, 1.0);
    }
    // A future dropped before its first poll never started: nothing is counted.
    drop(never_finishes());
    assert_calls("never_finishes", MODULE, (0, 0, 0, 1));
}

#[tokio::test]
async fn timeout_cancels_a_slow_handler() {
    let result = tokio::time::timeout(Duration::from_millis(10), never_finishes_either()).await;
    assert!(result.is_err());
    let series = assert_calls("never_finishes_either", MODULE, (0, 0, 0, 1));
    assert!(
        series.sum >= 0.01,
        "the cancelled call ran for the 10 ms timeout: {}",
        series.sum
    );
}

#[ws_handler]
async fn never_finishes_either() {
    std::future::pending::<()>().await
}

#[ws_observe(name = "renamed_handler")]
fn original_name() -> u8 {
    0
}

#[test]
fn name_argument_sets_the_handler_label() {
    original_name();
    assert_calls("renamed_handler", MODULE, (1, 0, 0, 0));
    assert!(
        common::sample(
            &common::scrape(),
            "ws_handler_calls_total",
            &[
                ("handler", "original_name"),
                ("module", MODULE),
                ("outcome", "ok")
            ]
        )
        .is_none()
    );
}

mod same_name_a {
    #[ws_observe::ws_observe(name = "shared_name")]
    pub fn one() {}
}

#[ws_observe(name = "shared_name")]
fn shared_one() {}

#[ws_observe(name = "shared_name")]
fn shared_two() {}

#[test]
fn handlers_sharing_a_name_and_module_are_summed_not_duplicated() {
    shared_one();
    shared_two();
    shared_two();
    same_name_a::one();
    assert_calls("shared_name", MODULE, (3, 0, 0, 0));
    assert_calls(
        "shared_name",
        &format!("{MODULE}::same_name_a"),
        (1, 0, 0, 0),
    );
    let text = common::scrape();
    let lines = text
        .lines()
        .filter(|l| {
            l.starts_with("ws_handler_calls_total{")
                && l.contains("handler=\"shared_name\"")
                && l.contains(&format!("module=\"{MODULE}\""))
                && l.contains("outcome=\"ok\"")
        })
        .count();
    assert_eq!(lines, 1);
}

#[ws_handler(alert = "critical")]
fn with_alert_severity() -> Result<(), AppError> {
    Err(AppError("pay"))
}

#[ws_observe]
fn observed_only() {}

#[ws_handler]
fn handler_without_alert() {}

#[test]
fn severity_reaches_the_runtime() {
    // A handler is registered at its first call.
    let _ = with_alert_severity();
    observed_only();
    handler_without_alert();
    let registered = |name: &str| {
        ws_observe::runtime::handler::registered_handlers()
            .into_iter()
            .find(|m| m.name() == name && m.module() == MODULE)
            .unwrap_or_else(|| panic!("{name} is not registered"))
    };
    assert_eq!(
        registered("with_alert_severity").severity(),
        Some(ws_observe::runtime::alert::Severity::Critical)
    );
    // `#[ws_observe]` never alerts; `#[ws_handler]` without `alert` neither.
    assert_eq!(registered("observed_only").severity(), None);
    assert_eq!(registered("handler_without_alert").severity(), None);
}
