//! Every metric name and help text of ws-observe, in one place: the names are a public
//! contract (dashboards and alerting rules depend on them).

/// Finished handler calls, by `handler`, `module`, `outcome`.
pub const HANDLER_CALLS: &str = "ws_handler_calls_total";
/// Handler call duration histogram, by `handler`, `module`.
pub const HANDLER_DURATION: &str = "ws_handler_duration_seconds";
/// Handler calls currently running, by `handler`, `module`.
pub const HANDLER_IN_FLIGHT: &str = "ws_handler_in_flight";
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
pub(crate) const BUILD_INFO_HELP: &str = "Always 1; the version label is the ws-observe version.";
pub(crate) const SPANS_DROPPED_HELP: &str =
    "Spans dropped because the export queue was full or the exporter failed.";
pub(crate) const LOG_LINES_DROPPED_HELP: &str =
    "Log lines dropped because the non-blocking log writer's queue was full.";

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
}
