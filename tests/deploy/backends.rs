//! The back-ends of the deploy/ stack as processes on 127.0.0.1: the example server, Debian's
//! Prometheus and Alertmanager running loopback copies of the shipped configuration, a Slack
//! and PagerDuty stand-in; and Prometheus' HTTP API.
//!
//! The shipped YAML is read by the backends venv's PyYAML (the facade has no YAML parser) and
//! the copies are written as JSON, which Prometheus and Alertmanager read as YAML.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::{Value, json};

use crate::common::alert_receivers::{WebhookReceiver, http};
use crate::common::process::{Running, free_addr, without_inherited_config};
use crate::common::scratch::Scratch;
use crate::{METRICS_TOKEN, PAGERDUTY_ROUTING_KEY};

const REPO: &str = env!("CARGO_MANIFEST_DIR");

/// `path` in the repository.
pub fn repo(path: &str) -> PathBuf {
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
pub fn yaml(path: &Path) -> Value {
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
/// may be missing or stale), once for every stack, and returns where cargo put them.
fn examples() -> &'static BTreeMap<String, PathBuf> {
    static BUILT: OnceLock<BTreeMap<String, PathBuf>> = OnceLock::new();
    BUILT.get_or_init(build_examples)
}

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

/// A Prometheus on loopback and its HTTP API.
pub struct Prometheus {
    addr: SocketAddr,
    pub process: Running,
}

impl Prometheus {
    pub fn get(&self, path: &str) -> Value {
        let (status, body) = http(self.addr, "GET", path, None)
            .unwrap_or_else(|e| panic!("GET {path}: {e}\n{}", self.process.log()));
        serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("GET {path}: {status} is not JSON ({e}): {body}"))
    }

    /// Runs an instant query: the result, or Prometheus' error.
    pub fn query(&self, expr: &str) -> Result<Vec<Value>, String> {
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

    pub fn label_values(&self, label: &str, selector: Option<&str>) -> Vec<String> {
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
    pub fn firing(&self) -> Vec<(String, Value)> {
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

/// The stack on loopback: the example server with its alerts going to the Alertmanager and
/// its spans and webhook alerts to closed ports; Alertmanager notifying the Slack and
/// PagerDuty stand-in; Prometheus scraping all but the stand-in and evaluating the shipped
/// rules.
pub struct Stack {
    // Fields drop in order: the processes before the directory they write in.
    pub prometheus: Prometheus,
    pub alertmanager: Running,
    pub server: Running,
    /// Stands in for Slack's webhook (`/slack`) and PagerDuty's events API (`/pagerduty`).
    pub receiver: WebhookReceiver,
    pub alertmanager_addr: SocketAddr,
    /// The example server's WebSocket listener.
    pub ws_addr: SocketAddr,
    /// The example server's `/metrics` listener.
    pub metrics_addr: SocketAddr,
    /// The Prometheus configuration written for this stack.
    pub prometheus_config: PathBuf,
    pub scratch: Scratch,
}

impl Stack {
    /// Starts every process and waits until each is ready; `purpose` names the scratch
    /// directory.
    pub fn start(purpose: &str) -> Stack {
        let examples = examples();
        let scratch = Scratch::new(purpose);
        let receiver = WebhookReceiver::start();
        let (prom_addr, am_addr, ws_addr, metrics_addr) =
            (free_addr(), free_addr(), free_addr(), free_addr());
        // Nothing listens on these: the webhook alert sink and the span exporter fail, which
        // the rules about undelivered alerts and dropped spans must see.
        let (dead_webhook, dead_collector) = (free_addr(), free_addr());

        let alertmanager = {
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

        let server = {
            let mut command = Command::new(&examples["echo_server"]);
            without_inherited_config(&mut command)
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

        let prometheus_config = prometheus_config(&scratch, prom_addr, am_addr, metrics_addr);
        let prometheus = {
            let mut command =
                Command::new(std::env::var("PROMETHEUS").unwrap_or_else(|_| "prometheus".into()));
            command
                .arg(format!("--config.file={}", prometheus_config.display()))
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
        Stack {
            prometheus: Prometheus {
                addr: prom_addr,
                process: prometheus,
            },
            alertmanager,
            server,
            receiver,
            alertmanager_addr: am_addr,
            ws_addr,
            metrics_addr,
            prometheus_config,
            scratch,
        }
    }

    /// Waits until Prometheus has scraped the server once, with the token from its secret
    /// file.
    pub fn wait_for_first_scrape(&self) {
        crate::common::wait_until(
            Duration::from_secs(15),
            "a first scrape of the server",
            || {
                self.prometheus
                    .query(r#"up{job="ws-observe"} == 1"#)
                    .is_ok_and(|r| !r.is_empty())
                    .then_some(())
            },
            || self.prometheus.process.log(),
        );
    }

    /// Prometheus' and the server's logs, for a failure message.
    pub fn logs(&self) -> String {
        format!(
            "{}\n--- echo_server:\n{}",
            self.prometheus.process.log(),
            self.server.log()
        )
    }

    /// Alertmanager's `GET /api/v2/alerts`.
    pub fn alertmanager_alerts(&self) -> Vec<Value> {
        let (_, body) = http(self.alertmanager_addr, "GET", "/api/v2/alerts", None).unwrap();
        serde_json::from_str(&body).unwrap()
    }
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
