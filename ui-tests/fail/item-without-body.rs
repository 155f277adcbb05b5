// The attribute on a trait method without a body is one error at the attribute.
use ws_observe::ws_handler;

trait Room {
    #[ws_handler]
    fn broadcast(&self, text: &str) -> usize;
}

struct Lobby;

impl Room for Lobby {
    fn broadcast(&self, text: &str) -> usize {
        text.len()
    }
}

fn main() {
    let _ = Lobby.broadcast("hi");
}
