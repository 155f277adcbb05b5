//! Recording `tracing` field values as JSON, for spans (stored once, rendered into every line
//! inside the span) and for events (rendered straight into the line).

use std::fmt::{self, Write};

use tracing::field::{Field, Visit};

use super::escape;

/// Where a visited value goes: `field` appends the value's JSON (written by `render`), or
/// skips the field without calling `render`.
pub(crate) trait JsonSink {
    fn field(&mut self, name: &'static str, render: impl FnOnce(&mut String));
}

/// A `Visit` that renders each value as JSON into its sink.
pub(crate) struct Recorder<'a, S: JsonSink>(pub(crate) &'a mut S);

impl<S: JsonSink> Recorder<'_, S> {
    /// Every field reaches the sink under the key it is written as.
    fn field(&mut self, field: &Field, render: impl FnOnce(&mut String)) {
        self.0.field(ecs_key(field.name()), render);
    }
}

impl<S: JsonSink> Visit for Recorder<'_, S> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.field(field, |out| {
            if value.is_finite() {
                let _ = write!(out, "{value}");
            } else {
                // NaN and infinities are not JSON numbers.
                escape::push_fmt(out, format_args!("{value}"));
            }
        });
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.field(field, |out| {
            if value < 0 {
                out.push('-');
            }
            push_u64(out, value.unsigned_abs());
        });
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.field(field, |out| push_u64(out, value));
    }
    fn record_i128(&mut self, field: &Field, value: i128) {
        self.field(field, |out| {
            let _ = write!(out, "{value}");
        });
    }
    fn record_u128(&mut self, field: &Field, value: u128) {
        self.field(field, |out| {
            let _ = write!(out, "{value}");
        });
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.field(field, |out| {
            out.push_str(if value { "true" } else { "false" });
        });
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.field(field, |out| {
            escape::push_str(out, value);
        });
    }
    fn record_bytes(&mut self, field: &Field, value: &[u8]) {
        // Bytes from the network may be anything: invalid UTF-8 becomes U+FFFD, never raw.
        self.field(field, |out| {
            escape::push_str(out, &String::from_utf8_lossy(value));
        });
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.field(field, |out| {
            escape::push_fmt(out, format_args!("{value}"));
        });
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.field(field, |out| {
            escape::push_fmt(out, format_args!("{value:?}"));
        });
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
    for &digit in &digits[start..] {
        out.push(char::from(digit));
    }
}

/// A span's fields, each value already rendered as JSON. Stored in the span's extensions; a
/// span with nothing worth storing gets no allocation at all, and one with a few fields gets
/// one buffer for all their values (spans are opened per message: allocations add up).
#[derive(Default)]
pub(crate) struct SpanFields {
    /// The rendered values, back to back; `entries` say which bytes are whose.
    values: String,
    /// (name, start, end) of each field's value in `values`; the first few inline.
    inline: [(&'static str, u32, u32); INLINE_FIELDS],
    len: usize,
    more: Vec<(&'static str, u32, u32)>,
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
        if self.values.capacity() > KEEP_BYTES {
            self.values = String::new();
        } else {
            self.values.clear();
        }
        self.len = 0;
        self.more.clear();
    }

    /// Adds (or replaces) every field of `other`.
    pub(crate) fn extend(&mut self, other: &SpanFields) {
        for (name, value) in other.iter() {
            self.field(name, |out| out.push_str(value));
        }
    }

    /// Each field's name and rendered value, in the order first recorded.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.inline[..self.len.min(INLINE_FIELDS)]
            .iter()
            .chain(&self.more)
            .map(|&(name, start, end)| (name, &self.values[start as usize..end as usize]))
    }

    fn entry_mut(&mut self, index: usize) -> &mut (&'static str, u32, u32) {
        if index < INLINE_FIELDS {
            &mut self.inline[index]
        } else {
            &mut self.more[index - INLINE_FIELDS]
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
    fn field(&mut self, name: &'static str, render: impl FnOnce(&mut String)) {
        if derived_or_exporter_only(name) {
            return;
        }
        let start = self.values.len();
        render(&mut self.values);
        let range = (start as u32, self.values.len() as u32);
        // A value recorded again replaces the earlier one (its old bytes stay unused: values
        // are rarely recorded twice).
        let existing = self.iter().position(|(known, _)| known == name);
        let index = existing.unwrap_or(self.len);
        if existing.is_none() {
            if self.len >= INLINE_FIELDS {
                self.more.push((name, 0, 0));
            }
            self.len += 1;
        }
        *self.entry_mut(index) = (name, range.0, range.1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(fields: &mut SpanFields, name: &'static str, value: &str) {
        fields.field(name, |out| escape::push_str(out, value));
    }

    #[test]
    fn integers_render_as_json_numbers() {
        for value in [0, 7, 10, 64, 999, 1_000_000, u64::MAX] {
            let mut out = String::new();
            push_u64(&mut out, value);
            assert_eq!(out, value.to_string());
        }
    }

    #[test]
    fn cleared_fields_are_gone_and_the_buffer_is_reused() {
        let mut fields = SpanFields::default();
        for name in ["a", "b", "c", "d", "e"] {
            record(&mut fields, name, name);
        }
        let capacity = fields.values.capacity();
        fields.clear();
        assert!(fields.is_empty());
        assert_eq!(fields.iter().count(), 0);
        assert_eq!(fields.values.capacity(), capacity);
        record(&mut fields, "z", "z");
        assert_eq!(fields.iter().collect::<Vec<_>>(), [("z", "\"z\"")]);

        record(&mut fields, "huge", &"x".repeat(10_000));
        fields.clear();
        assert!(
            fields.values.capacity() < 10_000,
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
        record(&mut fields, "f", "second f");
        record(&mut fields, "otel.kind", "skipped");
        let stored: Vec<(&str, &str)> = fields.iter().collect();
        assert_eq!(
            stored,
            [
                ("a", "\"a\""),
                ("b", "\"second b\""),
                ("c", "\"c\""),
                ("d", "\"d\""),
                ("e", "\"e\""),
                ("f", "\"second f\""),
            ]
        );
    }
}
