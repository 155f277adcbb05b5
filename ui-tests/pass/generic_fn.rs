// Generic functions (type, const and bounded parameters), sync and async, are wrapped.
use std::fmt::Display;

use ws_observe::{ws_handler, ws_observe};

#[ws_observe]
fn describe<T: Display>(value: T) -> String {
    value.to_string()
}

#[ws_observe]
fn sum<const N: usize>(values: [u32; N]) -> u32 {
    values.iter().sum()
}

#[ws_handler]
async fn parse_all<T>(texts: &[&str]) -> Result<Vec<T>, T::Err>
where
    T: std::str::FromStr,
{
    texts.iter().map(|t| t.parse()).collect()
}

#[tokio::main]
async fn main() {
    assert_eq!(describe(5), "5");
    assert_eq!(describe("x"), "x");
    assert_eq!(sum([1, 2, 3]), 6);
    assert_eq!(parse_all::<u8>(&["1", "2"]).await.unwrap(), [1, 2]);
    assert!(parse_all::<u8>(&["x"]).await.is_err());
}
