// Methods of a generic type, using the impl's parameters and their own, are wrapped.
use ws_observe::{ws_handler, ws_observe};

struct Wrapper<T>(T);

impl<T: Clone + Send + Sync> Wrapper<T> {
    #[ws_observe]
    fn get(&self) -> T {
        self.0.clone()
    }

    #[ws_handler]
    async fn map<U, F: FnOnce(T) -> U>(&self, f: F) -> U {
        f(self.0.clone())
    }
}

impl<T: Default> Wrapper<T> {
    #[ws_observe]
    fn take(&mut self) -> T {
        std::mem::take(&mut self.0)
    }
}

#[tokio::main]
async fn main() {
    assert_eq!(Wrapper(3u8).get(), 3);
    assert_eq!(Wrapper("s").get(), "s");
    assert_eq!(Wrapper(2u32).map(|v| v * 10).await, 20);
    let mut wrapper = Wrapper(vec![1]);
    assert_eq!(wrapper.take(), [1]);
    assert!(wrapper.0.is_empty());
}
