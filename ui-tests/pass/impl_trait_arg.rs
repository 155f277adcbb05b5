// `impl Trait` in argument position, sync and async, is accepted.
use ws_observe::{ws_handler, ws_observe};

#[ws_observe]
fn count(bytes: impl IntoIterator<Item = u8>) -> usize {
    bytes.into_iter().count()
}

#[ws_handler]
async fn render(value: impl std::fmt::Display + Send) -> String {
    value.to_string()
}

#[tokio::main]
async fn main() {
    assert_eq!(count(vec![1, 2, 3]), 3);
    assert_eq!(count(*b"ab"), 2);
    assert_eq!(render(7).await, "7");
}
