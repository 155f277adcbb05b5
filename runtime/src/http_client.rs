//! The blocking HTTP client of the alert sinks and the OTLP exporter.

use std::time::Duration;

/// A blocking `reqwest` client with `timeout`, built on a thread of its own. The blocking client
/// starts a tokio runtime of its own, and creating (or, on failure, dropping) one on a thread
/// that is already inside a runtime panics, which is exactly where `init()` runs under
/// `#[tokio::main]`.
pub(crate) fn blocking_client(
    timeout: Duration,
) -> Result<reqwest::blocking::Client, reqwest::Error> {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                reqwest::blocking::Client::builder()
                    .timeout(timeout)
                    .build()
            })
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}
