// A method of an `#[async_trait]` impl is wrapped, and measured when its boxed future runs.
use async_trait::async_trait;
use ws_observe::ws_handler;

#[async_trait]
trait Room {
    async fn broadcast(&self, message: &str) -> Result<usize, std::io::Error>;
    async fn close(&mut self);
}

struct Lobby {
    open: bool,
}

#[async_trait]
impl Room for Lobby {
    #[ws_handler(name = "lobby_broadcast", alert = "warning")]
    async fn broadcast(&self, message: &str) -> Result<usize, std::io::Error> {
        tokio::task::yield_now().await;
        if message.is_empty() {
            return Err(std::io::Error::other("empty"));
        }
        Ok(message.len())
    }

    #[ws_handler]
    async fn close(&mut self) {
        self.open = false;
    }
}

fn calls(name: &str) -> [u64; 4] {
    let handlers = ws_observe::runtime::handler::registered_handlers();
    let meta = handlers.iter().find(|m| m.name() == name).expect(name);
    meta.snapshot().calls
}

#[tokio::main]
async fn main() {
    let mut lobby = Lobby { open: true };
    {
        let room: &(dyn Room + Send + Sync) = &lobby;
        let future = room.broadcast("hello");
        // Building the boxed future does not start the call.
        assert!(
            ws_observe::runtime::handler::registered_handlers()
                .iter()
                .all(|m| m.name() != "lobby_broadcast")
        );
        assert_eq!(future.await.unwrap(), 5);
        assert!(room.broadcast("").await.is_err());
    }
    lobby.close().await;
    assert!(!lobby.open);
    assert_eq!(calls("lobby_broadcast"), [1, 1, 0, 0]);
    assert_eq!(calls("close"), [1, 0, 0, 0]);
}
