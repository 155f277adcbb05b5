//! The handler span's schema: its field names, the names a user's `fields(...)` may not take,
//! the `__handler_span!` macro that opens it, and the hand-off of its values to `init()`'s
//! JSON subscriber ([`passed`]). Shared by the handler subsystem, which records on the span,
//! and the logs subsystem, which writes it; neither owns the other.

pub(crate) mod passed;

pub use passed::PassedSpanValues;

/// The field names of the handler span, declared (empty) when the span opens so they can be
/// recorded later: `tracing` only records fields a span declared.
pub mod fields {
    /// The handler's name.
    pub const HANDLER: &str = "ws.handler";
    /// The module the handler is defined in.
    pub const NAMESPACE: &str = "code.namespace";
    /// OpenTelemetry span kind.
    pub const KIND: &str = "otel.kind";
    /// `ERROR` when the call failed.
    pub const STATUS_CODE: &str = "otel.status_code";
    /// The error's type, `panic` or `cancelled`.
    pub const ERROR_TYPE: &str = "error.type";
    /// The error's `Display`.
    pub const ERROR_MESSAGE: &str = "error.message";
    /// The kind of a `Message` argument (`text`, `binary`, `ping`, `pong`, `close`).
    pub const MESSAGE_KIND: &str = "ws.message.kind";
    /// The payload size of a `Message` argument, in bytes.
    pub const MESSAGE_SIZE: &str = "ws.message.size";
}

/// Fields the handler span records itself; `fields(...)` may not reuse their names.
const RESERVED: [&str; 6] = [
    fields::HANDLER,
    fields::NAMESPACE,
    fields::KIND,
    fields::STATUS_CODE,
    fields::ERROR_TYPE,
    fields::ERROR_MESSAGE,
];

/// Keys every JSON log line has: a span field of the same name would write the key twice
/// (Elasticsearch rejects the line) or be dropped.
const LOG_KEYS: [&str; 9] = [
    "message",
    "@timestamp",
    "log.level",
    "ecs.version",
    "log.logger",
    "service.name",
    "spans",
    "trace.id",
    "span.id",
];

/// Called by generated code in a `const` for each name in `fields(...)`, so a
/// collision with a field ws-observe records itself, or with a key of every log line, is a
/// compile error at the user's name.
#[doc(hidden)]
pub const fn check_user_field(name: &str) {
    let mut i = 0;
    while i < LOG_KEYS.len() {
        if const_str_eq(LOG_KEYS[i], name) {
            panic!(
                "this name is a key of every JSON log line (message, @timestamp, log.level, \
                 ecs.version, log.logger, service.name, spans, trace.id, span.id): a span \
                 field of that name would clash with it; choose another name"
            );
        }
        i += 1;
    }
    let mut i = 0;
    while i < RESERVED.len() {
        if const_str_eq(RESERVED[i], name) {
            panic!(
                "this `fields(...)` name is recorded by ws-observe itself \
                 (ws.handler, code.namespace, otel.kind, otel.status_code, error.type, \
                 error.message): choose another name"
            );
        }
        i += 1;
    }
}

const fn const_str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Tells `init()`'s JSON subscriber that the handler span about to open (named `span_name`)
/// holds only the handler span's constant fields, which it derives from the span's metadata,
/// and a `Message` argument's kind and size (`None` when the handler has none), which it
/// stores as `ws.message.kind` and `ws.message.size`. It then skips `tracing`'s visit of
/// every declared field, two dynamic calls each: for a span per message, that visit was most
/// of the span's cost. Any other subscriber ignores this and visits the span's values.
/// Dropping the returned guard takes the values back, taken or not (a span that the filter
/// turned down, or another subscriber, never asks for them).
#[doc(hidden)]
#[inline]
pub fn __pass_span_values(
    span_name: &'static str,
    kind: Option<&'static str>,
    size: Option<u64>,
) -> PassedSpanValues {
    passed::pass(span_name, kind.zip(size))
}

/// The fields a handler span opened by `__handler_span!`'s `@passed` rule declares: the six of
/// every handler span and the two of a `Message` argument. `JsonSubscriber` takes handed-over
/// values only for a span of this shape.
pub(crate) const PASSED_SPAN_FIELDS: usize = 8;

/// Opens a handler span. Called by the macros' generated code; the field list lives here so
/// the macro crate holds no field name.
///
/// `target` and `code.namespace` are the caller's `module_path!()`, so
/// `RUST_LOG=my_app::handlers=debug` filters handler spans like any other span of that module.
#[doc(hidden)]
#[macro_export]
macro_rules! __handler_span {
    (@span $level:expr, $name:literal $(, $($fields:tt)+)?) => {
        $crate::tracing::span!(
            target: ::core::module_path!(),
            $level,
            $name,
            "ws.handler" = $name,
            "code.namespace" = ::core::module_path!(),
            "otel.kind" = "internal",
            "otel.status_code" = $crate::tracing::field::Empty,
            "error.type" = $crate::tracing::field::Empty,
            "error.message" = $crate::tracing::field::Empty
            $(, $($fields)+)?
        )
    };
    // A handler span with no value of the user's (no `fields(...)`, no `redact(...)`): its
    // values are also handed to init()'s JSON subscriber directly, which then skips tracing's
    // visit of every field (see `__pass_span_values`).
    (@passed $level:expr, $name:literal, $kind:expr, $size:expr) => {{
        let (kind, size): (::core::option::Option<&'static str>, ::core::option::Option<u64>) =
            ($kind, $size);
        // A filtered-out level costs nothing more. The guard takes the values back when the
        // span is open, or if opening it unwinds.
        let _passed = if $crate::tracing::level_enabled!($level) {
            ::core::option::Option::Some($crate::__private::pass_span_values($name, kind, size))
        } else {
            ::core::option::Option::None
        };
        $crate::__handler_span!(
            @span $level,
            $name,
            "ws.message.kind" = kind,
            "ws.message.size" = size
        )
    }};
    // The kind and size of a `Message` argument; `None` for an application type of that name.
    (@kind $message:expr) => {{
        #[allow(unused_imports)]
        use $crate::__private::message_probe::{ProbeMessage as _, ProbeOther as _};
        (&$crate::__private::message_probe::MessageProbe(&$message)).__ws_message_kind()
    }};
    (@size $message:expr) => {{
        #[allow(unused_imports)]
        use $crate::__private::message_probe::{ProbeMessage as _, ProbeOther as _};
        (&$crate::__private::message_probe::MessageProbe(&$message)).__ws_message_size()
    }};
    // A handler with a `Message` argument: its kind and size go on the span.
    ($level:expr, $name:literal, message = $message:expr) => {
        $crate::__handler_span!(
            @passed $level,
            $name,
            $crate::__handler_span!(@kind $message),
            $crate::__handler_span!(@size $message)
        )
    };
    ($level:expr, $name:literal, message = $message:expr, $($fields:tt)+) => {
        $crate::__handler_span!(
            @span $level,
            $name,
            "ws.message.kind" = $crate::__handler_span!(@kind $message),
            "ws.message.size" = $crate::__handler_span!(@size $message),
            $($fields)+
        )
    };
    ($level:expr, $name:literal) => {
        $crate::__handler_span!(@passed $level, $name, None, None)
    };
    ($level:expr, $name:literal, $($fields:tt)+) => {
        $crate::__handler_span!(@span $level, $name, $($fields)+)
    };
}
