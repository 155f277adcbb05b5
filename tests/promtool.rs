//! `promtool check metrics` (Prometheus' own linter, Debian's `prometheus` package) on a real
//! scrape with every outcome present. `scripts/test.sh` installs promtool.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use ws_observe::{ws_handler, ws_observe};

#[ws_observe]
fn lint_ok() -> Result<(), std::io::Error> {
    Ok(())
}

#[ws_handler(alert = "info")]
async fn lint_error() -> Result<(), std::io::Error> {
    Err(std::io::Error::other("x"))
}

#[ws_observe]
fn lint_panic() {
    panic!("x")
}

#[tokio::test]
#[ignore = "needs scripts/install-backends.sh"]
async fn scrape_passes_promtool_check_metrics() {
    lint_ok().unwrap();
    lint_error().await.unwrap_err();
    std::panic::catch_unwind(lint_panic).unwrap_err();
    let body = common::scrape();
    assert!(
        body.contains("ws_handler_calls_total{handler=\"lint_panic\""),
        "{body}"
    );

    let promtool = std::env::var("PROMTOOL").unwrap_or_else(|_| "promtool".into());
    let mut child = Command::new(&promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot run `{promtool}` ({e}): run scripts/test.sh, which installs Debian's `prometheus` package")
        });
    child
        .stdin
        .take()
        .unwrap()
        .write_all(body.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success() && report.trim().is_empty(),
        "promtool check metrics:\n{report}\n--- scraped:\n{body}"
    );
}
