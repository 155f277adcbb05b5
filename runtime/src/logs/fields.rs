//! Recording `tracing` field values as JSON, for spans (stored once, rendered into every line
//! inside the span) and for events (rendered straight into the line).

use std::fmt::{self, Write};

use tracing::field::{Field, Visit};

use super::escape;

/// Where a visited value goes: `slot` returns the buffer to append the value's JSON to, or
/// `None` to skip the field.
pub(crate) trait JsonSink {
    fn slot(&mut self, name: &'static str) -> Option<&mut String>;
}

/// A `Visit` that renders each value as JSON into its sink's slot.
pub(crate) struct Recorder<'a, S: JsonSink>(pub(crate) &'a mut S);

impl<S: JsonSink> Visit for Recorder<'_, S> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        if let Some(out) = self.0.slot(field.name()) {
            if value.is_finite() {
                let _ = write!(out, "{value}");
            } else {
                // NaN and infinities are not JSON numbers.
                escape::push_fmt(out, format_args!("{value}"));
            }
        }
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        if let Some(out) = self.0.slot(field.name()) {
            let _ = write!(out, "{value}");
        }
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        if let Some(out) = self.0.slot(field.name()) {
            let _ = write!(out, "{value}");
        }
    }
    fn record_i128(&mut self, field: &Field, value: i128) {
        if let Some(out) = self.0.slot(field.name()) {
            let _ = write!(out, "{value}");
        }
    }
    fn record_u128(&mut self, field: &Field, value: u128) {
        if let Some(out) = self.0.slot(field.name()) {
            let _ = write!(out, "{value}");
        }
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        if let Some(out) = self.0.slot(field.name()) {
            out.push_str(if value { "true" } else { "false" });
        }
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        if let Some(out) = self.0.slot(field.name()) {
            escape::push_str(out, value);
        }
    }
    fn record_bytes(&mut self, field: &Field, value: &[u8]) {
        // Bytes from the network may be anything: invalid UTF-8 becomes U+FFFD, never raw.
        if let Some(out) = self.0.slot(field.name()) {
            escape::push_str(out, &String::from_utf8_lossy(value));
        }
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        if let Some(out) = self.0.slot(field.name()) {
            escape::push_fmt(out, format_args!("{value}"));
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if let Some(out) = self.0.slot(field.name()) {
            escape::push_fmt(out, format_args!("{value:?}"));
        }
    }
}

/// A span's fields, each value already rendered as JSON. Stored in the span's extensions; a
/// span with nothing worth storing gets no allocation at all.
#[derive(Default)]
pub(crate) struct SpanFields(pub(crate) Vec<(&'static str, String)>);

/// Handler-span fields that are not stored: `ws.handler` and `code.namespace` are the span's
/// name and target, rendered from its metadata, and `otel.*` are hints for the OpenTelemetry
/// exporter, not data. Skipping them keeps a handler span allocation-free on the success path.
pub(crate) fn derived_or_exporter_only(name: &str) -> bool {
    name == "ws.handler" || name == "code.namespace" || name.starts_with("otel.")
}

impl JsonSink for SpanFields {
    fn slot(&mut self, name: &'static str) -> Option<&mut String> {
        if derived_or_exporter_only(name) {
            return None;
        }
        // A value recorded again replaces the earlier one.
        let index = match self.0.iter().position(|(k, _)| *k == name) {
            Some(index) => {
                self.0[index].1.clear();
                index
            }
            None => {
                self.0.push((name, String::new()));
                self.0.len() - 1
            }
        };
        Some(&mut self.0[index].1)
    }
}
