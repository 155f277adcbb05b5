// Early `return` in the body returns from the user's function, with the declared type.
use ws_observe::{ws_handler, ws_observe};

#[ws_observe]
fn clamp(value: u32) -> u32 {
    if value > 100 {
        return 100;
    }
    value
}

#[ws_observe]
fn first_even(values: &[u32]) -> Option<u32> {
    for &value in values {
        if value % 2 == 0 {
            return Some(value);
        }
    }
    None
}

#[ws_handler]
async fn greeting(name: &str) -> String {
    if name.is_empty() {
        return "hello, stranger".into();
    }
    format!("hello, {name}")
}

#[ws_observe]
fn unit_early(log: &mut Vec<u8>, skip: bool) {
    if skip {
        return;
    }
    log.push(1);
}

#[tokio::main]
async fn main() {
    assert_eq!(clamp(500), 100);
    assert_eq!(clamp(5), 5);
    assert_eq!(first_even(&[1, 4, 6]), Some(4));
    assert_eq!(first_even(&[1]), None);
    assert_eq!(greeting("").await, "hello, stranger");
    assert_eq!(greeting("ann").await, "hello, ann");
    let mut log = Vec::new();
    unit_early(&mut log, true);
    unit_early(&mut log, false);
    assert_eq!(log, [1]);
}
