#![deny(warnings)]
// `redact(...)` records a keyed pseudonym of each listed argument: on free sync and async
// functions, methods, `#[async_trait]` impls, with `fields(...)` and a `Message` argument.
use async_trait::async_trait;
use ws_observe::ws::Message;
use ws_observe::{ws_handler, ws_observe};

#[ws_observe(redact(user_id, email), fields(room = %room))]
fn join(user_id: u64, email: &str, room: &str) -> usize {
    email.len() + room.len() + user_id as usize
}

#[ws_handler(alert = "warning", redact(peer))]
async fn on_message(peer: std::net::IpAddr, message: Message) -> Result<Message, std::io::Error> {
    let _ = peer;
    Ok(message)
}

// Named like a key of every log line: recorded as `message.pseudonym`, no clash.
#[ws_observe(redact(message))]
fn chat(message: &str) -> usize {
    message.len()
}

struct Session;

impl Session {
    #[ws_observe(redact(token))]
    fn refresh(&self, mut token: String) -> String {
        token.push('!');
        token
    }
}

#[async_trait]
trait Directory {
    async fn lookup(&self, name: &str) -> Option<u32>;
    async fn forget(&self, email: &str);
}

#[async_trait]
impl Directory for Session {
    #[ws_handler(redact(name))]
    async fn lookup(&self, name: &str) -> Option<u32> {
        name.len().checked_sub(1).map(|n| n as u32)
    }

    // The argument is used only by `redact`: no unused-variable warning.
    #[ws_handler(redact(email))]
    async fn forget(&self, email: &str) {}
}

#[tokio::main]
async fn main() {
    assert_eq!(join(1, "a@b.c", "lobby"), 11);
    assert_eq!(chat("hi"), 2);
    assert!(on_message([127, 0, 0, 1].into(), Message::text("hi")).await.is_ok());
    assert_eq!(Session.refresh("t".into()), "t!");
    assert_eq!(Session.lookup("ab").await, Some(1));
    Session.forget("a@b.c").await;
}
