//! What `/metrics` serves: one or more registries rendered as one page.

use std::collections::HashSet;

use prometheus::Registry;
use prometheus::proto::MetricFamily;

/// Registries rendered together in the Prometheus text format. A family whose name an earlier
/// registry already served is skipped, so a collector registered in two of them (or the
/// process metrics both register) is served once.
///
/// ```
/// use ws_observe_runtime::metrics::Exposition;
/// let mine = prometheus::Registry::new();
/// let jobs = prometheus::IntCounter::new("my_jobs_total", "Jobs done.").unwrap();
/// mine.register(Box::new(jobs.clone())).unwrap();
/// jobs.inc();
/// let page = Exposition::new([mine]).render();
/// assert!(page.contains("my_jobs_total 1"));
/// ```
#[derive(Clone, Default)]
pub struct Exposition {
    registries: Vec<Registry>,
}

impl Exposition {
    /// Serves `registries`, the first one's families first.
    pub fn new(registries: impl IntoIterator<Item = Registry>) -> Self {
        Exposition {
            registries: registries.into_iter().collect(),
        }
    }

    /// Every family of every registry, each name once, sorted by name as `Registry::gather`
    /// sorts them.
    pub fn gather(&self) -> Vec<MetricFamily> {
        let mut seen = HashSet::new();
        let mut families: Vec<MetricFamily> = self
            .registries
            .iter()
            .flat_map(Registry::gather)
            .filter(|family| seen.insert(family.name().to_owned()))
            .collect();
        families.sort_by(|a, b| a.name().cmp(b.name()));
        families
    }

    /// The text format page.
    pub fn render(&self) -> String {
        prometheus::TextEncoder::new()
            .encode_to_string(&self.gather())
            .unwrap_or_else(|e| format!("# ws-observe: failed to encode metrics: {e}\n"))
    }
}

impl std::fmt::Debug for Exposition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exposition")
            .field("registries", &self.registries.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_family_in_two_registries_is_served_once() {
        let counter = prometheus::IntCounter::new("shared_total", "Shared.").unwrap();
        let (first, second) = (Registry::new(), Registry::new());
        first.register(Box::new(counter.clone())).unwrap();
        second.register(Box::new(counter.clone())).unwrap();
        let only_second = prometheus::IntGauge::new("second_only", "Second.").unwrap();
        second.register(Box::new(only_second)).unwrap();
        counter.inc_by(3);
        let page = Exposition::new([first, second]).render();
        assert_eq!(
            page.matches("# TYPE shared_total counter").count(),
            1,
            "{page}"
        );
        assert_eq!(page.matches("\nshared_total 3").count(), 1, "{page}");
        assert!(page.contains("second_only 0"), "{page}");
    }
}
