//! Parsing of environment values shared by the subsystems' settings: durations, URLs, switches,
//! counts. Each parser names the variable in its [`InitError`], never echoing a secret.

use std::time::Duration;

use crate::error::InitError;

/// The variable's value, `None` when it is unset or blank (an empty variable is common in
/// shells and compose files, and means "not set").
pub(crate) fn non_empty(lookup: &impl Fn(&str) -> Option<String>, var: &str) -> Option<String> {
    lookup(var).filter(|value| !value.trim().is_empty())
}

/// The longest duration a setting takes: far beyond any sensible timeout or interval, and far
/// from the point where adding it (twice) to the current `Instant` would overflow.
pub(crate) const MAX_DURATION: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// Refuses the first of `vars` that is set: it asks for `feature`, which this build leaves
/// out. Compiled out does not mean silently ignored.
#[cfg_attr(all(feature = "otlp", feature = "privacy"), allow(dead_code))]
pub(crate) fn refuse_unbuilt(
    lookup: &impl Fn(&str) -> Option<String>,
    vars: &[&'static str],
    feature: &'static str,
) -> Result<(), InitError> {
    match vars.iter().find(|var| non_empty(lookup, var).is_some()) {
        Some(var) => Err(InitError::FeatureDisabled { var, feature }),
        None => Ok(()),
    }
}

/// A duration such as `90s`, `5m`, `500ms` or `1h` (a bare number is seconds), at most ten
/// years.
pub(crate) fn parse_duration(var: &'static str, value: &str) -> Result<Duration, InitError> {
    let invalid = || InitError::InvalidValue {
        var,
        value: value.to_owned(),
        expected: "a duration such as `90s`, `5m`, `500ms` or `1h`, at most ten years".into(),
    };
    let text = value.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().map_err(|_| invalid())?;
    let seconds = match unit.trim() {
        "ms" => number / 1000.0,
        "" | "s" => number,
        "m" => number * 60.0,
        "h" => number * 3600.0,
        _ => return Err(invalid()),
    };
    Duration::try_from_secs_f64(seconds)
        .ok()
        .filter(|duration| *duration <= MAX_DURATION)
        .ok_or_else(invalid)
}

/// `on`/`off` (also `true`/`false`, `1`/`0`).
pub(crate) fn parse_switch(var: &'static str, value: &str) -> Result<bool, InitError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "on" | "true" | "1" => Ok(true),
        "off" | "false" | "0" => Ok(false),
        _ => Err(InitError::InvalidValue {
            var,
            value: value.to_owned(),
            expected: "`on` or `off`".into(),
        }),
    }
}

/// A whole number of at least 1; `what` says what it counts.
pub(crate) fn parse_positive<T>(var: &'static str, value: &str, what: &str) -> Result<T, InitError>
where
    T: std::str::FromStr + PartialOrd + From<u8>,
{
    value
        .trim()
        .parse()
        .ok()
        .filter(|n| *n >= T::from(1))
        .ok_or_else(|| InitError::InvalidValue {
            var,
            value: value.to_owned(),
            expected: format!("a positive whole number ({what})"),
        })
}

/// `url` reduced to its scheme, host and port, for logs and `Debug`: user info, path and query
/// may hold credentials (a Slack webhook's path is its secret).
pub(crate) fn url_origin(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    if scheme.is_empty() {
        host.to_owned()
    } else {
        format!("{scheme}://{host}")
    }
}

/// An `http://` or `https://` URL with a host.
pub(crate) fn check_http_url(var: &'static str, url: &str) -> Result<(), InitError> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"));
    match rest {
        Some(host) if !host.is_empty() && !host.starts_with('/') => Ok(()),
        // The origin only: a webhook URL's path is its secret.
        _ => Err(InitError::InvalidValue {
            var,
            value: url_origin(url),
            expected: "an http:// or https:// URL such as `http://127.0.0.1:9093`".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_every_unit_and_bad_ones_name_the_variable() {
        assert_eq!(
            parse_duration("V", "500ms").unwrap(),
            Duration::from_millis(500)
        );
        assert_eq!(parse_duration("V", "90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("V", "5m").unwrap(), Duration::from_secs(300));
        assert_eq!(
            parse_duration("V", " 1h ").unwrap(),
            Duration::from_secs(3600)
        );
        for bad in [
            "",
            "5 parsecs",
            "-1s",
            "1e999s",
            "99999999999999999999",
            "3650000h",
        ] {
            let message = parse_duration("V", bad).unwrap_err().to_string();
            assert!(message.contains("for V"), "{bad}: {message}");
        }
    }

    #[test]
    fn origins_keep_no_credentials() {
        assert_eq!(
            url_origin("https://user:pw@am.example:9093/api?token=x"),
            "https://am.example:9093"
        );
        assert_eq!(
            url_origin("https://hooks.slack.com/services/T0/B0/secret"),
            "https://hooks.slack.com"
        );
        assert_eq!(url_origin("am.example:9093"), "am.example:9093");
    }

    #[test]
    fn switches_and_counts() {
        assert!(parse_switch("V", "On").unwrap());
        assert!(!parse_switch("V", "0").unwrap());
        assert!(parse_switch("V", "maybe").is_err());
        assert_eq!(parse_positive::<u32>("V", " 7", "things").unwrap(), 7);
        assert!(parse_positive::<u32>("V", "0", "things").is_err());
        assert!(parse_positive::<usize>("V", "x", "things").is_err());
    }
}
