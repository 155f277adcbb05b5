// Every argument at once: `name`, `level`, `fields(...)` in each form, `crate` and `alert`.
use ws_observe::ws_handler;

#[derive(Debug)]
struct Peer {
    id: u32,
}

#[ws_handler(
    name = "room_join",
    level = "debug",
    fields(a = %room, b = ?peer, c = 1, "d.e" = 2),
    crate = "::ws_observe",
    alert = "critical"
)]
async fn join(room: &str, peer: &Peer) -> Result<u32, std::io::Error> {
    Ok(peer.id + room.len() as u32)
}

#[ws_handler(
    name = "sync_join",
    level = "trace",
    fields(a = %room, b = ?peer, c = 1, "d.e" = 2),
    crate = "::ws_observe",
    alert = "info"
)]
fn sync_join(room: &str, peer: &Peer) -> Result<u32, std::io::Error> {
    Ok(peer.id + room.len() as u32)
}

fn severity(name: &str) -> Option<ws_observe::runtime::alert::Severity> {
    let handlers = ws_observe::runtime::handler::registered_handlers();
    handlers
        .iter()
        .find(|m| m.name() == name)
        .expect(name)
        .severity()
}

#[tokio::main]
async fn main() {
    let peer = Peer { id: 1 };
    assert_eq!(join("lobby", &peer).await.unwrap(), 6);
    assert_eq!(sync_join("hall", &peer).unwrap(), 5);
    assert_eq!(
        severity("room_join"),
        Some(ws_observe::runtime::alert::Severity::Critical)
    );
    assert_eq!(
        severity("sync_join"),
        Some(ws_observe::runtime::alert::Severity::Info)
    );
}
