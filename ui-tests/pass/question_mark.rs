// `?` converts errors with `From` and works on `Option`, exactly as in an unwrapped function.
use std::num::ParseIntError;

use ws_observe::{ws_handler, ws_observe};

#[derive(Debug)]
enum AppError {
    Parse,
}

impl From<ParseIntError> for AppError {
    fn from(_: ParseIntError) -> Self {
        AppError::Parse
    }
}

#[ws_observe]
fn parse(text: &str) -> Result<u32, AppError> {
    let n: u32 = text.trim().parse()?;
    Ok(n)
}

#[ws_observe]
fn first_char_upper(text: &str) -> Option<char> {
    let c = text.chars().next()?;
    Some(c.to_ascii_uppercase())
}

#[ws_handler]
async fn boxed(text: &str) -> Result<u32, Box<dyn std::error::Error + Send + Sync>> {
    if text.is_empty() {
        Err("empty")?;
    }
    Ok(text.parse::<u32>()?)
}

#[tokio::main]
async fn main() {
    assert_eq!(parse(" 7 ").unwrap(), 7);
    assert!(matches!(parse("x"), Err(AppError::Parse)));
    assert_eq!(first_char_upper("ab"), Some('A'));
    assert_eq!(first_char_upper(""), None);
    assert_eq!(boxed("3").await.unwrap(), 3);
    assert_eq!(boxed("").await.unwrap_err().to_string(), "empty");
}
