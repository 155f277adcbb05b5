//! `ObservedStream`: a `WebSocketStream` that counts what passes through it.

use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_core::Stream;
use futures_sink::Sink;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error, Message};
use tracing::Span;

use super::close_reason::CloseReason;
use super::connection::Connection;
use super::keepalive::{Keepalive, Liveness};
use super::metrics::{Direction, WS};

/// A WebSocket connection with its metrics and span. Use it exactly as the
/// `WebSocketStream` it wraps: it is a `Stream` of received messages and a `Sink` of messages
/// to send, with the same semantics (no extra buffering; `split()` works).
///
/// Counted, in the `ws_*` metrics: the connection once as opened and once as closed (with its
/// reason) however it ends, dropped without a close included; each message received and each
/// message passed to the sink, by kind, with its payload size. The automatic pong and close
/// replies of tungstenite, and keepalive pings, are not messages of the sink and are not
/// counted as sent.
///
/// ```no_run
/// use futures_util::{SinkExt, StreamExt};
/// use tracing::Instrument;
///
/// # async fn handle(message: ws_observe_runtime::ws::Message) -> ws_observe_runtime::ws::Message { message }
/// # async fn serve(tcp: tokio::net::TcpStream) -> Result<(), Box<dyn std::error::Error>> {
/// let mut ws = ws_observe_runtime::ws::accept(tcp).await?;
/// let connection = ws.span().clone();
/// // The loop runs inside the connection span: handler spans opened in it are its children.
/// // (Instrumenting the loop once is cheaper than instrumenting each handler call.)
/// async move {
///     while let Some(message) = ws.next().await {
///         let message = message?;
///         if message.is_close() {
///             break;
///         }
///         let reply = handle(message).await;
///         ws.send(reply).await?;
///     }
///     Ok::<_, ws_observe_runtime::ws::Error>(())
/// }
/// .instrument(connection)
/// .await?;
/// # Ok(()) }
/// ```
pub struct ObservedStream<S> {
    inner: WebSocketStream<S>,
    connection: Connection,
    keepalive: Option<Keepalive>,
    /// The write side is waiting on the socket (its last poll returned `Pending`).
    write_waiting: bool,
}

impl<S> ObservedStream<S> {
    pub(crate) fn new(inner: WebSocketStream<S>, peer: Option<SocketAddr>) -> Self {
        ObservedStream {
            inner,
            connection: Connection::open(peer),
            keepalive: None,
            write_waiting: false,
        }
    }

    /// The connection's span, `ws.connection`: run each message's handler inside it so the
    /// handler spans are its children.
    pub fn span(&self) -> &Span {
        &self.connection.span
    }

    /// The connection's id, unique in this process (the span's `ws.connection_id`).
    pub fn connection_id(&self) -> u64 {
        self.connection.id
    }

    /// Records the peer's address (truncated) when the stream type did not give it.
    pub fn set_peer_addr(&self, peer: SocketAddr) {
        self.connection.set_peer(peer);
    }

    /// Pings the peer every `interval`, records each round trip in `ws_ping_rtt_seconds`, and
    /// ends the connection (reason `timeout`; the stream then yields `None`) when a pong does
    /// not come back within `timeout`. Needs a tokio runtime with time enabled.
    ///
    /// Pings go out while the stream is polled for messages (or written to), which is the
    /// case for any server reading its connections.
    pub fn with_keepalive(mut self, interval: Duration, timeout: Duration) -> Self {
        self.keepalive = Some(Keepalive::new(interval, timeout));
        self
    }

    /// The wrapped stream.
    pub fn get_ref(&self) -> &WebSocketStream<S> {
        &self.inner
    }

    /// The wrapped stream, mutably. Messages sent through it directly are not counted.
    pub fn get_mut(&mut self) -> &mut WebSocketStream<S> {
        &mut self.inner
    }
}

impl<S> std::fmt::Debug for ObservedStream<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObservedStream")
            .field("connection_id", &self.connection.id)
            .finish_non_exhaustive()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> ObservedStream<S> {
    fn note_error(&mut self, error: &Error) {
        if let Some(reason) = CloseReason::from_error(error) {
            self.connection.note(reason);
        }
    }

    /// Gives up on a peer that stopped answering: best-effort close frame, then the stream ends.
    fn time_out(&mut self, cx: &mut Context<'_>) {
        self.connection.note(CloseReason::Timeout);
        self.connection.finish();
        let frame = CloseFrame {
            code: CloseCode::Away,
            reason: "keepalive timeout".into(),
        };
        let inner = Pin::new(&mut self.inner);
        if inner.start_send(Message::Close(Some(frame))).is_ok() {
            let _ = Pin::new(&mut self.inner).poll_flush(cx);
        }
    }

    /// The write side's turn to send a due keepalive ping (its waker is the right one).
    fn write_side_ping(&mut self, cx: &mut Context<'_>) {
        if let Some(keepalive) = &mut self.keepalive {
            keepalive.write_due_ping(cx, &mut self.inner);
        }
    }

    fn track_write<T>(&mut self, poll: Poll<Result<T, Error>>) -> Poll<Result<T, Error>> {
        self.write_waiting = poll.is_pending();
        if let Poll::Ready(Err(error)) = &poll {
            self.note_error(error);
        }
        poll
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Stream for ObservedStream<S> {
    type Item = Result<Message, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.connection.is_finished() {
            return Poll::Ready(None);
        }
        if let Some(keepalive) = &mut this.keepalive {
            let may_write = !this.write_waiting;
            if let Liveness::TimedOut = keepalive.poll(cx, &mut this.inner, may_write) {
                this.time_out(cx);
                return Poll::Ready(None);
            }
        }
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(message))) => {
                WS.message(Direction::Received, &message);
                match &message {
                    Message::Pong(payload) => {
                        if let Some(keepalive) = &mut this.keepalive {
                            keepalive.on_pong(payload);
                        }
                    }
                    Message::Close(frame) => this
                        .connection
                        .note(CloseReason::from_frame(frame.as_ref())),
                    _ => {}
                }
                Poll::Ready(Some(Ok(message)))
            }
            Poll::Ready(Some(Err(error))) => {
                this.note_error(&error);
                Poll::Ready(Some(Err(error)))
            }
            Poll::Ready(None) => {
                this.connection.finish();
                Poll::Ready(None)
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Sink<Message> for ObservedStream<S> {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let this = self.get_mut();
        this.write_side_ping(cx);
        let poll = Pin::new(&mut this.inner).poll_ready(cx);
        this.track_write(poll)
    }

    fn start_send(self: Pin<&mut Self>, message: Message) -> Result<(), Error> {
        let this = self.get_mut();
        WS.message(Direction::Sent, &message);
        if let Message::Close(frame) = &message {
            this.connection
                .note(CloseReason::from_frame(frame.as_ref()));
        }
        let result = Pin::new(&mut this.inner).start_send(message);
        if let Err(error) = &result {
            this.note_error(error);
        }
        result
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let this = self.get_mut();
        this.write_side_ping(cx);
        let poll = Pin::new(&mut this.inner).poll_flush(cx);
        this.track_write(poll)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let this = self.get_mut();
        // Closing without a frame of our own sends 1000.
        this.connection.note(CloseReason::Normal);
        let poll = Pin::new(&mut this.inner).poll_close(cx);
        this.track_write(poll)
    }
}
