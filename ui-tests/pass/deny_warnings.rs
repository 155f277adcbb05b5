// Annotated code of several shapes compiles with no warning under the strictest common lint set.
#![deny(warnings)]
#![deny(unused, nonstandard_style, rust_2018_idioms)]

use std::fmt::{self, Display};

use async_trait::async_trait;
use ws_observe::{ws_handler, ws_observe};

#[derive(Debug)]
struct AppError;

impl Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("app error")
    }
}

impl std::error::Error for AppError {}

type AppResult<T> = Result<T, AppError>;

#[ws_observe]
fn unit() {}

#[ws_observe(level = "debug")]
fn sync_result(fail: bool) -> AppResult<u8> {
    if fail {
        return Err(AppError);
    }
    Ok(1)
}

#[ws_handler(alert = "critical", fields(user = %user))]
async fn async_result(user: &str) -> Result<usize, AppError> {
    let n = sync_result(user.is_empty())?;
    Ok(user.len() + usize::from(n))
}

#[ws_handler]
async fn async_unit() {}

#[ws_observe]
fn generic<T: Display>(value: T) -> String {
    value.to_string()
}

#[ws_observe]
fn impl_trait(limit: u32) -> impl Iterator<Item = u32> {
    0..limit
}

#[ws_observe]
fn lifetime<'a>(text: &'a str) -> &'a str {
    text.trim()
}

#[ws_observe]
fn io_alias() -> std::io::Result<()> {
    Ok(())
}

#[ws_observe]
fn r#type() -> u8 {
    0
}

/// # Safety
/// Always safe; `unsafe` only to check that the wrapper adds no unsafe-op lint.
#[ws_observe]
unsafe fn unsafe_fn() -> u8 {
    1
}

struct Counter {
    value: u64,
}

impl Counter {
    #[ws_observe]
    fn get(&self) -> u64 {
        self.value
    }

    #[ws_handler(name = "counter_bump")]
    fn bump(&mut self) {
        self.value += 1;
    }

    #[ws_handler]
    async fn into_value(self) -> u64 {
        self.value
    }
}

#[async_trait]
trait Room {
    async fn send(&self, text: &str) -> AppResult<usize>;
}

#[async_trait]
impl Room for Counter {
    #[ws_handler]
    async fn send(&self, text: &str) -> AppResult<usize> {
        if text.is_empty() {
            return Err(AppError);
        }
        Ok(text.len())
    }
}

#[tokio::main]
async fn main() {
    unit();
    assert!(sync_result(true).is_err());
    assert_eq!(async_result("ann").await.unwrap(), 4);
    async_unit().await;
    assert_eq!(generic(1), "1");
    assert_eq!(impl_trait(3).count(), 3);
    assert_eq!(lifetime(" a "), "a");
    io_alias().unwrap();
    assert_eq!(r#type(), 0);
    // SAFETY: `unsafe_fn` has no precondition.
    assert_eq!(unsafe { unsafe_fn() }, 1);
    let mut counter = Counter { value: 1 };
    counter.bump();
    assert_eq!(counter.get(), 2);
    assert_eq!(counter.send("hey").await.unwrap(), 3);
    assert!(counter.send("").await.is_err());
    assert_eq!(counter.into_value().await, 2);
}
