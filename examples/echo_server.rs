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

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tracing::Instrument;
use ws_observe::ws::{self, Message};
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

/// One connection: the wrapper counts it and its messages. The whole loop runs inside the
/// connection's span (entered once per poll of this task, not once per message), so each
/// handler's span is a child of it.
async fn serve_connection(stream: TcpStream) {
    let websocket = match ws::accept(stream).await {
        Ok(websocket) => websocket,
        // Counted in ws_handshake_failures_total; not a connection.
        Err(error) => return tracing::debug!(%error, "handshake failed"),
    };
    // Dead peers are dropped after 30 s without a pong, freeing their socket.
    let mut websocket = websocket.with_keepalive(Duration::from_secs(20), Duration::from_secs(10));
    let connection = websocket.span().clone();
    async move {
        while let Some(Ok(message)) = websocket.next().await {
            if message.is_close() {
                break;
            }
            let reply = match on_message(message).await {
                Ok(Some(reply)) => reply,
                Ok(None) => continue,
                Err(error) => Message::text(format!("error: {error}")),
            };
            if websocket.send(reply).await.is_err() {
                break;
            }
        }
    }
    .instrument(connection)
    .await
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
                let (stream, _peer) = accepted?;
                tokio::spawn(serve_connection(stream));
            }
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    eprintln!("shutting down");
    Ok(())
}
