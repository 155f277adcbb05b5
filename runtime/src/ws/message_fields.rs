//! `ws.message.kind` and `ws.message.size` on the span of a handler that takes a `Message`
//! (or `&Message`) argument. The macro passes every argument whose type is spelled
//! `Message`; autoref specialisation keeps only tungstenite's, so an application type of the
//! same name compiles and records nothing.

use tokio_tungstenite::tungstenite::Message;

use super::metrics::{kind_and_size, kind_name};

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
