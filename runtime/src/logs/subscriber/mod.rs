//! [`JsonSubscriber`]: what `runtime::init()` installs in the common case (JSON lines, a plain
//! `RUST_LOG`, no trace export). It writes exactly the lines of
//! [`JsonLayer`](super::JsonLayer) over `tracing-subscriber`'s registry, filtered as
//! [`Targets`] filters, with a span store made for a span per message (see `slots`).

mod slots;
mod stack;

use std::sync::atomic::{AtomicU32, Ordering};

use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::{Interest, NoSubscriber};
use tracing::{Event, Metadata, Subscriber};
use tracing_core::span::Current;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt::MakeWriter;

use super::fields::{Recorder, SpanFields};
use super::json::{LineFormat, ScopeSpan};

/// Distinguishes instances in the per-thread list of entered spans.
static NEXT_INSTANCE: AtomicU32 = AtomicU32::new(1);

/// A complete `tracing` subscriber writing one ecs-logging JSON object per event, the line
/// format of [`JsonLayer`](super::JsonLayer) (documented in `docs/LOGS.md`), keeping only
/// what `filter` enables.
///
/// It is what `runtime::init()` installs for JSON logs without trace export, made for
/// servers that open a span per message: a span costs no allocation once the first few are
/// recycled, and entering one touches no shared state. Spans are stored by the subscriber
/// itself: `tracing-subscriber` layers that read span data through the registry
/// (`LookupSpan`) cannot be put on it, and with trace export (or pretty logs) `init()`
/// installs the registry with [`JsonLayer`](super::JsonLayer) instead.
///
/// Span storage grows to the largest number of spans open at once and is kept for reuse
/// (about 250 bytes a span, plus the text of its fields up to 1 KiB), as the registry's is.
///
/// ```
/// use tracing_subscriber::filter::Targets;
/// use ws_observe_runtime::logs::JsonSubscriber;
///
/// let filter: Targets = "info,my_app=debug".parse().unwrap();
/// let subscriber = JsonSubscriber::new(std::io::stdout, "my-service", filter);
/// tracing::subscriber::with_default(subscriber, || {
///     let room = tracing::info_span!("room", name = "lobby");
///     // {"@timestamp":"…","log.level":"info","message":"joined",…,"room.members":3,
///     //  "name":"lobby","spans":["room"]}
///     room.in_scope(|| tracing::info!(room.members = 3, "joined"));
/// });
/// ```
pub struct JsonSubscriber<W> {
    make_writer: W,
    format: LineFormat,
    filter: Targets,
    instance: u32,
}

impl<W> JsonSubscriber<W>
where
    W: for<'w> MakeWriter<'w> + 'static,
{
    /// Writes lines through `make_writer` (`io::stdout`, a non-blocking writer, ...), tagged
    /// with `service_name`, for the spans and events `filter` enables.
    pub fn new(make_writer: W, service_name: &str, filter: Targets) -> Self {
        JsonSubscriber {
            make_writer,
            format: LineFormat::new(service_name),
            filter,
            instance: NEXT_INSTANCE.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// The span an event or a new span belongs to: its explicit parent, the current span, or
    /// none for a root.
    fn parent_of(&self, is_root: bool, is_contextual: bool, explicit: Option<&Id>) -> u64 {
        if is_root {
            0
        } else if is_contextual {
            stack::current(self.instance).unwrap_or(0)
        } else {
            explicit.map_or(0, Id::into_u64)
        }
    }
}

impl<W> Subscriber for JsonSubscriber<W>
where
    W: for<'w> MakeWriter<'w> + 'static,
{
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        // Decided once per callsite: a span or event `RUST_LOG` filters out then costs a
        // load of its cached interest, nothing here.
        Layer::<NoSubscriber>::register_callsite(&self.filter, metadata)
    }

    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        self.filter
            .would_enable(metadata.target(), metadata.level())
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Layer::<NoSubscriber>::max_level_hint(&self.filter)
    }

    fn new_span(&self, attributes: &Attributes<'_>) -> Id {
        let parent = self.parent_of(
            attributes.is_root(),
            attributes.is_contextual(),
            attributes.parent(),
        );
        // The child holds its parent; a parent that is already gone leaves a root.
        let parent = if parent != 0 && slots::clone_ref(parent) {
            parent
        } else {
            0
        };
        let metadata = attributes.metadata();
        let id = slots::insert(parent, |data| {
            data.metadata = Some(metadata);
            match crate::span_schema::passed::take(metadata) {
                // A handler span whose values are all empty (see `passed`): nothing to visit.
                Some(message) => {
                    if let Some((kind, size)) = message {
                        data.fields.push_message(kind, size);
                    }
                }
                None => record_values(attributes, &mut data.fields),
            }
        });
        Id::from_u64(id)
    }

    fn record(&self, span: &Id, values: &Record<'_>) {
        let Some(slot) = slots::get(span.into_u64()) else {
            return;
        };
        // Rendered before taking the span's lock: a value's `Display` may log inside this
        // very span, and that event reads the span's fields.
        let mut rendered = SpanFields::default();
        values.record(&mut Recorder(&mut rendered));
        slot.data().fields.extend(&rendered);
    }

    fn record_follows_from(&self, _span: &Id, _follows: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let leaf = self.parent_of(event.is_root(), event.is_contextual(), event.parent());
        // A parent that is not open (any more) means no scope, as the registry has it.
        let scope = slots::get(leaf).is_some().then_some(Scope { next: leaf });
        self.format.write(&self.make_writer, event, scope, false);
    }

    fn enter(&self, span: &Id) {
        stack::enter(self.instance, span.into_u64());
    }

    fn exit(&self, span: &Id) {
        stack::exit(self.instance, span.into_u64());
    }

    fn clone_span(&self, span: &Id) -> Id {
        let cloned = slots::clone_ref(span.into_u64());
        debug_assert!(cloned, "tried to clone {span:?}, which is not an open span");
        span.clone()
    }

    fn try_close(&self, span: Id) -> bool {
        slots::release(span.into_u64())
    }

    fn current_span(&self) -> Current {
        let current = stack::current(self.instance).and_then(|id| {
            let metadata = slots::get(id)?.data().metadata?;
            Some(Current::new(Id::from_u64(id), metadata))
        });
        current.unwrap_or_else(Current::none)
    }
}

/// Visits a new span's values: out of line, so `new_span`'s code for a handler span (which
/// needs no visit) stays small.
#[inline(never)]
fn record_values(attributes: &Attributes<'_>, fields: &mut SpanFields) {
    attributes.record(&mut Recorder(fields));
}

/// The spans of an event's scope, innermost first, following each span's parent.
struct Scope {
    next: u64,
}

impl Iterator for Scope {
    type Item = &'static slots::Slot;

    fn next(&mut self) -> Option<Self::Item> {
        let slot = slots::get(self.next)?;
        self.next = slot.parent();
        Some(slot)
    }
}

impl ScopeSpan for &'static slots::Slot {
    fn read(&self, visit: &mut dyn FnMut(&'static Metadata<'static>, Option<&SpanFields>)) {
        let data = self.data();
        if let Some(metadata) = data.metadata {
            visit(metadata, Some(&data.fields));
        }
    }
}

impl<W> std::fmt::Debug for JsonSubscriber<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonSubscriber")
            .field("filter", &self.filter)
            .finish_non_exhaustive()
    }
}
