//! The OTLP/gRPC transport (the `otlp-grpc` feature): tonic, driven by a current-thread tokio
//! runtime of the export thread's own.

use opentelemetry_otlp::{WithExportConfig, WithTonicConfig};

use super::TraceExport;
use super::processor::Transport;

/// The gRPC exporter for `settings`, sending exactly the configured headers (the names in
/// `from_environment`, which opentelemetry-otlp adds from the process environment, removed).
pub(super) fn exporter(
    settings: &TraceExport,
    from_environment: Vec<String>,
) -> Result<Transport, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the gRPC export runtime: {e}"))?;
    let mut metadata = tonic::metadata::MetadataMap::new();
    for (key, value) in &settings.headers {
        let key = tonic::metadata::MetadataKey::from_bytes(key.as_bytes())
            .map_err(|_| format!("invalid gRPC header name `{key}`"))?;
        let value = value
            .parse()
            .map_err(|_| format!("invalid gRPC header value for `{key}`"))?;
        metadata.insert(key, value);
    }
    // The channel binds to the runtime current while it is built.
    let exporter = runtime.block_on(async {
        opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(&settings.endpoint)
            .with_timeout(settings.timeout)
            // Not `with_metadata`: opentelemetry-otlp merges the process
            // environment's OTEL_EXPORTER_OTLP_*HEADERS over it. The interceptor
            // runs last and sets exactly the configured headers.
            .with_interceptor(move |mut request: tonic::Request<()>| {
                let sent = request.metadata_mut();
                for name in &from_environment {
                    sent.remove(name.as_str());
                }
                for (key, value) in metadata.iter().filter_map(|kv| match kv {
                    tonic::metadata::KeyAndValueRef::Ascii(k, v) => Some((k, v)),
                    tonic::metadata::KeyAndValueRef::Binary(..) => None,
                }) {
                    sent.insert(key.clone(), value.clone());
                }
                Ok(request)
            })
            .build()
    });
    let exporter = exporter.map_err(|e| format!("cannot build the OTLP/gRPC exporter: {e}"))?;
    Ok(Transport::Grpc(exporter, runtime))
}
