//! A layer that records spans (name, target, fields, parent) for assertions, installed with a
//! scoped (thread-local) subscriber so tests do not share a global one.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

#[derive(Clone, Debug, Default)]
pub struct CapturedSpan {
    pub id: u64,
    pub name: String,
    pub target: String,
    pub level: String,
    pub parent: Option<u64>,
    pub fields: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Default)]
pub struct CapturedEvent {
    pub target: String,
    pub level: String,
    pub span: Option<String>,
    pub fields: BTreeMap<String, String>,
}

#[derive(Clone, Default)]
pub struct Captured {
    spans: Arc<Mutex<Vec<CapturedSpan>>>,
    events: Arc<Mutex<Vec<CapturedEvent>>>,
}

impl Captured {
    pub fn spans(&self) -> Vec<CapturedSpan> {
        self.spans.lock().unwrap().clone()
    }

    pub fn events(&self) -> Vec<CapturedEvent> {
        self.events.lock().unwrap().clone()
    }

    /// The one span named `name`; panics when there is not exactly one.
    pub fn span(&self, name: &str) -> CapturedSpan {
        let found: Vec<_> = self
            .spans()
            .into_iter()
            .filter(|s| s.name == name)
            .collect();
        assert_eq!(found.len(), 1, "spans named {name}: {found:#?}");
        found.into_iter().next().unwrap()
    }
}

struct FieldVisitor<'a>(&'a mut BTreeMap<String, String>);

impl Visit for FieldVisitor<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

struct CaptureLayer(Captured);

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for CaptureLayer {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = BTreeMap::new();
        attrs.record(&mut FieldVisitor(&mut fields));
        let parent = if attrs.is_root() {
            None
        } else if let Some(parent) = attrs.parent() {
            Some(parent.into_u64())
        } else {
            ctx.current_span().id().map(Id::into_u64)
        };
        let meta = attrs.metadata();
        self.0.spans.lock().unwrap().push(CapturedSpan {
            id: id.into_u64(),
            name: meta.name().to_owned(),
            target: meta.target().to_owned(),
            level: meta.level().to_string(),
            parent,
            fields,
        });
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, _ctx: Context<'_, S>) {
        let mut spans = self.0.spans.lock().unwrap();
        if let Some(span) = spans.iter_mut().rev().find(|s| s.id == id.into_u64()) {
            values.record(&mut FieldVisitor(&mut span.fields));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut fields = BTreeMap::new();
        event.record(&mut FieldVisitor(&mut fields));
        self.0.events.lock().unwrap().push(CapturedEvent {
            target: event.metadata().target().to_owned(),
            level: event.metadata().level().to_string(),
            span: ctx.event_span(event).map(|s| s.name().to_owned()),
            fields,
        });
    }
}

/// Runs `f` with a subscriber that captures every span and event at `level` and above.
pub fn capture<R>(level: tracing::Level, f: impl FnOnce() -> R) -> (R, Captured) {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::registry()
        .with(CaptureLayer(captured.clone()))
        .with(tracing_subscriber::filter::LevelFilter::from_level(level));
    let result = tracing::subscriber::with_default(subscriber, f);
    (result, captured)
}
