//! WebSocket instrumentation for tokio-tungstenite: connection and message metrics, a
//! connection span, keepalive with round-trip times, and trace context from the handshake.
//!
//! ```no_run
//! use futures_util::{SinkExt, StreamExt};
//! use std::time::Duration;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:9001").await?;
//! let (tcp, _) = listener.accept().await?;
//! let mut ws = ws_observe_runtime::ws::accept(tcp)
//!     .await?
//!     .with_keepalive(Duration::from_secs(20), Duration::from_secs(10));
//! while let Some(message) = ws.next().await {
//!     let message = message?;
//!     if message.is_text() {
//!         ws.send(message).await?;
//!     }
//! }
//! # Ok(()) }
//! ```

mod close_reason;
mod connection;
mod keepalive;
mod metrics;
mod peer;
mod stream;

use std::collections::HashMap;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::server::{
    Callback, ErrorResponse, Request, Response,
};

pub use close_reason::CloseReason;
pub use peer::truncate_ip;
pub use stream::ObservedStream;

/// Registers every `ws_*` connection and message metric in `registry`.
pub(crate) fn register_metrics(registry: &prometheus::Registry) -> prometheus::Result<()> {
    registry.register(Box::new(metrics::WsCollector::new()))
}

/// The error type of the stream and sink (tungstenite's).
pub use tokio_tungstenite::tungstenite::Error;
/// The message type of the stream and sink (tungstenite's).
pub use tokio_tungstenite::tungstenite::Message;

/// Accepts a WebSocket connection on `stream` (the server handshake, like
/// `tokio_tungstenite::accept_async`). A failed handshake is counted in
/// `ws_handshake_failures_total` and is not a connection. A W3C `traceparent` header on the
/// upgrade request becomes the parent of the connection's span.
pub async fn accept<S>(stream: S) -> Result<ObservedStream<S>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin + 'static,
{
    accept_hdr(
        stream,
        tokio_tungstenite::tungstenite::handshake::server::NoCallback,
    )
    .await
}

/// Like [`accept`], with a callback that sees the upgrade request's headers (like
/// `tokio_tungstenite::accept_hdr_async`): authenticate, pick a subprotocol, or refuse.
pub async fn accept_hdr<S, C>(stream: S, callback: C) -> Result<ObservedStream<S>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin + 'static,
    C: Callback + Unpin,
{
    let peer = peer::peer_of(&stream);
    let mut trace_headers = HashMap::new();
    let capture = CaptureTraceHeaders {
        user: callback,
        carrier: &mut trace_headers,
    };
    match tokio_tungstenite::accept_hdr_async(stream, capture).await {
        Ok(websocket) => {
            let observed = ObservedStream::new(websocket, peer);
            #[cfg(feature = "otlp")]
            if !trace_headers.is_empty() {
                crate::propagation::set_parent(observed.span(), &trace_headers);
            }
            Ok(observed)
        }
        Err(error) => {
            metrics::WS.handshake_failed();
            Err(error)
        }
    }
}

/// Wraps an established `WebSocketStream`, client or server side (for example one from
/// `tokio_tungstenite::connect_async`).
pub fn observe<S>(websocket: WebSocketStream<S>) -> ObservedStream<S>
where
    S: AsyncRead + AsyncWrite + Unpin + 'static,
{
    let peer = peer::peer_of(websocket.get_ref());
    ObservedStream::new(websocket, peer)
}

/// Copies the trace-context headers of the upgrade request, then calls the user's callback.
struct CaptureTraceHeaders<'a, C> {
    user: C,
    #[cfg_attr(not(feature = "otlp"), allow(dead_code))]
    carrier: &'a mut HashMap<String, String>,
}

impl<C: Callback> Callback for CaptureTraceHeaders<'_, C> {
    fn on_request(self, request: &Request, response: Response) -> Result<Response, ErrorResponse> {
        // Without trace export there is no trace to continue: nothing is copied.
        #[cfg(feature = "otlp")]
        for name in crate::propagation::fields() {
            if let Some(value) = request
                .headers()
                .get(name.as_str())
                .and_then(|v| v.to_str().ok())
            {
                self.carrier.insert(name, value.to_owned());
            }
        }
        self.user.on_request(request, response)
    }
}
