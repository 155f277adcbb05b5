//! The per-handler static: identity plus the handler's own metric cells.
//!
//! Each annotated function owns one `static HandlerMeta`. Its counters live inline in that
//! static as atomics striped per thread (`metrics::stripes`), so a call adds to four cells of
//! its thread's own copy and reads the clock twice (`metrics::clock`): no label lookup, no
//! lock, no allocation. The metrics collector reads every registered meta at scrape time (see
//! `metrics::handler_collector`).

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use tracing::Span;

use super::guard::CallGuard;
use super::outcome::OutcomeKind;
use crate::alert::Severity;
use crate::metrics::cells::{AtomicHistogram, HistogramSnapshot, scaled_bounds};
use crate::metrics::clock;
use crate::metrics::stripes::{self, Padded, STRIPES};

/// Upper bounds (seconds) of the `ws_handler_duration_seconds` buckets. WebSocket handlers are
/// usually sub-millisecond, so the low end is finer than Prometheus' default buckets.
pub const DURATION_BUCKETS_SECONDS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

const DURATION_BUCKETS_NANOS: [u64; 14] = scaled_bounds(DURATION_BUCKETS_SECONDS, 1e9);

/// Identity and metric cells of one annotated handler. Created by the macros as a `static`.
///
/// Calling the runtime without the macro works the same way:
///
/// ```
/// use ws_observe_runtime::handler::{HandlerMeta, Outcome};
/// static META: HandlerMeta = HandlerMeta::new("on_join", module_path!(), None);
///
/// let guard = META.start(tracing::Span::none());
/// // ... the handler's body ...
/// guard.finish(Outcome::Ok);
/// assert_eq!(META.snapshot().calls[0], 1); // one `ok` call
/// ```
pub struct HandlerMeta {
    name: &'static str,
    module: &'static str,
    severity: Option<Severity>,
    registered: AtomicBool,
    stripes: [Padded<Cells>; STRIPES],
}

/// One stripe of a handler's counters (see `metrics::stripes`).
struct Cells {
    started: AtomicU64,
    outcomes: [AtomicU64; 4],
    duration_nanos: AtomicHistogram<14>,
}

/// A consistent-enough copy of one handler's counters, read at scrape time.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HandlerSnapshot {
    /// Finished calls by outcome, in [`OutcomeKind::ALL`] order.
    pub calls: [u64; 4],
    /// Calls started and not finished yet.
    pub in_flight: u64,
    /// Durations in nanoseconds, bucketed by [`DURATION_BUCKETS_SECONDS`].
    pub duration_nanos: HistogramSnapshot,
}

impl HandlerMeta {
    /// A handler's identity. `module` is the user's `module_path!()`.
    pub const fn new(name: &'static str, module: &'static str, severity: Option<Severity>) -> Self {
        HandlerMeta {
            name,
            module,
            severity,
            registered: AtomicBool::new(false),
            stripes: [const {
                Padded(Cells {
                    started: AtomicU64::new(0),
                    outcomes: [const { AtomicU64::new(0) }; 4],
                    duration_nanos: AtomicHistogram::new(&DURATION_BUCKETS_NANOS),
                })
            }; STRIPES],
        }
    }

    /// The `handler` label and span name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The `module` label: the module path the handler is defined in.
    pub fn module(&self) -> &'static str {
        self.module
    }

    /// The severity of `#[ws_handler(alert = "...")]`; `None` never alerts.
    pub fn severity(&self) -> Option<Severity> {
        self.severity
    }

    /// Starts a call: counts it in flight and starts its clock. `span` is the call's span
    /// (possibly disabled); the guard records the outcome on it.
    // Not inlined into each handler: one copy of the code serves every handler of a request
    // path, which keeps that path's instructions in cache.
    pub fn start(&'static self, span: Span) -> CallGuard {
        if !self.registered.load(Ordering::Acquire) {
            self.register();
        }
        let stripe = stripes::current();
        stripe.add(&self.stripes[stripe.index()].0.started, 1);
        CallGuard::new(self, span, clock::start())
    }

    /// Makes this handler's series visible on `/metrics`, zeros included, before its first
    /// call completes.
    #[cold]
    fn register(&'static self) {
        let mut all = HANDLERS
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if !self.registered.load(Ordering::Acquire) {
            all.push(self);
            self.registered.store(true, Ordering::Release);
        }
    }

    pub(crate) fn record(&self, outcome: OutcomeKind, nanos: u64) {
        // The finishing thread's stripe, which need not be the starting one: only sums count.
        let stripe = stripes::current();
        let cells = &self.stripes[stripe.index()].0;
        cells.duration_nanos.observe_on(stripe, nanos);
        // Last (a release): the outcome counters double as the "finished" count behind the
        // in-flight gauge.
        stripe.add(&cells.outcomes[outcome.index()], 1);
    }

    /// Reads the counters. In flight is derived as started − finished; finished is read first,
    /// so the difference is never negative.
    pub fn snapshot(&self) -> HandlerSnapshot {
        let calls: [u64; 4] = std::array::from_fn(|i| {
            self.stripes
                .iter()
                .map(|s| s.0.outcomes[i].load(Ordering::Acquire))
                .sum()
        });
        let finished: u64 = calls.iter().sum();
        let started: u64 = self
            .stripes
            .iter()
            .map(|s| s.0.started.load(Ordering::Acquire))
            .sum();
        let mut duration_nanos = HistogramSnapshot::default();
        for stripe in &self.stripes {
            duration_nanos.merge(&stripe.0.duration_nanos.snapshot());
        }
        HandlerSnapshot {
            calls,
            in_flight: started.saturating_sub(finished),
            duration_nanos,
        }
    }
}

impl HandlerSnapshot {
    /// Adds another handler's counters (two handlers may share a name and module).
    pub(crate) fn merge(&mut self, other: &HandlerSnapshot) {
        for (a, b) in self.calls.iter_mut().zip(other.calls) {
            *a += b;
        }
        self.in_flight += other.in_flight;
        self.duration_nanos.merge(&other.duration_nanos);
    }
}

static HANDLERS: Mutex<Vec<&'static HandlerMeta>> = Mutex::new(Vec::new());

/// Every handler called (or registered) so far in this process.
pub fn registered_handlers() -> Vec<&'static HandlerMeta> {
    HANDLERS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone()
}

impl std::fmt::Debug for HandlerMeta {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HandlerMeta")
            .field("name", &self.name)
            .field("module", &self.module)
            .field("severity", &self.severity)
            .finish_non_exhaustive()
    }
}
