//! The blocking HTTP client of the alert sinks and the OTLP exporter.

use std::time::Duration;

/// A failed request as a sink error: the origin it went to and what failed, with the causes,
/// but never the URL's path or query (a Slack webhook's path is its secret) nor user info.
#[cfg(any(feature = "alert-http", feature = "sentry"))]
pub(crate) fn request_error(url: &str, error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut text = format!("{}: {error}", crate::env_value::url_origin(url));
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

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
