//! Recording `tracing` field values as JSON, for spans (stored once, rendered into every line
//! inside the span) and for events (rendered straight into the line).

use std::fmt::{self, Write};

use tracing::field::{Field, Visit};

use super::escape;

/// A field's value as `tracing` hands it over; [`render`](FieldValue::render) writes its JSON.
#[derive(Clone, Copy)]
pub(crate) enum FieldValue<'a> {
    Str(&'a str),
    U64(u64),
    I64(i64),
    U128(u128),
    I128(i128),
    F64(f64),
    Bool(bool),
    /// `Debug`, `Display` and errors: written as a JSON string.
    Fmt(fmt::Arguments<'a>),
    /// Already JSON (a value stored rendered).
    Json(&'a str),
}

impl FieldValue<'_> {
    /// Appends the value's JSON to `out`.
    pub(crate) fn render(self, out: &mut String) {
        match self {
            FieldValue::Str(value) => escape::push_str(out, value),
            FieldValue::U64(value) => push_u64(out, value),
            FieldValue::I64(value) => {
                if value < 0 {
                    out.push('-');
                }
                push_u64(out, value.unsigned_abs());
            }
            FieldValue::U128(value) => {
                let _ = write!(out, "{value}");
            }
            FieldValue::I128(value) => {
                let _ = write!(out, "{value}");
            }
            FieldValue::F64(value) if value.is_finite() => {
                let _ = write!(out, "{value}");
            }
            // NaN and infinities are not JSON numbers.
            FieldValue::F64(value) => escape::push_fmt(out, format_args!("{value}")),
            FieldValue::Bool(value) => out.push_str(if value { "true" } else { "false" }),
            FieldValue::Fmt(value) => escape::push_fmt(out, value),
            FieldValue::Json(json) => out.push_str(json),
        }
    }
}

/// Where a visited value goes: a line being written, or a span's store.
pub(crate) trait JsonSink {
    fn field(&mut self, name: &'static str, value: FieldValue<'_>);
}

/// A `Visit` that hands each value to its sink, under the key it is written as.
pub(crate) struct Recorder<'a, S: JsonSink>(pub(crate) &'a mut S);

impl<S: JsonSink> Recorder<'_, S> {
    fn field(&mut self, field: &Field, value: FieldValue<'_>) {
        self.0.field(ecs_key(field.name()), value);
    }
}

impl<S: JsonSink> Visit for Recorder<'_, S> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.field(field, FieldValue::F64(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.field(field, FieldValue::I64(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.field(field, FieldValue::U64(value));
    }
    fn record_i128(&mut self, field: &Field, value: i128) {
        self.field(field, FieldValue::I128(value));
    }
    fn record_u128(&mut self, field: &Field, value: u128) {
        self.field(field, FieldValue::U128(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.field(field, FieldValue::Bool(value));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.field(field, FieldValue::Str(value));
    }
    fn record_bytes(&mut self, field: &Field, value: &[u8]) {
        // Bytes from the network may be anything: invalid UTF-8 becomes U+FFFD, never raw.
        self.field(field, FieldValue::Str(&String::from_utf8_lossy(value)));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.field(field, FieldValue::Fmt(format_args!("{value}")));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.field(field, FieldValue::Fmt(format_args!("{value:?}")));
    }
}

/// Appends `value` in decimal. Integers are the commonest span field (sizes, counts, ids) and
/// `write!` through `core::fmt` costs several times this digit loop.
fn push_u64(out: &mut String, mut value: u64) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    // ASCII digits: always valid UTF-8.
    out.push_str(std::str::from_utf8(&digits[start..]).unwrap_or_default());
}

/// A span's fields, kept as they were recorded and rendered only when a line inside the span
/// is written: a handler span per message usually closes without any line, so its fields
/// should cost a copy, not JSON. Numbers and booleans are kept as they are; strings are kept
/// raw (escaped when rendered) and formatted values rendered at once (they are borrowed), all
/// in one buffer. Stored in the span's extensions or slot; a span with nothing worth storing
/// allocates nothing, and a slot that is reused keeps its buffer.
#[derive(Default)]
pub(crate) struct SpanFields {
    /// String values, raw or rendered, back to back; each entry says which bytes are its.
    buffer: String,
    /// The first few entries inline.
    inline: [Entry; INLINE_FIELDS],
    len: usize,
    more: Vec<Entry>,
}

#[derive(Clone, Copy)]
struct Entry {
    name: &'static str,
    value: Stored,
}

impl Default for Entry {
    fn default() -> Self {
        Entry {
            name: "",
            value: Stored::Bool(false),
        }
    }
}

#[derive(Clone, Copy)]
enum Stored {
    /// Raw text at `buffer[start..end]`, escaped when rendered.
    Text(u32, u32),
    /// Raw text that lives for ever (a message kind): not even copied.
    Static(&'static str),
    /// Rendered JSON at `buffer[start..end]`.
    Json(u32, u32),
    U64(u64),
    I64(i64),
    F64(f64),
    Bool(bool),
}

/// Fields stored without a second allocation: a message handler's span has two.
const INLINE_FIELDS: usize = 4;

impl SpanFields {
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Forgets every field, keeping the buffers for the next span stored here (a pooled span
    /// slot then records its fields without allocating). A buffer grown large by one huge
    /// value is let go rather than kept for ever.
    pub(crate) fn clear(&mut self) {
        const KEEP_BYTES: usize = 1024;
        if self.buffer.capacity() > KEEP_BYTES {
            self.buffer = String::new();
        } else {
            self.buffer.clear();
        }
        self.len = 0;
        self.more.clear();
    }

    /// Adds (or replaces) every field of `other`.
    pub(crate) fn extend(&mut self, other: &SpanFields) {
        for (name, value) in other.iter() {
            self.field(name, value);
        }
    }

    /// Each field's name and value, in the order first recorded.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&'static str, FieldValue<'_>)> {
        self.inline[..self.len.min(INLINE_FIELDS)]
            .iter()
            .chain(&self.more)
            .map(|entry| (entry.name, self.value(entry.value)))
    }

    fn value(&self, stored: Stored) -> FieldValue<'_> {
        let text = |start: u32, end: u32| &self.buffer[start as usize..end as usize];
        match stored {
            Stored::Text(start, end) => FieldValue::Str(text(start, end)),
            Stored::Static(value) => FieldValue::Str(value),
            Stored::Json(start, end) => FieldValue::Json(text(start, end)),
            Stored::U64(value) => FieldValue::U64(value),
            Stored::I64(value) => FieldValue::I64(value),
            Stored::F64(value) => FieldValue::F64(value),
            Stored::Bool(value) => FieldValue::Bool(value),
        }
    }

    /// Adds a `Message` argument's kind and size to a span's fields, first of all (the store
    /// is empty): no name check, no copy.
    pub(crate) fn push_message(&mut self, kind: &'static str, size: u64) {
        debug_assert!(self.is_empty());
        self.inline[0] = Entry {
            name: crate::span_schema::fields::MESSAGE_KIND,
            value: Stored::Static(kind),
        };
        self.inline[1] = Entry {
            name: crate::span_schema::fields::MESSAGE_SIZE,
            value: Stored::U64(size),
        };
        self.len = 2;
    }

    fn entry_mut(&mut self, index: usize) -> &mut Entry {
        if index < INLINE_FIELDS {
            &mut self.inline[index]
        } else {
            &mut self.more[index - INLINE_FIELDS]
        }
    }

    /// Stores `value` as it is, or its text in the buffer.
    fn store(&mut self, value: FieldValue<'_>) -> Stored {
        let start = self.buffer.len() as u32;
        let end = |buffer: &String| buffer.len() as u32;
        match value {
            FieldValue::Str(text) => {
                self.buffer.push_str(text);
                Stored::Text(start, end(&self.buffer))
            }
            FieldValue::U64(value) => Stored::U64(value),
            FieldValue::I64(value) => Stored::I64(value),
            FieldValue::F64(value) => Stored::F64(value),
            FieldValue::Bool(value) => Stored::Bool(value),
            FieldValue::Json(json) => {
                self.buffer.push_str(json);
                Stored::Json(start, end(&self.buffer))
            }
            other @ (FieldValue::U128(_) | FieldValue::I128(_) | FieldValue::Fmt(_)) => {
                other.render(&mut self.buffer);
                Stored::Json(start, end(&self.buffer))
            }
        }
    }
}

/// The key a field is written under. ECS makes `error` an object (`error.message`,
/// `error.type`...): a plain `error = %e` field, the usual `tracing` idiom, written as is would
/// make Elasticsearch reject the whole line, so it is written as `error.message`.
fn ecs_key(name: &'static str) -> &'static str {
    if name == "error" {
        "error.message"
    } else {
        name
    }
}

/// Handler-span fields that are not stored: `ws.handler` and `code.namespace` are the span's
/// name and target, rendered from its metadata, and `otel.*` are hints for the OpenTelemetry
/// exporter, not data. Skipping them keeps a handler span allocation-free on the success path.
pub(crate) fn derived_or_exporter_only(name: &str) -> bool {
    name == "ws.handler" || name == "code.namespace" || name.starts_with("otel.")
}

impl JsonSink for SpanFields {
    fn field(&mut self, name: &'static str, value: FieldValue<'_>) {
        if derived_or_exporter_only(name) {
            return;
        }
        let value = self.store(value);
        // A value recorded again replaces the earlier one (its old bytes stay unused: values
        // are rarely recorded twice).
        let existing = self.inline[..self.len.min(INLINE_FIELDS)]
            .iter()
            .chain(&self.more)
            .position(|entry| entry.name == name);
        let index = existing.unwrap_or(self.len);
        if existing.is_none() {
            if self.len >= INLINE_FIELDS {
                self.more.push(Entry::default());
            }
            self.len += 1;
        }
        *self.entry_mut(index) = Entry { name, value };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(fields: &mut SpanFields, name: &'static str, value: &str) {
        fields.field(name, FieldValue::Str(value));
    }

    /// Each field as the JSON it renders to.
    fn rendered(fields: &SpanFields) -> Vec<(&'static str, String)> {
        fields
            .iter()
            .map(|(name, value)| {
                let mut out = String::new();
                value.render(&mut out);
                (name, out)
            })
            .collect()
    }

    #[test]
    fn values_render_as_json() {
        for value in [0, 7, 10, 64, 999, 1_000_000, u64::MAX] {
            let mut out = String::new();
            push_u64(&mut out, value);
            assert_eq!(out, value.to_string());
        }
        let mut fields = SpanFields::default();
        fields.field("low", FieldValue::I64(i64::MIN));
        fields.field("big", FieldValue::U128(u128::MAX));
        fields.field("nan", FieldValue::F64(f64::NAN));
        fields.field("half", FieldValue::F64(0.5));
        fields.field("yes", FieldValue::Bool(true));
        fields.field("quoted", FieldValue::Str("a \"b\"\n"));
        fields.field("debug", FieldValue::Fmt(format_args!("{:?}", "x")));
        assert_eq!(
            rendered(&fields),
            [
                ("low", "-9223372036854775808".to_owned()),
                ("big", u128::MAX.to_string()),
                ("nan", "\"NaN\"".to_owned()),
                ("half", "0.5".to_owned()),
                ("yes", "true".to_owned()),
                ("quoted", "\"a \\\"b\\\"\\n\"".to_owned()),
                ("debug", "\"\\\"x\\\"\"".to_owned()),
            ]
        );
    }

    #[test]
    fn cleared_fields_are_gone_and_the_buffer_is_reused() {
        let mut fields = SpanFields::default();
        for name in ["a", "b", "c", "d", "e"] {
            record(&mut fields, name, name);
        }
        let capacity = fields.buffer.capacity();
        fields.clear();
        assert!(fields.is_empty());
        assert_eq!(fields.iter().count(), 0);
        assert_eq!(fields.buffer.capacity(), capacity);
        record(&mut fields, "z", "z");
        assert_eq!(rendered(&fields), [("z", "\"z\"".to_owned())]);

        record(&mut fields, "huge", &"x".repeat(10_000));
        fields.clear();
        assert!(
            fields.buffer.capacity() < 10_000,
            "a huge value's buffer is let go"
        );
    }

    #[test]
    fn span_fields_keep_order_replace_values_and_spill_past_the_inline_ones() {
        let mut fields = SpanFields::default();
        assert!(fields.is_empty());
        for name in ["a", "b", "c", "d", "e", "f"] {
            record(&mut fields, name, name);
        }
        record(&mut fields, "b", "second b");
        fields.field("f", FieldValue::U64(6));
        record(&mut fields, "otel.kind", "skipped");
        let mut copy = SpanFields::default();
        copy.extend(&fields);
        for stored in [&fields, &copy] {
            assert_eq!(
                rendered(stored),
                [
                    ("a", "\"a\"".to_owned()),
                    ("b", "\"second b\"".to_owned()),
                    ("c", "\"c\"".to_owned()),
                    ("d", "\"d\"".to_owned()),
                    ("e", "\"e\"".to_owned()),
                    ("f", "6".to_owned()),
                ]
            );
        }
    }
}
