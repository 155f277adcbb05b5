//! Annotated code compiles warning-free under the user's strict lints: this crate root denies
//! every warning, so a lint tripped by generated code fails `cargo test` here (as thiserror's
//! `tests/test_lints.rs` does for derives). Clippy's lints are checked by running
//! `cargo clippy --tests` on this file.
#![deny(warnings, unused, nonstandard_style, rust_2018_idioms, missing_docs)]
#![deny(
    unreachable_pub,
    unused_qualifications,
    unused_results,
    let_underscore_drop,
    single_use_lifetimes,
    trivial_casts,
    unsafe_op_in_unsafe_fn
)]
#![deny(clippy::all, clippy::pedantic)]

use std::fmt::{self, Display};

use ws_observe::{ws_handler, ws_observe};

/// The error of the checked handlers.
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
fn sync_value(input: u32) -> u32 {
    input + 1
}

#[ws_observe(level = "debug", fields(count = 1))]
fn unit_return(log: &mut Vec<u32>) {
    log.push(1);
}

#[ws_observe]
fn result(fail: bool) -> AppResult<u32> {
    if fail {
        return Err(AppError);
    }
    Ok(1)
}

#[ws_handler(alert = "warning", fields(user = %user))]
async fn async_result(user: &str) -> Result<usize, AppError> {
    let n = result(user.is_empty())?;
    Ok(user.len() + n as usize)
}

#[ws_handler]
async fn async_unit() {}

#[ws_observe]
fn generic<T: Display>(value: &T) -> String {
    value.to_string()
}

#[ws_observe]
fn impl_trait(limit: u32) -> impl Iterator<Item = u32> {
    0..limit
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
    fn bump(&mut self) -> &mut Self {
        self.value += 1;
        self
    }

    #[ws_handler]
    async fn into_value(self) -> u64 {
        self.value
    }
}

#[tokio::test]
async fn annotated_functions_compile_without_warnings_and_run() {
    assert_eq!(sync_value(1), 2);
    let mut log = Vec::new();
    unit_return(&mut log);
    assert_eq!(log, [1]);
    assert!(result(true).is_err());
    assert_eq!(async_result("ann").await.unwrap(), 4);
    async_unit().await;
    assert_eq!(generic(&1), "1");
    assert_eq!(impl_trait(3).count(), 3);
    let mut counter = Counter { value: 1 };
    let _: &mut Counter = counter.bump().bump();
    assert_eq!(counter.get(), 3);
    assert_eq!(counter.into_value().await, 3);
}
