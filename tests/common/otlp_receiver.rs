//! Collectors for the OTLP export tests, all on 127.0.0.1: a receiver that speaks OTLP/gRPC
//! (tonic) and OTLP/HTTP with protobuf bodies and keeps everything it is sent, a collector
//! that accepts connections and never answers, and a port nothing listens on.
//!
//! Each runs on threads of its own (the gRPC one with its own tokio runtime) and lives until
//! the test process exits.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, Span};
use prost::Message as _;

/// The transport an export request came in on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Grpc,
    Http,
}

/// One export request as the receiver saw it.
#[derive(Clone, Debug)]
pub struct Export {
    pub transport: Transport,
    /// Request headers (gRPC metadata), names lowercased.
    pub headers: BTreeMap<String, String>,
    pub resource_spans: Vec<ResourceSpans>,
}

/// One received span with what it was sent with.
#[derive(Clone, Debug)]
pub struct ReceivedSpan {
    pub transport: Transport,
    pub headers: BTreeMap<String, String>,
    /// The resource's attributes, values rendered as text.
    pub resource: BTreeMap<String, String>,
    /// The instrumentation scope's name.
    pub scope: String,
    pub span: Span,
}

impl ReceivedSpan {
    /// The span's attributes, values rendered as text.
    pub fn attributes(&self) -> BTreeMap<String, String> {
        attributes(&self.span.attributes)
    }

    pub fn trace_id(&self) -> String {
        hex(&self.span.trace_id)
    }

    pub fn span_id(&self) -> String {
        hex(&self.span.span_id)
    }

    /// The parent's span id, empty for a root span.
    pub fn parent_span_id(&self) -> String {
        hex(&self.span.parent_span_id)
    }
}

/// Lowercase hex, as W3C `traceparent` and the JSON logs write ids.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Key-value pairs with their values as text (strings unquoted).
pub fn attributes(pairs: &[KeyValue]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|kv| (kv.key.clone(), value_text(kv.value.as_ref())))
        .collect()
}

fn value_text(value: Option<&AnyValue>) -> String {
    match value.and_then(|v| v.value.as_ref()) {
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::BoolValue(b)) => b.to_string(),
        Some(any_value::Value::IntValue(i)) => i.to_string(),
        Some(any_value::Value::DoubleValue(d)) => d.to_string(),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    }
}

type Sink = Arc<Mutex<Vec<Export>>>;

/// An OTLP receiver listening for gRPC and HTTP on two free loopback ports.
pub struct Receiver {
    grpc: SocketAddr,
    http: SocketAddr,
    exports: Sink,
}

impl Receiver {
    /// Binds both listeners (so their ports are known before this returns) and serves them.
    pub fn start() -> Receiver {
        let exports = Sink::default();
        let grpc = serve_grpc(Arc::clone(&exports));
        let http = serve_http(Arc::clone(&exports));
        Receiver {
            grpc,
            http,
            exports,
        }
    }

    /// `http://127.0.0.1:PORT` of the gRPC listener.
    pub fn grpc_endpoint(&self) -> String {
        format!("http://{}", self.grpc)
    }

    /// `http://127.0.0.1:PORT` of the HTTP listener (the base: spans go to `/v1/traces`).
    pub fn http_endpoint(&self) -> String {
        format!("http://{}", self.http)
    }

    /// Every export request received so far.
    pub fn exports(&self) -> Vec<Export> {
        self.exports.lock().unwrap().clone()
    }

    /// Every span received so far, in arrival order.
    pub fn spans(&self) -> Vec<ReceivedSpan> {
        let mut spans = Vec::new();
        for export in self.exports() {
            for resource_spans in &export.resource_spans {
                let resource = resource_spans
                    .resource
                    .as_ref()
                    .map(|r| attributes(&r.attributes))
                    .unwrap_or_default();
                for scope_spans in &resource_spans.scope_spans {
                    let scope = scope_spans
                        .scope
                        .as_ref()
                        .map(|s| s.name.clone())
                        .unwrap_or_default();
                    for span in &scope_spans.spans {
                        spans.push(ReceivedSpan {
                            transport: export.transport,
                            headers: export.headers.clone(),
                            resource: resource.clone(),
                            scope: scope.clone(),
                            span: span.clone(),
                        });
                    }
                }
            }
        }
        spans
    }

    /// Polls until at least `n` spans have arrived and returns them all; panics after
    /// `timeout`, listing what did arrive.
    pub fn wait_for_spans(&self, n: usize, timeout: Duration) -> Vec<ReceivedSpan> {
        let deadline = Instant::now() + timeout;
        loop {
            let spans = self.spans();
            if spans.len() >= n {
                return spans;
            }
            if Instant::now() >= deadline {
                let names: Vec<&str> = spans.iter().map(|s| s.span.name.as_str()).collect();
                panic!(
                    "{} span(s) received within {timeout:?}, expected at least {n}: {names:?}",
                    spans.len()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

struct GrpcCollector(Sink);

#[tonic::async_trait]
impl TraceService for GrpcCollector {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let headers = request
            .metadata()
            .clone()
            .into_headers()
            .iter()
            .map(|(name, value)| {
                let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                (name.as_str().to_owned(), value)
            })
            .collect();
        self.0.lock().unwrap().push(Export {
            transport: Transport::Grpc,
            headers,
            resource_spans: request.into_inner().resource_spans,
        });
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

fn serve_grpc(sink: Sink) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind the gRPC receiver");
    let addr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    std::thread::Builder::new()
        .name("otlp-grpc-receiver".into())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                tonic::transport::Server::builder()
                    .add_service(TraceServiceServer::new(GrpcCollector(sink)))
                    .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener))
                    .await
                    .expect("gRPC receiver");
            });
        })
        .unwrap();
    addr
}

fn serve_http(sink: Sink) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind the HTTP receiver");
    let addr = listener.local_addr().unwrap();
    std::thread::Builder::new()
        .name("otlp-http-receiver".into())
        .spawn(move || {
            for stream in listener.incoming().flatten() {
                let sink = Arc::clone(&sink);
                std::thread::spawn(move || {
                    if let Err(error) = serve_http_connection(stream, &sink) {
                        eprintln!("OTLP/HTTP receiver: {error}");
                    }
                });
            }
        })
        .unwrap();
    addr
}

/// Serves HTTP/1.1 requests on one (keep-alive) connection until the client closes it.
fn serve_http_connection(stream: TcpStream, sink: &Sink) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line)? == 0 {
            return Ok(());
        }
        let mut headers = BTreeMap::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line)? == 0 {
                return Ok(());
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
            }
        }
        let length: usize = headers
            .get("content-length")
            .and_then(|l| l.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;

        let mut parts = request_line.split_whitespace();
        let (method, path) = (parts.next(), parts.next());
        let (status, response) = if method == Some("POST") && path == Some("/v1/traces") {
            match ExportTraceServiceRequest::decode(body.as_slice()) {
                Ok(request) => {
                    sink.lock().unwrap().push(Export {
                        transport: Transport::Http,
                        headers,
                        resource_spans: request.resource_spans,
                    });
                    (
                        "200 OK",
                        ExportTraceServiceResponse::default().encode_to_vec(),
                    )
                }
                Err(error) => {
                    eprintln!("OTLP/HTTP receiver: undecodable body: {error}");
                    ("400 Bad Request", Vec::new())
                }
            }
        } else {
            eprintln!("OTLP/HTTP receiver: unexpected {request_line:?}");
            ("404 Not Found", Vec::new())
        };
        let head = format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/x-protobuf\r\ncontent-length: {}\r\n\r\n",
            response.len()
        );
        writer.write_all(head.as_bytes())?;
        writer.write_all(&response)?;
        writer.flush()?;
    }
}

/// A collector that accepts every connection and never reads or answers: an export to it
/// hangs until the exporter's own timeout.
pub struct HangingCollector {
    addr: SocketAddr,
    held: Arc<Mutex<Vec<TcpStream>>>,
}

impl HangingCollector {
    pub fn start() -> HangingCollector {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the hanging collector");
        let addr = listener.local_addr().unwrap();
        let held = Arc::new(Mutex::new(Vec::new()));
        let keep = Arc::clone(&held);
        std::thread::Builder::new()
            .name("otlp-hanging-collector".into())
            .spawn(move || {
                for stream in listener.incoming().flatten() {
                    // Held open, never read, never written.
                    keep.lock().unwrap().push(stream);
                }
            })
            .unwrap();
        HangingCollector { addr, held }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Connections accepted so far (each one left hanging).
    pub fn connections(&self) -> usize {
        self.held.lock().unwrap().len()
    }
}

/// `http://127.0.0.1:PORT` where nothing listens: the port was bound, then released.
pub fn closed_port_endpoint() -> String {
    format!("http://127.0.0.1:{}", super::free_port())
}
