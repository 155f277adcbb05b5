use std::fmt;

/// How urgent an alert is, as written in `#[ws_handler(alert = "critical")]`.
///
/// The three levels match the `severity` label that Prometheus alerting rules and Alertmanager
/// routes conventionally use.
///
/// ```
/// use ws_observe_runtime::alert::Severity;
/// assert_eq!(Severity::Critical.as_str(), "critical");
/// assert_eq!("warning".parse::<Severity>(), Ok(Severity::Warning));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// Someone should be paged now.
    Critical,
    /// Needs attention soon, not in the middle of the night.
    Warning,
    /// Worth knowing; never pages.
    Info,
}

impl Severity {
    /// Every level, most urgent first.
    pub const ALL: [Severity; 3] = [Severity::Critical, Severity::Warning, Severity::Info];

    /// The label value: `critical`, `warning` or `info`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of parsing an unknown severity name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown alert severity `{0}`; expected one of `critical`, `warning`, `info`")]
pub struct UnknownSeverity(pub String);

impl std::str::FromStr for Severity {
    type Err = UnknownSeverity;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Severity::ALL
            .into_iter()
            .find(|level| level.as_str() == s)
            .ok_or_else(|| UnknownSeverity(s.to_owned()))
    }
}
