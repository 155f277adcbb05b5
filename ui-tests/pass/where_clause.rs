// `where` clauses on functions and methods, sync and async, are kept.
use std::fmt::Debug;

use ws_observe::{ws_handler, ws_observe};

#[ws_observe]
fn join<I>(items: I) -> String
where
    I: IntoIterator,
    I::Item: Debug,
{
    items
        .into_iter()
        .map(|i| format!("{i:?}"))
        .collect::<Vec<_>>()
        .join(",")
}

#[ws_handler]
async fn apply<F, T>(f: F, value: T) -> T
where
    F: FnOnce(T) -> T + Send,
    T: Send,
{
    f(value)
}

struct Store<K>(Vec<K>);

impl<K> Store<K>
where
    K: PartialEq,
{
    #[ws_observe]
    fn contains<Q>(&self, key: &Q) -> bool
    where
        K: PartialEq<Q>,
        Q: ?Sized,
    {
        self.0.iter().any(|k| k == key)
    }
}

#[tokio::main]
async fn main() {
    assert_eq!(join([1, 2]), "1,2");
    assert_eq!(apply(|v: u8| v + 1, 1).await, 2);
    assert!(Store(vec![String::from("a")]).contains("a"));
}
