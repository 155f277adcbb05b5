//! The connection span: its fields, its parent from a handshake `traceparent`, the handler
//! spans inside it, and the `Message` fields on handler spans.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use common::spans::capture;
use futures_util::{SinkExt, StreamExt};
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use tokio::net::{TcpListener, TcpStream};
use tracing::{Instrument, Level};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;
use ws_observe::opentelemetry;
use ws_observe::tokio_tungstenite::tungstenite::client::IntoClientRequest;
use ws_observe::ws::{self, Message};
use ws_observe::{ws_handler, ws_observe};

#[ws_handler]
async fn on_message(message: Message) -> Result<Message, std::io::Error> {
    inspect(&message);
    Ok(message)
}

#[ws_observe]
fn inspect(message: &Message) -> usize {
    message.len()
}

mod app {
    /// An application type that happens to be called `Message`.
    #[derive(Debug)]
    pub struct Message(pub u8);

    #[ws_observe::ws_observe]
    pub fn handle(message: Message) -> u8 {
        message.0
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Serves one connection that echoes through `on_message` inside the connection span, and
/// returns the connection id.
async fn serve_one(listener: TcpListener) -> u64 {
    let (tcp, _) = listener.accept().await.unwrap();
    let mut websocket = ws::accept(tcp).await.unwrap();
    let id = websocket.connection_id();
    let span = websocket.span().clone();
    while let Some(Ok(message)) = websocket.next().await {
        if message.is_close() {
            break;
        }
        let reply = on_message(message).instrument(span.clone()).await.unwrap();
        websocket.send(reply).await.unwrap();
    }
    id
}

#[test]
fn connection_span_is_the_parent_of_handler_spans_and_records_message_fields() {
    let runtime = runtime();
    let (id, captured) = capture(Level::INFO, || {
        runtime.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = tokio::spawn(serve_one(listener));
            let (mut client, _) =
                ws_observe::tokio_tungstenite::connect_async(format!("ws://{addr}"))
                    .await
                    .unwrap();
            client.send(Message::text("hello")).await.unwrap();
            assert_eq!(
                client.next().await.unwrap().unwrap(),
                Message::text("hello")
            );
            client.send(Message::binary(vec![1u8, 2, 3])).await.unwrap();
            client.next().await.unwrap().unwrap();
            client.close(None).await.unwrap();
            server.await.unwrap()
        })
    });
    let connection = captured.span("ws.connection");
    assert_eq!(connection.fields["ws.connection_id"], id.to_string());
    assert_eq!(connection.fields["client.address"], "127.0.0.0/24");
    assert_eq!(connection.target, "ws_observe::ws");
    assert_eq!(connection.fields["ws.close_reason"], "normal");
    let handlers: Vec<_> = captured
        .spans()
        .into_iter()
        .filter(|s| s.name == "on_message")
        .collect();
    assert_eq!(handlers.len(), 2);
    assert!(
        handlers.iter().all(|h| h.parent == Some(connection.id)),
        "{handlers:#?}"
    );
    assert_eq!(handlers[0].fields["ws.message.kind"], "text");
    assert_eq!(handlers[0].fields["ws.message.size"], "5");
    assert_eq!(handlers[1].fields["ws.message.kind"], "binary");
    assert_eq!(handlers[1].fields["ws.message.size"], "3");
    let inspects: Vec<_> = captured
        .spans()
        .into_iter()
        .filter(|s| s.name == "inspect")
        .collect();
    assert_eq!(
        inspects[0].fields["ws.message.kind"], "text",
        "a &Message argument too"
    );
    assert!(
        inspects
            .iter()
            .all(|s| handlers.iter().any(|h| Some(h.id) == s.parent))
    );
}

#[test]
fn an_application_type_named_message_records_nothing() {
    let (value, captured) = capture(Level::INFO, || app::handle(app::Message(7)));
    assert_eq!(value, 7);
    let span = captured.span("handle");
    assert!(!span.fields.contains_key("ws.message.kind"), "{span:?}");
}

/// Keeps every span the SDK ends, for a test to read its parent link.
#[derive(Clone, Debug, Default)]
struct Recorded(Arc<Mutex<Vec<SpanData>>>);

impl SpanExporter for Recorded {
    fn export(
        &self,
        batch: Vec<SpanData>,
    ) -> impl std::future::Future<Output = opentelemetry_sdk::error::OTelSdkResult> + Send {
        self.0.lock().unwrap().extend(batch);
        std::future::ready(Ok(()))
    }
}

#[test]
fn handshake_traceparent_becomes_the_parent_of_the_connection_span() {
    let recorded = Recorded::default();
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_simple_exporter(recorded.clone())
        .build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("ws-observe-test")));
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let parent_span_id = "00f067aa0ba902b7";
    let runtime = runtime();
    let _guard = tracing::subscriber::set_default(subscriber);
    let connection_span_id = runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let websocket = ws::accept(tcp).await.unwrap();
            let context = websocket.span().context();
            context.span().span_context().span_id().to_string()
            // The connection span ends here, with the websocket.
        });
        let mut request = format!("ws://{addr}").into_client_request().unwrap();
        request.headers_mut().insert(
            "traceparent",
            format!("00-{trace_id}-{parent_span_id}-01")
                .parse()
                .unwrap(),
        );
        let tcp = TcpStream::connect(addr).await.unwrap();
        let (_client, _) = ws_observe::tokio_tungstenite::client_async(request, tcp)
            .await
            .unwrap();
        server.await.unwrap()
    });
    let spans = recorded.0.lock().unwrap().clone();
    let connection = spans
        .iter()
        .find(|s| s.name == "ws.connection")
        .unwrap_or_else(|| panic!("no connection span ended: {spans:#?}"));
    assert_eq!(
        connection.span_context.span_id().to_string(),
        connection_span_id
    );
    assert_eq!(
        connection.span_context.trace_id().to_string(),
        trace_id,
        "the connection span continues the caller's trace"
    );
    assert_eq!(
        connection.parent_span_id.to_string(),
        parent_span_id,
        "its parent is the caller's span"
    );
    assert!(connection.parent_span_is_remote, "{connection:#?}");
}

#[test]
fn propagation_round_trips_through_a_carrier() {
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("ws-observe-test")));
    tracing::subscriber::with_default(subscriber, || {
        let incoming = HashMap::from([(
            "traceparent".to_owned(),
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".to_owned(),
        )]);
        let span = tracing::info_span!("continue");
        ws_observe::runtime::propagation::set_parent(&span, &incoming);
        let _entered = span.enter();
        let mut outgoing = HashMap::new();
        ws_observe::runtime::propagation::inject(&mut outgoing);
        let traceparent = &outgoing["traceparent"];
        assert!(
            traceparent.starts_with("00-0af7651916cd43dd8448eb211c80319c-"),
            "{traceparent}"
        );
        assert!(
            !traceparent.contains("b7ad6b7169203331"),
            "a new span id: {traceparent}"
        );
        let _ = opentelemetry::Context::current();
    });
}
