// Destructuring patterns and `mut` bindings in arguments, sync, async and `#[async_trait]`.
use async_trait::async_trait;
use ws_observe::{ws_handler, ws_observe};

struct Meters(u32);

#[ws_observe]
fn total((a, b): (u32, u32), Meters(c): Meters) -> u32 {
    a + b + c
}

#[ws_handler]
async fn collect((a, b): (u32, u32), mut acc: Vec<u32>) -> Vec<u32> {
    acc.push(a);
    acc.push(b);
    acc
}

#[async_trait]
trait Sum {
    async fn sum(&self, pair: (u32, u32)) -> u32;
}

struct Base(u32);

#[async_trait]
impl Sum for Base {
    #[ws_handler]
    async fn sum(&self, (a, b): (u32, u32)) -> u32 {
        a + b + self.0
    }
}

#[tokio::main]
async fn main() {
    assert_eq!(total((1, 2), Meters(3)), 6);
    assert_eq!(collect((1, 2), vec![0]).await, [0, 1, 2]);
    assert_eq!(Base(10).sum((1, 2)).await, 13);
}
