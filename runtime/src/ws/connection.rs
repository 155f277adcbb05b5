//! One connection's life: opened once, closed once (whatever ends it), and its span.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use quanta::Instant;
use tracing::Span;

use super::close_reason::CloseReason;
use super::metrics::WS;
use super::peer::truncate_ip;

static NEXT_CONNECTION_ID: AtomicU64 = AtomicU64::new(1);

pub(crate) struct Connection {
    pub(crate) id: u64,
    pub(crate) span: Span,
    opened: Instant,
    /// The first thing known about how the connection ends (a close frame either way, a
    /// timeout, an error); kept until the connection is counted as closed.
    reason: Option<CloseReason>,
    finished: bool,
}

impl Connection {
    pub(crate) fn open(peer: Option<SocketAddr>) -> Self {
        let id = NEXT_CONNECTION_ID.fetch_add(1, Ordering::Relaxed);
        let span = tracing::info_span!(
            target: "ws_observe::ws",
            "ws.connection",
            "ws.connection_id" = id,
            "client.address" = tracing::field::Empty,
            "otel.kind" = "server",
            "ws.close_reason" = tracing::field::Empty,
        );
        if let Some(peer) = peer {
            span.record("client.address", truncate_ip(peer.ip()));
        }
        WS.opened();
        Connection {
            id,
            span,
            opened: Instant::now(),
            reason: None,
            finished: false,
        }
    }

    pub(crate) fn set_peer(&self, peer: SocketAddr) {
        self.span.record("client.address", truncate_ip(peer.ip()));
    }

    /// Remembers how the connection is ending; the first reason wins (a close we sent is not
    /// overridden by the error of reading after it).
    pub(crate) fn note(&mut self, reason: CloseReason) {
        self.reason.get_or_insert(reason);
    }

    pub(crate) fn is_finished(&self) -> bool {
        self.finished
    }

    /// Counts the connection as closed, once. Without a known reason it ended without a close
    /// handshake: `abnormal`, as RFC 6455's 1006.
    pub(crate) fn finish(&mut self) {
        if std::mem::replace(&mut self.finished, true) {
            return;
        }
        let reason = self.reason.unwrap_or(CloseReason::Abnormal);
        let lasted = u64::try_from(self.opened.elapsed().as_nanos()).unwrap_or(u64::MAX);
        WS.closed(reason, lasted);
        self.span.record("ws.close_reason", reason.as_str());
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.finish();
    }
}
