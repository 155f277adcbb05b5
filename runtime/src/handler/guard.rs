//! The call guard: started before a handler's body, finished after it, and on drop without
//! `finish` it tells a panic from a cancellation.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tracing::Span;

use super::meta::HandlerMeta;
use super::outcome::{Outcome, OutcomeKind};
use super::span_record;

/// One running call of a handler. Created by [`HandlerMeta::start`].
///
/// - [`finish`](CallGuard::finish) records `ok` or `error` from the returned value;
/// - dropped without `finish`, it records `panic` if the thread is unwinding (or the call's
///   future panicked while being polled), otherwise `cancelled`.
///
/// Whatever the outcome, the duration is observed and the call leaves the in-flight gauge.
#[must_use = "a call guard dropped at once records a cancelled call"]
pub struct CallGuard {
    meta: &'static HandlerMeta,
    span: Span,
    /// A raw reading of `metrics::clock`.
    start: u64,
    /// Set by [`Call`] when the body panicked inside `poll`: by the time an executor that
    /// caught the panic drops the future, the thread is no longer panicking.
    panicked: bool,
    finished: bool,
}

impl CallGuard {
    #[inline]
    pub(crate) fn new(meta: &'static HandlerMeta, span: Span, start: u64) -> Self {
        CallGuard {
            meta,
            span,
            start,
            panicked: false,
            finished: false,
        }
    }

    /// The call's span (disabled when filtered out or when no subscriber listens).
    #[inline]
    pub fn span(&self) -> &Span {
        &self.span
    }

    /// The handler this call belongs to.
    pub fn meta(&self) -> &'static HandlerMeta {
        self.meta
    }

    /// Runs a synchronous body inside the call's span.
    #[inline]
    pub fn in_scope<R>(&self, body: impl FnOnce() -> R) -> R {
        self.span.in_scope(body)
    }

    /// Ends the call with the classified return value.
    #[inline]
    pub fn finish(mut self, outcome: Outcome<'_>) {
        self.finished = true;
        match outcome {
            Outcome::Ok => self.record(OutcomeKind::Ok),
            Outcome::Error(info) => self.failed(&info),
        }
    }

    /// An error: its span fields, its log line, its alert. Out of line, so the code every
    /// call runs stays small.
    #[cold]
    #[inline(never)]
    fn failed(&self, info: &super::outcome::ErrorInfo<'_>) {
        span_record::error(&self.span, self.meta.name(), info);
        if let Some(severity) = self.meta.severity() {
            super::alerting::failed(self.meta, severity, &self.span, info);
        }
        self.record(OutcomeKind::Error);
    }

    fn record(&self, outcome: OutcomeKind) {
        self.meta
            .record(outcome, crate::metrics::clock::nanos_since(self.start));
    }
}

impl Drop for CallGuard {
    #[inline]
    fn drop(&mut self) {
        if !self.finished {
            self.unfinished();
        }
    }
}

impl CallGuard {
    /// Dropped without `finish`: a panic or a cancellation, rare enough to keep out of line.
    #[cold]
    #[inline(never)]
    fn unfinished(&mut self) {
        if self.panicked || std::thread::panicking() {
            span_record::panic(&self.span, self.meta.name());
            if let Some(severity) = self.meta.severity() {
                super::alerting::panicked(self.meta, severity, &self.span);
            }
            self.record(OutcomeKind::Panic);
        } else {
            span_record::cancelled(&self.span);
            self.record(OutcomeKind::Cancelled);
        }
    }
}

/// Runs an async body inside the call's span, polling it in place. Resolves to the body's
/// output and the guard, so the caller classifies the output (it knows its concrete type) and
/// finishes the guard. Dropped before completion, the guard records `cancelled` or `panic`.
///
/// ```
/// use ws_observe_runtime::handler::{instrument, HandlerMeta};
/// static META: HandlerMeta = HandlerMeta::new("on_ping", module_path!(), None);
///
/// # futures_lite_block_on(async {
/// let guard = META.start(tracing::Span::none());
/// let (reply, guard) = instrument(guard, async { "pong" }).await;
/// guard.finish(ws_observe_runtime::classify!(&reply));
/// # });
/// # fn futures_lite_block_on(f: impl std::future::Future<Output = ()>) {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// ```
#[inline]
pub fn instrument<F: Future>(guard: CallGuard, body: F) -> Call<F> {
    Call {
        body,
        guard: Some(guard),
    }
}

pin_project_lite::pin_project! {
    /// The future returned by [`instrument`].
    #[must_use = "futures do nothing unless polled"]
    pub struct Call<F> {
        #[pin]
        body: F,
        guard: Option<CallGuard>,
    }
}

impl<F: Future> Future for Call<F> {
    type Output = (F::Output, CallGuard);

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let guard = this.guard.as_mut().expect("`Call` polled after completion");
        let _entered = guard.span.enter();
        let detector = PanicDetector {
            panicked: &mut guard.panicked,
        };
        let poll = this.body.poll(cx);
        std::mem::forget(detector);
        drop(_entered);
        match poll {
            Poll::Ready(output) => {
                let guard = this.guard.take().expect("guard present until completion");
                Poll::Ready((output, guard))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

/// Dropped only while unwinding out of `poll` (it is forgotten on the normal path).
struct PanicDetector<'a> {
    panicked: &'a mut bool,
}

impl Drop for PanicDetector<'_> {
    fn drop(&mut self) {
        *self.panicked = true;
    }
}
