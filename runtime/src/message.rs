//! What a WebSocket message is to metrics and spans: its kind (the `kind` label and
//! `ws.message.kind`) and its payload size.
//!
//! The probe below puts `ws.message.kind` and `ws.message.size` on the span of a handler that
//! takes a `Message` (or `&Message`) argument. The macro passes every argument whose type is spelled
//! `Message`; autoref specialisation keeps only tungstenite's, so an application type of the
//! same name compiles and records nothing.

use tokio_tungstenite::tungstenite::Message;

/// The `kind` label values, in the order of [`kind_and_size`]'s index.
pub(crate) const KINDS: [&str; 5] = ["text", "binary", "ping", "pong", "close"];

/// The `kind` label index and payload size of a message.
#[inline]
pub(crate) fn kind_and_size(message: &Message) -> (usize, usize) {
    match message {
        Message::Text(text) => (0, text.len()),
        Message::Binary(bytes) => (1, bytes.len()),
        Message::Ping(bytes) => (2, bytes.len()),
        Message::Pong(bytes) => (3, bytes.len()),
        // The payload of a close frame is its 2-byte code and its reason.
        Message::Close(frame) => (4, frame.as_ref().map_or(0, |f| 2 + f.reason.len())),
        // Raw frames are only ever sent, and carry data.
        Message::Frame(frame) => (1, frame.payload().len()),
    }
}

/// The `kind` label of a message.
pub(crate) fn kind_name(message: &Message) -> &'static str {
    KINDS[kind_and_size(message).0]
}

#[doc(hidden)]
pub struct MessageProbe<'a, T: ?Sized>(pub &'a T);

#[doc(hidden)]
pub trait ProbeMessage {
    fn __ws_message_kind(&self) -> Option<&'static str>;
    fn __ws_message_size(&self) -> Option<u64>;
}

impl ProbeMessage for MessageProbe<'_, Message> {
    fn __ws_message_kind(&self) -> Option<&'static str> {
        Some(kind_name(self.0))
    }
    fn __ws_message_size(&self) -> Option<u64> {
        Some(kind_and_size(self.0).1 as u64)
    }
}

impl ProbeMessage for MessageProbe<'_, &Message> {
    fn __ws_message_kind(&self) -> Option<&'static str> {
        Some(kind_name(self.0))
    }
    fn __ws_message_size(&self) -> Option<u64> {
        Some(kind_and_size(self.0).1 as u64)
    }
}

#[doc(hidden)]
pub trait ProbeOther {
    fn __ws_message_kind(&self) -> Option<&'static str>;
    fn __ws_message_size(&self) -> Option<u64>;
}

impl<T: ?Sized> ProbeOther for &MessageProbe<'_, T> {
    fn __ws_message_kind(&self) -> Option<&'static str> {
        None
    }
    fn __ws_message_size(&self) -> Option<u64> {
        None
    }
}
