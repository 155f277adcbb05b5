//! Alerting end to end, as a user sees it: a real Alertmanager (Debian's
//! `prometheus-alertmanager` and `amtool`, installed by `scripts/install-backends.sh`) shows a
//! failing handler's alert while it fails and resolves it once it is quiet; a Slack-style
//! webhook receives its JSON; sinks of your own get every notification; a flood of failures is
//! counted exactly once per sink; dead and hanging sinks block nothing and shutdown stays
//! bounded.
//!
//! `init()` installs process-wide state once, so each scenario runs in a child process of this
//! test binary (`child_*`, a no-op unless re-run with `WS_OBSERVE_CHILD=1`); the parent starts
//! the receivers, reads what they got, and reads what the child printed (`ALERTS_TEST key=value`
//! lines and its `ws_alerts_total` series).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Display;
use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::alert_receivers::{Alertmanager, WebhookReceiver, parse_rfc3339};
use common::child::{ChildOutput, RunningChild, in_child};
use common::otlp_receiver::{HangingCollector, closed_port_endpoint};
use serde_json::{Value, json};
use ws_observe::runtime::alert::{self, Alert, AlertSink, Notification, Severity, SinkError};
use ws_observe::ws_handler;

const MODULE: &str = module_path!();
const SERVICE: &str = "alerts-test";
/// A child still running after this is killed and the test fails: a hang must not stall the run.
const CHILD_LIMIT: Duration = Duration::from_secs(30);
/// How long a child waits for the parent's go-ahead at most (below `CHILD_LIMIT`).
const PARENT_LIMIT: Duration = Duration::from_secs(20);
/// Failing calls in the flood.
const FLOOD: u64 = 100_000;
/// Distinct manual alerts raised after the flood.
const MANUAL: u64 = 5;

// ---------------------------------------------------------------------------------------------
// The child side: handlers, sinks, and one `child_*` test per scenario.

/// A line the parent reads back with `ChildOutput::value`.
fn report(key: &str, value: impl Display) {
    common::child::report("ALERTS_TEST", key, value);
}

fn unix_ms(time: SystemTime) -> u64 {
    u64::try_from(time.duration_since(UNIX_EPOCH).unwrap().as_millis()).unwrap()
}

#[derive(Debug)]
struct IssuerUnreachable;
impl std::fmt::Display for IssuerUnreachable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("issuer unreachable")
    }
}
impl std::error::Error for IssuerUnreachable {}

#[derive(Debug)]
struct CardDeclined(IssuerUnreachable);
impl std::fmt::Display for CardDeclined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("card declined by the issuer")
    }
}
impl std::error::Error for CardDeclined {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

#[ws_handler(alert = "critical")]
fn charge_card(amount: u64) -> Result<u64, CardDeclined> {
    if amount == u64::MAX {
        Ok(amount)
    } else {
        Err(CardDeclined(IssuerUnreachable))
    }
}

#[ws_handler(alert = "info")]
fn crash(fail: bool) -> Result<(), CardDeclined> {
    if fail {
        panic!("crash on purpose");
    }
    Ok(())
}

#[derive(Debug)]
struct Overloaded;
impl std::fmt::Display for Overloaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("queue full")
    }
}
impl std::error::Error for Overloaded {}

#[ws_handler(alert = "warning")]
fn flood_alerting(n: u64) -> Result<u64, Overloaded> {
    if n == u64::MAX {
        Ok(n)
    } else {
        Err(Overloaded)
    }
}

/// `flood_alerting` with alerting off: same body, no `alert`.
#[ws_handler]
fn flood_plain(n: u64) -> Result<u64, Overloaded> {
    if n == u64::MAX {
        Ok(n)
    } else {
        Err(Overloaded)
    }
}

/// Keeps every notification, as JSON, to print after the guard is dropped.
struct Recorder {
    name: &'static str,
    stateful: bool,
    seen: Arc<Mutex<Vec<Value>>>,
}

impl AlertSink for Recorder {
    fn name(&self) -> &str {
        self.name
    }

    fn stateful(&self) -> bool {
        self.stateful
    }

    fn notify(&self, notification: &Notification<'_>) -> Result<(), SinkError> {
        let kind = match notification {
            Notification::Firing(_) => "firing",
            Notification::StillFiring(_) => "still_firing",
            Notification::Resolved(_) => "resolved",
        };
        let alert = notification.alert();
        self.seen.lock().unwrap().push(json!({
            "sink": self.name,
            "kind": kind,
            "severity": alert.severity.as_str(),
            "summary": alert.summary,
            "description": alert.description,
            "labels": alert.labels,
            "error_type": alert.error_type,
            "error_chain": alert.error_chain,
            "trace_id": alert.trace_id,
            "raised_at_ms": unix_ms(alert.raised_at),
        }));
        Ok(())
    }
}

/// Refuses every first attempt, accepts every second one: delivery must retry.
struct Flaky(Arc<AtomicU64>);

impl AlertSink for Flaky {
    fn name(&self) -> &str {
        "flaky"
    }

    fn notify(&self, _: &Notification<'_>) -> Result<(), SinkError> {
        if self.0.fetch_add(1, Ordering::SeqCst).is_multiple_of(2) {
            Err("refused on the first attempt".into())
        } else {
            Ok(())
        }
    }
}

/// Refuses everything: delivery must give up after the bounded attempts.
struct Refuser(Arc<AtomicU64>);

impl AlertSink for Refuser {
    fn name(&self) -> &str {
        "refuser"
    }

    fn notify(&self, _: &Notification<'_>) -> Result<(), SinkError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Err("always refused".into())
    }
}

/// Counts what it is given.
struct Counter(Arc<AtomicU64>);

impl AlertSink for Counter {
    fn name(&self) -> &str {
        "counter"
    }

    fn notify(&self, _: &Notification<'_>) -> Result<(), SinkError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

/// Prints the `ws_alerts_total` series for the parent.
fn print_alert_series() {
    for line in ws_observe::runtime::render().lines() {
        if line.starts_with("ws_alerts_total{") {
            println!("{line}");
        }
    }
}

/// Blocks until the parent closes this process's stdin (at most `PARENT_LIMIT`).
fn wait_for_parent() {
    let (done, closed) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
        let _ = done.send(());
    });
    let _ = closed.recv_timeout(PARENT_LIMIT);
}

/// Drops the guard and reports how long that took.
fn timed_drop(telemetry: ws_observe::runtime::Telemetry) {
    let started = Instant::now();
    drop(telemetry);
    report("DROP_MS", started.elapsed().as_millis());
}

/// Calls the failing `charge_card` every 200 ms for `ALERTS_TEST_FAIL_FOR_MS` (once for 0),
/// then waits for the parent before dropping the guard.
#[test]
#[ignore = "child process: run by its parent test"]
fn child_failing_handler() {
    if !in_child() {
        return;
    }
    let fail_for: u64 = std::env::var("ALERTS_TEST_FAIL_FOR_MS")
        .unwrap()
        .parse()
        .unwrap();
    let telemetry = ws_observe::runtime::init().expect("init");
    let started = Instant::now();
    let mut calls = 0;
    loop {
        charge_card(calls).unwrap_err();
        calls += 1;
        if started.elapsed() >= Duration::from_millis(fail_for) {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    report("CALLS", calls);
    wait_for_parent();
    timed_drop(telemetry);
    print_alert_series();
}

#[test]
#[ignore = "child process: run by its parent test"]
fn child_custom_sinks() {
    if !in_child() {
        return;
    }
    let recorded = Arc::new(Mutex::new(Vec::new()));
    let lifecycle = Arc::new(Mutex::new(Vec::new()));
    let flaky_calls = Arc::new(AtomicU64::new(0));
    let refuser_calls = Arc::new(AtomicU64::new(0));
    let telemetry = ws_observe::runtime::Config::from_env()
        .unwrap()
        .add_alert_sink(Recorder {
            name: "recorder",
            stateful: false,
            seen: Arc::clone(&recorded),
        })
        .add_alert_sink(Recorder {
            name: "lifecycle",
            stateful: true,
            seen: Arc::clone(&lifecycle),
        })
        .add_alert_sink(Flaky(Arc::clone(&flaky_calls)))
        .add_alert_sink(Refuser(Arc::clone(&refuser_calls)))
        .init()
        .expect("init");
    report("BEFORE_MS", unix_ms(SystemTime::now()));
    charge_card(7).unwrap_err();
    assert!(std::panic::catch_unwind(|| crash(true)).is_err());
    alert::raise(
        Alert::new(Severity::Warning, "disk almost full")
            .label("disk", "/var")
            .description("95% used"),
    );
    report("AFTER_MS", unix_ms(SystemTime::now()));
    // The stateful sink is told of each resolution once the three have been quiet long enough.
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline
        && lifecycle
            .lock()
            .unwrap()
            .iter()
            .filter(|n| n["kind"] == "resolved")
            .count()
            < 3
    {
        std::thread::sleep(Duration::from_millis(50));
    }
    timed_drop(telemetry);
    for notification in recorded.lock().unwrap().iter() {
        println!("ALERTS_TEST NOTIFICATION {notification}");
    }
    for notification in lifecycle.lock().unwrap().iter() {
        println!("ALERTS_TEST NOTIFICATION {notification}");
    }
    report("FLAKY_CALLS", flaky_calls.load(Ordering::SeqCst));
    report("REFUSER_CALLS", refuser_calls.load(Ordering::SeqCst));
    print_alert_series();
}

/// `FLOOD` failing calls as fast as possible, of `flood_alerting` (`ALERTS_TEST_FLOOD=alerting`,
/// then `MANUAL` distinct manual alerts) or of `flood_plain` (`plain`).
#[test]
#[ignore = "child process: run by its parent test"]
fn child_flood() {
    if !in_child() {
        return;
    }
    let alerting = match std::env::var("ALERTS_TEST_FLOOD").unwrap().as_str() {
        "alerting" => true,
        "plain" => false,
        other => panic!("ALERTS_TEST_FLOOD={other}"),
    };
    let notified = Arc::new(AtomicU64::new(0));
    let telemetry = ws_observe::runtime::Config::from_env()
        .unwrap()
        .add_alert_sink(Counter(Arc::clone(&notified)))
        .init()
        .expect("init");
    let mut errors = 0u64;
    let started = Instant::now();
    if alerting {
        for n in 0..FLOOD {
            errors +=
                u64::from(std::hint::black_box(flood_alerting(std::hint::black_box(n))).is_err());
        }
    } else {
        for n in 0..FLOOD {
            errors +=
                u64::from(std::hint::black_box(flood_plain(std::hint::black_box(n))).is_err());
        }
    }
    let took = started.elapsed();
    report("ERRORS", errors);
    report("FLOOD_MS", format!("{:.1}", took.as_secs_f64() * 1e3));
    report("NS_PER_CALL", took.as_nanos() / u128::from(FLOOD));
    if alerting {
        for i in 0..MANUAL {
            alert::raise(
                Alert::new(Severity::Info, format!("manual alert {i}")).label("batch", "flood"),
            );
        }
    }
    timed_drop(telemetry);
    report("NOTIFIED", notified.load(Ordering::SeqCst));
    print_alert_series();
}

/// 1000 failing calls with every network sink down, then a bounded wait for the failure count.
#[test]
#[ignore = "child process: run by its parent test"]
fn child_sinks_down() {
    if !in_child() {
        return;
    }
    let telemetry = ws_observe::runtime::init().expect("init");
    let started = Instant::now();
    let (mut done, mut slowest) = (0, Duration::ZERO);
    for n in 0..1000 {
        let call = Instant::now();
        done += usize::from(charge_card(n).is_err());
        slowest = slowest.max(call.elapsed());
    }
    report("CALLS_DONE", done);
    report("SLOWEST_CALL_US", slowest.as_micros());
    report("CALLS_MS", started.elapsed().as_millis());
    let failed = || {
        common::sample(
            &ws_observe::runtime::render(),
            "ws_alerts_total",
            &[
                ("severity", "critical"),
                ("sink", "alertmanager"),
                ("result", "failed"),
            ],
        )
        .unwrap_or(0.0)
    };
    while failed() == 0.0 && started.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    report("FAILED_AFTER_MS", started.elapsed().as_millis());
    timed_drop(telemetry);
    print_alert_series();
}

/// Distinct manual alerts raised under a rate limit.
const BURST: u64 = 10;

/// `ALERTS_TEST_POLICY=dedupe`: `charge_card` fails twice, then twice again once
/// `ALERTS_TEST_PAUSE_MS` have passed. `rate`: `BURST` distinct manual alerts at once.
#[test]
#[ignore = "child process: run by its parent test"]
fn child_policy() {
    if !in_child() {
        return;
    }
    let telemetry = ws_observe::runtime::init().expect("init");
    match std::env::var("ALERTS_TEST_POLICY").unwrap().as_str() {
        "dedupe" => {
            let pause: u64 = std::env::var("ALERTS_TEST_PAUSE_MS")
                .unwrap()
                .parse()
                .unwrap();
            charge_card(1).unwrap_err();
            charge_card(2).unwrap_err();
            std::thread::sleep(Duration::from_millis(pause));
            charge_card(3).unwrap_err();
            charge_card(4).unwrap_err();
        }
        "rate" => {
            for i in 0..BURST {
                alert::raise(Alert::new(Severity::Warning, format!("burst alert {i}")));
            }
        }
        other => panic!("ALERTS_TEST_POLICY={other}"),
    }
    timed_drop(telemetry);
    print_alert_series();
}

// ---------------------------------------------------------------------------------------------
// The parent side.

impl ChildOutput {
    fn number(&self, key: &str) -> u64 {
        let value = self.value(key);
        value
            .parse()
            .unwrap_or_else(|_| panic!("{key}={value} is not a number in {self}"))
    }

    /// The notifications the child's recording sinks got, in order.
    fn notifications(&self) -> Vec<Value> {
        let marker = "ALERTS_TEST NOTIFICATION ";
        self.stdout
            .lines()
            .filter_map(|line| line.find(marker).map(|at| &line[at + marker.len()..]))
            .map(|json| serde_json::from_str(json).unwrap())
            .collect()
    }

    /// The child's `ws_alerts_total`, summed over severities: (sink, result) → count.
    fn alert_counts(&self) -> BTreeMap<(String, String), u64> {
        let mut counts = BTreeMap::new();
        for line in self.stdout.lines() {
            let Some(at) = line.find("ws_alerts_total{") else {
                continue;
            };
            let series = &line[at + "ws_alerts_total{".len()..];
            let (labels, value) = series.rsplit_once("} ").unwrap();
            let labels: BTreeMap<&str, &str> = labels
                .split("\",")
                .map(|pair| {
                    let (name, value) = pair.split_once('=').unwrap();
                    (name, value.trim_matches('"'))
                })
                .collect();
            let value: f64 = value.trim().parse().unwrap();
            *counts
                .entry((labels["sink"].to_owned(), labels["result"].to_owned()))
                .or_default() += value as u64;
        }
        assert!(!counts.is_empty(), "no ws_alerts_total printed: {self}");
        counts
    }

    /// `ws_alerts_total{sink, result}` summed over severities; the series must exist.
    fn alerts(&self, sink: &str, result: &str) -> u64 {
        *self
            .alert_counts()
            .get(&(sink.to_owned(), result.to_owned()))
            .unwrap_or_else(|| panic!("no ws_alerts_total{{sink={sink},result={result}}}: {self}"))
    }
}

/// Runs this test binary again, executing only `test`, with no inherited ws-observe,
/// OpenTelemetry, Sentry or test variable, metrics off, `OTEL_SERVICE_NAME=alerts-test`, then
/// `env`. The child waits in `wait_for_parent` until `finish` closes its stdin.
fn spawn_child(test: &str, env: &[(&str, String)]) -> RunningChild {
    let mut command = common::child::command(test);
    command
        .stdin(Stdio::piped())
        .env("OTEL_SERVICE_NAME", SERVICE);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("ALERTS_TEST_") {
            command.env_remove(name);
        }
    }
    for (name, value) in env {
        command.env(name, value);
    }
    RunningChild::spawn(command, test, "ALERTS_TEST")
}

fn run_child(test: &str, env: &[(&str, String)]) -> ChildOutput {
    spawn_child(test, env).finish(CHILD_LIMIT)
}

/// This test's `charge_card` alert among Alertmanager's alerts.
fn charge_card_alert(alerts: &[Value]) -> Option<Value> {
    alerts
        .iter()
        .find(|a| a["labels"]["service"] == SERVICE && a["labels"]["handler"] == "charge_card")
        .cloned()
}

/// Runs `amtool --alertmanager.url=<am> <args>`; returns its standard output.
fn amtool(am: &Alertmanager, args: &[&str]) -> String {
    let binary = std::env::var("AMTOOL").unwrap_or_else(|_| "amtool".into());
    let output = Command::new(&binary)
        .arg(format!("--alertmanager.url={}", am.url()))
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run `{binary}` ({e}): run scripts/install-backends.sh, which installs \
                 Debian's `prometheus-alertmanager`"
            )
        });
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "amtool {args:?}: {}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[test]
#[ignore = "needs scripts/install-backends.sh"]
fn alertmanager_shows_the_alert_while_the_handler_fails_and_resolves_it_when_quiet() {
    if in_child() {
        return;
    }
    let am = Alertmanager::start();
    let child = spawn_child(
        "child_failing_handler",
        &[
            ("WS_OBSERVE_ALERTMANAGER_URL", am.url()),
            ("WS_OBSERVE_ALERT_RESEND_INTERVAL", "1s".into()),
            ("WS_OBSERVE_ALERT_RESOLVE_AFTER", "3s".into()),
            ("ALERTS_TEST_FAIL_FOR_MS", "4000".into()),
        ],
    );

    // It appears with what an on-call engineer reads.
    let first = common::wait_until(
        Duration::from_secs(15),
        "the alert in Alertmanager",
        || charge_card_alert(&am.alerts("")),
        || am.log(),
    );
    let appeared = Instant::now();
    let labels = &first["labels"];
    assert_eq!(labels["alertname"], "WsHandlerError", "{first:#}");
    assert_eq!(labels["handler"], "charge_card", "{first:#}");
    assert_eq!(labels["module"], MODULE, "{first:#}");
    assert_eq!(labels["severity"], "critical", "{first:#}");
    assert_eq!(labels["service"], SERVICE, "{first:#}");
    let annotations = &first["annotations"];
    assert_eq!(annotations["summary"], "charge_card failed", "{first:#}");
    assert_eq!(
        annotations["description"], "card declined by the issuer",
        "{first:#}"
    );
    let generator = first["generatorURL"].as_str().unwrap_or_default();
    assert!(
        generator.starts_with("http") && generator.contains("charge_card"),
        "{first:#}"
    );
    assert_eq!(first["status"]["state"], "active", "{first:#}");

    let listed = amtool(&am, &["alert", "query"]);
    assert!(
        listed.lines().any(|line| line.contains("WsHandlerError")
            && line.contains("charge_card failed")
            && line.contains("active")),
        "amtool alert query:\n{listed}"
    );
    let extended = amtool(
        &am,
        &["alert", "query", "-o", "extended", "service=alerts-test"],
    );
    for label in [
        "handler=\"charge_card\"",
        "severity=\"critical\"",
        &format!("module=\"{MODULE}\""),
    ] {
        assert!(extended.contains(label), "{label} in:\n{extended}");
    }

    // Still active 3 s later, past the end time it was first sent with: the re-sends keep it.
    let first_ends = parse_rfc3339(first["endsAt"].as_str().unwrap());
    let mut latest = first.clone();
    while appeared.elapsed() < Duration::from_secs(3) {
        std::thread::sleep(Duration::from_millis(200));
        latest = charge_card_alert(&am.alerts("?active=true")).unwrap_or_else(|| {
            panic!(
                "no longer active {:?} after it appeared, while the handler fails:\n{}",
                appeared.elapsed(),
                am.log()
            )
        });
    }
    assert!(SystemTime::now() > first_ends, "{first:#}");
    assert!(
        parse_rfc3339(latest["endsAt"].as_str().unwrap()) > first_ends,
        "re-sends move endsAt: first {first:#}, latest {latest:#}"
    );

    // Resolved once the handler has been quiet for 3 s.
    common::wait_until(
        Duration::from_secs(15),
        "the alert to be resolved",
        || {
            charge_card_alert(&am.alerts("?active=true"))
                .is_none()
                .then_some(())
        },
        || am.log(),
    );
    assert_eq!(charge_card_alert(&am.alerts("")), None);

    let output = child.finish(CHILD_LIMIT);
    println!(
        "alertmanager: guard dropped in {} ms",
        output.value("DROP_MS")
    );
    let calls = output.number("CALLS");
    assert!(calls >= 10, "{output}");
    assert!(!output.stdout.contains("alert delivery failed"), "{output}");
    // One firing alert; the other failures were the same alert (re-sends are not counted).
    assert_eq!(output.alerts("alertmanager", "sent"), 1, "{output}");
    assert_eq!(output.alerts("alertmanager", "failed"), 0, "{output}");
    assert_eq!(
        output.alerts("alertmanager", "deduplicated"),
        calls - 1,
        "{output}"
    );
}

#[test]
#[ignore = "needs scripts/install-backends.sh"]
fn an_alertmanager_pair_with_one_member_down_still_gets_and_resolves_the_alert() {
    if in_child() {
        return;
    }
    let am = Alertmanager::start();
    let child = spawn_child(
        "child_failing_handler",
        &[
            (
                "WS_OBSERVE_ALERTMANAGER_URL",
                format!("{},{}", closed_port_endpoint(), am.url()),
            ),
            // Sent with an end time 10 s away: only an explicit resolution ends it sooner.
            ("WS_OBSERVE_ALERT_RESEND_INTERVAL", "5s".into()),
            ("WS_OBSERVE_ALERT_RESOLVE_AFTER", "1s".into()),
            ("ALERTS_TEST_FAIL_FOR_MS", "0".into()),
        ],
    );
    let alert = common::wait_until(
        Duration::from_secs(15),
        "the alert in the live Alertmanager",
        || charge_card_alert(&am.alerts("")),
        || am.log(),
    );
    assert_eq!(alert["labels"]["alertname"], "WsHandlerError", "{alert:#}");
    let ends = parse_rfc3339(alert["endsAt"].as_str().unwrap());
    common::wait_until(
        Duration::from_secs(15),
        "the alert to be resolved",
        || {
            charge_card_alert(&am.alerts("?active=true"))
                .is_none()
                .then_some(())
        },
        || am.log(),
    );
    assert!(
        SystemTime::now() < ends,
        "resolved by ws-observe, not left to expire at its endsAt: {alert:#}"
    );
    let output = child.finish(CHILD_LIMIT);
    println!(
        "alertmanager pair: guard dropped in {} ms",
        output.value("DROP_MS")
    );
    assert_eq!(output.alerts("alertmanager", "sent"), 1, "{output}");
    assert_eq!(output.alerts("alertmanager", "failed"), 0, "{output}");
}

#[test]
fn the_webhook_receives_slack_compatible_json() {
    if in_child() {
        return;
    }
    let webhook = WebhookReceiver::start();
    let output = run_child(
        "child_failing_handler",
        &[
            ("WS_OBSERVE_ALERT_WEBHOOK_URL", webhook.url("/hooks/alerts")),
            ("ALERTS_TEST_FAIL_FOR_MS", "0".into()),
        ],
    );
    println!("webhook: guard dropped in {} ms", output.value("DROP_MS"));
    let requests = webhook.requests();
    assert_eq!(requests.len(), 1, "{requests:#?}\n{output}");
    let request = &requests[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/hooks/alerts");
    assert_eq!(request.headers["content-type"], "application/json");
    let body = request.json();
    assert_eq!(
        body["text"], "[critical] charge_card failed: card declined by the issuer",
        "{body:#}"
    );
    assert_eq!(body["status"], "firing", "{body:#}");
    assert_eq!(body["severity"], "critical", "{body:#}");
    assert_eq!(body["summary"], "charge_card failed", "{body:#}");
    assert_eq!(
        body["description"], "card declined by the issuer",
        "{body:#}"
    );
    assert_eq!(body["labels"]["handler"], "charge_card", "{body:#}");
    assert_eq!(body["labels"]["module"], MODULE, "{body:#}");
    assert_eq!(body["service"], SERVICE, "{body:#}");
    assert!(body.get("trace_id").is_none(), "no trace export: {body:#}");
    assert_eq!(output.alerts("webhook", "sent"), 1, "{output}");
}

#[test]
fn custom_sinks_get_handler_errors_panics_and_manual_alerts_with_lifecycle_and_retries() {
    if in_child() {
        return;
    }
    let output = run_child(
        "child_custom_sinks",
        &[
            ("WS_OBSERVE_ALERT_RESEND_INTERVAL", "300ms".into()),
            ("WS_OBSERVE_ALERT_RESOLVE_AFTER", "1s".into()),
        ],
    );
    println!(
        "custom sinks: guard dropped in {} ms",
        output.value("DROP_MS")
    );
    let notifications = output.notifications();
    let of = |sink: &str, summary: &str| -> Vec<&Value> {
        notifications
            .iter()
            .filter(|n| n["sink"] == sink && n["summary"] == summary)
            .collect()
    };

    // A sink that keeps no state gets each alert once, as `Firing`.
    let recorded: Vec<&Value> = notifications
        .iter()
        .filter(|n| n["sink"] == "recorder")
        .collect();
    assert_eq!(recorded.len(), 3, "{recorded:#?}");
    assert!(
        recorded.iter().all(|n| n["kind"] == "firing"),
        "{recorded:#?}"
    );

    let failed = of("recorder", "charge_card failed")[0];
    assert_eq!(failed["severity"], "critical");
    assert_eq!(failed["description"], "card declined by the issuer");
    assert_eq!(
        failed["labels"],
        json!({"handler": "charge_card", "module": MODULE})
    );
    assert_eq!(failed["error_type"], format!("{MODULE}::CardDeclined"));
    assert_eq!(
        failed["error_chain"],
        json!(["card declined by the issuer", "issuer unreachable"])
    );
    assert_eq!(failed["trace_id"], Value::Null, "no trace export");
    let raised = failed["raised_at_ms"].as_u64().unwrap();
    assert!(
        (output.number("BEFORE_MS")..=output.number("AFTER_MS")).contains(&raised),
        "{failed:#}\n{output}"
    );

    let panicked = of("recorder", "crash panicked")[0];
    assert_eq!(panicked["severity"], "info");
    assert_eq!(panicked["description"], "the handler panicked");
    assert_eq!(panicked["error_type"], "panic");
    assert_eq!(
        panicked["labels"],
        json!({"handler": "crash", "module": MODULE})
    );

    let manual = of("recorder", "disk almost full")[0];
    assert_eq!(manual["severity"], "warning");
    assert_eq!(manual["description"], "95% used");
    assert_eq!(manual["labels"], json!({"disk": "/var"}));
    assert_eq!(manual["error_type"], Value::Null);

    // A stateful sink is also told, of each, that it still fires, then once that it resolved.
    for summary in ["charge_card failed", "crash panicked", "disk almost full"] {
        let told = of("lifecycle", summary);
        let kinds: Vec<&str> = told.iter().map(|n| n["kind"].as_str().unwrap()).collect();
        assert!(
            kinds.len() >= 3
                && kinds[0] == "firing"
                && kinds[kinds.len() - 1] == "resolved"
                && kinds[1..kinds.len() - 1]
                    .iter()
                    .all(|k| *k == "still_firing"),
            "{summary}: {kinds:?}"
        );
        let episode: BTreeSet<String> = told
            .iter()
            .map(|n| format!("{} {}", n["raised_at_ms"], n["description"]))
            .collect();
        assert_eq!(episode.len(), 1, "one alert throughout: {told:#?}");
    }

    // Retries: the flaky sink succeeds on its second attempts, the refuser fails after three.
    assert_eq!(output.number("FLAKY_CALLS"), 6, "{output}");
    assert_eq!(output.number("REFUSER_CALLS"), 9, "{output}");
    for sink in ["log", "recorder", "lifecycle", "flaky"] {
        assert_eq!(output.alerts(sink, "sent"), 3, "{sink}: {output}");
        assert_eq!(output.alerts(sink, "failed"), 0, "{sink}: {output}");
    }
    assert_eq!(output.alerts("refuser", "sent"), 0, "{output}");
    assert_eq!(output.alerts("refuser", "failed"), 3, "{output}");
}

#[test]
fn a_flood_of_failures_is_counted_once_per_sink_and_delivered_as_counted() {
    if in_child() {
        return;
    }
    let webhook = WebhookReceiver::start();
    let flood = |mode: &str| {
        run_child(
            "child_flood",
            &[
                ("WS_OBSERVE_ALERT_WEBHOOK_URL", webhook.url("/flood")),
                ("WS_OBSERVE_ALERT_DEDUPE_WINDOW", "1s".into()),
                // Only the handlers and the alerts are measured, not 100 000 log lines.
                ("RUST_LOG", "off".into()),
                ("ALERTS_TEST_FLOOD", mode.into()),
            ],
        )
    };

    let on = flood("alerting");
    assert_eq!(on.number("ERRORS"), FLOOD, "{on}");
    let raised = FLOOD + MANUAL;
    let counts = on.alert_counts();
    println!("flood with alerting on: {} ms", on.value("FLOOD_MS"));
    for sink in ["log", "webhook", "counter"] {
        let [sent, failed, dropped, deduplicated] =
            ["sent", "failed", "dropped", "deduplicated"].map(|result| on.alerts(sink, result));
        println!(
            "  {sink}: sent {sent}, failed {failed}, dropped {dropped}, deduplicated {deduplicated}"
        );
        assert_eq!(
            sent + failed + dropped + deduplicated,
            raised,
            "{sink}: {counts:?}"
        );
        // The first failure and each distinct manual alert pass deduplication.
        assert!(sent > MANUAL, "{sink}: {counts:?}");
    }
    assert_eq!(
        webhook.requests().len() as u64,
        on.alerts("webhook", "sent"),
        "{counts:?}"
    );
    assert_eq!(
        on.number("NOTIFIED"),
        on.alerts("counter", "sent"),
        "{counts:?}"
    );

    // The same flood with alerting off (`#[ws_handler]` without `alert`): nothing is raised.
    let off = flood("plain");
    assert_eq!(off.number("ERRORS"), FLOOD, "{off}");
    assert!(off.alert_counts().values().all(|n| *n == 0), "{off}");
    println!(
        "flood of {FLOOD} failing calls: alerting on {} ms ({} ns/call), off {} ms ({} ns/call); \
         guard dropped in {} ms and {} ms",
        on.value("FLOOD_MS"),
        on.value("NS_PER_CALL"),
        off.value("FLOOD_MS"),
        off.value("NS_PER_CALL"),
        on.value("DROP_MS"),
        off.value("DROP_MS")
    );
}

#[test]
fn dead_and_hanging_sinks_block_no_handler_and_shutdown_stays_bounded() {
    if in_child() {
        return;
    }
    let hanging = HangingCollector::start();
    let output = run_child(
        "child_sinks_down",
        &[
            ("WS_OBSERVE_ALERTMANAGER_URL", closed_port_endpoint()),
            (
                "WS_OBSERVE_ALERT_WEBHOOK_URL",
                format!("{}/hook", hanging.endpoint()),
            ),
            // A Sentry DSN whose server accepts and never answers.
            (
                "SENTRY_DSN",
                hanging.endpoint().replace("http://", "http://publickey@") + "/7",
            ),
            // Span export to the same hanging server: its flush must share the one bound.
            ("OTEL_EXPORTER_OTLP_ENDPOINT", hanging.endpoint()),
            ("OTEL_TRACES_SAMPLER", "always_on".into()),
            ("WS_OBSERVE_SHUTDOWN_TIMEOUT", "2s".into()),
        ],
    );
    assert_eq!(output.number("CALLS_DONE"), 1000, "{output}");
    // No call waited on a sink: each took far less than the 200 ms retry backoff or the 5 s
    // request timeout a call delivering its own alert would take.
    let slowest = Duration::from_micros(output.number("SLOWEST_CALL_US"));
    assert!(
        slowest < Duration::from_millis(100),
        "a call took {slowest:?}: {output}"
    );
    // Failed once, after three attempts 200 ms then 400 ms apart.
    assert_eq!(output.alerts("alertmanager", "failed"), 1, "{output}");
    assert!(output.number("FAILED_AFTER_MS") >= 600, "{output}");
    assert!(
        hanging.connections() >= 2,
        "the webhook and Sentry were tried"
    );
    // Still hanging when the guard was dropped (5 s timeout a try): neither sent nor failed.
    assert_eq!(output.alerts("webhook", "sent"), 0, "{output}");
    assert_eq!(output.alerts("webhook", "failed"), 0, "{output}");
    assert_eq!(output.alerts("sentry", "sent"), 0, "{output}");
    let drop_time = Duration::from_millis(output.number("DROP_MS"));
    println!(
        "sinks down: 1000 calls in {} ms (slowest {slowest:?}), alertmanager failed after {} ms, \
         guard dropped in {} ms",
        output.value("CALLS_MS"),
        output.value("FAILED_AFTER_MS"),
        drop_time.as_millis()
    );
    // One bound for the whole drop: the alert flush and the span flush, each of which hangs,
    // share the 2 s (each taking it in full would be 4 s).
    assert!(
        drop_time <= Duration::from_secs(2) + Duration::from_millis(900),
        "dropped in {drop_time:?}: {output}"
    );

    // Every raised alert ends in exactly one result per sink, the ones a sink was still
    // delivering when the shutdown bound expired included (counted dropped).
    for sink in ["log", "alertmanager", "webhook", "sentry"] {
        let total: u64 = ["sent", "failed", "dropped", "deduplicated"]
            .iter()
            .map(|result| output.alerts(sink, result))
            .sum();
        assert_eq!(total, 1000, "{sink}: {:?}", output.alert_counts());
    }
}

#[test]
fn the_same_failure_is_deduplicated_within_the_window_and_alerts_again_after_it() {
    let webhook = WebhookReceiver::start();
    let output = run_child(
        "child_policy",
        &[
            ("WS_OBSERVE_ALERT_WEBHOOK_URL", webhook.url("/dedupe")),
            ("WS_OBSERVE_ALERT_DEDUPE_WINDOW", "1s".into()),
            // Two failures at once, then two more 1.5 s later: past the window.
            ("ALERTS_TEST_POLICY", "dedupe".into()),
            ("ALERTS_TEST_PAUSE_MS", "1500".into()),
        ],
    );
    let requests = webhook.requests();
    let summaries: Vec<Value> = requests
        .iter()
        .map(|r| r.json()["summary"].clone())
        .collect();
    assert_eq!(
        summaries,
        [json!("charge_card failed"), json!("charge_card failed")],
        "one alert per window: {output}"
    );
    assert_eq!(output.alerts("webhook", "sent"), 2, "{output}");
    assert_eq!(output.alerts("webhook", "deduplicated"), 2, "{output}");
}

#[test]
fn alerts_past_the_rate_limit_are_dropped_and_counted() {
    let webhook = WebhookReceiver::start();
    let output = run_child(
        "child_policy",
        &[
            ("WS_OBSERVE_ALERT_WEBHOOK_URL", webhook.url("/rate")),
            ("WS_OBSERVE_ALERT_RATE_LIMIT", "3".into()),
            ("ALERTS_TEST_POLICY", "rate".into()),
        ],
    );
    let summaries: BTreeSet<String> = webhook
        .requests()
        .iter()
        .map(|r| r.json()["summary"].as_str().unwrap().to_owned())
        .collect();
    // The first three of the burst pass (a new token every 20 s at 3 a minute).
    let first_three: BTreeSet<String> = (0..3).map(|i| format!("burst alert {i}")).collect();
    assert_eq!(summaries, first_three, "{output}");
    assert_eq!(output.alerts("webhook", "sent"), 3, "{output}");
    assert_eq!(output.alerts("webhook", "dropped"), BURST - 3, "{output}");
    assert_eq!(output.alerts("webhook", "deduplicated"), 0, "{output}");
}
