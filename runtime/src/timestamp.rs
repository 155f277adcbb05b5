//! RFC 3339 UTC timestamps with microseconds (`2026-11-25T12:30:00.123456Z`), as ECS's
//! `@timestamp` expects, without a date-time dependency.

use std::fmt::Write;
use std::time::{SystemTime, UNIX_EPOCH};

/// The time as RFC 3339 text, without quotes (Alertmanager's `startsAt`, Sentry's `timestamp`).
pub(crate) fn rfc3339(time: SystemTime) -> String {
    let mut quoted = String::with_capacity(30);
    push_rfc3339(&mut quoted, time);
    quoted.trim_matches('"').to_owned()
}

/// Appends the time as a JSON string.
pub(crate) fn push_rfc3339(out: &mut String, time: SystemTime) {
    let since_epoch = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since_epoch.as_secs();
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    let (year, month, day) = civil_from_days(days);
    let _ = write!(
        out,
        "\"{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z\"",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        since_epoch.subsec_micros()
    );
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(secs: u64, micros: u32) -> String {
        let mut out = String::new();
        push_rfc3339(&mut out, UNIX_EPOCH + Duration::new(secs, micros * 1000));
        out
    }

    #[test]
    fn known_instants() {
        assert_eq!(at(0, 0), "\"1970-01-01T00:00:00.000000Z\"");
        assert_eq!(at(951_782_400, 5), "\"2000-02-29T00:00:00.000005Z\"");
        assert_eq!(
            at(1_795_609_845, 123_456),
            "\"2026-11-25T12:30:45.123456Z\""
        );
        assert_eq!(
            at(4_107_542_399, 999_999),
            "\"2100-02-28T23:59:59.999999Z\""
        );
    }
}
