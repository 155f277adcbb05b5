//! The deploy/ monitoring stack against real back-ends on 127.0.0.1, as a user of it sees it:
//! the example server (`examples/echo_server.rs`) runs under load with failing calls, pings,
//! normal and abnormal closes and bad handshakes; Debian's Prometheus scrapes it with the shipped
//! `prometheus.yml` and rules (targets moved to loopback, intervals and `for:` shortened); every
//! PromQL expression of the rules and of the Grafana dashboards must then be valid and return
//! data; the shipped alerting rules fire into a real Alertmanager running the shipped
//! `alertmanager.yml`, which routes them by severity to Slack and PagerDuty stand-ins and holds
//! back a handler's warnings while its critical alert fires.
//!
//! The stack is started and loaded once, by the first test that needs it, and the tests each
//! check one behaviour of it; the one that stops the server has a stack of its own. Modules:
//! `backends` (the processes and Prometheus' API), `load` (what the clients do), `promql`
//! (the rules' and dashboards' expressions, Grafana's variables).
//!
//! Needs `scripts/install-backends.sh` (Debian's `prometheus` and `prometheus-alertmanager`,
//! and the venv whose PyYAML reads the shipped YAML), hence `#[ignore]`: run with
//! `cargo test --test deploy -- --include-ignored`. The static checks of the same files are in
//! `scripts/check-deploy.sh`.

#[path = "../common/mod.rs"]
mod common;

mod backends;
mod load;
mod promql;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use backends::{Stack, repo, yaml};
use common::alert_receivers::{WebhookRequest, http};
use common::shared::{Shared, SharedRef};
use promql::{Expression, lacks_data};

/// The bearer token the server requires on /metrics and Prometheus reads from its secret file.
const METRICS_TOKEN: &str = "deploy-test-metrics-token";
const PAGERDUTY_ROUTING_KEY: &str = "deploy-test-routing-key";
/// Stands in for Grafana's `$__rate_interval` (4 scrape intervals of the shipped 15 s).
const RATE_INTERVAL: &str = "1m";
/// The alerts the load raises.
const DRIVEN_ALERTS: [&str; 4] = [
    "WsHandlerErrorRatioCritical",
    "WsHandlerErrorRatioHigh",
    "WsSpansDropped",
    "WsAlertSinkFailing",
];

// ---------------------------------------------------------------------------------------------
// The fixture: the stack, after the load.

/// The stack after the load, its samples scraped and its rules evaluated.
struct Loaded {
    stack: Stack,
}

static LOADED: Shared<Loaded> = Shared::new(|loaded| loaded.stack.scratch.keep());

/// The loaded stack, started (about 30 s) by the first test that asks.
fn loaded() -> SharedRef<Loaded> {
    LOADED.get(|| {
        let started = Instant::now();
        let stack = Stack::start("deploy");
        // One scrape before the load, so every counter's rise is seen from its zero
        // (`increase` does not count a series' first sample).
        stack.wait_for_first_scrape();

        let load_started = Instant::now();
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
            .block_on(load::drive_load(
                format!("ws://{}", stack.ws_addr),
                stack.ws_addr,
            ));
        let load_took = load_started.elapsed();

        // Scraped with the token from the secret file, and the rules evaluated on a scrape
        // taken after the load: the keepalive round trip, measured at its very end, is the
        // last to show.
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
                    .all(|q| stack.prometheus.query(q).is_ok_and(|r| !r.is_empty()))
                    .then_some(())
            },
            || stack.logs(),
        );
        eprintln!(
            "deploy: stack started and loaded in {:.1}s (load {:.1}s)",
            started.elapsed().as_secs_f64(),
            load_took.as_secs_f64()
        );
        Loaded { stack }
    })
}

/// The firing alerts in Prometheus once every alert the load raises fires: (alertname,
/// labels).
fn driven_alerts_firing(stack: &Stack) -> Vec<(String, Value)> {
    let prom = &stack.prometheus;
    common::wait_until(
        Duration::from_secs(20),
        "the driven alerts to fire",
        || {
            let firing = prom.firing();
            let names: BTreeSet<&str> = firing.iter().map(|(n, _)| n.as_str()).collect();
            DRIVEN_ALERTS
                .iter()
                .all(|n| names.contains(n))
                .then_some(firing)
        },
        || format!("{:?}\n{}", prom.firing(), stack.logs()),
    )
}

/// The handler `on_message`'s alert `name` among Alertmanager's `alerts`.
fn handler_alert(alerts: &[Value], name: &str) -> Option<Value> {
    alerts
        .iter()
        .find(|a| a["labels"]["alertname"] == name && a["labels"]["handler"] == "on_message")
        .cloned()
}

/// What the Slack and PagerDuty stand-ins got, once both got the critical alert.
fn notifications(stack: &Stack) -> Vec<WebhookRequest> {
    common::wait_until(
        Duration::from_secs(20),
        "Slack and PagerDuty notifications",
        || {
            let requests = stack.receiver.requests();
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
                stack.receiver.requests(),
                stack.alertmanager.log()
            )
        },
    )
}

// ---------------------------------------------------------------------------------------------
// Scraping and the rules.

#[test]
#[ignore = "needs scripts/install-backends.sh"]
fn metrics_refuse_a_scrape_without_the_bearer_token_the_shipped_job_sends() {
    let loaded = loaded();
    let stack = &loaded.stack;
    let (status, _) = http(stack.metrics_addr, "GET", "/metrics", None)
        .unwrap_or_else(|e| panic!("GET /metrics: {e}; echo_server:\n{}", stack.server.log()));
    assert_eq!(status, 401, "/metrics without the bearer token");
    let up = stack.prometheus.query(r#"up{job="ws-observe"}"#).unwrap();
    assert_eq!(
        up.first().map(|s| &s["value"][1]),
        Some(&json!("1")),
        "the shipped job scrapes with the token: {up:?}"
    );
}

#[test]
#[ignore = "needs scripts/install-backends.sh"]
fn prometheus_loads_every_shipped_rule_and_evaluates_it_without_error() {
    let loaded = loaded();
    let stack = &loaded.stack;
    let rules = stack.prometheus.get("/api/v1/rules");
    let mut loaded_rules = 0;
    for group in rules["data"]["groups"].as_array().unwrap() {
        for rule in group["rules"].as_array().unwrap() {
            loaded_rules += 1;
            assert_eq!(
                rule["health"], "ok",
                "rule {} does not evaluate: {}",
                rule["name"], rule["lastError"]
            );
        }
    }
    assert_eq!(
        loaded_rules,
        promql::rule_expressions(&stack.prometheus_config).len(),
        "Prometheus loaded every shipped rule"
    );
}

#[test]
#[ignore = "needs scripts/install-backends.sh"]
fn every_rule_expression_is_valid_and_returns_data() {
    let loaded = loaded();
    let stack = &loaded.stack;
    let expressions = promql::rule_expressions(&stack.prometheus_config);
    assert_valid_with_data(stack, &expressions);
    eprintln!("deploy: {} rule expressions checked", expressions.len());
}

#[test]
#[ignore = "needs scripts/install-backends.sh"]
fn every_dashboard_variable_offers_a_value_and_every_panel_query_returns_data() {
    let loaded = loaded();
    let stack = &loaded.stack;
    let mut values = BTreeMap::from([
        ("__rate_interval".to_owned(), RATE_INTERVAL.to_owned()),
        ("__interval".to_owned(), "15s".to_owned()),
        ("__range".to_owned(), "1h".to_owned()),
    ]);
    let builtin = values.len();
    let dashboards: Vec<PathBuf> = std::fs::read_dir(repo("deploy/grafana/dashboards"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    assert!(
        !dashboards.is_empty(),
        "no dashboard in deploy/grafana/dashboards"
    );
    let mut expressions = Vec::new();
    for dashboard in &dashboards {
        expressions.extend(promql::dashboard_expressions(
            &stack.prometheus,
            dashboard,
            &mut values,
        ));
    }
    assert_valid_with_data(stack, &expressions);
    eprintln!(
        "deploy: {} dashboard expressions checked, {} variables",
        expressions.len(),
        values.len() - builtin
    );
}

/// Fails, naming each, unless every expression is valid and returns data.
fn assert_valid_with_data(stack: &Stack, expressions: &[Expression]) {
    let problems = promql::problems(&stack.prometheus, expressions);
    assert!(
        problems.is_empty(),
        "{} of {} expressions fail:\n{}",
        problems.len(),
        expressions.len(),
        problems.join("\n")
    );
}

/// The check of the two tests above can fail.
#[test]
#[ignore = "needs scripts/install-backends.sh"]
fn the_expression_check_catches_a_syntax_error_and_a_missing_series() {
    let loaded = loaded();
    let prom = &loaded.stack.prometheus;
    assert!(prom.query("sum(rate(ws_handler_calls_total[1m])").is_err());
    assert!(lacks_data(&prom.query("ws_handler_calls_total_typo").unwrap()).is_some());
    let typo = Expression {
        origin: "a typo".to_owned(),
        expr: "ws_handler_calls_total_typo".to_owned(),
        alert: false,
    };
    assert_eq!(promql::problems(prom, &[typo]).len(), 1);
}

// ---------------------------------------------------------------------------------------------
// The log files.

#[test]
#[ignore = "needs scripts/install-backends.sh"]
fn the_promtail_glob_matches_the_log_files_and_their_lines_carry_the_fields_it_reads() {
    let loaded = loaded();
    let stack = &loaded.stack;
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
    let logs = stack.scratch.path("logs");
    let lines = common::wait_until(
        Duration::from_secs(10),
        "the handler's error lines in the log files",
        || {
            let mut lines = Vec::new();
            for entry in std::fs::read_dir(&logs).ok()? {
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
                std::fs::read_dir(&logs)
                    .map(|d| d.flatten().map(|e| e.file_name()).collect::<Vec<_>>()),
                stack.server.log()
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

#[test]
fn file_name_globs_match_like_the_shell() {
    assert!(glob_match("*.log", "echo_server.2026-11-25.000001.log"));
    assert!(!glob_match("*.log", "echo_server.log.1"));
    assert!(glob_match("echo*.log", "echo.log"));
    assert!(!glob_match("echo*.log", "other.log"));
}

// ---------------------------------------------------------------------------------------------
// The alerts.

#[test]
#[ignore = "needs scripts/install-backends.sh"]
fn the_load_fires_the_error_ratio_dropped_spans_and_failing_sink_alerts() {
    let loaded = loaded();
    let firing = driven_alerts_firing(&loaded.stack);
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
}

#[test]
#[ignore = "needs scripts/install-backends.sh"]
fn alerts_the_load_does_not_cause_stay_silent() {
    let loaded = loaded();
    // Checked once the driven alerts fire: the rules have then seen the whole load.
    let firing = driven_alerts_firing(&loaded.stack);
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
}

/// The handler's warnings: the rule's, and the server's own WsHandlerError (severity
/// "warning" from `#[ws_handler(alert = "warning")]`).
#[test]
#[ignore = "needs scripts/install-backends.sh"]
fn alertmanager_holds_back_the_handlers_warnings_while_its_critical_alert_fires() {
    let loaded = loaded();
    let stack = &loaded.stack;
    let alerts = common::wait_until(
        Duration::from_secs(20),
        "the handler's alerts in Alertmanager, warnings inhibited",
        || {
            let alerts = stack.alertmanager_alerts();
            let state = |name| {
                handler_alert(&alerts, name)
                    .map(|a| a["status"]["state"].as_str().unwrap().to_owned())
            };
            (state("WsHandlerErrorRatioCritical").as_deref() == Some("active")
                && state("WsHandlerErrorRatioHigh").as_deref() == Some("suppressed")
                && state("WsHandlerError").as_deref() == Some("suppressed"))
            .then_some(alerts)
        },
        || {
            format!(
                "{:#}\n--- alertmanager:\n{}",
                Value::Array(stack.alertmanager_alerts()),
                stack.alertmanager.log()
            )
        },
    );
    let critical_fingerprint =
        handler_alert(&alerts, "WsHandlerErrorRatioCritical").unwrap()["fingerprint"].clone();
    for warning in ["WsHandlerErrorRatioHigh", "WsHandlerError"] {
        let alert = handler_alert(&alerts, warning).unwrap();
        assert_eq!(
            alert["status"]["inhibitedBy"],
            json!([critical_fingerprint]),
            "{alert:#}"
        );
    }
    let own = handler_alert(&alerts, "WsHandlerError").unwrap();
    assert_eq!(
        (&own["labels"]["severity"], &own["labels"]["service"]),
        (&json!("warning"), &json!("echo_server"))
    );
}

/// Routed by severity through the receivers, with the secrets read from their files.
#[test]
#[ignore = "needs scripts/install-backends.sh"]
fn the_critical_alert_pages_pagerduty_and_posts_to_the_slack_channel() {
    let loaded = loaded();
    let requests = notifications(&loaded.stack);
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
    assert!(
        requests
            .iter()
            .any(|r| r.path == "/slack" && r.json()["channel"] == "#ws-observe-alerts"),
        "Slack messages go to the configured channel"
    );
}

#[test]
#[ignore = "needs scripts/install-backends.sh"]
fn warnings_never_page_and_inhibited_ones_are_never_notified() {
    let loaded = loaded();
    // Checked once the critical alert was notified: the warnings were then due too.
    for r in &notifications(&loaded.stack) {
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
}

/// Stops its server, so it has a stack of its own (and no load: the rule needs only the
/// scrape to fail).
#[test]
#[ignore = "needs scripts/install-backends.sh"]
fn a_stopped_server_fires_the_target_down_alert() {
    let stack = Stack::start("deploy-target-down");
    stack.wait_for_first_scrape();
    let target_down = || {
        stack
            .prometheus
            .firing()
            .iter()
            .any(|(n, l)| n == "WsTargetDown" && l["severity"] == "critical")
    };
    assert!(!target_down(), "WsTargetDown fires while the server is up");
    stack.server.stop();
    common::wait_until(
        Duration::from_secs(15),
        "WsTargetDown after the server stopped",
        || target_down().then_some(()),
        || format!("{:?}", stack.prometheus.firing()),
    );
}
