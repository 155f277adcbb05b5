//! The `/metrics` listener's settings: where it listens and the token it asks for.

use std::net::SocketAddr;

use crate::error::InitError;
use crate::vars;

/// The default `/metrics` address: loopback only, so metrics are never public by accident.
pub const DEFAULT_METRICS_ADDR: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 9464);

/// Where `/metrics` listens (`None`: nowhere) and the bearer token it requires.
///
/// ```
/// use ws_observe_runtime::metrics::ListenerSettings;
/// let settings = ListenerSettings::from_vars(|name| {
///     (name == "WS_OBSERVE_METRICS_ADDR").then(|| "127.0.0.1:0".to_owned())
/// })
/// .unwrap();
/// assert_eq!(settings.addr, Some("127.0.0.1:0".parse().unwrap()));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ListenerSettings {
    /// The address, `None` when `/metrics` is off.
    pub addr: Option<SocketAddr>,
    pub(crate) token: Option<String>,
}

impl Default for ListenerSettings {
    fn default() -> Self {
        ListenerSettings {
            addr: Some(DEFAULT_METRICS_ADDR),
            token: None,
        }
    }
}

impl std::fmt::Debug for ListenerSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ListenerSettings")
            .field("addr", &self.addr)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl ListenerSettings {
    /// The defaults overridden by `WS_OBSERVE_METRICS_ADDR` and `WS_OBSERVE_METRICS_TOKEN`.
    pub fn from_vars(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, InitError> {
        let mut settings = ListenerSettings::default();
        if let Some(value) = lookup(vars::METRICS_ADDR) {
            settings.addr = parse_addr(&value)?;
        }
        if let Some(token) = lookup(vars::METRICS_TOKEN) {
            settings.set_token(token)?;
        }
        Ok(settings)
    }

    /// Requires `Authorization: Bearer <token>`. An empty or blank token is an error rather
    /// than silently "no protection"; the error never repeats the token.
    pub fn set_token(&mut self, token: impl Into<String>) -> Result<(), InitError> {
        let token = token.into();
        if token.trim().is_empty() || token.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(InitError::InvalidValue {
                var: vars::METRICS_TOKEN,
                value: if token.is_empty() {
                    String::new()
                } else {
                    "<redacted>".into()
                },
                expected: "a non-empty token without spaces or control characters".into(),
            });
        }
        self.token = Some(token);
        Ok(())
    }

    /// Whether a token is required.
    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }
}

fn parse_addr(value: &str) -> Result<Option<SocketAddr>, InitError> {
    let value = value.trim();
    if value.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    value
        .parse()
        .map(Some)
        .map_err(|_| InitError::InvalidValue {
            var: vars::METRICS_ADDR,
            value: value.to_owned(),
            expected:
                "an IP address and port such as `127.0.0.1:9464` (port 0 picks one), or `off`"
                    .into(),
        })
}
