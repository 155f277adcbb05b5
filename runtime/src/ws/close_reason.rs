//! The bounded `reason` label of `ws_connections_closed_total`.

use std::io::ErrorKind;

use tokio_tungstenite::tungstenite::Error;
use tokio_tungstenite::tungstenite::error::ProtocolError;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;

/// Why a connection ended: from its close code, or from how it failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CloseReason {
    /// 1000, or a close frame without a code (1005).
    Normal,
    /// 1001: the endpoint is going away (server shutdown, page left).
    GoingAway,
    /// 1002, or a malformed frame from the peer.
    ProtocolError,
    /// 1003: a data type the endpoint cannot accept.
    UnsupportedData,
    /// 1007, or text that is not UTF-8.
    InvalidPayload,
    /// 1008: a policy violation.
    Policy,
    /// 1009, or a message over the size limit.
    TooBig,
    /// 1011: the endpoint hit an unexpected condition.
    InternalError,
    /// 3000–4999: codes registered by or private to applications.
    Application,
    /// Any other code.
    Other,
    /// The peer vanished without a close frame (1006: reset, EOF mid-connection).
    Abnormal,
    /// The peer stopped answering keepalive pings.
    Timeout,
    /// A transport error other than the peer vanishing.
    Error,
}

impl CloseReason {
    /// Every reason, in the order the metrics list them.
    pub const ALL: [CloseReason; 13] = [
        CloseReason::Normal,
        CloseReason::GoingAway,
        CloseReason::ProtocolError,
        CloseReason::UnsupportedData,
        CloseReason::InvalidPayload,
        CloseReason::Policy,
        CloseReason::TooBig,
        CloseReason::InternalError,
        CloseReason::Application,
        CloseReason::Other,
        CloseReason::Abnormal,
        CloseReason::Timeout,
        CloseReason::Error,
    ];

    /// The label value.
    pub const fn as_str(self) -> &'static str {
        match self {
            CloseReason::Normal => "normal",
            CloseReason::GoingAway => "going_away",
            CloseReason::ProtocolError => "protocol_error",
            CloseReason::UnsupportedData => "unsupported_data",
            CloseReason::InvalidPayload => "invalid_payload",
            CloseReason::Policy => "policy",
            CloseReason::TooBig => "too_big",
            CloseReason::InternalError => "internal_error",
            CloseReason::Application => "application",
            CloseReason::Other => "other",
            CloseReason::Abnormal => "abnormal",
            CloseReason::Timeout => "timeout",
            CloseReason::Error => "error",
        }
    }

    pub(crate) const fn index(self) -> usize {
        self as usize
    }

    /// The reason a close code stands for (RFC 6455 §7.4).
    ///
    /// ```
    /// use ws_observe_runtime::ws::CloseReason;
    /// assert_eq!(CloseReason::from_code(1000), CloseReason::Normal);
    /// assert_eq!(CloseReason::from_code(4001), CloseReason::Application);
    /// ```
    pub fn from_code(code: u16) -> CloseReason {
        match code {
            1000 | 1005 => CloseReason::Normal,
            1001 => CloseReason::GoingAway,
            1002 => CloseReason::ProtocolError,
            1003 => CloseReason::UnsupportedData,
            1006 => CloseReason::Abnormal,
            1007 => CloseReason::InvalidPayload,
            1008 => CloseReason::Policy,
            1009 => CloseReason::TooBig,
            1011 => CloseReason::InternalError,
            3000..=4999 => CloseReason::Application,
            _ => CloseReason::Other,
        }
    }

    pub(crate) fn from_frame(frame: Option<&CloseFrame>) -> CloseReason {
        frame.map_or(CloseReason::Normal, |f| {
            CloseReason::from_code(u16::from(f.code))
        })
    }

    /// What a transport or protocol error says about how the connection ended; `None` for
    /// errors that only report an already-closed connection.
    pub(crate) fn from_error(error: &Error) -> Option<CloseReason> {
        Some(match error {
            Error::ConnectionClosed | Error::AlreadyClosed => return None,
            Error::Io(io) => match io.kind() {
                ErrorKind::ConnectionReset
                | ErrorKind::ConnectionAborted
                | ErrorKind::BrokenPipe
                | ErrorKind::UnexpectedEof => CloseReason::Abnormal,
                _ => CloseReason::Error,
            },
            Error::Protocol(ProtocolError::ResetWithoutClosingHandshake) => CloseReason::Abnormal,
            Error::Protocol(_) => CloseReason::ProtocolError,
            Error::Capacity(_) => CloseReason::TooBig,
            Error::Utf8(_) => CloseReason::InvalidPayload,
            _ => CloseReason::Error,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_bounded_reasons() {
        let cases = [
            (1000, "normal"),
            (1001, "going_away"),
            (1002, "protocol_error"),
            (1003, "unsupported_data"),
            (1005, "normal"),
            (1006, "abnormal"),
            (1007, "invalid_payload"),
            (1008, "policy"),
            (1009, "too_big"),
            (1011, "internal_error"),
            (3000, "application"),
            (4999, "application"),
            (1004, "other"),
            (2999, "other"),
            (5000, "other"),
        ];
        for (code, reason) in cases {
            assert_eq!(CloseReason::from_code(code).as_str(), reason, "code {code}");
        }
    }

    #[test]
    fn errors_map_to_reasons() {
        let reset = Error::Io(std::io::Error::from(ErrorKind::ConnectionReset));
        assert_eq!(CloseReason::from_error(&reset), Some(CloseReason::Abnormal));
        let eof = Error::Protocol(ProtocolError::ResetWithoutClosingHandshake);
        assert_eq!(CloseReason::from_error(&eof), Some(CloseReason::Abnormal));
        let bad = Error::Protocol(ProtocolError::NonZeroReservedBits);
        assert_eq!(
            CloseReason::from_error(&bad),
            Some(CloseReason::ProtocolError)
        );
        assert_eq!(CloseReason::from_error(&Error::ConnectionClosed), None);
        let other = Error::Io(std::io::Error::other("disk"));
        assert_eq!(CloseReason::from_error(&other), Some(CloseReason::Error));
    }
}
