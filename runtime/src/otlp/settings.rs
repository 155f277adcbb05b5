//! Trace export settings, read from the OpenTelemetry specification's variables and validated
//! here, so a bad value is an `InitError` naming the variable instead of a silent default.

use std::time::Duration;

use crate::env_value::url_origin;
use crate::error::InitError;

pub use crate::vars::otlp as vars;

/// The OTLP transport.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// OTLP/gRPC (usually port 4317).
    Grpc,
    /// OTLP/HTTP with protobuf bodies (usually port 4318); the specification's default.
    HttpProtobuf,
}

/// Which spans are recorded and exported.
#[derive(Clone, Debug, PartialEq)]
pub enum Sampling {
    /// Every trace.
    AlwaysOn,
    /// No trace.
    AlwaysOff,
    /// This fraction of traces, chosen by trace id.
    TraceIdRatio(f64),
    /// Follow the parent's decision; use the inner choice for root spans.
    ParentBased(Box<Sampling>),
}

/// Where and how spans are exported. Its `Debug` shows header names, never their values.
#[derive(Clone, PartialEq)]
pub struct TraceExport {
    /// The transport.
    pub protocol: Protocol,
    /// The full endpoint (for HTTP, the URL spans are POSTed to).
    pub endpoint: String,
    /// Extra request headers (authentication).
    pub headers: Vec<(String, String)>,
    /// Per-request timeout.
    pub timeout: Duration,
    /// The sampler.
    pub sampling: Sampling,
    /// Extra resource attributes.
    pub resource: Vec<(String, String)>,
    /// Spans queued for export at most; more are dropped and counted.
    pub max_queue_size: usize,
    /// Spans per export request at most.
    pub max_batch_size: usize,
    /// How long a partial batch waits before it is sent.
    pub schedule_delay: Duration,
}

impl std::fmt::Debug for TraceExport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(name, _)| (name.as_str(), "<redacted>"))
            .collect();
        f.debug_struct("TraceExport")
            .field("protocol", &self.protocol)
            .field("endpoint", &url_origin(&self.endpoint))
            .field("headers", &headers)
            .field("timeout", &self.timeout)
            .field("sampling", &self.sampling)
            .field("resource", &self.resource)
            .field("max_queue_size", &self.max_queue_size)
            .field("max_batch_size", &self.max_batch_size)
            .field("schedule_delay", &self.schedule_delay)
            .finish()
    }
}

impl TraceExport {
    /// Export to `endpoint` (for `HttpProtobuf`, a base such as `http://127.0.0.1:4318`:
    /// `/v1/traces` is appended) with the specification's defaults otherwise.
    pub fn new(protocol: Protocol, endpoint: &str) -> Result<Self, InitError> {
        #[cfg(not(feature = "otlp-grpc"))]
        if protocol == Protocol::Grpc {
            return Err(InitError::FeatureDisabled {
                var: vars::PROTOCOL,
                feature: "otlp-grpc",
            });
        }
        let endpoint = check_endpoint(vars::ENDPOINT, protocol, endpoint)?;
        Ok(TraceExport {
            protocol,
            endpoint: full_endpoint(protocol, &endpoint),
            headers: Vec::new(),
            timeout: Duration::from_secs(10),
            sampling: Sampling::ParentBased(Box::new(Sampling::AlwaysOn)),
            resource: Vec::new(),
            max_queue_size: DEFAULT_QUEUE,
            max_batch_size: DEFAULT_BATCH,
            schedule_delay: DEFAULT_DELAY,
        })
    }
}

const DEFAULT_QUEUE: usize = 8192;
const DEFAULT_BATCH: usize = 512;
const DEFAULT_DELAY: Duration = Duration::from_millis(500);

fn invalid(var: &'static str, value: &str, expected: &str) -> InitError {
    InitError::InvalidValue {
        var,
        value: value.to_owned(),
        expected: expected.to_owned(),
    }
}

/// Reads the export settings; `None` when no endpoint is set or the SDK is disabled.
pub(crate) fn from_vars(
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<TraceExport>, InitError> {
    let get = |name: &str| crate::env_value::non_empty(&lookup, name);
    if let Some(disabled) = get(vars::SDK_DISABLED) {
        match disabled.trim().to_ascii_lowercase().as_str() {
            "true" => return Ok(None),
            "false" => {}
            _ => return Err(invalid(vars::SDK_DISABLED, &disabled, "`true` or `false`")),
        }
    }
    let (protocol_var, protocol) = match (get(vars::TRACES_PROTOCOL), get(vars::PROTOCOL)) {
        (Some(p), _) => (vars::TRACES_PROTOCOL, Some(p)),
        (None, Some(p)) => (vars::PROTOCOL, Some(p)),
        (None, None) => (vars::PROTOCOL, None),
    };
    let protocol = match protocol.as_deref().map(str::trim) {
        None | Some("http/protobuf") => Protocol::HttpProtobuf,
        Some("grpc") => Protocol::Grpc,
        Some(other) => {
            return Err(invalid(
                protocol_var,
                other,
                "`grpc` or `http/protobuf` (`http/json` is not supported)",
            ));
        }
    };
    let endpoint = match (get(vars::TRACES_ENDPOINT), get(vars::ENDPOINT)) {
        (Some(traces), _) => check_endpoint(vars::TRACES_ENDPOINT, protocol, &traces)?,
        (None, Some(base)) => {
            full_endpoint(protocol, &check_endpoint(vars::ENDPOINT, protocol, &base)?)
        }
        (None, None) => return Ok(None),
    };
    #[cfg(not(feature = "otlp-grpc"))]
    if protocol == Protocol::Grpc {
        return Err(InitError::FeatureDisabled {
            var: protocol_var,
            feature: "otlp-grpc",
        });
    }
    let headers = match (get(vars::TRACES_HEADERS), get(vars::HEADERS)) {
        (Some(h), _) => parse_pairs(vars::TRACES_HEADERS, &h)?,
        (None, Some(h)) => parse_pairs(vars::HEADERS, &h)?,
        (None, None) => Vec::new(),
    };
    let timeout = match (get(vars::TRACES_TIMEOUT), get(vars::TIMEOUT)) {
        (Some(t), _) => parse_millis(vars::TRACES_TIMEOUT, &t)?,
        (None, Some(t)) => parse_millis(vars::TIMEOUT, &t)?,
        (None, None) => Duration::from_secs(10),
    };
    let resource = match get(vars::RESOURCE_ATTRIBUTES) {
        Some(attributes) => parse_pairs(vars::RESOURCE_ATTRIBUTES, &attributes)?,
        None => Vec::new(),
    };
    let sampling = parse_sampler(
        get(vars::SAMPLER).as_deref(),
        get(vars::SAMPLER_ARG).as_deref(),
    )?;
    let count = |var: &'static str, default: usize| -> Result<usize, InitError> {
        match get(var) {
            None => Ok(default),
            Some(v) => v
                .trim()
                .parse()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| invalid(var, &v, "a positive whole number")),
        }
    };
    let max_queue_size = count(vars::BSP_MAX_QUEUE_SIZE, DEFAULT_QUEUE)?;
    let max_batch_size = count(vars::BSP_MAX_EXPORT_BATCH_SIZE, DEFAULT_BATCH)?.min(max_queue_size);
    let schedule_delay = match get(vars::BSP_SCHEDULE_DELAY) {
        Some(v) => parse_millis(vars::BSP_SCHEDULE_DELAY, &v)?,
        None => DEFAULT_DELAY,
    };
    Ok(Some(TraceExport {
        protocol,
        endpoint,
        headers,
        timeout,
        sampling,
        resource,
        max_queue_size,
        max_batch_size,
        schedule_delay,
    }))
}

/// OTLP/HTTP goes over `http://` or `https://` (rustls, the system's roots); OTLP/gRPC over
/// `http://` only for now: its TLS is not built in.
fn check_endpoint(
    var: &'static str,
    protocol: Protocol,
    endpoint: &str,
) -> Result<String, InitError> {
    let endpoint = endpoint.trim();
    if endpoint.starts_with("https://") && protocol == Protocol::Grpc {
        return Err(invalid(
            var,
            &url_origin(endpoint),
            "an `http://` endpoint: TLS for OTLP/gRPC is not built in yet; \
             use `http/protobuf` over https, or a local collector over http",
        ));
    }
    let Some(rest) = endpoint
        .strip_prefix("http://")
        .or_else(|| endpoint.strip_prefix("https://"))
    else {
        return Err(invalid(
            var,
            &url_origin(endpoint),
            "a URL such as `http://127.0.0.1:4318`",
        ));
    };
    if rest.is_empty() || rest.starts_with('/') {
        return Err(invalid(
            var,
            &url_origin(endpoint),
            "a URL with a host, such as `http://127.0.0.1:4318`",
        ));
    }
    Ok(endpoint.to_owned())
}

/// The specification: for OTLP/HTTP the signal path is appended to the base endpoint; gRPC
/// endpoints are used as given.
fn full_endpoint(protocol: Protocol, base: &str) -> String {
    match protocol {
        Protocol::Grpc => base.to_owned(),
        Protocol::HttpProtobuf => format!("{}/v1/traces", base.trim_end_matches('/')),
    }
}

fn parse_millis(var: &'static str, value: &str) -> Result<Duration, InitError> {
    value
        .trim()
        .parse::<u64>()
        .map(Duration::from_millis)
        .map_err(|_| {
            invalid(
                var,
                value,
                "a whole number of milliseconds, such as `10000`",
            )
        })
}

/// `key=value,key2=value2` with percent-encoded values (W3C Baggage style, as the
/// specification says for headers and resource attributes).
fn parse_pairs(var: &'static str, value: &str) -> Result<Vec<(String, String)>, InitError> {
    // Header values are credentials (API keys): an error names the variable, never the value.
    let value_shown = if var == vars::HEADERS || var == vars::TRACES_HEADERS {
        "<redacted>"
    } else {
        value
    };
    value
        .split(',')
        .filter(|pair| !pair.trim().is_empty())
        .map(|pair| {
            let (key, val) = pair
                .split_once('=')
                .filter(|(k, _)| !k.trim().is_empty())
                .ok_or_else(|| {
                    invalid(var, value_shown, "`key=value` pairs separated by commas")
                })?;
            let decoded = percent_decode(val.trim())
                .ok_or_else(|| invalid(var, value_shown, "valid percent-encoding"))?;
            Ok((key.trim().to_owned(), decoded))
        })
        .collect()
}

fn percent_decode(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn parse_sampler(name: Option<&str>, arg: Option<&str>) -> Result<Sampling, InitError> {
    let ratio = || -> Result<f64, InitError> {
        match arg {
            None => Ok(1.0),
            Some(arg) => arg
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|r| (0.0..=1.0).contains(r))
                .ok_or_else(|| invalid(vars::SAMPLER_ARG, arg, "a ratio between 0.0 and 1.0")),
        }
    };
    let parent_based = |inner: Sampling| Sampling::ParentBased(Box::new(inner));
    Ok(
        match name.map(|n| n.trim().to_ascii_lowercase()).as_deref() {
            None | Some("parentbased_always_on") => parent_based(Sampling::AlwaysOn),
            Some("always_on") => Sampling::AlwaysOn,
            Some("always_off") => Sampling::AlwaysOff,
            Some("traceidratio") => Sampling::TraceIdRatio(ratio()?),
            Some("parentbased_always_off") => parent_based(Sampling::AlwaysOff),
            Some("parentbased_traceidratio") => parent_based(Sampling::TraceIdRatio(ratio()?)),
            Some(_) => {
                return Err(invalid(
                    vars::SAMPLER,
                    name.unwrap_or_default(),
                    "one of `always_on`, `always_off`, `traceidratio`, `parentbased_always_on`, \
                 `parentbased_always_off`, `parentbased_traceidratio`",
                ));
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(pairs: &[(&str, &str)]) -> Result<Option<TraceExport>, InitError> {
        from_vars(&|name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn no_endpoint_no_export() {
        assert_eq!(read(&[]).unwrap(), None);
        assert_eq!(
            read(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")]).unwrap(),
            None
        );
        assert_eq!(
            read(&[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
                ("OTEL_SDK_DISABLED", "true")
            ])
            .unwrap(),
            None
        );
    }

    #[test]
    fn the_specification_defaults_and_precedence() {
        let export = read(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/")])
            .unwrap()
            .unwrap();
        assert_eq!(export.protocol, Protocol::HttpProtobuf);
        assert_eq!(export.endpoint, "http://collector:4318/v1/traces");
        assert_eq!(export.timeout, Duration::from_secs(10));
        assert_eq!(
            export.sampling,
            Sampling::ParentBased(Box::new(Sampling::AlwaysOn))
        );

        if cfg!(not(feature = "otlp-grpc")) {
            return;
        }
        let export = read(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://ignored:1"),
            (
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                "http://collector:4317",
            ),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "x-api-key=a%20b,tenant=t1"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "2500"),
            ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "0.25"),
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                "deployment.environment=prod,service.version=1.2.3",
            ),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(export.protocol, Protocol::Grpc);
        assert_eq!(export.endpoint, "http://collector:4317");
        assert_eq!(
            export.headers,
            vec![
                ("x-api-key".into(), "a b".into()),
                ("tenant".into(), "t1".into())
            ]
        );
        assert_eq!(export.timeout, Duration::from_millis(2500));
        assert_eq!(
            export.sampling,
            Sampling::ParentBased(Box::new(Sampling::TraceIdRatio(0.25)))
        );
        assert_eq!(
            export.resource[1],
            ("service.version".into(), "1.2.3".into())
        );
    }

    #[test]
    fn https_is_for_http_protobuf_only() {
        let export = read(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "https://otlp.example:443")])
            .unwrap()
            .unwrap();
        assert_eq!(export.endpoint, "https://otlp.example:443/v1/traces");
        if cfg!(not(feature = "otlp-grpc")) {
            return;
        }
        let message = read(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "https://otlp.example:4317"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ])
        .unwrap_err()
        .to_string();
        assert!(
            message.contains("OTEL_EXPORTER_OTLP_ENDPOINT") && message.contains("gRPC"),
            "{message}"
        );
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (var, value) in [
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "10s"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "novalue"),
            ("OTEL_TRACES_SAMPLER", "sometimes"),
            ("OTEL_TRACES_SAMPLER_ARG", "1.5"),
            ("OTEL_RESOURCE_ATTRIBUTES", "a=%zz"),
            ("OTEL_SDK_DISABLED", "maybe"),
        ] {
            let mut pairs = vec![
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
                (var, value),
            ];
            if var == "OTEL_TRACES_SAMPLER_ARG" {
                pairs.push(("OTEL_TRACES_SAMPLER", "traceidratio"));
            }
            if var == "OTEL_EXPORTER_OTLP_ENDPOINT" {
                pairs.remove(0);
            }
            let message = read(&pairs).unwrap_err().to_string();
            assert!(message.contains(var), "{message}");
            if var == "OTEL_EXPORTER_OTLP_HEADERS" {
                // Header values are credentials: never repeated.
                assert!(!message.contains(value), "{message}");
            } else {
                assert!(message.contains(value), "{message}");
            }
        }
    }
}
