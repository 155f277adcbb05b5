// An async free function is wrapped, awaited, and returns its value.
use ws_observe::{ws_handler, ws_observe};

#[ws_observe]
async fn add_one(input: u32) -> u32 {
    tokio::task::yield_now().await;
    input + 1
}

#[ws_handler]
async fn echo(frame: String) -> Result<String, std::io::Error> {
    tokio::task::yield_now().await;
    Ok(frame)
}

fn calls(name: &str) -> [u64; 4] {
    let handlers = ws_observe::runtime::handler::registered_handlers();
    let meta = handlers.iter().find(|m| m.name() == name).expect(name);
    meta.snapshot().calls
}

#[tokio::main]
async fn main() {
    assert_eq!(add_one(1).await, 2);
    assert_eq!(echo("hi".to_owned()).await.unwrap(), "hi");
    assert_eq!(calls("add_one"), [1, 0, 0, 0]);
    assert_eq!(calls("echo"), [1, 0, 0, 0]);
}
