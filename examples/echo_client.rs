//! Sends a burst of messages to the echo server so `/metrics` has something to show.
//!
//! ```text
//! cargo run --example echo_client                      # 1000 messages to ws://127.0.0.1:9001
//! cargo run --example echo_client ws://127.0.0.1:9001 5000
//! ```
//!
//! One message in ten is `fail`, so the `error` outcome moves too.

use futures_util::{SinkExt, StreamExt};
use ws_observe::tokio_tungstenite::{connect_async, tungstenite::Message};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "ws://127.0.0.1:9001".into());
    let count: usize = std::env::args()
        .nth(2)
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(1000);
    let (websocket, _) = connect_async(url.as_str()).await?;
    let (mut sink, mut incoming) = websocket.split();

    let sender = tokio::spawn(async move {
        for i in 0..count {
            let text = match i % 10 {
                0 => "fail".to_owned(),
                1 => format!("upper message {i}"),
                _ => format!("message {i}"),
            };
            sink.send(Message::text(text)).await?;
        }
        Ok::<_, ws_observe::tokio_tungstenite::tungstenite::Error>(sink)
    });

    let (mut replies, mut errors) = (0, 0);
    while replies < count {
        match incoming.next().await {
            Some(Ok(Message::Text(text))) => {
                replies += 1;
                errors += usize::from(text.starts_with("error:"));
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(e.into()),
            None => break,
        }
    }
    let mut sink = sender.await??;
    sink.send(Message::Close(None)).await?;
    println!("sent {count} messages, {replies} replies, {errors} of them errors");
    println!(
        "now scrape the server's /metrics (127.0.0.1:9464 by default): curl -s http://127.0.0.1:9464/metrics | grep ws_handler_calls_total"
    );
    Ok(())
}
