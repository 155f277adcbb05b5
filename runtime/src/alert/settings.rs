//! The alert subsystem's settings: its sinks and its policy, from the `WS_OBSERVE_ALERT_*`,
//! `WS_OBSERVE_ALERTMANAGER_URL` and `SENTRY_*` variables, and the hub they start.

use std::sync::Arc;

use super::sinks::LogSink;
#[cfg(feature = "sentry")]
use super::sinks::SentrySink;
#[cfg(feature = "alert-http")]
use super::sinks::{AlertmanagerSink, WebhookSink};
use super::{AlertSink, Hub, Policy};
use crate::env_value::{check_http_url, non_empty, parse_duration, parse_positive, url_origin};
use crate::error::InitError;
use crate::vars;

/// Where alerts go besides the log, and the policy in front of the sinks.
///
/// ```
/// use ws_observe_runtime::alert::AlertSettings;
/// let settings = AlertSettings::from_vars(|name| {
///     (name == "WS_OBSERVE_ALERTMANAGER_URL").then(|| "http://127.0.0.1:9093".to_owned())
/// })
/// .unwrap();
/// assert_eq!(settings.alertmanager_urls(), ["http://127.0.0.1:9093"]);
/// ```
#[derive(Default)]
pub struct AlertSettings {
    alertmanager_urls: Vec<String>,
    webhook_url: Option<String>,
    /// DSN, environment, release.
    sentry: Option<(String, Option<String>, Option<String>)>,
    policy: Policy,
    sinks: Vec<Box<dyn AlertSink>>,
}

impl std::fmt::Debug for AlertSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Webhook URLs and DSNs are secrets: only whether they are set is shown.
        let origins: Vec<String> = self
            .alertmanager_urls
            .iter()
            .map(|u| url_origin(u))
            .collect();
        f.debug_struct("AlertSettings")
            .field("alertmanager_urls", &origins)
            .field("webhook", &self.webhook_url.as_ref().map(|_| "<redacted>"))
            .field("sentry", &self.sentry.as_ref().map(|_| "<redacted>"))
            .field("policy", &self.policy)
            .field("sinks", &self.sinks.len())
            .finish()
    }
}

impl AlertSettings {
    /// The defaults (the log only) overridden by the variables from `lookup`.
    pub fn from_vars(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, InitError> {
        let mut settings = AlertSettings::default();
        if let Some(value) = lookup(vars::ALERTMANAGER_URL) {
            let urls: Vec<&str> = value
                .split(',')
                .map(str::trim)
                .filter(|u| !u.is_empty())
                .collect();
            settings.set_alertmanager_urls(&urls)?;
        }
        if let Some(url) = non_empty(&lookup, vars::ALERT_WEBHOOK_URL) {
            settings.set_webhook_url(url.trim())?;
        }
        if let Some(dsn) = non_empty(&lookup, vars::SENTRY_DSN) {
            settings.set_sentry(
                dsn.trim(),
                lookup(vars::SENTRY_ENVIRONMENT).filter(|v| !v.is_empty()),
                lookup(vars::SENTRY_RELEASE).filter(|v| !v.is_empty()),
            )?;
        }
        let policy = &mut settings.policy;
        if let Some(value) = lookup(vars::ALERT_RESOLVE_AFTER) {
            policy.resolve_after = parse_duration(vars::ALERT_RESOLVE_AFTER, &value)?;
        }
        if let Some(value) = lookup(vars::ALERT_RESEND_INTERVAL) {
            policy.resend_interval = parse_duration(vars::ALERT_RESEND_INTERVAL, &value)?;
        }
        if let Some(value) = lookup(vars::ALERT_DEDUPE_WINDOW) {
            policy.dedupe_window = parse_duration(vars::ALERT_DEDUPE_WINDOW, &value)?;
        }
        if let Some(value) = lookup(vars::ALERT_RATE_LIMIT) {
            policy.rate_per_minute =
                parse_positive(vars::ALERT_RATE_LIMIT, &value, "alerts per minute")?;
        }
        Ok(settings)
    }

    /// Sends alerts to these Alertmanagers (base URLs; an HA pair gets every alert).
    pub fn set_alertmanager_urls(&mut self, urls: &[&str]) -> Result<(), InitError> {
        if !urls.is_empty() {
            needs(
                cfg!(feature = "alert-http"),
                vars::ALERTMANAGER_URL,
                "alert-http",
            )?;
        }
        for url in urls {
            check_http_url(vars::ALERTMANAGER_URL, url)?;
        }
        self.alertmanager_urls = urls.iter().map(|u| (*u).to_owned()).collect();
        Ok(())
    }

    /// The Alertmanager base URLs alerts go to.
    pub fn alertmanager_urls(&self) -> &[String] {
        &self.alertmanager_urls
    }

    /// Sends alerts to this Slack-compatible JSON webhook.
    pub fn set_webhook_url(&mut self, url: &str) -> Result<(), InitError> {
        needs(
            cfg!(feature = "alert-http"),
            vars::ALERT_WEBHOOK_URL,
            "alert-http",
        )?;
        check_http_url(vars::ALERT_WEBHOOK_URL, url)?;
        self.webhook_url = Some(url.to_owned());
        Ok(())
    }

    /// Sends alerts to Sentry at `dsn`, tagged with `environment` and `release`.
    pub fn set_sentry(
        &mut self,
        dsn: &str,
        environment: Option<String>,
        release: Option<String>,
    ) -> Result<(), InitError> {
        needs(cfg!(feature = "sentry"), vars::SENTRY_DSN, "sentry")?;
        check_dsn(dsn)?;
        self.sentry = Some((dsn.to_owned(), environment, release));
        Ok(())
    }

    /// Replaces the policy (deduplication, rate limit, lifecycle).
    pub fn set_policy(&mut self, mut policy: Policy) {
        // No instant plus these may overflow: longer than ten years is taken as ten years.
        for duration in [
            &mut policy.dedupe_window,
            &mut policy.resolve_after,
            &mut policy.resend_interval,
        ] {
            *duration = (*duration).min(crate::env_value::MAX_DURATION);
        }
        self.policy = policy;
    }

    /// The policy in effect.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Adds a sink of your own.
    pub fn add_sink(&mut self, sink: impl AlertSink) {
        self.sinks.push(Box::new(sink));
    }

    /// Builds every configured sink (the log always) and starts the hub; `service` names the
    /// sender in Alertmanager and webhook payloads. Nothing is installed yet.
    #[cfg_attr(not(feature = "alert-http"), allow(unused_variables))]
    pub(crate) fn start(self, service: &str) -> Result<Arc<Hub>, InitError> {
        let AlertSettings {
            alertmanager_urls,
            webhook_url,
            sentry,
            policy,
            sinks: mut own,
        } = self;
        let mut sinks: Vec<Box<dyn AlertSink>> = vec![Box::new(LogSink)];
        // Without the features the setters refused these, so they are empty.
        #[cfg(not(feature = "alert-http"))]
        let _ = (alertmanager_urls, webhook_url);
        #[cfg(not(feature = "sentry"))]
        let _ = sentry;
        #[cfg(feature = "alert-http")]
        if !alertmanager_urls.is_empty() {
            // Alertmanager keeps a firing alert until its end time: two resend intervals, so
            // one lost re-send does not resolve it.
            let active_for = policy.resend_interval * 2;
            let sink = AlertmanagerSink::new(alertmanager_urls.clone(), service, active_for)
                .map_err(|e| InitError::InvalidValue {
                    var: vars::ALERTMANAGER_URL,
                    value: alertmanager_urls
                        .iter()
                        .map(|u| url_origin(u))
                        .collect::<Vec<_>>()
                        .join(","),
                    expected: format!("a usable URL ({e})"),
                })?;
            sinks.push(Box::new(sink));
        }
        #[cfg(feature = "alert-http")]
        if let Some(url) = &webhook_url {
            let sink = WebhookSink::new(url, service).map_err(|e| InitError::InvalidValue {
                var: vars::ALERT_WEBHOOK_URL,
                value: url_origin(url),
                expected: format!("a usable URL ({e})"),
            })?;
            sinks.push(Box::new(sink));
        }
        #[cfg(feature = "sentry")]
        if let Some((dsn, environment, release)) = &sentry {
            let sink = SentrySink::new(dsn, environment.clone(), release.clone()).map_err(|e| {
                InitError::InvalidValue {
                    var: vars::SENTRY_DSN,
                    value: "<redacted>".into(),
                    expected: format!("a usable Sentry DSN ({e})"),
                }
            })?;
            sinks.push(Box::new(sink));
        }
        sinks.append(&mut own);
        Ok(Hub::start(sinks, policy))
    }
}

/// `Ok` when this build has `feature`, else the error naming `var` and the feature.
fn needs(enabled: bool, var: &'static str, feature: &'static str) -> Result<(), InitError> {
    if enabled {
        Ok(())
    } else {
        Err(InitError::FeatureDisabled { var, feature })
    }
}

#[cfg(feature = "sentry")]
fn check_dsn(dsn: &str) -> Result<(), InitError> {
    dsn.parse::<sentry::types::Dsn>()
        .map(|_| ())
        .map_err(|e| InitError::InvalidValue {
            var: vars::SENTRY_DSN,
            value: "<redacted>".into(),
            expected: format!("a Sentry DSN such as `https://<key>@<host>/<project>` ({e})"),
        })
}

/// Refused before by [`needs`]: without the feature no DSN is kept.
#[cfg(not(feature = "sentry"))]
fn check_dsn(_: &str) -> Result<(), InitError> {
    Ok(())
}
