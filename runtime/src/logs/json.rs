//! The JSON log layer: one ecs-logging object per line.

use std::cell::RefCell;
use std::io::Write;
use std::time::SystemTime;

use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

use super::escape;
use super::fields::{FieldValue, JsonSink, Recorder, SpanFields};
use crate::timestamp;

/// The `ecs.version` written on every line.
pub const ECS_VERSION: &str = "8.11.0";

/// A `tracing` layer writing one JSON object per event, following Elastic's ecs-logging
/// specification: `@timestamp`, `log.level`, `message`, `ecs.version` first, then
/// `log.logger` (the event's target), `service.name`, the event's fields, the fields of every
/// active span (the innermost wins on a name clash; the event's own fields win over all), and
/// `spans`, the active spans' names from the root.
///
/// Values are escaped so that no input, however hostile, can break a line or forge another.
///
/// ```
/// use tracing_subscriber::layer::SubscriberExt;
/// let layer = ws_observe_runtime::logs::JsonLayer::new(std::io::stdout, "my-service");
/// let subscriber = tracing_subscriber::registry().with(layer);
/// tracing::subscriber::with_default(subscriber, || tracing::info!(user_count = 3, "started"));
/// ```
pub struct JsonLayer<W> {
    make_writer: W,
    format: LineFormat,
    /// Write the OpenTelemetry `trace.id` and `span.id` of the current span.
    trace_ids: bool,
}

impl<W> JsonLayer<W>
where
    W: for<'w> MakeWriter<'w> + 'static,
{
    /// Writes lines through `make_writer` (anything `tracing-subscriber` accepts: `io::stdout`,
    /// a non-blocking writer, ...), tagged with `service_name`.
    pub fn new(make_writer: W, service_name: &str) -> Self {
        JsonLayer {
            make_writer,
            format: LineFormat::new(service_name),
            trace_ids: false,
        }
    }

    /// Adds `trace.id` and `span.id` (the OpenTelemetry ids of the current span) to every
    /// line written inside a span, so a log line leads to its trace. Needs
    /// `tracing-opentelemetry`'s layer in the same subscriber (`runtime::init()` does this
    /// when trace export is configured).
    pub fn with_trace_ids(mut self, enabled: bool) -> Self {
        self.trace_ids = enabled;
        self
    }
}

/// The event's fields, with `message` kept apart so it can be written first.
struct EventSink<'a> {
    message: &'a mut String,
    fields: &'a mut String,
    written: &'a mut Vec<&'static str>,
}

impl JsonSink for EventSink<'_> {
    fn field(&mut self, name: &'static str, value: FieldValue<'_>) {
        if name == "message" {
            self.message.clear();
            value.render(self.message);
            return;
        }
        if self.written.contains(&name) || is_reserved(name) {
            return;
        }
        self.written.push(name);
        self.fields.push(',');
        escape::push_str(self.fields, name);
        self.fields.push(':');
        value.render(self.fields);
    }
}

/// Keys the layer writes itself; a user field of the same name would make a duplicate key,
/// which Elasticsearch rejects. (An event's own `message` field is its message; a span's is
/// dropped.)
fn is_reserved(name: &str) -> bool {
    matches!(
        name,
        "message"
            | "@timestamp"
            | "log.level"
            | "ecs.version"
            | "log.logger"
            | "service.name"
            | "spans"
            | "trace.id"
            | "span.id"
    )
}

struct Buffers {
    line: String,
    message: String,
    fields: String,
    written: Vec<&'static str>,
}

thread_local! {
    static BUFFERS: RefCell<Buffers> = const {
        RefCell::new(Buffers { line: String::new(), message: String::new(), fields: String::new(), written: Vec::new() })
    };
}

impl<S, W> Layer<S> for JsonLayer<W>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + 'static,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = SpanFields::default();
        attrs.record(&mut Recorder(&mut fields));
        if !fields.is_empty()
            && let Some(span) = ctx.span(id)
        {
            span.extensions_mut().insert(fields);
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        // Rendered before the span's extensions are locked: a value's `Display` may log inside
        // this very span, and that event reads them.
        let mut rendered = SpanFields::default();
        values.record(&mut Recorder(&mut rendered));
        if rendered.is_empty() {
            return;
        }
        let mut extensions = span.extensions_mut();
        match extensions.get_mut::<SpanFields>() {
            Some(fields) => fields.extend(&rendered),
            None => extensions.insert(rendered),
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let scope = ctx.event_scope(event).map(|scope| scope.map(RegistrySpan));
        // An event inside a span has a scope: no second lookup of its span.
        let trace_ids = self.trace_ids && scope.is_some();
        self.format
            .write(&self.make_writer, event, scope, trace_ids);
    }
}

/// A span of `tracing-subscriber`'s registry, as the line format reads it.
struct RegistrySpan<'a, S: LookupSpan<'a>>(tracing_subscriber::registry::SpanRef<'a, S>);

impl<'a, S: LookupSpan<'a>> ScopeSpan for RegistrySpan<'a, S> {
    fn read(&self, visit: &mut dyn FnMut(&'static Metadata<'static>, Option<&SpanFields>)) {
        visit(self.0.metadata(), self.0.extensions().get::<SpanFields>());
    }
}

/// One span of an event's scope, as [`LineFormat`] reads it: whoever stores spans (the
/// registry's extensions, or [`JsonSubscriber`](super::JsonSubscriber)'s own slots) shows
/// its metadata and the fields recorded on it.
pub(crate) trait ScopeSpan {
    /// Calls `visit` with the span's metadata and the fields recorded on it, if any.
    fn read(&self, visit: &mut dyn FnMut(&'static Metadata<'static>, Option<&SpanFields>));
}

/// The ecs-logging line format shared by [`JsonLayer`] and
/// [`JsonSubscriber`](super::JsonSubscriber): one JSON object per event, the event's fields,
/// then the fields of the spans of its scope.
pub(crate) struct LineFormat {
    /// `"service.name":"..."`, escaped once.
    service_fragment: String,
}

impl LineFormat {
    pub(crate) fn new(service_name: &str) -> Self {
        let mut service_fragment = String::from("\"service.name\":");
        escape::push_str(&mut service_fragment, service_name);
        LineFormat { service_fragment }
    }

    /// Renders `event` with the spans of `scope` (innermost first) and writes the line,
    /// newline included, through `make_writer` in one piece: a non-blocking writer sends each
    /// write as one message, so a line is never split.
    pub(crate) fn write<T: ScopeSpan, W: for<'w> MakeWriter<'w>>(
        &self,
        make_writer: &W,
        event: &Event<'_>,
        scope: Option<impl Iterator<Item = T>>,
        trace_ids: bool,
    ) {
        let write = |line: &[u8]| {
            let _ = make_writer
                .make_writer_for(event.metadata())
                .write_all(line);
        };
        // Reuse this thread's buffers; a re-entrant event (a field's Debug that logs) gets
        // fresh ones instead of a RefCell panic.
        BUFFERS.with(|cell| match cell.try_borrow_mut() {
            Ok(mut buffers) => self.render(&mut buffers, event, scope, trace_ids, write),
            Err(_) => {
                let mut fresh = Buffers {
                    line: String::new(),
                    message: String::new(),
                    fields: String::new(),
                    written: Vec::new(),
                };
                self.render(&mut fresh, event, scope, trace_ids, write);
            }
        });
    }

    fn render<T: ScopeSpan>(
        &self,
        buffers: &mut Buffers,
        event: &Event<'_>,
        scope: Option<impl Iterator<Item = T>>,
        trace_ids: bool,
        write: impl FnOnce(&[u8]),
    ) {
        let Buffers {
            line,
            message,
            fields,
            written,
        } = buffers;
        line.clear();
        message.clear();
        fields.clear();
        written.clear();

        event.record(&mut Recorder(&mut EventSink {
            message,
            fields,
            written,
        }));

        let meta = event.metadata();
        line.push_str("{\"@timestamp\":");
        timestamp::push_rfc3339(line, SystemTime::now());
        line.push_str(",\"log.level\":\"");
        line.push_str(level_name(meta.level()));
        line.push_str("\",\"message\":");
        if message.is_empty() {
            line.push_str("\"\"");
        } else {
            line.push_str(message);
        }
        line.push_str(",\"ecs.version\":\"");
        line.push_str(ECS_VERSION);
        line.push_str("\",\"log.logger\":");
        escape::push_str(line, meta.target());
        line.push(',');
        line.push_str(&self.service_fragment);
        line.push_str(fields);

        if trace_ids {
            push_trace_ids(line);
        }
        if let Some(scope) = scope {
            // Innermost first, so the innermost span wins a name clash.
            let mut names: Vec<&'static str> = Vec::new();
            for span in scope {
                span.read(&mut |span_meta, stored| {
                    names.push(span_meta.name());
                    if span_meta.fields().field("ws.handler").is_some() {
                        // A handler span: its `ws.handler` and `code.namespace` are its name
                        // and target.
                        push_field(line, written, "ws.handler", |out| {
                            escape::push_str(out, span_meta.name())
                        });
                        push_field(line, written, "code.namespace", |out| {
                            escape::push_str(out, span_meta.target())
                        });
                    }
                    for (name, value) in stored.into_iter().flat_map(SpanFields::iter) {
                        push_field(line, written, name, |out| value.render(out));
                    }
                });
            }
            line.push_str(",\"spans\":[");
            for (i, name) in names.iter().rev().enumerate() {
                if i > 0 {
                    line.push(',');
                }
                escape::push_str(line, name);
            }
            line.push(']');
        }
        line.push_str("}\n");

        write(line.as_bytes());
        if line.capacity() > 64 * 1024 {
            *line = String::new(); // do not keep a huge line's buffer forever
        }
    }
}

/// The ids of the OpenTelemetry context that `tracing-opentelemetry` makes current when a
/// span is entered.
#[cfg(feature = "otlp")]
fn push_trace_ids(line: &mut String) {
    use opentelemetry::trace::TraceContextExt;
    use std::fmt::Write as _;
    let context = opentelemetry::Context::current();
    let span = context.span();
    let span_context = span.span_context();
    if span_context.is_valid() {
        // Written directly: these keys are reserved, so no user field can have taken them.
        let _ = write!(
            line,
            ",\"trace.id\":\"{}\",\"span.id\":\"{}\"",
            span_context.trace_id(),
            span_context.span_id()
        );
    }
}

/// Without the `otlp` feature no span has an OpenTelemetry context.
#[cfg(not(feature = "otlp"))]
fn push_trace_ids(_: &mut String) {}

fn push_field(
    line: &mut String,
    written: &mut Vec<&'static str>,
    name: &'static str,
    value: impl FnOnce(&mut String),
) {
    if written.contains(&name) || is_reserved(name) {
        return;
    }
    written.push(name);
    line.push(',');
    escape::push_str(line, name);
    line.push(':');
    value(line);
}

fn level_name(level: &tracing::Level) -> &'static str {
    match *level {
        tracing::Level::TRACE => "trace",
        tracing::Level::DEBUG => "debug",
        tracing::Level::INFO => "info",
        tracing::Level::WARN => "warn",
        tracing::Level::ERROR => "error",
    }
}
