//! Keepalive: a ping every `interval`, the round trip of its pong measured, and the
//! connection given up when no pong comes back within `timeout`.
//!
//! The ping is written from whichever side of the stream runs next. The read side only writes
//! when the write side is not waiting on the socket: tokio-tungstenite keeps one write waker,
//! and registering the reader there while a writer waits would leave the writer asleep.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use futures_sink::Sink;
use quanta::Instant;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::Sleep;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

use super::metrics::WS;

pub(crate) struct Keepalive {
    interval: Duration,
    timeout: Duration,
    next_ping: Pin<Box<Sleep>>,
    /// The waker `next_ping` was last polled with, while it is armed with it.
    timer_waker: Option<Waker>,
    waiting: Option<Waiting>,
    sequence: u64,
}

/// A ping that is due: maybe not written yet, maybe not flushed yet, not answered yet.
struct Waiting {
    payload: [u8; 8],
    written_at: Option<Instant>,
    flushed: bool,
    deadline: Pin<Box<Sleep>>,
}

pub(crate) enum Liveness {
    Alive,
    TimedOut,
}

impl Keepalive {
    pub(crate) fn new(interval: Duration, timeout: Duration) -> Self {
        Keepalive {
            interval,
            timeout,
            next_ping: Box::pin(tokio::time::sleep(interval)),
            timer_waker: None,
            waiting: None,
            sequence: 0,
        }
    }

    /// Drives the timers; writes the due ping when `may_write`. Registers `cx` for the next
    /// deadline, so a silent peer is noticed even when nothing else wakes the reader.
    #[inline]
    pub(crate) fn poll<S>(
        &mut self,
        cx: &mut Context<'_>,
        inner: &mut WebSocketStream<S>,
        may_write: bool,
    ) -> Liveness
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        // The common case, once per message: no ping in flight, the timer armed by this very
        // task and not fired.
        if self.waiting.is_none() && self.timer_armed_for(cx) && !self.next_ping.is_elapsed() {
            return Liveness::Alive;
        }
        self.poll_timers(cx, inner, may_write)
    }

    #[inline]
    fn timer_armed_for(&self, cx: &Context<'_>) -> bool {
        self.timer_waker
            .as_ref()
            .is_some_and(|waker| waker.will_wake(cx.waker()))
    }

    #[cold]
    fn poll_timers<S>(
        &mut self,
        cx: &mut Context<'_>,
        inner: &mut WebSocketStream<S>,
        may_write: bool,
    ) -> Liveness
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        if self.waiting.is_none() && self.ping_due(cx) {
            self.sequence += 1;
            self.waiting = Some(Waiting {
                payload: self.sequence.to_be_bytes(),
                written_at: None,
                flushed: false,
                deadline: Box::pin(tokio::time::sleep(self.timeout)),
            });
        }
        let Some(waiting) = &mut self.waiting else {
            return Liveness::Alive;
        };
        if waiting.deadline.as_mut().poll(cx).is_ready() {
            return Liveness::TimedOut;
        }
        if may_write {
            self.write_due_ping(cx, inner);
        }
        Liveness::Alive
    }

    /// Whether the next ping is due. Called only when `poll`'s fast path did not apply: the
    /// timer is not armed with this task's waker, or it has fired. (The stream is polled once
    /// per message, and polling the timer each time would write its shared state, the waker
    /// registration, per message.)
    fn ping_due(&mut self, cx: &mut Context<'_>) -> bool {
        // Unconstrained: a timer that is not due is no progress, and an exhausted task budget
        // must not leave the timer unregistered (`Pending` would then mean nothing).
        let mut timer = tokio::task::coop::unconstrained(self.next_ping.as_mut());
        let due = Pin::new(&mut timer).poll(cx).is_ready();
        self.timer_waker = (!due).then(|| cx.waker().clone());
        due
    }

    /// Writes and flushes the due ping if there is one and the socket takes it.
    #[inline]
    pub(crate) fn write_due_ping<S>(&mut self, cx: &mut Context<'_>, inner: &mut WebSocketStream<S>)
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        if self.waiting.is_some() {
            self.write_waiting_ping(cx, inner);
        }
    }

    #[cold]
    fn write_waiting_ping<S>(&mut self, cx: &mut Context<'_>, inner: &mut WebSocketStream<S>)
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let Some(waiting) = &mut self.waiting else {
            return;
        };
        if waiting.written_at.is_none() {
            if !matches!(Pin::new(&mut *inner).poll_ready(cx), Poll::Ready(Ok(()))) {
                return;
            }
            let ping = Message::Ping(waiting.payload.to_vec().into());
            if Pin::new(&mut *inner).start_send(ping).is_err() {
                return; // the connection is failing; the read side will see it
            }
            waiting.written_at = Some(Instant::now());
        }
        if !waiting.flushed && Pin::new(&mut *inner).poll_flush(cx).is_ready() {
            waiting.flushed = true;
        }
    }

    /// Records the round trip if `payload` answers the ping in flight.
    pub(crate) fn on_pong(&mut self, payload: &[u8]) {
        let Some(waiting) = &self.waiting else { return };
        let Some(written_at) = waiting.written_at else {
            return;
        };
        if payload != waiting.payload {
            return; // an unsolicited pong, or an answer to someone else's ping
        }
        let rtt = u64::try_from(written_at.elapsed().as_nanos()).unwrap_or(u64::MAX);
        WS.ping_rtt(rtt);
        self.waiting = None;
        let next = tokio::time::Instant::now() + self.interval;
        self.next_ping.as_mut().reset(next);
        self.timer_waker = None;
    }
}
