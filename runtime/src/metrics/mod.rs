//! The Prometheus side: the process-wide [`registry`], the metric names ([`names`]) and the
//! `/metrics` HTTP listener ([`MetricsServer`]).

pub(crate) mod cells;
pub(crate) mod clock;
mod handler_collector;
mod listener;
pub mod names;
pub(crate) mod stripes;

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use prometheus::core::{Collector, Desc};
use prometheus::proto::{MetricFamily, MetricType};
use prometheus::{IntGauge, Opts, Registry};

pub use cells::HistogramSnapshot;
pub use listener::{MetricsServer, ServeError};

/// The registry that `/metrics` serves. Register your own metrics here and they appear next
/// to ws-observe's:
///
/// ```
/// let jobs = prometheus::IntCounter::new("my_app_jobs_total", "Jobs done.").unwrap();
/// ws_observe_runtime::registry().register(Box::new(jobs.clone())).unwrap();
/// jobs.inc();
/// assert!(ws_observe_runtime::metrics::render().contains("my_app_jobs_total 1"));
/// ```
pub fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let registry = Registry::new();
        register_builtin(&registry);
        registry
    })
}

fn register_builtin(registry: &Registry) {
    let must = |result: prometheus::Result<()>| result.expect("built-in metrics register once");
    must(registry.register(Box::new(handler_collector::HandlerCollector::new())));

    let build_info = IntGauge::with_opts(
        Opts::new(names::BUILD_INFO, names::BUILD_INFO_HELP)
            .const_label(names::labels::VERSION, env!("CARGO_PKG_VERSION")),
    )
    .expect("valid build_info");
    build_info.set(1);
    must(registry.register(Box::new(build_info)));
    must(registry.register(Box::new(FnCounter::new(
        names::SPANS_DROPPED,
        names::SPANS_DROPPED_HELP,
        || SPANS_DROPPED.load(Ordering::Relaxed),
    ))));
    must(registry.register(Box::new(FnCounter::new(
        names::LOG_LINES_DROPPED,
        names::LOG_LINES_DROPPED_HELP,
        crate::logs::dropped_lines,
    ))));

    must(registry.register(Box::new(crate::ws::metrics::WsCollector::new())));

    #[cfg(target_os = "linux")]
    must(registry.register(Box::new(
        prometheus::process_collector::ProcessCollector::for_self(),
    )));
}

/// A counter whose value is read from elsewhere at scrape time (an atomic of ours, or the
/// drop counter of a writer we do not own).
struct FnCounter {
    desc: Desc,
    read: fn() -> u64,
}

impl FnCounter {
    fn new(name: &str, help: &str, read: fn() -> u64) -> Self {
        let desc = Desc::new(
            name.to_owned(),
            help.to_owned(),
            Vec::new(),
            Default::default(),
        )
        .expect("static metric descriptions are valid");
        FnCounter { desc, read }
    }
}

impl Collector for FnCounter {
    fn desc(&self) -> Vec<&Desc> {
        vec![&self.desc]
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let value = cells::counter(Vec::new(), (self.read)());
        vec![cells::family(
            &self.desc.fq_name,
            &self.desc.help,
            MetricType::COUNTER,
            vec![value],
        )]
    }
}

/// Spans that could not be exported (queue full or exporter failure); incremented by the
/// span exporter.
pub(crate) static SPANS_DROPPED: AtomicU64 = AtomicU64::new(0);

/// Renders the [`registry`] in the Prometheus text format, as `/metrics` serves it.
///
/// ```
/// assert!(ws_observe_runtime::metrics::render().contains("ws_observe_build_info"));
/// ```
pub fn render() -> String {
    let families = registry().gather();
    prometheus::TextEncoder::new()
        .encode_to_string(&families)
        .unwrap_or_else(|e| format!("# ws-observe: failed to encode metrics: {e}\n"))
}
