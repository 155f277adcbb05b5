//! The WebSocket metrics: process-wide cells updated by every `ObservedStream`, and the
//! collector that exposes them. Every series exists from the start (zeros included), so rates
//! and ratios are defined before the first connection.

use std::sync::atomic::{AtomicU64, Ordering};

use prometheus::core::{Collector, Desc};
use prometheus::proto::{MetricFamily, MetricType};
use tokio_tungstenite::tungstenite::Message;

use crate::message::{KINDS, kind_and_size};

use super::close_reason::CloseReason;
use crate::metrics::cells::HistogramSnapshot;
use crate::metrics::cells::{
    AtomicHistogram, counter, family, gauge, histogram, label, scaled_bounds,
};
use crate::metrics::names::{self, labels};
use crate::metrics::stripes::{self, Padded, STRIPES};

/// Connection duration bounds, seconds: from a page view to a day-long session.
const CONNECTION_SECONDS: [f64; 12] = [
    0.1, 1.0, 5.0, 15.0, 30.0, 60.0, 300.0, 900.0, 1800.0, 3600.0, 14400.0, 86400.0,
];
/// Payload size bounds, bytes.
const SIZE_BYTES: [f64; 11] = [
    16.0, 64.0, 256.0, 1024.0, 4096.0, 16384.0, 65536.0, 262144.0, 1048576.0, 4194304.0, 16777216.0,
];
/// Ping round-trip bounds, seconds.
const RTT_SECONDS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];
const CONNECTION_NANOS: [u64; 12] = scaled_bounds(CONNECTION_SECONDS, 1e9);
const SIZE_BOUNDS: [u64; 11] = scaled_bounds(SIZE_BYTES, 1.0);
const RTT_NANOS: [u64; 12] = scaled_bounds(RTT_SECONDS, 1e9);

/// Message direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    Received = 0,
    Sent = 1,
}

const DIRECTIONS: [(Direction, &str); 2] =
    [(Direction::Received, "received"), (Direction::Sent, "sent")];
pub(crate) struct WsCells {
    opened: AtomicU64,
    closed: [AtomicU64; CloseReason::ALL.len()],
    duration_nanos: AtomicHistogram<12>,
    /// Per message: striped (see `metrics::stripes`).
    messages: [Padded<MessageCells>; STRIPES],
    ping_rtt_nanos: AtomicHistogram<12>,
    handshake_failures: AtomicU64,
}

struct MessageCells {
    counts: [[AtomicU64; 5]; 2],
    sizes: [AtomicHistogram<11>; 2],
}

pub(crate) static WS: WsCells = WsCells {
    opened: AtomicU64::new(0),
    closed: [const { AtomicU64::new(0) }; CloseReason::ALL.len()],
    duration_nanos: AtomicHistogram::new(&CONNECTION_NANOS),
    messages: [const {
        Padded(MessageCells {
            counts: [const { [const { AtomicU64::new(0) }; 5] }; 2],
            sizes: [const { AtomicHistogram::new(&SIZE_BOUNDS) }; 2],
        })
    }; STRIPES],
    ping_rtt_nanos: AtomicHistogram::new(&RTT_NANOS),
    handshake_failures: AtomicU64::new(0),
};

impl WsCells {
    pub(crate) fn opened(&self) {
        self.opened.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn closed(&self, reason: CloseReason, lasted_nanos: u64) {
        self.duration_nanos.observe(lasted_nanos);
        self.closed[reason.index()].fetch_add(1, Ordering::Release);
    }

    #[inline]
    pub(crate) fn message(&self, direction: Direction, message: &Message) {
        let (kind, size) = kind_and_size(message);
        let stripe = stripes::current();
        let cells = &self.messages[stripe.index()].0;
        stripe.add(&cells.counts[direction as usize][kind], 1);
        cells.sizes[direction as usize].observe_on(stripe, size as u64);
    }

    pub(crate) fn ping_rtt(&self, nanos: u64) {
        self.ping_rtt_nanos.observe(nanos);
    }

    pub(crate) fn handshake_failed(&self) {
        self.handshake_failures.fetch_add(1, Ordering::Relaxed);
    }
}

/// The collector behind every `ws_*` connection and message metric.
pub(crate) struct WsCollector {
    descs: Vec<Desc>,
}

impl WsCollector {
    pub(crate) fn new() -> Self {
        let desc = |name: &str, help: &str, variable: &[&str]| {
            Desc::new(
                name.to_owned(),
                help.to_owned(),
                variable.iter().map(|l| (*l).to_owned()).collect(),
                Default::default(),
            )
            .expect("static metric descriptions are valid")
        };
        WsCollector {
            descs: vec![
                desc(
                    names::CONNECTIONS_OPENED,
                    names::CONNECTIONS_OPENED_HELP,
                    &[],
                ),
                desc(
                    names::CONNECTIONS_ACTIVE,
                    names::CONNECTIONS_ACTIVE_HELP,
                    &[],
                ),
                desc(
                    names::CONNECTION_DURATION,
                    names::CONNECTION_DURATION_HELP,
                    &[],
                ),
                desc(
                    names::CONNECTIONS_CLOSED,
                    names::CONNECTIONS_CLOSED_HELP,
                    &[labels::REASON],
                ),
                desc(
                    names::MESSAGES,
                    names::MESSAGES_HELP,
                    &[labels::DIRECTION, labels::KIND],
                ),
                desc(
                    names::MESSAGE_SIZE,
                    names::MESSAGE_SIZE_HELP,
                    &[labels::DIRECTION],
                ),
                desc(names::PING_RTT, names::PING_RTT_HELP, &[]),
                desc(
                    names::HANDSHAKE_FAILURES,
                    names::HANDSHAKE_FAILURES_HELP,
                    &[],
                ),
            ],
        }
    }
}

impl Collector for WsCollector {
    fn desc(&self) -> Vec<&Desc> {
        self.descs.iter().collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let ws = &WS;
        // Closed before opened: active = opened − closed can then never go negative.
        let closed: Vec<u64> = ws
            .closed
            .iter()
            .map(|c| c.load(Ordering::Acquire))
            .collect();
        let opened = ws.opened.load(Ordering::Relaxed);
        let active = opened.saturating_sub(closed.iter().sum());

        let closed_series = CloseReason::ALL
            .iter()
            .zip(&closed)
            .map(|(reason, &n)| counter(vec![label(labels::REASON, reason.as_str())], n))
            .collect();
        let mut messages = Vec::new();
        let mut sizes = Vec::new();
        for (direction, name) in DIRECTIONS {
            for (kind, kind_name) in KINDS.iter().enumerate() {
                let n = ws
                    .messages
                    .iter()
                    .map(|s| s.0.counts[direction as usize][kind].load(Ordering::Relaxed))
                    .sum();
                messages.push(counter(
                    vec![
                        label(labels::DIRECTION, name),
                        label(labels::KIND, kind_name),
                    ],
                    n,
                ));
            }
            let mut snapshot = HistogramSnapshot::default();
            for stripe in &ws.messages {
                snapshot.merge(&stripe.0.sizes[direction as usize].snapshot());
            }
            sizes.push(histogram(
                vec![label(labels::DIRECTION, name)],
                &snapshot,
                &SIZE_BYTES,
                1.0,
            ));
        }
        vec![
            family(
                names::CONNECTIONS_OPENED,
                names::CONNECTIONS_OPENED_HELP,
                MetricType::COUNTER,
                vec![counter(vec![], opened)],
            ),
            family(
                names::CONNECTIONS_ACTIVE,
                names::CONNECTIONS_ACTIVE_HELP,
                MetricType::GAUGE,
                vec![gauge(vec![], active as f64)],
            ),
            family(
                names::CONNECTION_DURATION,
                names::CONNECTION_DURATION_HELP,
                MetricType::HISTOGRAM,
                vec![histogram(
                    vec![],
                    &ws.duration_nanos.snapshot(),
                    &CONNECTION_SECONDS,
                    1e-9,
                )],
            ),
            family(
                names::CONNECTIONS_CLOSED,
                names::CONNECTIONS_CLOSED_HELP,
                MetricType::COUNTER,
                closed_series,
            ),
            family(
                names::MESSAGES,
                names::MESSAGES_HELP,
                MetricType::COUNTER,
                messages,
            ),
            family(
                names::MESSAGE_SIZE,
                names::MESSAGE_SIZE_HELP,
                MetricType::HISTOGRAM,
                sizes,
            ),
            family(
                names::PING_RTT,
                names::PING_RTT_HELP,
                MetricType::HISTOGRAM,
                vec![histogram(
                    vec![],
                    &ws.ping_rtt_nanos.snapshot(),
                    &RTT_SECONDS,
                    1e-9,
                )],
            ),
            family(
                names::HANDSHAKE_FAILURES,
                names::HANDSHAKE_FAILURES_HELP,
                MetricType::COUNTER,
                vec![counter(
                    vec![],
                    ws.handshake_failures.load(Ordering::Relaxed),
                )],
            ),
        ]
    }
}
