//! The span processor: a bounded queue in front of one export thread.
//!
//! `on_end` (called when a span closes, on the handler's thread) never blocks: it puts the span
//! in a queue, or drops it and counts it in `ws_observe_spans_dropped_total` when the queue is
//! full. The export thread owns the exporter and, for gRPC, a tokio runtime of its own, so
//! export works the same from a synchronous `main`, a current-thread runtime and a
//! multi-thread one (the SDK's `BatchSpanProcessor` deadlocks with gRPC on a current-thread
//! runtime and panics without one). Spans whose export fails are counted as dropped too.

use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::time::{Duration, Instant};

use opentelemetry::Context;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{Span, SpanData, SpanExporter, SpanProcessor};

use super::SPANS_DROPPED;
use super::settings::{Protocol, TraceExport};

// Spans travel unboxed on purpose: the channel's slots are preallocated, so queueing a span
// costs no allocation, where a `Box` would cost one per span.
#[allow(clippy::large_enum_variant)]
enum Command {
    Span(SpanData),
    Resource(Resource),
    Flush(mpsc::SyncSender<()>),
    Shutdown(mpsc::SyncSender<()>),
}

/// See the module docs.
pub(crate) struct QueueProcessor {
    /// Bounded and preallocated (`sync_channel`): queueing a span allocates nothing.
    commands: SyncSender<Command>,
}

impl fmt::Debug for QueueProcessor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueueProcessor").finish_non_exhaustive()
    }
}

fn drop_spans(count: usize) {
    SPANS_DROPPED.fetch_add(count as u64, Ordering::Relaxed);
}

impl QueueProcessor {
    /// Starts the export thread; fails if the exporter cannot be built from `settings`.
    pub(crate) fn start(settings: &TraceExport) -> Result<Self, String> {
        let (commands, receiver) = mpsc::sync_channel(settings.max_queue_size);
        let (ready_tx, ready_rx) = mpsc::sync_channel(1);
        let worker = Worker::new(settings, receiver);
        std::thread::Builder::new()
            .name("ws-observe-otlp".into())
            .spawn(move || worker.run(ready_tx))
            .map_err(|e| format!("cannot start the span export thread: {e}"))?;
        ready_rx
            .recv()
            .map_err(|_| "the span export thread stopped while starting".to_owned())??;
        Ok(QueueProcessor { commands })
    }

    /// Sends a control command and waits for its acknowledgement, `timeout` in all: a full
    /// queue behind a hanging export must not hold the caller past it.
    fn request(
        &self,
        make: impl FnOnce(mpsc::SyncSender<()>) -> Command,
        timeout: Duration,
    ) -> OTelSdkResult {
        let deadline = Instant::now() + timeout;
        let (ack_tx, ack_rx) = mpsc::sync_channel(1);
        let mut command = make(ack_tx);
        loop {
            match self.commands.try_send(command) {
                Ok(()) => break,
                Err(TrySendError::Disconnected(_)) => return Err(OTelSdkError::AlreadyShutdown),
                Err(TrySendError::Full(back)) => {
                    if Instant::now() >= deadline {
                        return Err(OTelSdkError::Timeout(timeout));
                    }
                    command = back;
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        ack_rx
            .recv_timeout(left)
            .map_err(|_| OTelSdkError::Timeout(timeout))
    }
}

impl SpanProcessor for QueueProcessor {
    fn on_start(&self, _span: &mut Span, _cx: &Context) {}

    fn on_end(&self, span: SpanData) {
        if !span.span_context.is_sampled() {
            return;
        }
        if self.commands.try_send(Command::Span(span)).is_err() {
            drop_spans(1); // queue full, or the export thread is gone
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.request(Command::Flush, Duration::from_secs(5))
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.request(Command::Shutdown, timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        // `SpanData` carries no resource: the exporter must be told. Called once, while the
        // provider is built and the queue is empty.
        let _ = self.commands.try_send(Command::Resource(resource.clone()));
    }
}

/// The export thread's state.
struct Worker {
    settings: TraceExport,
    commands: Receiver<Command>,
    batch: Vec<SpanData>,
    last_failure_logged: Option<Instant>,
}

/// The exporter and what drives its futures: gRPC (tonic) needs a tokio runtime; the blocking
/// HTTP client must not run inside one.
pub(super) enum Transport {
    #[cfg(feature = "otlp-grpc")]
    Grpc(opentelemetry_otlp::SpanExporter, tokio::runtime::Runtime),
    Http(opentelemetry_otlp::SpanExporter),
}

impl Transport {
    fn exporter(&mut self) -> &mut opentelemetry_otlp::SpanExporter {
        match self {
            #[cfg(feature = "otlp-grpc")]
            Transport::Grpc(exporter, _) => exporter,
            Transport::Http(exporter) => exporter,
        }
    }
}

impl Worker {
    fn new(settings: &TraceExport, commands: Receiver<Command>) -> Self {
        Worker {
            settings: settings.clone(),
            commands,
            batch: Vec::new(),
            last_failure_logged: None,
        }
    }

    fn build(&self) -> Result<Transport, String> {
        use opentelemetry_otlp::{WithExportConfig, WithHttpConfig};
        let settings = &self.settings;
        match settings.protocol {
            #[cfg(feature = "otlp-grpc")]
            Protocol::Grpc => super::grpc::exporter(settings, environment_header_names()),
            // Refused by the settings already; kept so the match stays exhaustive.
            #[cfg(not(feature = "otlp-grpc"))]
            Protocol::Grpc => Err("OTLP/gRPC needs ws-observe's `otlp-grpc` feature".into()),
            Protocol::HttpProtobuf => opentelemetry_otlp::SpanExporter::builder()
                .with_http()
                .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
                .with_endpoint(&settings.endpoint)
                .with_timeout(settings.timeout)
                .with_http_client(ConfiguredHeaders::new(settings)?)
                .build()
                .map(Transport::Http)
                .map_err(|e| format!("cannot build the OTLP/HTTP exporter: {e}")),
        }
    }

    fn run(mut self, ready: mpsc::SyncSender<Result<(), String>>) {
        // Whatever this thread does (HTTP client, gRPC channel) must not itself be traced and
        // exported: that would feed back into the queue.
        let _suppressed = Context::enter_telemetry_suppressed_scope();
        let mut transport = match self.build() {
            Ok(transport) => {
                let _ = ready.send(Ok(()));
                transport
            }
            Err(error) => {
                let _ = ready.send(Err(error));
                return;
            }
        };
        let mut deadline = Instant::now() + self.settings.schedule_delay;
        loop {
            let wait = deadline.saturating_duration_since(Instant::now());
            match self.commands.recv_timeout(wait) {
                Ok(Command::Span(span)) => {
                    self.batch.push(span);
                    if self.batch.len() >= self.settings.max_batch_size {
                        self.export(&mut transport);
                        deadline = Instant::now() + self.settings.schedule_delay;
                    }
                }
                Ok(Command::Resource(resource)) => transport.exporter().set_resource(&resource),
                Ok(Command::Flush(ack)) => {
                    self.drain(&mut transport);
                    let _ = ack.send(());
                }
                Ok(Command::Shutdown(ack)) => {
                    self.drain(&mut transport);
                    let _ = ack.send(());
                    return;
                }
                Err(RecvTimeoutError::Timeout) => {
                    self.export(&mut transport);
                    deadline = Instant::now() + self.settings.schedule_delay;
                }
                Err(RecvTimeoutError::Disconnected) => {
                    self.export(&mut transport);
                    return;
                }
            }
        }
    }

    /// Exports everything queued so far (spans only; later commands wait their turn).
    fn drain(&mut self, transport: &mut Transport) {
        while let Ok(command) = self.commands.try_recv() {
            match command {
                Command::Span(span) => {
                    self.batch.push(span);
                    if self.batch.len() >= self.settings.max_batch_size {
                        self.export(transport);
                    }
                }
                Command::Resource(resource) => transport.exporter().set_resource(&resource),
                Command::Flush(ack) | Command::Shutdown(ack) => {
                    let _ = ack.send(());
                }
            }
        }
        self.export(transport);
    }

    fn export(&mut self, transport: &mut Transport) {
        if self.batch.is_empty() {
            return;
        }
        let batch = std::mem::take(&mut self.batch);
        let count = batch.len();
        let result = match transport {
            #[cfg(feature = "otlp-grpc")]
            Transport::Grpc(exporter, runtime) => {
                let limit = self.settings.timeout;
                runtime
                    .block_on(async { tokio::time::timeout(limit, exporter.export(batch)).await })
                    .unwrap_or(Err(OTelSdkError::Timeout(limit)))
            }
            Transport::Http(exporter) => futures_executor::block_on(exporter.export(batch)),
        };
        if let Err(error) = result {
            drop_spans(count);
            // One line a minute at most: a dead collector must not flood the logs.
            let now = Instant::now();
            if self
                .last_failure_logged
                .is_none_or(|at| now.duration_since(at) > Duration::from_secs(60))
            {
                self.last_failure_logged = Some(now);
                tracing::warn!(
                    target: "ws_observe::otlp",
                    endpoint = %crate::env_value::url_origin(&self.settings.endpoint),
                    %error,
                    spans = count,
                    "span export failed; the spans are dropped and counted in ws_observe_spans_dropped_total"
                );
            }
        }
    }
}

/// The blocking HTTP client, sending exactly the configured headers: opentelemetry-otlp merges
/// the process environment's OTEL_EXPORTER_OTLP_*HEADERS over `with_headers`.
#[derive(Debug)]
struct ConfiguredHeaders {
    client: reqwest::blocking::Client,
    headers: http::HeaderMap,
    from_environment: Vec<String>,
}

impl ConfiguredHeaders {
    fn new(settings: &TraceExport) -> Result<Self, String> {
        let client = crate::http_client::blocking_client(settings.timeout)
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        let mut headers = http::HeaderMap::new();
        for (key, value) in &settings.headers {
            let name = http::HeaderName::from_bytes(key.as_bytes())
                .map_err(|_| format!("invalid HTTP header name `{key}`"))?;
            let value = http::HeaderValue::from_str(value)
                .map_err(|_| format!("invalid HTTP header value for `{key}`"))?;
            headers.insert(name, value);
        }
        Ok(ConfiguredHeaders {
            client,
            headers,
            from_environment: environment_header_names(),
        })
    }
}

#[async_trait::async_trait]
impl opentelemetry_http::HttpClient for ConfiguredHeaders {
    async fn send_bytes(
        &self,
        mut request: http::Request<bytes::Bytes>,
    ) -> Result<http::Response<bytes::Bytes>, opentelemetry_http::HttpError> {
        let headers = request.headers_mut();
        for name in &self.from_environment {
            headers.remove(name.as_str());
        }
        headers.extend(self.headers.clone());
        self.client.send_bytes(request).await
    }
}

/// The header names opentelemetry-otlp adds on its own from the process environment (it reads
/// these variables whatever the configuration says), to be taken out again.
pub(super) fn environment_header_names() -> Vec<String> {
    [super::vars::TRACES_HEADERS, super::vars::HEADERS]
        .iter()
        .filter_map(|var| std::env::var(var).ok())
        .flat_map(|value| {
            value
                .split(',')
                .filter_map(|pair| pair.split_once('='))
                .map(|(key, _)| key.trim().to_ascii_lowercase())
                .collect::<Vec<_>>()
        })
        .collect()
}
