// Explicit, elided and `'static` lifetimes, sync and async, survive the wrapping.
use std::borrow::Cow;

use ws_observe::{ws_handler, ws_observe};

#[ws_observe]
fn first<'a, 'b>(first: &'a str, _second: &'b str) -> &'a str {
    first
}

#[ws_observe]
fn longest<'a>(a: &'a str, b: &'a str) -> &'a str {
    if a.len() >= b.len() { a } else { b }
}

#[ws_observe]
fn elided(text: &str) -> Cow<'_, str> {
    Cow::Borrowed(text)
}

#[ws_handler]
async fn head<'a>(words: &'a [String]) -> Option<&'a str> {
    words.first().map(String::as_str)
}

struct Parser<'src> {
    source: &'src str,
}

impl<'src> Parser<'src> {
    #[ws_observe]
    fn rest(&self, from: usize) -> &'src str {
        &self.source[from..]
    }
}

#[ws_observe]
fn constant() -> &'static str {
    "static"
}

#[tokio::main]
async fn main() {
    assert_eq!(first("a", "b"), "a");
    assert_eq!(longest("ab", "c"), "ab");
    assert_eq!(elided("e"), "e");
    let words = vec!["hi".to_owned()];
    assert_eq!(head(&words).await, Some("hi"));
    let parser = Parser { source: "hello" };
    assert_eq!(parser.rest(3), "lo");
    assert_eq!(constant(), "static");
}
