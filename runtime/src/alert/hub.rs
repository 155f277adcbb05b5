//! The alert hub: policy (deduplication, rate limits, lifecycle) in front of the sinks, each
//! sink on its own thread behind a bounded queue.
//!
//! Every raised alert ends, for every sink, in exactly one `ws_alerts_total` result:
//! `deduplicated` (same handler and error type within the window), `dropped` (rate-limited, or
//! the sink's queue is full), `sent` or `failed` (after bounded retries), so the counts add up.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

use prometheus::IntCounterVec;

use super::sink::{AlertSink, Notification};
use super::{Alert, Severity};

/// Alert policy; see the `WS_OBSERVE_ALERT_*` variables.
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    /// The same handler and error type within this window is deduplicated (default 60 s).
    pub dedupe_window: Duration,
    /// A firing alert is resolved once quiet this long (default 5 min).
    pub resolve_after: Duration,
    /// A firing alert is re-sent to stateful sinks this often (default 60 s).
    pub resend_interval: Duration,
    /// Alerts per minute each sink accepts at most; more are dropped and counted (default 60).
    pub rate_per_minute: u32,
    /// Alerts waiting per sink at most (default 1024).
    pub queue_size: usize,
    /// Delivery attempts before `failed` (default 3, with 200 ms then 400 ms backoff).
    pub attempts: u32,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            dedupe_window: Duration::from_secs(60),
            resolve_after: Duration::from_secs(300),
            resend_interval: Duration::from_secs(60),
            rate_per_minute: 60,
            queue_size: 1024,
            attempts: 3,
        }
    }
}

/// The outcome label values of `ws_alerts_total`.
const RESULTS: [&str; 4] = ["sent", "failed", "dropped", "deduplicated"];

pub(super) fn alerts_total() -> &'static IntCounterVec {
    static COUNTER: OnceLock<IntCounterVec> = OnceLock::new();
    COUNTER.get_or_init(|| {
        IntCounterVec::new(
            prometheus::Opts::new(
                crate::metrics::names::ALERTS,
                "Alerts raised, per sink, by result (sent, failed, dropped, deduplicated).",
            ),
            &["severity", "sink", "result"],
        )
        .expect("valid counter")
    })
}

const SENT: usize = 0;
const FAILED: usize = 1;
const DROPPED: usize = 2;
const DEDUPLICATED: usize = 3;

fn severity_index(severity: Severity) -> usize {
    severity as usize
}

/// One sink's `ws_alerts_total` series, looked up once, and its alerts in flight (queued or
/// being delivered), so that a shutdown that gives up on them still counts them.
struct SinkCounters {
    series: [[prometheus::IntCounter; 4]; 3],
    pending: [AtomicU64; 3],
}

impl SinkCounters {
    fn new(sink: &str) -> Arc<Self> {
        let series = Severity::ALL.map(|severity| {
            RESULTS
                .map(|result| alerts_total().with_label_values(&[severity.as_str(), sink, result]))
        });
        Arc::new(SinkCounters {
            series,
            pending: [const { AtomicU64::new(0) }; 3],
        })
    }

    fn count(&self, severity: Severity, result: usize) {
        self.series[severity_index(severity)][result].inc();
    }

    fn queued(&self, severity: Severity) {
        self.pending[severity_index(severity)].fetch_add(1, Ordering::AcqRel);
    }

    /// A queued alert's delivery ended: counted unless a shutdown already counted it dropped.
    fn settle(&self, severity: Severity, result: usize) {
        let pending = &self.pending[severity_index(severity)];
        if pending
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
            .is_ok()
        {
            self.count(severity, result);
        }
    }

    /// Counts every alert still in flight as dropped; returns how many.
    fn abandon(&self) -> u64 {
        let mut abandoned = 0;
        for severity in Severity::ALL {
            let n = self.pending[severity_index(severity)].swap(0, Ordering::AcqRel);
            self.series[severity_index(severity)][DROPPED].inc_by(n);
            abandoned += n;
        }
        abandoned
    }
}

/// What deduplication and the lifecycle go by. Handler alerts are keyed by static strings, so
/// a repeated handler error builds no string at all.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum AlertKey {
    /// Module, handler, error type.
    Handler(&'static str, &'static str, &'static str),
    /// `Alert::key()` of any other alert.
    Other(String),
}

enum Job {
    Deliver(Arc<Alert>, DeliveryKind),
    Flush(SyncSender<()>),
}

#[derive(Clone, Copy)]
enum DeliveryKind {
    Firing,
    StillFiring,
    Resolved,
}

struct SinkHandle {
    name: String,
    stateful: bool,
    jobs: SyncSender<Job>,
    bucket: Mutex<TokenBucket>,
    counters: Arc<SinkCounters>,
}

struct TokenBucket {
    tokens: f64,
    capacity: f64,
    per_second: f64,
    last: Instant,
}

impl TokenBucket {
    fn new(per_minute: u32) -> Self {
        let capacity = f64::from(per_minute.max(1));
        TokenBucket {
            tokens: capacity,
            capacity,
            per_second: capacity / 60.0,
            last: Instant::now(),
        }
    }

    fn take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.capacity);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// What the hub remembers of an alert key.
struct KeyState {
    /// The alert as it first fired in this episode (its `raised_at` is the episode's start).
    alert: Arc<Alert>,
    /// When it was last passed to the sinks (not deduplicated).
    last_delivered: Instant,
    /// When it was last raised, deduplicated or not.
    last_seen: Instant,
    /// When stateful sinks were last told it fires.
    last_sent_stateful: Instant,
}

/// The running hub. One per process, installed by `init()`.
pub(crate) struct Hub {
    sinks: Vec<SinkHandle>,
    policy: Policy,
    keys: Mutex<HashMap<AlertKey, KeyState>>,
    stop_ticker: Mutex<Option<SyncSender<()>>>,
}

static HUB: RwLock<Option<Arc<Hub>>> = RwLock::new(None);

impl Hub {
    /// Starts one thread per sink and the lifecycle ticker.
    pub(crate) fn start(sinks: Vec<Box<dyn AlertSink>>, policy: Policy) -> Arc<Hub> {
        let mut handles = Vec::with_capacity(sinks.len());
        for sink in sinks {
            let name = sink.name().to_owned();
            let stateful = sink.stateful();
            let (jobs, receiver) = mpsc::sync_channel(policy.queue_size);
            let attempts = policy.attempts.max(1);
            let counters = SinkCounters::new(&name);
            let for_thread = Arc::clone(&counters);
            let _ = std::thread::Builder::new()
                .name(format!("ws-observe-alert-{name}"))
                .spawn(move || deliver_loop(sink, receiver, attempts, &for_thread));
            handles.push(SinkHandle {
                name,
                stateful,
                jobs,
                bucket: Mutex::new(TokenBucket::new(policy.rate_per_minute)),
                counters,
            });
        }
        let hub = Arc::new(Hub {
            sinks: handles,
            policy,
            keys: Mutex::new(HashMap::new()),
            stop_ticker: Mutex::new(None),
        });
        let (stop, stopped) = mpsc::sync_channel(1);
        *hub.stop_ticker.lock().unwrap_or_else(|p| p.into_inner()) = Some(stop);
        let weak = Arc::downgrade(&hub);
        let tick = (hub.policy.resend_interval.min(hub.policy.resolve_after) / 4)
            .clamp(Duration::from_millis(50), Duration::from_secs(5));
        let _ = std::thread::Builder::new()
            .name("ws-observe-alert-lifecycle".into())
            .spawn(move || {
                loop {
                    match stopped.recv_timeout(tick) {
                        Err(RecvTimeoutError::Timeout) => match weak.upgrade() {
                            Some(hub) => hub.tick(Instant::now()),
                            None => return,
                        },
                        _ => return,
                    }
                }
            });
        hub
    }

    /// Makes this hub the one `raise` uses.
    pub(crate) fn install(hub: Arc<Hub>) {
        *HUB.write().unwrap_or_else(|p| p.into_inner()) = Some(hub);
    }

    pub(crate) fn raise(&self, alert: Alert) {
        let key = AlertKey::Other(alert.key());
        let severity = alert.severity;
        self.raise_keyed(key, severity, || alert);
    }

    /// Raises the alert `build` makes, building it only when it is not deduplicated.
    pub(crate) fn raise_keyed(
        &self,
        key: AlertKey,
        severity: Severity,
        build: impl FnOnce() -> Alert,
    ) {
        let now = Instant::now();
        let mut build = Some(build);
        let mut built: Option<Arc<Alert>> = None;
        let deduplicated = {
            let mut keys = self.keys.lock().unwrap_or_else(|p| p.into_inner());
            match keys.get_mut(&key) {
                Some(state)
                    if now.saturating_duration_since(state.last_delivered)
                        < self.policy.dedupe_window =>
                {
                    state.last_seen = now;
                    true
                }
                Some(state) => {
                    state.last_seen = now;
                    state.last_delivered = now;
                    false
                }
                None => {
                    let alert = built.insert(Arc::new(build.take().expect("built once")()));
                    keys.insert(
                        key,
                        KeyState {
                            alert: Arc::clone(alert),
                            last_delivered: now,
                            last_seen: now,
                            last_sent_stateful: now,
                        },
                    );
                    false
                }
            }
        };
        if deduplicated {
            for sink in &self.sinks {
                sink.counters.count(severity, DEDUPLICATED);
            }
            return;
        }
        let alert = match (built, build) {
            (Some(alert), _) => alert,
            (None, Some(build)) => Arc::new(build()),
            (None, None) => unreachable!("the alert is built at most once"),
        };
        for sink in &self.sinks {
            let allowed = sink
                .bucket
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take(now);
            if !allowed {
                sink.counters.count(severity, DROPPED);
                continue;
            }
            // Counted as in flight before it can be delivered; the sink's thread settles it as
            // `sent` or `failed`, or a shutdown that gives up on it as `dropped`.
            sink.counters.queued(severity);
            let job = Job::Deliver(Arc::clone(&alert), DeliveryKind::Firing);
            if sink.jobs.try_send(job).is_err() {
                sink.counters.settle(severity, DROPPED);
            }
        }
    }

    /// Re-sends firing alerts to stateful sinks, resolves quiet ones, forgets old keys.
    fn tick(&self, now: Instant) {
        let mut keys = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        let mut resolved = Vec::new();
        let mut still_firing = Vec::new();
        keys.retain(|_, state| {
            if now.saturating_duration_since(state.last_seen) >= self.policy.resolve_after {
                resolved.push(Arc::clone(&state.alert));
                return false;
            }
            if now.saturating_duration_since(state.last_sent_stateful)
                >= self.policy.resend_interval
            {
                state.last_sent_stateful = now;
                still_firing.push(Arc::clone(&state.alert));
            }
            true
        });
        drop(keys);
        for sink in self.sinks.iter().filter(|s| s.stateful) {
            for alert in &still_firing {
                let _ = sink
                    .jobs
                    .try_send(Job::Deliver(Arc::clone(alert), DeliveryKind::StillFiring));
            }
            for alert in &resolved {
                let _ = sink
                    .jobs
                    .try_send(Job::Deliver(Arc::clone(alert), DeliveryKind::Resolved));
            }
        }
    }

    /// Delivers what is queued, waiting `timeout` at most in all. Firing alerts are not
    /// resolved: nothing proved them fixed, they expire by their own end time.
    pub(crate) fn flush(&self, timeout: Duration) {
        if let Some(stop) = self
            .stop_ticker
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            let _ = stop.try_send(());
        }
        let deadline = Instant::now() + timeout;
        let mut acks = Vec::new();
        for sink in &self.sinks {
            let (ack, done) = mpsc::sync_channel(1);
            let mut job = Job::Flush(ack);
            loop {
                match sink.jobs.try_send(job) {
                    Ok(()) => {
                        acks.push(done);
                        break;
                    }
                    Err(TrySendError::Full(back)) if Instant::now() < deadline => {
                        job = back;
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    Err(_) => break,
                }
            }
        }
        for done in acks {
            let _ = done.recv_timeout(deadline.saturating_duration_since(Instant::now()));
        }
        // What did not make it in time is dropped, and counted so.
        for sink in &self.sinks {
            let abandoned = sink.counters.abandon();
            if abandoned > 0 {
                tracing::warn!(
                    target: "ws_observe::alert",
                    sink = %sink.name,
                    abandoned,
                    "shutdown gave up on alerts still queued; counted as dropped"
                );
            }
        }
    }
}

/// The hub `raise` uses (the one `init()` installed).
pub(crate) fn current() -> Option<Arc<Hub>> {
    HUB.read().unwrap_or_else(|p| p.into_inner()).clone()
}

fn deliver_loop(
    sink: Box<dyn AlertSink>,
    jobs: Receiver<Job>,
    attempts: u32,
    counters: &SinkCounters,
) {
    // A sink's own HTTP calls must not be traced into the export pipeline.
    #[cfg(feature = "otlp")]
    let _suppressed = opentelemetry::Context::enter_telemetry_suppressed_scope();
    // A panic is logged once per sink; each one still counts as a failed delivery.
    let mut panicked = false;
    while let Ok(job) = jobs.recv() {
        let (alert, kind) = match job {
            Job::Deliver(alert, kind) => (alert, kind),
            Job::Flush(ack) => {
                let _ = ack.send(());
                continue;
            }
        };
        let notification = match kind {
            DeliveryKind::Firing => Notification::Firing(&alert),
            DeliveryKind::StillFiring => Notification::StillFiring(&alert),
            DeliveryKind::Resolved => Notification::Resolved(&alert),
        };
        let mut outcome = Err(String::new());
        let mut this_panicked = false;
        for attempt in 0..attempts {
            if attempt > 0 {
                std::thread::sleep(Duration::from_millis(200 << (attempt - 1).min(4)));
            }
            // A sink of the user's may panic: the delivery fails, the sink's thread lives on.
            match std::panic::catch_unwind(AssertUnwindSafe(|| sink.notify(&notification))) {
                Ok(Ok(())) => {
                    outcome = Ok(());
                    break;
                }
                Ok(Err(error)) => outcome = Err(error.to_string()),
                Err(_) => {
                    if !panicked {
                        panicked = true;
                        tracing::error!(
                            target: "ws_observe::alert",
                            sink = sink.name(),
                            "alert sink panicked; its deliveries that panic count as failed"
                        );
                    }
                    outcome = Err("the sink panicked".to_owned());
                    this_panicked = true;
                    break;
                }
            }
        }
        if let DeliveryKind::Firing = kind {
            match &outcome {
                Ok(()) => counters.settle(alert.severity, SENT),
                Err(_) => counters.settle(alert.severity, FAILED),
            }
        }
        if let Err(error) = outcome
            && !this_panicked
        {
            tracing::warn!(target: "ws_observe::alert", sink = sink.name(), %error, summary = %alert.summary, "alert delivery failed");
        }
    }
}
