// Methods taking `self` by value, sync and async, are wrapped and can consume `self`.
use ws_observe::{ws_handler, ws_observe};

struct Frame {
    payload: String,
}

impl Frame {
    #[ws_observe]
    fn into_payload(self) -> String {
        self.payload
    }

    #[ws_handler]
    async fn into_len(self) -> usize {
        tokio::task::yield_now().await;
        self.payload.len()
    }

    #[ws_observe]
    fn with_suffix(mut self, suffix: &str) -> Self {
        self.payload.push_str(suffix);
        self
    }
}

#[tokio::main]
async fn main() {
    let frame = Frame {
        payload: "ab".to_owned(),
    };
    assert_eq!(frame.with_suffix("c").into_payload(), "abc");
    let frame = Frame {
        payload: "abcd".to_owned(),
    };
    assert_eq!(frame.into_len().await, 4);
}
