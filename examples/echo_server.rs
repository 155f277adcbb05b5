//! A WebSocket echo server whose handlers are measured by ws-observe.
//!
//! ```text
//! cargo run --example echo_server              # ws://127.0.0.1:9001, /metrics on 127.0.0.1:9464
//! cargo run --example echo_server 127.0.0.1:0  # any free port
//! cargo run --example echo_client              # in another terminal: a burst of messages
//! curl -s 127.0.0.1:9464/metrics | grep ws_handler
//! ```
//!
//! Text frames are commands: `upper <text>` answers in capitals, `fail` makes the handler
//! return an error (so the `error` outcome moves), anything else is echoed back.

use std::net::SocketAddr;

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use ws_observe::tokio_tungstenite::{accept_async, tungstenite::Message};
use ws_observe::{runtime, ws_handler, ws_observe};

#[derive(Debug, PartialEq)]
enum Command<'a> {
    Upper(&'a str),
    Echo(&'a str),
    Fail,
}

#[derive(Debug)]
struct EchoError(String);

impl std::fmt::Display for EchoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot answer: {}", self.0)
    }
}

impl std::error::Error for EchoError {}

/// Parsing is measured on its own (`handler="parse_command"`), never alerts.
#[ws_observe(level = "debug")]
fn parse_command(text: &str) -> Command<'_> {
    match text.split_once(' ') {
        Some(("upper", rest)) => Command::Upper(rest),
        _ if text == "fail" => Command::Fail,
        _ => Command::Echo(text),
    }
}

/// One call per received message; an error here would alert at `warning` once alerting is
/// configured.
#[ws_handler(alert = "warning")]
async fn on_message(message: Message) -> Result<Option<Message>, EchoError> {
    match message {
        Message::Text(text) => match parse_command(&text) {
            Command::Upper(rest) => Ok(Some(Message::text(rest.to_uppercase()))),
            Command::Echo(same) => Ok(Some(Message::text(same))),
            Command::Fail => Err(EchoError("the client asked for a failure".into())),
        },
        Message::Binary(bytes) => Ok(Some(Message::Binary(bytes))),
        // Pings are answered by tungstenite itself; close frames end the loop below.
        _ => Ok(None),
    }
}

async fn serve_connection(stream: TcpStream, peer: SocketAddr) {
    let websocket = match accept_async(stream).await {
        Ok(websocket) => websocket,
        Err(error) => {
            tracing::warn!(%error, "handshake failed");
            return;
        }
    };
    let (mut sink, mut incoming) = websocket.split();
    while let Some(Ok(message)) = incoming.next().await {
        if message.is_close() {
            break;
        }
        let reply = match on_message(message).await {
            Ok(Some(reply)) => reply,
            Ok(None) => continue,
            Err(error) => Message::text(format!("error: {error}")),
        };
        if sink.send(reply).await.is_err() {
            break;
        }
    }
    tracing::debug!(peer.port = peer.port(), "connection closed");
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let telemetry = runtime::init()?;
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9001".into());
    let listener = TcpListener::bind(&addr).await?;
    let local = listener.local_addr()?;
    match telemetry.metrics_addr() {
        Some(metrics) => {
            eprintln!("echo server on ws://{local}  metrics on http://{metrics}/metrics")
        }
        None => eprintln!("echo server on ws://{local}  (metrics off)"),
    }
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = accepted?;
                tokio::spawn(serve_connection(stream, peer));
            }
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    eprintln!("shutting down");
    Ok(())
}
