//! The registry `/metrics` serves: every subsystem's collectors, registered once here, plus
//! what your code registers on it or on the `prometheus` crate's default registry.

use std::sync::OnceLock;

use prometheus::{IntGauge, Opts, Registry};

use crate::metrics::{Exposition, names};

/// ws-observe's registry, served on `/metrics`. Register your own metrics here, or on the
/// `prometheus` crate's default registry (`prometheus::register_int_counter!` and friends):
/// both appear next to ws-observe's, each family once.
///
/// ```
/// let jobs = prometheus::IntCounter::new("my_app_jobs_total", "Jobs done.").unwrap();
/// ws_observe_runtime::registry().register(Box::new(jobs.clone())).unwrap();
/// jobs.inc();
/// assert!(ws_observe_runtime::render().contains("my_app_jobs_total 1"));
/// ```
pub fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let registry = Registry::new();
        register_builtin(&registry);
        registry
    })
}

/// Every subsystem registers its own collectors; the composition only says which.
fn register_builtin(registry: &Registry) {
    let must = |result: prometheus::Result<()>| result.expect("built-in metrics register once");
    must(crate::handler::register_metrics(registry));
    must(crate::ws::register_metrics(registry));
    must(crate::alert::register_metrics(registry));
    must(crate::logs::register_metrics(registry));
    #[cfg(feature = "otlp")]
    must(crate::otlp::register_metrics(registry));
    // The series exists in every build, so dashboards and alerts need no feature switch.
    #[cfg(not(feature = "otlp"))]
    must(registry.register(Box::new(crate::metrics::FnCounter::new(
        names::SPANS_DROPPED,
        names::SPANS_DROPPED_HELP,
        || 0,
    ))));

    let build_info = IntGauge::with_opts(
        Opts::new(names::BUILD_INFO, names::BUILD_INFO_HELP)
            .const_label(names::labels::VERSION, env!("CARGO_PKG_VERSION")),
    )
    .expect("valid build_info");
    build_info.set(1);
    must(registry.register(Box::new(build_info)));

    #[cfg(all(target_os = "linux", feature = "process"))]
    must(registry.register(Box::new(
        prometheus::process_collector::ProcessCollector::for_self(),
    )));
}

/// What `/metrics` serves: [`registry()`] first, then the `prometheus` crate's default
/// registry (whose process metrics duplicate ours and are skipped).
pub fn exposition() -> Exposition {
    Exposition::new([registry().clone(), prometheus::default_registry().clone()])
}

/// Renders what `/metrics` serves, in the Prometheus text format.
///
/// ```
/// assert!(ws_observe_runtime::render().contains("ws_observe_build_info"));
/// ```
pub fn render() -> String {
    exposition().render()
}
