// Methods taking `&self`, sync and async, are wrapped and can read `self`.
use ws_observe::{ws_handler, ws_observe};

struct Room {
    members: Vec<String>,
}

impl Room {
    #[ws_observe]
    fn len(&self) -> usize {
        self.members.len()
    }

    #[ws_handler]
    async fn first(&self) -> Option<&str> {
        tokio::task::yield_now().await;
        self.members.first().map(String::as_str)
    }
}

fn main() {
    let room = Room {
        members: vec!["ann".to_owned(), "bob".to_owned()],
    };
    assert_eq!(room.len(), 2);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(runtime.block_on(room.first()), Some("ann"));
}
