// `impl Trait` in return position, bare and inside `Result<impl Display, E>` with `?`.
use std::fmt::Display;
use std::num::ParseIntError;

use ws_observe::{ws_handler, ws_observe};

#[ws_observe]
fn evens(limit: u32) -> impl Iterator<Item = u32> {
    (0..limit).filter(|n| n % 2 == 0)
}

#[ws_observe]
fn tripled(text: &str) -> Result<impl Display, ParseIntError> {
    let n: i64 = text.parse()?;
    Ok(n * 3)
}

#[ws_handler]
async fn async_display(limit: u32) -> impl Display {
    limit + 1
}

#[ws_handler]
async fn async_tripled(text: &str) -> Result<impl Display, ParseIntError> {
    let n: i64 = text.parse()?;
    Ok(n * 3)
}

#[tokio::main]
async fn main() {
    assert_eq!(evens(5).collect::<Vec<_>>(), [0, 2, 4]);
    assert_eq!(tripled("4").unwrap().to_string(), "12");
    assert!(tripled("x").is_err());
    assert_eq!(async_display(1).await.to_string(), "2");
    assert_eq!(async_tripled("5").await.unwrap().to_string(), "15");
    assert!(async_tripled("x").await.is_err());
}
