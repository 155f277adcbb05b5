//! Every metric name and help text of ws-observe, in one place: the names are a public
//! contract (dashboards and alerting rules depend on them).

/// Finished handler calls, by `handler`, `module`, `outcome`.
pub const HANDLER_CALLS: &str = "ws_handler_calls_total";
/// Handler call duration histogram, by `handler`, `module`.
pub const HANDLER_DURATION: &str = "ws_handler_duration_seconds";
/// Handler calls currently running, by `handler`, `module`.
pub const HANDLER_IN_FLIGHT: &str = "ws_handler_in_flight";
/// WebSocket connections accepted (or wrapped) so far.
pub const CONNECTIONS_OPENED: &str = "ws_connections_opened_total";
/// WebSocket connections open now.
pub const CONNECTIONS_ACTIVE: &str = "ws_connections_active";
/// How long connections lasted, histogram.
pub const CONNECTION_DURATION: &str = "ws_connection_duration_seconds";
/// Connections that ended, by `reason`.
pub const CONNECTIONS_CLOSED: &str = "ws_connections_closed_total";
/// Messages by `direction` and `kind`.
pub const MESSAGES: &str = "ws_messages_total";
/// Message payload sizes by `direction`, histogram.
pub const MESSAGE_SIZE: &str = "ws_message_size_bytes";
/// Keepalive ping round trips, histogram.
pub const PING_RTT: &str = "ws_ping_rtt_seconds";
/// Upgrade requests that failed the WebSocket handshake.
pub const HANDSHAKE_FAILURES: &str = "ws_handshake_failures_total";
/// Alerts per sink by `severity`, `sink`, `result` (sent, failed, dropped, deduplicated).
pub const ALERTS: &str = "ws_alerts_total";
/// Always 1, with the `version` label.
pub const BUILD_INFO: &str = "ws_observe_build_info";
/// Spans dropped because the export queue was full.
pub const SPANS_DROPPED: &str = "ws_observe_spans_dropped_total";
/// Log lines dropped because the log writer's queue was full.
pub const LOG_LINES_DROPPED: &str = "ws_observe_log_lines_dropped_total";

pub(crate) const HANDLER_CALLS_HELP: &str =
    "Handler calls that finished, by outcome (ok, error, panic, cancelled).";
pub(crate) const HANDLER_DURATION_HELP: &str =
    "Time from the start of a handler call to its end, whatever the outcome.";
pub(crate) const HANDLER_IN_FLIGHT_HELP: &str = "Handler calls started and not finished yet.";
pub(crate) const CONNECTIONS_OPENED_HELP: &str =
    "WebSocket connections opened (handshake completed).";
pub(crate) const CONNECTIONS_ACTIVE_HELP: &str = "WebSocket connections open now.";
pub(crate) const CONNECTION_DURATION_HELP: &str =
    "Time from a WebSocket connection's handshake to its end.";
pub(crate) const CONNECTIONS_CLOSED_HELP: &str =
    "WebSocket connections that ended, by reason (close code class, abnormal, timeout, error).";
pub(crate) const MESSAGES_HELP: &str =
    "WebSocket messages received from peers and passed to the sink, by kind.";
pub(crate) const MESSAGE_SIZE_HELP: &str = "WebSocket message payload sizes in bytes.";
pub(crate) const PING_RTT_HELP: &str =
    "Round trip of keepalive pings, from ping sent to pong read.";
pub(crate) const HANDSHAKE_FAILURES_HELP: &str =
    "Connections that failed the WebSocket handshake (not counted as connections).";
pub(crate) const BUILD_INFO_HELP: &str = "Always 1; the version label is the ws-observe version.";
pub(crate) const SPANS_DROPPED_HELP: &str =
    "Spans dropped because the export queue was full or the exporter failed.";
pub(crate) const LOG_LINES_DROPPED_HELP: &str =
    "Log lines dropped: a writer's queue was full, or the disk refused a log file line.";

/// Label names.
pub mod labels {
    /// The handler's name.
    pub const HANDLER: &str = "handler";
    /// The handler's module path.
    pub const MODULE: &str = "module";
    /// How a call ended.
    pub const OUTCOME: &str = "outcome";
    /// The crate version.
    pub const VERSION: &str = "version";
    /// Why a connection ended.
    pub const REASON: &str = "reason";
    /// `received` or `sent`.
    pub const DIRECTION: &str = "direction";
    /// `text`, `binary`, `ping`, `pong`, `close`.
    pub const KIND: &str = "kind";
}
