//! The deploy/ monitoring stack against real back-ends on 127.0.0.1, as a user of it sees it:
//! the example server (`examples/echo_server.rs`) runs under load with failing calls, pings,
//! normal and abnormal closes and bad handshakes; Debian's Prometheus scrapes it with the shipped
//! `prometheus.yml` and rules (targets moved to loopback, intervals and `for:` shortened); every
//! PromQL expression of the rules and of the Grafana dashboards must then be valid and return
//! data; the shipped alerting rules fire into a real Alertmanager running the shipped
//! `alertmanager.yml`, which routes them by severity to Slack and PagerDuty stand-ins and holds
//! back a handler's warnings while its critical alert fires.
//!
//! Needs `scripts/install-backends.sh` (Debian's `prometheus` and `prometheus-alertmanager`,
//! and the venv whose PyYAML reads the shipped YAML: the facade has no YAML parser, and the
//! copies are written as JSON, which Prometheus and Alertmanager read as YAML). The static
//! checks of the same files are in `scripts/check-deploy.sh`.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::alert_receivers::{WebhookReceiver, http};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use ws_observe::tokio_tungstenite::connect_async;
use ws_observe::tokio_tungstenite::tungstenite::Message;

const REPO: &str = env!("CARGO_MANIFEST_DIR");
/// The bearer token the server requires on /metrics and Prometheus reads from its secret file.
const METRICS_TOKEN: &str = "deploy-test-metrics-token";
const PAGERDUTY_ROUTING_KEY: &str = "deploy-test-routing-key";
/// Stands in for Grafana's `$__rate_interval` (4 scrape intervals of the shipped 15 s).
const RATE_INTERVAL: &str = "1m";

// ---------------------------------------------------------------------------------------------
// Pure helpers (unit-tested below): PromQL rewriting, Grafana variables, URL encoding.

/// Makes every comparison of a PromQL expression a `bool` comparison. An alerting rule's
/// expression returns only the series past its threshold, which a healthy server has none of;
/// with `bool` it returns the 0/1 signal of every series, which proves the series behind the
/// alert exist. Label matchers (inside `{}`), range selectors and strings are left alone.
fn with_bool_comparisons(expr: &str) -> String {
    let chars: Vec<char> = expr.chars().collect();
    let mut out = String::with_capacity(expr.len() + 16);
    let (mut braces, mut brackets) = (0i32, 0i32);
    let mut quote: Option<char> = None;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if let Some(q) = quote {
            out.push(c);
            if c == '\\' && q != '`' {
                if let Some(&escaped) = chars.get(i + 1) {
                    out.push(escaped);
                    i += 1;
                }
            } else if c == q {
                quote = None;
            }
            i += 1;
            continue;
        }
        match c {
            '"' | '\'' | '`' => quote = Some(c),
            '{' => braces += 1,
            '}' => braces -= 1,
            '[' => brackets += 1,
            ']' => brackets -= 1,
            _ => {}
        }
        let operator = if braces == 0 && brackets == 0 {
            match (c, chars.get(i + 1)) {
                ('=' | '!' | '>' | '<', Some('=')) => 2,
                ('>' | '<', _) => 1,
                _ => 0,
            }
        } else {
            0
        };
        if operator == 0 {
            out.push(c);
            i += 1;
            continue;
        }
        out.extend(&chars[i..i + operator]);
        i += operator;
        let rest: String = chars[i..].iter().collect();
        let rest = rest.trim_start();
        let already = rest.starts_with("bool")
            && !rest[4..].starts_with(|c: char| c.is_alphanumeric() || c == '_');
        if !already {
            out.push_str(" bool");
        }
    }
    out
}

/// Replaces Grafana variables (`$name`, `${name}`, `${name:format}`, `[[name]]`) with their
/// values; a variable without a value is an error (Grafana would send the query broken).
fn substitute(expr: &str, values: &BTreeMap<String, String>) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = expr;
    while let Some(at) = rest.find(['$', '[']) {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        let (name, used) = if let Some(inner) = tail.strip_prefix("${") {
            let end = inner
                .find('}')
                .ok_or_else(|| format!("unclosed ${{ in {expr}"))?;
            let name = inner[..end].split(':').next().unwrap_or_default();
            (name, end + 3)
        } else if let Some(inner) = tail.strip_prefix("[[") {
            let end = inner
                .find("]]")
                .ok_or_else(|| format!("unclosed [[ in {expr}"))?;
            (&inner[..end], end + 4)
        } else if let Some(inner) = tail.strip_prefix('$') {
            let len = inner
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(inner.len());
            (&inner[..len], len + 1)
        } else {
            // A `[` that opens a range selector, not a variable.
            out.push('[');
            rest = &tail[1..];
            continue;
        };
        if name.is_empty() {
            return Err(format!("a bare `$` in {expr}"));
        }
        let value = values
            .get(name)
            .ok_or_else(|| format!("variable ${name} has no value in {expr}"))?;
        out.push_str(value);
        rest = &tail[used..];
    }
    out.push_str(rest);
    Ok(out)
}

/// `label_values(selector, label)` or `label_values(label)` (Grafana's Prometheus variable
/// query) as (selector, label).
fn parse_label_values(query: &str) -> Option<(Option<String>, String)> {
    let inner = query
        .trim()
        .strip_prefix("label_values(")?
        .strip_suffix(')')?;
    match inner.rsplit_once(',') {
        Some((selector, label)) => {
            Some((Some(selector.trim().to_owned()), label.trim().to_owned()))
        }
        None => Some((None, inner.trim().to_owned())),
    }
}

/// Escapes regex metacharacters the way Grafana does for a multi-value Prometheus variable.
fn regex_escape(value: &str) -> String {
    let mut out = String::new();
    for c in value.chars() {
        if "\\^$.|?*+()[]{}".contains(c) {
            out.push_str("\\\\");
        }
        out.push(c);
    }
    out
}

fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Shell-style file name match with `*` (what Promtail's and Filebeat's globs use here).
fn glob_match(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, tail)) => {
            name.starts_with(head)
                && (0..=name.len() - head.len()).any(|skip| {
                    name.is_char_boundary(head.len() + skip)
                        && glob_match(tail, &name[head.len() + skip..])
                })
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Processes, files and HTTP.

/// A scratch directory, removed at the end unless the test failed (its logs are the evidence).
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Scratch {
        let dir = std::env::temp_dir().join(format!("ws-observe-deploy-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("deploy: kept {} for inspection", self.0.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// A child process with its output in a log file, killed by its own PID when dropped.
struct Running {
    name: &'static str,
    child: Child,
    log: PathBuf,
}

impl Running {
    fn start(name: &'static str, mut command: Command, log: PathBuf) -> Running {
        let out = std::fs::File::create(&log).unwrap();
        let child = command
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start {name} ({command:?}): {e}; run scripts/install-backends.sh, \
                     which installs Debian's prometheus and prometheus-alertmanager"
                )
            });
        Running { name, child, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until `GET path` answers 200; fails if the process exits first.
    fn wait_ready(&mut self, addr: SocketAddr, path: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok((200, _)) = http(addr, "GET", path, None) {
                return;
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("{} exited ({status}):\n{}", self.name, self.log());
            }
            assert!(
                Instant::now() < deadline,
                "{} not ready on {addr}{path}:\n{}",
                self.name,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn stop(&mut self) {
        // `Child::kill` signals this very PID, never a process found by name.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop();
    }
}

fn free_addr() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], common::free_port()))
}

fn repo(path: &str) -> PathBuf {
    Path::new(REPO).join(path)
}

/// The backends venv's Python, whose PyYAML reads the shipped YAML.
fn python() -> PathBuf {
    let dir = std::env::var_os("WS_OBSERVE_BACKENDS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(&std::env::var_os("HOME").expect("HOME")).join(".cache/ws-observe-backends")
        });
    let python = dir.join("venv/bin/python");
    assert!(
        python.exists(),
        "{} not found: run scripts/install-backends.sh (it makes the venv with PyYAML)",
        python.display()
    );
    python
}

/// A YAML file of deploy/, parsed (by PyYAML) into JSON.
fn yaml(path: &Path) -> Value {
    let output = Command::new(python())
        .args([
            "-c",
            "import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)",
        ])
        .arg(path)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "cannot parse {}: {}",
        path.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn write_json(path: &Path, value: &Value) {
    std::fs::write(path, serde_json::to_string_pretty(value).unwrap()).unwrap();
}

/// Builds the examples with the cargo running this test (from `cargo test --test deploy` they
/// may be missing or stale) and returns where cargo put them.
fn build_examples() -> BTreeMap<String, PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args([
            "build",
            "--message-format=json",
            "--example",
            "echo_server",
            "--example",
            "echo_client",
        ])
        .current_dir(REPO)
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "cargo build --example echo_server failed"
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["kind"][0] == "example")
        .filter_map(|m| {
            Some((
                m["target"]["name"].as_str()?.to_owned(),
                PathBuf::from(m["executable"].as_str()?),
            ))
        })
        .collect()
}

/// A Prometheus on loopback and its HTTP API.
struct Prometheus {
    addr: SocketAddr,
    process: Running,
}

impl Prometheus {
    fn get(&self, path: &str) -> Value {
        let (status, body) = http(self.addr, "GET", path, None)
            .unwrap_or_else(|e| panic!("GET {path}: {e}\n{}", self.process.log()));
        serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("GET {path}: {status} is not JSON ({e}): {body}"))
    }

    /// Runs an instant query: the result, or Prometheus' error.
    fn query(&self, expr: &str) -> Result<Vec<Value>, String> {
        let answer = self.get(&format!("/api/v1/query?query={}", url_encode(expr)));
        if answer["status"] != "success" {
            return Err(format!("{}: {}", answer["errorType"], answer["error"]));
        }
        Ok(match &answer["data"]["result"] {
            Value::Array(series) => series.clone(),
            // A scalar or string result: [time, value].
            single => vec![json!({ "value": single })],
        })
    }

    fn label_values(&self, label: &str, selector: Option<&str>) -> Vec<String> {
        let mut path = format!("/api/v1/label/{}/values", url_encode(label));
        if let Some(selector) = selector {
            path.push_str(&format!("?match[]={}", url_encode(selector)));
        }
        let answer = self.get(&path);
        assert_eq!(answer["status"], "success", "{path}: {answer}");
        answer["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    }

    /// The firing alerts: (alertname, labels).
    fn firing(&self) -> Vec<(String, Value)> {
        let answer = self.get("/api/v1/alerts");
        answer["data"]["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["state"] == "firing")
            .map(|a| {
                (
                    a["labels"]["alertname"].as_str().unwrap().to_owned(),
                    a["labels"].clone(),
                )
            })
            .collect()
    }
}

/// Why a query result does not count as data: empty, or no finite value (a quantile or ratio
/// over nothing is NaN).
fn lacks_data(series: &[Value]) -> Option<String> {
    if series.is_empty() {
        return Some("no series".into());
    }
    let finite = series.iter().any(|s| {
        s["value"][1]
            .as_str()
            .and_then(|v| v.parse::<f64>().ok())
            .is_some_and(f64::is_finite)
    });
    (!finite).then(|| format!("only NaN or infinite values: {series:?}"))
}

// ---------------------------------------------------------------------------------------------
// The loopback copies of the shipped configuration.

/// deploy/prometheus/prometheus.yml with the compose targets moved to loopback, 1 s intervals,
/// and the rule files rewritten with `for:` of 1 s (so an alert fires within seconds, through
/// its pending state). Jobs of services that do not run here are left out.
fn prometheus_config(
    scratch: &Scratch,
    prometheus: SocketAddr,
    alertmanager: SocketAddr,
    app_metrics: SocketAddr,
) -> PathBuf {
    let shipped = repo("deploy/prometheus");
    let mut config = yaml(&shipped.join("prometheus.yml"));
    config["global"] =
        json!({ "scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s" });
    config["alerting"]["alertmanagers"][0]["static_configs"] =
        json!([{ "targets": [alertmanager.to_string()] }]);

    let mut rule_files = Vec::new();
    for file in config["rule_files"].as_array().unwrap() {
        let file = file.as_str().unwrap();
        let mut rules = yaml(&shipped.join(file));
        for group in rules["groups"].as_array_mut().unwrap() {
            for rule in group["rules"].as_array_mut().unwrap() {
                if rule.get("for").is_some() {
                    rule["for"] = json!("1s");
                }
            }
        }
        let copy = scratch.path(&format!(
            "rules-{}",
            Path::new(file).file_name().unwrap().to_string_lossy()
        ));
        write_json(&copy, &rules);
        rule_files.push(json!(copy));
    }
    config["rule_files"] = json!(rule_files);

    let token = scratch.path("metrics_token");
    std::fs::write(&token, METRICS_TOKEN).unwrap();
    let mut jobs = Vec::new();
    for mut job in config["scrape_configs"].as_array().unwrap().clone() {
        let target = match job["job_name"].as_str().unwrap() {
            "ws-observe" => {
                assert_eq!(
                    job["authorization"]["credentials_file"], "/run/secrets/metrics_token",
                    "the shipped job reads the token from the compose secret"
                );
                job["authorization"]["credentials_file"] = json!(token);
                app_metrics
            }
            "prometheus" => prometheus,
            "alertmanager" => alertmanager,
            _ => continue,
        };
        job["static_configs"] = json!([{ "targets": [target.to_string()] }]);
        jobs.push(job);
    }
    assert_eq!(
        jobs.len(),
        3,
        "the shipped prometheus.yml scrapes ws-observe, prometheus and alertmanager"
    );
    config["scrape_configs"] = json!(jobs);
    let path = scratch.path("prometheus.json");
    write_json(&path, &config);
    path
}

/// deploy/alertmanager/alertmanager.yml with its secret files written here (the Slack webhook
/// and PagerDuty's events URL point at `receiver`), the SMTP server a closed port, and 1 s
/// grouping delays.
fn alertmanager_config(scratch: &Scratch, receiver: &WebhookReceiver) -> PathBuf {
    let mut config = yaml(&repo("deploy/alertmanager/alertmanager.yml"));
    let secrets = scratch.path("secrets");
    std::fs::create_dir_all(&secrets).unwrap();
    let mut found = BTreeSet::new();
    replace_secret_files(&mut config, &secrets, &mut found, receiver);
    assert_eq!(
        found,
        [
            "pagerduty_routing_key",
            "slack_webhook_url",
            "smtp_password"
        ]
        .map(String::from)
        .into(),
        "the shipped alertmanager.yml reads these secrets from files"
    );
    config["global"]["smtp_smarthost"] = json!(free_addr().to_string());
    config["global"]["pagerduty_url"] = json!(receiver.url("/pagerduty"));
    shorten_grouping(&mut config["route"]);
    config["route"]["group_wait"] = json!("1s");
    config["route"]["group_interval"] = json!("1s");
    let path = scratch.path("alertmanager.json");
    write_json(&path, &config);
    path
}

fn replace_secret_files(
    value: &mut Value,
    dir: &Path,
    found: &mut BTreeSet<String>,
    receiver: &WebhookReceiver,
) {
    match value {
        Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                let secret = value
                    .as_str()
                    .and_then(|v| v.strip_prefix("/run/secrets/"))
                    .map(str::to_owned);
                match secret {
                    Some(name) if key.ends_with("_file") => {
                        let content = match name.as_str() {
                            "slack_webhook_url" => receiver.url("/slack"),
                            "pagerduty_routing_key" => PAGERDUTY_ROUTING_KEY.to_owned(),
                            "smtp_password" => "unused".to_owned(),
                            other => panic!("unexpected secret file {other}"),
                        };
                        std::fs::write(dir.join(&name), content).unwrap();
                        *value = json!(dir.join(&name));
                        found.insert(name);
                    }
                    _ => replace_secret_files(value, dir, found, receiver),
                }
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|v| replace_secret_files(v, dir, found, receiver)),
        _ => {}
    }
}

fn shorten_grouping(route: &mut Value) {
    if route.get("group_interval").is_some() {
        route["group_interval"] = json!("1s");
    }
    if let Some(routes) = route.get_mut("routes").and_then(Value::as_array_mut) {
        routes.iter_mut().for_each(shorten_grouping);
    }
}

// ---------------------------------------------------------------------------------------------
// The load.

/// What a user's clients do to the server for ~20 s: a long-lived connection that answers the
/// server's keepalive ping (sent after 20 s) and pings it, short connections whose messages
/// fail one call in two, a binary message, connections dropped without a close frame, and
/// requests that are not WebSocket handshakes.
async fn drive_load(ws_url: String, ws_addr: SocketAddr) {
    let keepalive = tokio::spawn({
        let url = ws_url.clone();
        async move {
            let (mut websocket, _) = connect_async(url.as_str()).await.expect("connect");
            websocket
                .send(Message::text("hello, I stay"))
                .await
                .unwrap();
            // Read until the server's keepalive ping (due 20 s after the connection opened);
            // reading queues tungstenite's pong, the next write flushes it.
            let deadline = tokio::time::Instant::now() + Duration::from_secs(35);
            loop {
                let next = tokio::time::timeout_at(deadline, websocket.next())
                    .await
                    .expect("no keepalive ping from the server within 35 s");
                match next {
                    Some(Ok(Message::Ping(_))) => break,
                    Some(Ok(_)) => {}
                    other => panic!("keepalive connection ended: {other:?}"),
                }
            }
            websocket
                .send(Message::Ping(b"client ping".to_vec().into()))
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_millis(300)).await;
            websocket.close(None).await.unwrap();
            while websocket.next().await.is_some() {}
        }
    });

    let start = tokio::time::Instant::now();
    let mut round = 0u32;
    while start.elapsed() < Duration::from_secs(19) {
        let (mut websocket, _) = connect_async(ws_url.as_str()).await.expect("connect");
        let messages = [
            Message::text("fail"),
            Message::text(format!("upper round {round}")),
            Message::text("fail"),
            Message::binary(vec![round as u8; 64]),
            Message::text("fail"),
            Message::text("echo me"),
        ];
        let expected = messages.len();
        for message in messages {
            websocket.send(message).await.unwrap();
        }
        websocket
            .send(Message::Ping(b"p".to_vec().into()))
            .await
            .unwrap();
        let mut replies = 0;
        while replies < expected {
            match websocket.next().await {
                Some(Ok(Message::Text(_) | Message::Binary(_))) => replies += 1,
                Some(Ok(_)) => {}
                other => panic!("round {round}: {other:?}"),
            }
        }
        websocket.close(None).await.unwrap();
        while websocket.next().await.is_some() {}
        round += 1;
        tokio::time::sleep(Duration::from_millis(400)).await;
    }

    for _ in 0..2 {
        // Dropped without a close frame: an abnormal close.
        let (mut websocket, _) = connect_async(ws_url.as_str()).await.expect("connect");
        websocket.send(Message::text("bye")).await.unwrap();
        websocket.next().await.unwrap().unwrap();
        drop(websocket);
        // Not a WebSocket handshake: a handshake failure.
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut tcp = tokio::net::TcpStream::connect(ws_addr).await.unwrap();
        tcp.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            .await
            .unwrap();
        let mut answer = Vec::new();
        let _ = tcp.read_to_end(&mut answer).await;
    }
    keepalive.await.unwrap();
}

// ---------------------------------------------------------------------------------------------
// The PromQL of the rules and dashboards.

struct Expression {
    origin: String,
    expr: String,
    /// An alerting rule's: checked for validity as is, for data as a 0/1 signal.
    alert: bool,
}

fn rule_expressions(config: &Path) -> Vec<Expression> {
    let config: Value = serde_json::from_str(&std::fs::read_to_string(config).unwrap()).unwrap();
    let mut out = Vec::new();
    for file in config["rule_files"].as_array().unwrap() {
        let rules: Value =
            serde_json::from_str(&std::fs::read_to_string(file.as_str().unwrap()).unwrap())
                .unwrap();
        for group in rules["groups"].as_array().unwrap() {
            for rule in group["rules"].as_array().unwrap() {
                let (name, alert) = match (rule["alert"].as_str(), rule["record"].as_str()) {
                    (Some(alert), _) => (alert, true),
                    (_, Some(record)) => (record, false),
                    _ => panic!("rule without alert or record: {rule}"),
                };
                out.push(Expression {
                    origin: format!("rule {name}"),
                    expr: rule["expr"].as_str().unwrap().to_owned(),
                    alert,
                });
            }
        }
    }
    out
}

fn panels(list: &Value) -> Vec<&Value> {
    let mut out = Vec::new();
    for panel in list.as_array().into_iter().flatten() {
        out.push(panel);
        out.extend(panels(&panel["panels"]));
    }
    out
}

/// The dashboard's variable values as Grafana would fill them from this Prometheus (every
/// variable query must offer at least one value), and its Prometheus expressions.
fn dashboard_expressions(
    prom: &Prometheus,
    file: &Path,
    values: &mut BTreeMap<String, String>,
) -> Vec<Expression> {
    let dashboard: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    let name = file.file_name().unwrap().to_string_lossy().into_owned();
    for variable in dashboard["templating"]["list"].as_array().unwrap() {
        let var = variable["name"].as_str().unwrap().to_owned();
        let value = match variable["type"].as_str().unwrap() {
            "query" => {
                let query = variable["query"]["query"]
                    .as_str()
                    .or(variable["query"].as_str())
                    .unwrap();
                let query = substitute(query, values)
                    .unwrap_or_else(|e| panic!("{name}: variable {var}: {e}"));
                let (selector, label) = parse_label_values(&query).unwrap_or_else(|| {
                    panic!("{name}: variable {var}: not label_values(...): {query}")
                });
                let found = prom.label_values(&label, selector.as_deref());
                assert!(
                    !found.is_empty(),
                    "{name}: variable {var} ({query}) offers no value"
                );
                if variable["multi"] == true || variable["includeAll"] == true {
                    found
                        .iter()
                        .map(|v| regex_escape(v))
                        .collect::<Vec<_>>()
                        .join("|")
                } else {
                    found[0].clone()
                }
            }
            "textbox" | "constant" | "custom" => variable["current"]["value"]
                .as_str()
                .or(variable["query"].as_str())
                .unwrap()
                .to_owned(),
            other => panic!("{name}: variable {var} of type {other} is not handled by this test"),
        };
        values.insert(var, value);
    }
    let mut out = Vec::new();
    for panel in panels(&dashboard["panels"]) {
        for target in panel["targets"].as_array().into_iter().flatten() {
            let datasource = if target["datasource"].is_object() {
                &target["datasource"]
            } else {
                &panel["datasource"]
            };
            if datasource["type"] != "prometheus" {
                continue; // LogQL: checked against Promtail's labels by check_stack.py.
            }
            let expr = substitute(target["expr"].as_str().unwrap(), values)
                .unwrap_or_else(|e| panic!("{name}: panel {}: {e}", panel["title"]));
            out.push(Expression {
                origin: format!("{name}: panel {} ({})", panel["title"], target["refId"]),
                expr,
                alert: false,
            });
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------

#[test]
fn the_shipped_rules_and_dashboards_hold_against_a_live_prometheus_and_alertmanager() {
    let started = Instant::now();
    let examples = build_examples();
    let scratch = Scratch::new();
    let receiver = WebhookReceiver::start();
    let (prom_addr, am_addr, ws_addr, metrics_addr) =
        (free_addr(), free_addr(), free_addr(), free_addr());
    // Nothing listens on these: the webhook alert sink and the span exporter fail, which the
    // rules about undelivered alerts and dropped spans must see.
    let (dead_webhook, dead_collector) = (free_addr(), free_addr());

    let mut alertmanager = {
        let mut command = Command::new(
            std::env::var("ALERTMANAGER").unwrap_or_else(|_| "prometheus-alertmanager".into()),
        );
        command
            .arg(format!(
                "--config.file={}",
                alertmanager_config(&scratch, &receiver).display()
            ))
            .arg(format!(
                "--storage.path={}",
                scratch.path("alertmanager-data").display()
            ))
            .arg(format!("--web.listen-address={am_addr}"))
            .arg("--cluster.listen-address=");
        Running::start("alertmanager", command, scratch.path("alertmanager.log"))
    };

    let mut server = {
        let mut command = Command::new(&examples["echo_server"]);
        for (name, _) in std::env::vars_os() {
            let name = name.to_string_lossy();
            if ["WS_OBSERVE_", "OTEL_", "SENTRY_"]
                .iter()
                .any(|p| name.starts_with(p))
                || name == "RUST_LOG"
            {
                command.env_remove(&*name);
            }
        }
        command
            .arg(ws_addr.to_string())
            .env("WS_OBSERVE_METRICS_ADDR", metrics_addr.to_string())
            .env("WS_OBSERVE_METRICS_TOKEN", METRICS_TOKEN)
            .env("WS_OBSERVE_ALERTMANAGER_URL", format!("http://{am_addr}"))
            .env(
                "WS_OBSERVE_ALERT_WEBHOOK_URL",
                format!("http://{dead_webhook}/hook"),
            )
            .env(
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                format!("http://{dead_collector}"),
            )
            .env("OTEL_SERVICE_NAME", "echo_server")
            .env("WS_OBSERVE_LOG_DIR", scratch.path("logs"))
            // Handler spans are at info: they must exist to be exported (and dropped).
            .env("RUST_LOG", "info");
        Running::start("echo_server", command, scratch.path("echo_server.log"))
    };

    let config = prometheus_config(&scratch, prom_addr, am_addr, metrics_addr);
    let mut prometheus = {
        let mut command =
            Command::new(std::env::var("PROMETHEUS").unwrap_or_else(|_| "prometheus".into()));
        command
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                scratch.path("prometheus-data").display()
            ))
            .arg(format!("--web.listen-address={prom_addr}"))
            .arg("--rules.alert.resend-delay=1s");
        Running::start("prometheus", command, scratch.path("prometheus.log"))
    };

    alertmanager.wait_ready(am_addr, "/-/ready");
    server.wait_ready(metrics_addr, "/healthz");
    prometheus.wait_ready(prom_addr, "/-/ready");
    let prom = Prometheus {
        addr: prom_addr,
        process: prometheus,
    };

    // The token is required: without it, /metrics refuses (and the shipped job sends it).
    let (status, _) = http(metrics_addr, "GET", "/metrics", None)
        .unwrap_or_else(|e| panic!("GET /metrics: {e}; echo_server:\n{}", server.log()));
    assert_eq!(status, 401, "/metrics without the bearer token");
    // One scrape before the load, so every counter's rise is seen from its zero (`increase`
    // does not count a series' first sample).
    common::wait_until(
        Duration::from_secs(15),
        "a first scrape of the server",
        || {
            prom.query(r#"up{job="ws-observe"} == 1"#)
                .is_ok_and(|r| !r.is_empty())
                .then_some(())
        },
        || prom.process.log(),
    );

    let load_started = Instant::now();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(drive_load(format!("ws://{ws_addr}"), ws_addr));
    let load_took = load_started.elapsed();

    // Scraped with the token from the secret file, and the rules evaluated on a scrape taken
    // after the load: the keepalive round trip, measured at its very end, is the last to show.
    let context = || format!("{}\n--- echo_server:\n{}", prom.process.log(), server.log());
    common::wait_until(
        Duration::from_secs(15),
        "the load's last samples scraped and recorded",
        || {
            let fresh = [
                r#"up{job="ws-observe"} == 1"#,
                r#"handler:ws_handler_errors:rate5m{handler="on_message"} > 0"#,
                r#"instance:ws_ping_rtt_seconds:p99_5m >= 0"#,
            ];
            fresh
                .iter()
                .all(|q| prom.query(q).is_ok_and(|r| !r.is_empty()))
                .then_some(())
        },
        context,
    );

    // Every rule loaded and evaluates without error in a real Prometheus.
    let rules = prom.get("/api/v1/rules");
    let mut loaded = 0;
    for group in rules["data"]["groups"].as_array().unwrap() {
        for rule in group["rules"].as_array().unwrap() {
            loaded += 1;
            assert_eq!(
                rule["health"], "ok",
                "rule {} does not evaluate: {}",
                rule["name"], rule["lastError"]
            );
        }
    }

    // Every PromQL expression is valid and has data.
    let mut expressions = rule_expressions(&config);
    assert_eq!(
        loaded,
        expressions.len(),
        "Prometheus loaded every shipped rule"
    );
    let mut values = BTreeMap::from([
        ("__rate_interval".to_owned(), RATE_INTERVAL.to_owned()),
        ("__interval".to_owned(), "15s".to_owned()),
        ("__range".to_owned(), "1h".to_owned()),
    ]);
    let dashboards: Vec<PathBuf> = std::fs::read_dir(repo("deploy/grafana/dashboards"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    assert!(
        !dashboards.is_empty(),
        "no dashboard in deploy/grafana/dashboards"
    );
    let rule_count = expressions.len();
    for dashboard in &dashboards {
        expressions.extend(dashboard_expressions(&prom, dashboard, &mut values));
    }
    let mut problems = Vec::new();
    for e in &expressions {
        match prom.query(&e.expr) {
            Err(error) => problems.push(format!("{}: invalid: {error}\n    {}", e.origin, e.expr)),
            Ok(result) if !e.alert => {
                if let Some(why) = lacks_data(&result) {
                    problems.push(format!("{}: {why}\n    {}", e.origin, e.expr));
                }
            }
            Ok(_) => {
                let signal = with_bool_comparisons(&e.expr);
                match prom.query(&signal) {
                    Err(error) => problems.push(format!(
                        "{}: signal invalid: {error}\n    {signal}",
                        e.origin
                    )),
                    Ok(result) => {
                        if let Some(why) = lacks_data(&result) {
                            problems.push(format!("{}: {why}\n    {signal}", e.origin));
                        }
                    }
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} of {} expressions fail:\n{}",
        problems.len(),
        expressions.len(),
        problems.join("\n")
    );
    // The checker itself can fail: a syntax error and a series that does not exist are caught.
    assert!(prom.query("sum(rate(ws_handler_calls_total[1m])").is_err());
    assert!(lacks_data(&prom.query("ws_handler_calls_total_typo").unwrap()).is_some());

    // The log files Promtail and Filebeat follow: the shipped glob matches what the server
    // writes in WS_OBSERVE_LOG_DIR, and the lines carry the fields Promtail extracts.
    let promtail = yaml(&repo("deploy/promtail/promtail.yml"));
    let glob = promtail["scrape_configs"][0]["static_configs"][0]["labels"]["__path__"]
        .as_str()
        .unwrap()
        .to_owned();
    let glob = Path::new(&glob)
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let lines = common::wait_until(
        Duration::from_secs(10),
        "the handler's error lines in the log files",
        || {
            let mut lines = Vec::new();
            for entry in std::fs::read_dir(scratch.path("logs")).ok()? {
                let path = entry.ok()?.path();
                if glob_match(&glob, &path.file_name()?.to_string_lossy()) {
                    lines.extend(
                        std::fs::read_to_string(&path)
                            .ok()?
                            .lines()
                            .map(str::to_owned),
                    );
                }
            }
            lines
                .iter()
                .any(|l| l.contains("\"ws.handler\":\"on_message\""))
                .then_some(lines)
        },
        || {
            format!(
                "files in WS_OBSERVE_LOG_DIR: {:?}\n{}",
                std::fs::read_dir(scratch.path("logs"))
                    .map(|d| d.flatten().map(|e| e.file_name()).collect::<Vec<_>>()),
                server.log()
            )
        },
    );
    for line in &lines {
        let line: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
        for field in ["@timestamp", "log.level", "service.name", "message"] {
            assert!(
                line[field].is_string(),
                "no {field} (Promtail and Filebeat read it): {line}"
            );
        }
        assert_eq!(line["service.name"], "echo_server", "{line}");
    }

    // The alerts the load should raise fire in Prometheus; the others stay silent.
    let firing = common::wait_until(
        Duration::from_secs(20),
        "the driven alerts to fire",
        || {
            let firing = prom.firing();
            let names: BTreeSet<&str> = firing.iter().map(|(n, _)| n.as_str()).collect();
            [
                "WsHandlerErrorRatioCritical",
                "WsHandlerErrorRatioHigh",
                "WsSpansDropped",
                "WsAlertSinkFailing",
            ]
            .iter()
            .all(|n| names.contains(n))
            .then_some(firing)
        },
        || format!("{:?}\n{}", prom.firing(), context()),
    );
    let critical = firing
        .iter()
        .find(|(n, _)| n == "WsHandlerErrorRatioCritical")
        .map(|(_, labels)| labels.clone())
        .unwrap();
    assert_eq!(
        (
            &critical["handler"],
            &critical["module"],
            &critical["severity"],
            &critical["job"]
        ),
        (
            &json!("on_message"),
            &json!("echo_server"),
            &json!("critical"),
            &json!("ws-observe")
        ),
        "{critical}"
    );
    assert!(
        firing
            .iter()
            .any(|(n, l)| n == "WsAlertSinkFailing" && l["sink"] == "webhook"),
        "the dead webhook sink: {firing:?}"
    );
    for silent in [
        "WsTargetDown",
        "MonitoringComponentDown",
        "WsHandlerLatencyHigh",
        "WsHandlerInFlightStuck",
        "WsLogLinesDropped",
    ] {
        assert!(
            !firing.iter().any(|(n, _)| n == silent),
            "{silent} fires on a healthy run: {firing:?}"
        );
    }

    // In Alertmanager: the critical alert is active; the handler's warnings (the rule's and the
    // server's own WsHandlerError, severity "warning" from #[ws_handler(alert = "warning")]) are
    // inhibited by it.
    let am_alerts = || -> Vec<Value> {
        let (_, body) = http(am_addr, "GET", "/api/v2/alerts", None).unwrap();
        serde_json::from_str(&body).unwrap()
    };
    let find = |alerts: &[Value], name: &str| {
        alerts
            .iter()
            .find(|a| a["labels"]["alertname"] == name && a["labels"]["handler"] == "on_message")
            .cloned()
    };
    let alerts = common::wait_until(
        Duration::from_secs(20),
        "the handler's alerts in Alertmanager, warnings inhibited",
        || {
            let alerts = am_alerts();
            let state = |name| {
                find(&alerts, name).map(|a| a["status"]["state"].as_str().unwrap().to_owned())
            };
            (state("WsHandlerErrorRatioCritical").as_deref() == Some("active")
                && state("WsHandlerErrorRatioHigh").as_deref() == Some("suppressed")
                && state("WsHandlerError").as_deref() == Some("suppressed"))
            .then_some(alerts)
        },
        || {
            format!(
                "{:#}\n--- alertmanager:\n{}",
                Value::Array(am_alerts()),
                alertmanager.log()
            )
        },
    );
    let critical_fingerprint =
        find(&alerts, "WsHandlerErrorRatioCritical").unwrap()["fingerprint"].clone();
    for warning in ["WsHandlerErrorRatioHigh", "WsHandlerError"] {
        let alert = find(&alerts, warning).unwrap();
        assert_eq!(
            alert["status"]["inhibitedBy"],
            json!([critical_fingerprint]),
            "{alert:#}"
        );
    }
    let own = find(&alerts, "WsHandlerError").unwrap();
    assert_eq!(
        (&own["labels"]["severity"], &own["labels"]["service"]),
        (&json!("warning"), &json!("echo_server"))
    );

    // Routed by severity through the receivers, with the secrets read from their files.
    let requests = common::wait_until(
        Duration::from_secs(20),
        "Slack and PagerDuty notifications",
        || {
            let requests = receiver.requests();
            let slack = requests
                .iter()
                .any(|r| r.path == "/slack" && r.body.contains("WsHandlerErrorRatioCritical"));
            let pagerduty = requests
                .iter()
                .any(|r| r.path == "/pagerduty" && r.body.contains("WsHandlerErrorRatioCritical"));
            (slack && pagerduty).then_some(requests)
        },
        || {
            format!(
                "{:?}\n--- alertmanager:\n{}",
                receiver.requests(),
                alertmanager.log()
            )
        },
    );
    let page = requests
        .iter()
        .map(|r| r.json())
        .find(|p| {
            p["payload"]["summary"]
                .as_str()
                .is_some_and(|s| s.contains("WsHandlerErrorRatioCritical"))
        })
        .expect("the PagerDuty event of the critical alert");
    assert_eq!(
        (
            &page["routing_key"],
            &page["event_action"],
            &page["payload"]["severity"]
        ),
        (
            &json!(PAGERDUTY_ROUTING_KEY),
            &json!("trigger"),
            &json!("critical")
        ),
        "{page:#}"
    );
    for r in &requests {
        // Warnings go to Slack only, and the inhibited ones nowhere.
        assert!(
            !(r.path == "/pagerduty" && r.body.contains("\"warning\"")),
            "a warning paged: {}",
            r.body
        );
        assert!(
            !r.body.contains("WsHandlerErrorRatioHigh"),
            "an inhibited warning was notified: {}",
            r.body
        );
    }
    assert!(
        requests
            .iter()
            .any(|r| r.path == "/slack" && r.json()["channel"] == "#ws-observe-alerts"),
        "Slack messages go to the configured channel"
    );

    // The server goes away: the target-down rule fires.
    server.stop();
    common::wait_until(
        Duration::from_secs(15),
        "WsTargetDown after the server stopped",
        || {
            prom.firing()
                .iter()
                .any(|(n, l)| n == "WsTargetDown" && l["severity"] == "critical")
                .then_some(())
        },
        || format!("{:?}", prom.firing()),
    );

    eprintln!(
        "deploy: {rule_count} rule and {} dashboard expressions checked, {} variables; load {:.1}s, whole test {:.1}s",
        expressions.len() - rule_count,
        values.len() - 3,
        load_took.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
}

// ---------------------------------------------------------------------------------------------
// The helpers' own tests.

#[test]
fn comparisons_become_bool_outside_matchers_ranges_and_strings() {
    assert_eq!(with_bool_comparisons("up == 0"), "up == bool 0");
    assert_eq!(
        with_bool_comparisons(r#"a{x!="y",z=~"a>b"} > 0.5 and rate(b[5m]) <= 1"#),
        r#"a{x!="y",z=~"a>b"} > bool 0.5 and rate(b[5m]) <= bool 1"#
    );
    assert_eq!(with_bool_comparisons("x > bool 1"), "x > bool 1");
    assert_eq!(with_bool_comparisons("x >= boolean"), "x >= bool boolean");
    assert_eq!(
        with_bool_comparisons(r#"label_replace(x, "a", "<", "b", ".*") != 2"#),
        r#"label_replace(x, "a", "<", "b", ".*") != bool 2"#
    );
}

#[test]
fn grafana_variables_are_substituted_and_unknown_ones_refused() {
    let values = BTreeMap::from([
        ("job".to_owned(), "ws-observe".to_owned()),
        ("handler".to_owned(), "a|b".to_owned()),
        ("__rate_interval".to_owned(), "1m".to_owned()),
    ]);
    assert_eq!(
        substitute(
            r#"rate(x{job="$job",h=~"${handler:regex}"}[$__rate_interval])[5m:] [[job]]"#,
            &values
        )
        .unwrap(),
        r#"rate(x{job="ws-observe",h=~"a|b"}[1m])[5m:] ws-observe"#
    );
    assert!(
        substitute("x{a=\"$nope\"}", &values)
            .unwrap_err()
            .contains("$nope")
    );
    assert_eq!(
        parse_label_values(r#"label_values(up{job="x"}, instance)"#),
        Some((Some(r#"up{job="x"}"#.to_owned()), "instance".to_owned()))
    );
    assert_eq!(
        parse_label_values("label_values(job)"),
        Some((None, "job".to_owned()))
    );
    assert_eq!(parse_label_values("query_result(up)"), None);
    assert_eq!(regex_escape("127.0.0.1:9464"), r"127\\.0\\.0\\.1:9464");
}

#[test]
fn file_name_globs_match_like_the_shell() {
    assert!(glob_match("*.log", "echo_server.2026-11-25.000001.log"));
    assert!(!glob_match("*.log", "echo_server.log.1"));
    assert!(glob_match("echo*.log", "echo.log"));
    assert!(!glob_match("echo*.log", "other.log"));
}

#[test]
fn no_data_means_empty_or_nan_only() {
    assert!(lacks_data(&[]).is_some());
    assert!(lacks_data(&[json!({"value": [1, "NaN"]})]).is_some());
    assert!(lacks_data(&[json!({"value": [1, "NaN"]}), json!({"value": [1, "0"]})]).is_none());
}
