// Trait methods: native `async fn` in a trait impl, a provided method, and `fields` reading `self`.
use async_trait::async_trait;
use ws_observe::{ws_handler, ws_observe};

trait Native {
    async fn id(&self) -> u32;

    #[ws_observe]
    fn provided(&self) -> u32 {
        5
    }
}

#[async_trait]
trait Boxed {
    async fn send(&self, text: &str) -> usize;
}

struct Lobby {
    id: u32,
}

impl Lobby {
    #[ws_observe]
    fn new() -> Self {
        Lobby { id: 9 }
    }

    #[ws_observe(fields(room = self.id))]
    fn sync_id(&self) -> u32 {
        self.id
    }
}

impl Native for Lobby {
    #[ws_handler(fields(room = self.id))]
    async fn id(&self) -> u32 {
        self.id
    }
}

#[async_trait]
impl Boxed for Lobby {
    #[ws_handler(fields(room = self.id, len = text.len()))]
    async fn send(&self, text: &str) -> usize {
        text.len() + self.id as usize
    }
}

#[tokio::main]
async fn main() {
    let lobby = Lobby::new();
    assert_eq!(lobby.sync_id(), 9);
    assert_eq!(Native::id(&lobby).await, 9);
    assert_eq!(lobby.provided(), 5);
    assert_eq!(lobby.send("ab").await, 11);
}
