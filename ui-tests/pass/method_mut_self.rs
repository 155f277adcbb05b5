// Methods taking `&mut self`, sync and async, are wrapped and can mutate and return `self`.
use ws_observe::{ws_handler, ws_observe};

struct Counter {
    value: u64,
}

impl Counter {
    #[ws_observe]
    fn bump(&mut self) -> &mut Self {
        self.value += 1;
        self
    }

    #[ws_handler]
    async fn add(&mut self, by: u64) -> Result<u64, std::io::Error> {
        tokio::task::yield_now().await;
        self.value += by;
        Ok(self.value)
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut counter = Counter { value: 0 };
    counter.bump().bump();
    assert_eq!(counter.value, 2);
    assert_eq!(counter.add(10).await.unwrap(), 12);
}
