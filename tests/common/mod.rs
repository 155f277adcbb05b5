//! Helpers shared by the facade's end-to-end tests: a `/metrics` listener on a free loopback
//! port, a real HTTP scrape, a parser for the text format, and a span-capturing layer.
#![allow(dead_code)]

pub mod alert_receivers;
pub mod child;
pub mod otlp_receiver;
pub mod process;
pub mod scratch;
pub mod shared;
pub mod spans;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::OnceLock;

use ws_observe::runtime::metrics::MetricsServer;

/// The test binary's `/metrics` listener (bound once, on 127.0.0.1:0).
pub fn metrics_addr() -> SocketAddr {
    static SERVER: OnceLock<MetricsServer> = OnceLock::new();
    SERVER
        .get_or_init(|| {
            MetricsServer::bind(
                "127.0.0.1:0".parse().unwrap(),
                None,
                ws_observe::runtime::exposition(),
            )
            .expect("bind /metrics")
        })
        .local_addr()
}

/// GETs `path` from `addr` over real HTTP; returns (status, body).
pub fn http_get(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connect to /metrics");
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response[9..12].parse().expect("status code");
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// Scrapes `/metrics` over HTTP.
pub fn scrape() -> String {
    let (status, body) = http_get(metrics_addr(), "/metrics", &[]);
    assert_eq!(status, 200, "{body}");
    body
}

/// The value of the sample `name{labels}` in a text-format exposition (labels in any order;
/// every given label must match, and the sample must have no other labels).
pub fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (metric, label_text) = match series.split_once('{') {
                Some((m, rest)) => (m, rest.strip_suffix('}')?),
                None => (series, ""),
            };
            if metric != name {
                return None;
            }
            let found: Vec<(&str, &str)> = if label_text.is_empty() {
                Vec::new()
            } else {
                label_text
                    .split("\",")
                    .map(|pair| {
                        let (k, v) = pair.split_once('=').unwrap();
                        (k, v.trim_matches('"'))
                    })
                    .collect()
            };
            let same = found.len() == labels.len() && labels.iter().all(|l| found.contains(l));
            same.then(|| value.parse().unwrap())
        })
}

/// Everything scraped about one handler.
#[derive(Debug, PartialEq)]
pub struct HandlerSeries {
    pub ok: f64,
    pub error: f64,
    pub panic: f64,
    pub cancelled: f64,
    pub in_flight: f64,
    pub count: f64,
    pub sum: f64,
}

/// Scrapes `/metrics` and reads one handler's series; panics if any of them is missing.
pub fn handler(name: &str, module: &str) -> HandlerSeries {
    let text = scrape();
    let ids = [("handler", name), ("module", module)];
    let calls = |outcome| {
        let mut labels = ids.to_vec();
        labels.push(("outcome", outcome));
        sample(&text, "ws_handler_calls_total", &labels)
            .unwrap_or_else(|| panic!("no {outcome} series for {name} in {module}:\n{text}"))
    };
    let get = |metric: &str| {
        sample(&text, metric, &ids)
            .unwrap_or_else(|| panic!("no {metric} for {name} in {module}:\n{text}"))
    };
    HandlerSeries {
        ok: calls("ok"),
        error: calls("error"),
        panic: calls("panic"),
        cancelled: calls("cancelled"),
        in_flight: get("ws_handler_in_flight"),
        count: get("ws_handler_duration_seconds_count"),
        sum: get("ws_handler_duration_seconds_sum"),
    }
}

/// Shorthand for the expected counts: (ok, error, panic, cancelled), in flight 0, and every
/// call observed in the histogram.
pub fn assert_calls(
    name: &str,
    module: &str,
    (ok, error, panic, cancelled): (u32, u32, u32, u32),
) -> HandlerSeries {
    let series = handler(name, module);
    let expected = (
        f64::from(ok),
        f64::from(error),
        f64::from(panic),
        f64::from(cancelled),
    );
    assert_eq!(
        (series.ok, series.error, series.panic, series.cancelled),
        expected,
        "outcomes of {name}"
    );
    assert_eq!(series.in_flight, 0.0, "in flight of {name}");
    assert_eq!(
        series.count,
        f64::from(ok + error + panic + cancelled),
        "histogram count of {name}"
    );
    series
}

/// Polls `probe` every 100 ms until it gives a value; fails after `limit` with `context()`
/// (what the test saw, for the failure message).
pub fn wait_until<T>(
    limit: std::time::Duration,
    what: &str,
    mut probe: impl FnMut() -> Option<T>,
    context: impl Fn() -> String,
) -> T {
    let deadline = std::time::Instant::now() + limit;
    loop {
        if let Some(value) = probe() {
            return value;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "waited {limit:?} for {what}:\n{}",
            context()
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// A loopback port nothing listens on: bound, then released (for a server a test starts, or a
/// dead back-end).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind for a free port")
        .local_addr()
        .unwrap()
        .port()
}

/// The lines of `text` (a log file, a buffer of log lines) as JSON: every non-empty line must
/// be a JSON object. For a child's stdout, see `ChildOutput::log_lines`.
pub fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .filter(|line| !line.is_empty())
        .map(|line| {
            let value: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line:?}"));
            assert!(value.is_object(), "not a JSON object: {line:?}");
            value
        })
        .collect()
}

/// Fails unless `line` has every field ecs-logging requires, and the service name.
pub fn assert_ecs_line(line: &serde_json::Value) {
    for required in [
        "@timestamp",
        "log.level",
        "message",
        "ecs.version",
        "log.logger",
        "service.name",
    ] {
        assert!(line.get(required).is_some(), "{required} missing in {line}");
    }
}
