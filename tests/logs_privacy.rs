//! Logs for ELK and Loki, and privacy, end to end through `runtime::init()`: rotated log files
//! from the environment, every line ecs-logging JSON, `redact(...)` pseudonyms (stable, keyed,
//! no raw value anywhere), and the consent journal surviving a SIGKILL.
//! `init()` is process-wide, so each scenario runs in a child process of this test binary.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{assert_ecs_line, json_lines};
use serde_json::Value;
use ws_observe::runtime::privacy::Pseudonymizer;
use ws_observe::{ws_handler, ws_observe};

const MARKER: &str = "LOGS_PRIVACY";
const KEY: &str = "test-key-0123456789-abcdefghijklmnop";
const EMAIL: &str = "alice.secret@example.com";

/// A child of this test binary for `test`, under the service name `privacy-test`, with `env`.
fn child_command(test: &str, env: &[(&str, &str)]) -> Command {
    let mut command = common::child::command(test);
    command.env("OTEL_SERVICE_NAME", "privacy-test");
    for (k, v) in env {
        command.env(k, v);
    }
    command
}

/// Runs `test` in a child and returns its output; the child must succeed.
fn child(test: &str, env: &[(&str, &str)]) -> common::child::ChildOutput {
    let command = child_command(test, env);
    common::child::RunningChild::spawn(command, test, MARKER).finish(common::child::CHILD_LIMIT)
}

fn in_child() -> bool {
    let child = common::child::in_child();
    if child {
        // The harness printed `test name ... ` without a newline: log lines start on their own.
        println!();
    }
    child
}

/// A fresh, empty directory for one test.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ws-observe-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The log files of a directory, oldest first, with their text.
fn log_files(dir: &Path) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&path).unwrap())
        })
        .collect();
    files.sort();
    files
}

// ---- Log files, ECS on every line, hostile input. ----

#[ws_observe]
fn lookup(room: u32) -> Result<u32, std::io::Error> {
    tracing::info!(room, "looking up");
    if room.is_multiple_of(7) {
        return Err(std::io::Error::other("no such room\nforged: line"));
    }
    Ok(room * 2)
}

#[test]
#[ignore = "child process: run by its parent test"]
fn child_writes_rotated_files() {
    if !in_child() {
        return;
    }
    let telemetry = ws_observe::runtime::init().expect("init");
    for room in 0..60 {
        let _ = lookup(room);
    }
    let invalid_utf8: &[u8] = b"ok\xff\xfe\"\n{\"forged\":1}\x00\x1b[31m";
    tracing::warn!(
        bytes = invalid_utf8,
        text = "tab\there \"quoted\" \u{2028}",
        "{}",
        "hostile\r\n{\"a\":1}"
    );
    tracing::info!(long = "x".repeat(10_000).as_str(), "long value");
    drop(telemetry); // a clean shutdown flushes every line, to stdout and to the files
}

#[test]
fn log_files_rotate_by_size_keep_max_files_and_hold_every_line_as_ecs_json() {
    if in_child() {
        return;
    }
    let dir = temp_dir("log-files");
    let output = child(
        "child_writes_rotated_files",
        &[
            ("WS_OBSERVE_LOG_DIR", dir.to_str().unwrap()),
            ("WS_OBSERVE_LOG_ROTATION", "daily"),
            ("WS_OBSERVE_LOG_MAX_SIZE", "4KB"),
            ("WS_OBSERVE_LOG_MAX_FILES", "3"),
            ("RUST_LOG", "info"),
        ],
    );
    let stdout_lines = output.log_lines();
    // 60 "looking up", 9 handler errors, the hostile and the long line, at least.
    assert!(stdout_lines.len() >= 71, "{output}");
    for line in &stdout_lines {
        assert_ecs_line(line);
        assert_eq!(line["service.name"], "privacy-test");
    }

    let files = log_files(&dir);
    assert_eq!(files.len(), 3, "at most 3 files, all kept: {files:?}");
    let mut file_lines = Vec::new();
    for (name, text) in &files {
        assert!(
            name.starts_with("privacy-test.") && name.ends_with(".log"),
            "{name}"
        );
        assert!(text.ends_with('\n'), "{name} ends mid-line");
        let lines: Vec<&str> = text.lines().collect();
        // 4 kB per file, unless a single line is longer (the 10 kB one gets its own file).
        assert!(
            text.len() <= 4_000 || lines.len() == 1,
            "{name}: {} bytes",
            text.len()
        );
        file_lines.extend(lines.into_iter().map(str::to_owned));
    }
    // The files hold the newest lines, exactly as stdout has them, in order, none lost or split.
    let stdout_raw = output.log_line_texts();
    assert!(
        file_lines.len() < stdout_raw.len(),
        "older files were deleted"
    );
    assert_eq!(
        file_lines,
        stdout_raw[stdout_raw.len() - file_lines.len()..],
        "the files are the tail of stdout"
    );

    // Hostile input stayed inside its line, and the invalid bytes became U+FFFD.
    let hostile = stdout_lines
        .iter()
        .find(|l| l["log.level"] == "warn")
        .expect("the hostile line");
    assert_eq!(hostile["message"], "hostile\r\n{\"a\":1}");
    assert_eq!(
        hostile["bytes"],
        "ok\u{fffd}\u{fffd}\"\n{\"forged\":1}\u{0}\u{1b}[31m"
    );
    assert!(stdout_lines.iter().all(|l| l.get("forged").is_none()));
    // Correlation: a line inside a handler span names the span and carries its fields.
    let inside = stdout_lines
        .iter()
        .find(|l| l["message"] == "looking up")
        .unwrap();
    assert_eq!(inside["spans"], serde_json::json!(["lookup"]));
    assert_eq!(inside["ws.handler"], "lookup");
    let error = stdout_lines
        .iter()
        .find(|l| l["message"] == "handler returned an error")
        .unwrap();
    assert_eq!(error["error.message"], "no such room\nforged: line");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_log_variables_are_init_errors_naming_the_variable() {
    use ws_observe::runtime::Config;
    let cases: [(&[(&str, &str)], &str); 5] = [
        (
            &[
                ("WS_OBSERVE_LOG_DIR", "/tmp/x"),
                ("WS_OBSERVE_LOG_ROTATION", "weekly"),
            ],
            "WS_OBSERVE_LOG_ROTATION",
        ),
        (
            &[
                ("WS_OBSERVE_LOG_DIR", "/tmp/x"),
                ("WS_OBSERVE_LOG_MAX_SIZE", "100 parsecs"),
            ],
            "WS_OBSERVE_LOG_MAX_SIZE",
        ),
        (
            &[
                ("WS_OBSERVE_LOG_DIR", "/tmp/x"),
                ("WS_OBSERVE_LOG_MAX_FILES", "0"),
            ],
            "WS_OBSERVE_LOG_MAX_FILES",
        ),
        (
            &[("WS_OBSERVE_LOG_MAX_FILES", "3")],
            "WS_OBSERVE_LOG_MAX_FILES",
        ),
        (
            &[("WS_OBSERVE_PSEUDONYM_KEY", "short")],
            "WS_OBSERVE_PSEUDONYM_KEY",
        ),
    ];
    for (vars, named) in cases {
        let error = Config::from_vars(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
        .unwrap_err()
        .to_string();
        assert!(error.contains(named), "{vars:?}: {error}");
    }
}

#[test]
#[ignore = "child process: run by its parent test"]
fn child_init_refuses() {
    if !in_child() {
        return;
    }
    let error = ws_observe::runtime::init().unwrap_err();
    common::child::report(MARKER, "error", error.to_string().replace(' ', "_"));
}

#[test]
fn unusable_log_dir_stdout_off_alone_and_consent_without_key_are_refused() {
    if in_child() {
        return;
    }
    let dir = temp_dir("log-dir-is-a-file");
    let file = dir.join("file");
    std::fs::write(&file, "").unwrap();
    for (env, named) in [
        (
            vec![("WS_OBSERVE_LOG_DIR", file.to_str().unwrap())],
            "WS_OBSERVE_LOG_DIR",
        ),
        (
            vec![("WS_OBSERVE_LOG_STDOUT", "off")],
            "WS_OBSERVE_LOG_STDOUT",
        ),
        (
            vec![(
                "WS_OBSERVE_CONSENT_LOG",
                dir.join("consent").to_str().unwrap(),
            )],
            "WS_OBSERVE_CONSENT_LOG",
        ),
    ] {
        let output = child("child_init_refuses", &env);
        assert!(output.value("error").contains(named), "{output}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
#[ignore = "child process: run by its parent test"]
fn child_loses_its_log_dir() {
    if !in_child() {
        return;
    }
    let dir = PathBuf::from(std::env::var("WS_OBSERVE_LOG_DIR").unwrap());
    let telemetry = ws_observe::runtime::init().expect("init");
    let addr = telemetry.metrics_addr().expect("metrics on");
    tracing::info!("first line, in a file");
    std::thread::sleep(std::time::Duration::from_millis(200));
    // The directory is replaced by a plain file: no log file can be opened there any more.
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::write(&dir, "not a directory").unwrap();
    // The writer notices a vanished file within a second of its clock.
    std::thread::sleep(std::time::Duration::from_millis(1_200));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let dropped = loop {
        tracing::info!("a line the disk cannot take");
        let (_, body) = common::http_get(addr, "/metrics", &[]);
        let dropped = common::sample(&body, "ws_observe_log_lines_dropped_total", &[]).unwrap();
        if dropped > 0.0 || std::time::Instant::now() > deadline {
            break dropped;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    common::child::report(MARKER, "dropped", dropped);
    drop(telemetry);
    std::fs::remove_file(&dir).unwrap();
}

#[test]
fn lines_the_disk_refuses_are_counted_as_dropped_and_the_handler_goes_on() {
    if in_child() {
        return;
    }
    let dir = temp_dir("lost-dir");
    let output = child(
        "child_loses_its_log_dir",
        &[
            ("WS_OBSERVE_LOG_DIR", dir.to_str().unwrap()),
            ("WS_OBSERVE_METRICS_ADDR", "127.0.0.1:0"),
            ("RUST_LOG", "info"),
        ],
    );
    let dropped: f64 = output.value("dropped").parse().unwrap();
    assert!(dropped >= 1.0, "{output}");
    // Stdout, on its own queue, kept every line.
    assert!(
        output.stdout.contains("a line the disk cannot take"),
        "{output}"
    );
}

#[test]
#[ignore = "child process: run by its parent test"]
fn child_pretty_with_files() {
    if !in_child() {
        return;
    }
    let telemetry = ws_observe::runtime::init().expect("init");
    let _ = lookup(3);
    drop(telemetry);
}

#[test]
fn pretty_stdout_still_writes_json_files() {
    if in_child() {
        return;
    }
    let dir = temp_dir("pretty-files");
    let output = child(
        "child_pretty_with_files",
        &[
            ("WS_OBSERVE_LOG_DIR", dir.to_str().unwrap()),
            ("WS_OBSERVE_LOG_FORMAT", "pretty"),
            ("RUST_LOG", "info"),
        ],
    );
    assert!(output.stdout.contains("looking up"), "{output}");
    assert!(
        !output.log_line_texts().iter().any(|l| l.starts_with('{')),
        "stdout is pretty: {output}"
    );
    let files: String = log_files(&dir).into_iter().map(|(_, text)| text).collect();
    let lines = json_lines(&files);
    assert_eq!(lines.len(), files.lines().count(), "{files}");
    assert!(
        lines.iter().any(|l| l["message"] == "looking up"),
        "{files}"
    );
    lines.iter().for_each(assert_ecs_line);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
#[ignore = "child process: run by its parent test"]
fn child_failed_init_then_init() {
    if !in_child() {
        return;
    }
    use ws_observe::runtime::consent::{self, ConsentError, Decision};
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let failed = ws_observe::runtime::Config::from_env()
        .unwrap()
        .set_metrics_addr(taken.local_addr().unwrap())
        .init();
    assert!(failed.is_err());
    // Nothing of the failed init is left: no journal.
    let before = consent::record("user-1", "chat", Decision::Granted);
    common::child::report(
        MARKER,
        "after_failed_init",
        matches!(before, Err(ConsentError::NotConfigured)),
    );
    let telemetry = ws_observe::runtime::init().expect("the second init succeeds");
    consent::record("user-1", "chat", Decision::Granted).expect("record");
    common::child::report(
        MARKER,
        "after_init",
        consent::latest("user-1", "chat").unwrap() == Some(Decision::Granted),
    );
    drop(telemetry);
}

#[test]
fn a_failed_init_leaves_no_consent_journal_behind() {
    if in_child() {
        return;
    }
    let dir = temp_dir("failed-init");
    let path = dir.join("consent.jsonl");
    let output = child(
        "child_failed_init_then_init",
        &[
            ("WS_OBSERVE_CONSENT_LOG", path.to_str().unwrap()),
            ("WS_OBSERVE_PSEUDONYM_KEY", KEY),
        ],
    );
    assert_eq!(output.value("after_failed_init"), "true", "{output}");
    assert_eq!(output.value("after_init"), "true", "{output}");
    assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 1);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
#[ignore = "child process: run by its parent test"]
fn child_pseudonymizes_before_init() {
    if !in_child() {
        return;
    }
    let early = ws_observe::runtime::privacy::pseudonymize(EMAIL);
    let telemetry = ws_observe::runtime::init().expect("init");
    let later = ws_observe::runtime::privacy::pseudonymize(EMAIL);
    common::child::report(MARKER, "same", early == later);
    drop(telemetry);
}

#[test]
fn the_random_key_warning_reaches_the_logs_even_when_first_used_before_init() {
    if in_child() {
        return;
    }
    let output = child("child_pseudonymizes_before_init", &[("RUST_LOG", "info")]);
    assert_eq!(output.value("same"), "true", "{output}");
    assert!(
        output
            .stderr
            .contains("WS_OBSERVE_PSEUDONYM_KEY is not set"),
        "{output}"
    );
    let warnings = output
        .log_lines()
        .into_iter()
        .filter(|l| {
            l["log.level"] == "warn"
                && l["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("WS_OBSERVE_PSEUDONYM_KEY is not set"))
        })
        .count();
    assert_eq!(warnings, 1, "{output}");
}

// ---- Pseudonyms. ----

#[derive(Debug)]
struct Refused;
impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("subscription refused")
    }
}
impl std::error::Error for Refused {}

#[ws_handler(alert = "warning", redact(email))]
async fn subscribe(email: &str, plan: u32) -> Result<(), Refused> {
    tracing::info!(plan, "subscribing");
    if plan == 0 {
        return Err(Refused);
    }
    Ok(())
}

#[test]
#[ignore = "child process: run by its parent test"]
fn child_redacts() {
    if !in_child() {
        return;
    }
    let telemetry = ws_observe::runtime::init().expect("init");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async {
        subscribe(EMAIL, 1).await.unwrap();
        subscribe(EMAIL, 0).await.unwrap_err();
    });
    let pseudonym = ws_observe::runtime::privacy::pseudonymize(EMAIL);
    common::child::report(MARKER, "pseudonym", &pseudonym);
    drop(telemetry);
}

/// Runs the redacting child with `key` and returns (its output, the log files' text).
fn run_redacting_child(name: &str, key: Option<&str>) -> (common::child::ChildOutput, String) {
    let dir = temp_dir(name);
    let mut env = vec![
        ("WS_OBSERVE_LOG_DIR", dir.to_str().unwrap()),
        ("RUST_LOG", "info"),
    ];
    if let Some(key) = key {
        env.push(("WS_OBSERVE_PSEUDONYM_KEY", key));
    }
    let output = child("child_redacts", &env);
    let files: String = log_files(&dir).into_iter().map(|(_, text)| text).collect();
    std::fs::remove_dir_all(&dir).unwrap();
    (output, files)
}

#[test]
fn redacted_arguments_are_keyed_pseudonyms_and_never_their_value() {
    if in_child() {
        return;
    }
    let (first, first_files) = run_redacting_child("redact-1", Some(KEY));
    let expected = Pseudonymizer::new(KEY.as_bytes()).unwrap().pseudonym(EMAIL);
    assert_eq!(
        first.value("pseudonym"),
        expected,
        "HMAC-SHA256 under the key"
    );

    for text in [&first.stdout, &first.stderr, &first_files] {
        assert!(!text.contains(EMAIL), "raw value in the output:\n{text}");
        assert!(
            !text.contains("alice"),
            "part of the raw value in the output:\n{text}"
        );
    }
    let lines = first.log_lines();
    assert_eq!(json_lines(&first_files).len(), lines.len());
    let inside: Vec<&Value> = lines
        .iter()
        .filter(|l| l["spans"] == serde_json::json!(["subscribe"]))
        .collect();
    // Two "subscribing" lines and the error line, each with the pseudonym, not the address.
    assert_eq!(inside.len(), 3, "{first}");
    for line in inside {
        assert_eq!(line["email.pseudonym"], expected.as_str(), "{line}");
    }

    // Stable: another process with the same key gives the same pseudonym.
    let (again, _) = run_redacting_child("redact-2", Some(KEY));
    assert_eq!(again.value("pseudonym"), expected);
    // Keyed: another key gives another one.
    let (other, _) = run_redacting_child("redact-3", Some("another-key-0123456789-abcdefghij"));
    assert_ne!(other.value("pseudonym"), expected);
}

#[test]
fn without_a_key_pseudonyms_use_a_random_key_and_say_so() {
    if in_child() {
        return;
    }
    let (first, _) = run_redacting_child("random-1", None);
    let (second, _) = run_redacting_child("random-2", None);
    assert_ne!(first.value("pseudonym"), second.value("pseudonym"));
    assert!(!first.stdout.contains(EMAIL) && !first.stdout.contains("alice"));
    let warnings: Vec<Value> = first
        .log_lines()
        .into_iter()
        .filter(|l| l["log.level"] == "warn" && l["log.logger"] == "ws_observe")
        .collect();
    assert_eq!(warnings.len(), 1, "{first}");
    assert!(
        warnings[0]["message"]
            .as_str()
            .unwrap()
            .contains("WS_OBSERVE_PSEUDONYM_KEY is not set"),
        "{first}"
    );
}

// ---- Consent journal. ----

#[test]
#[ignore = "child process: run by its parent test"]
fn child_records_consent_then_hangs() {
    if !in_child() {
        return;
    }
    use ws_observe::runtime::consent::{self, Decision};
    let _telemetry = ws_observe::runtime::init().expect("init");
    for i in 0..20 {
        let decision = if i % 3 == 0 {
            Decision::Withdrawn
        } else {
            Decision::Granted
        };
        consent::record(&format!("user-{i}"), "chat_history", decision).expect("record");
    }
    consent::record("user-1", "chat_history", Decision::Withdrawn).expect("record");
    // The parent kills this process with SIGKILL as soon as it reads this line: no destructor,
    // no flush at exit, only what `record` made durable.
    println!("{MARKER} recorded=21");
    loop {
        std::thread::park();
    }
}

#[test]
fn the_consent_journal_survives_sigkill_right_after_record() {
    if in_child() {
        return;
    }
    use ws_observe::runtime::consent::{Decision, Journal};
    let dir = temp_dir("consent");
    let path = dir.join("consent.jsonl");
    let test = "child_records_consent_then_hangs";
    let command = child_command(
        test,
        &[
            ("WS_OBSERVE_CONSENT_LOG", path.to_str().unwrap()),
            ("WS_OBSERVE_PSEUDONYM_KEY", KEY),
            ("WS_OBSERVE_CONSENT_POLICY_VERSION", "2026-11"),
            ("RUST_LOG", "off"),
        ],
    );
    let process = common::child::RunningChild::spawn(command, test, MARKER);
    process.wait_for_stdout(&format!("{MARKER} recorded=21"), common::child::CHILD_LIMIT);
    process.kill(); // SIGKILL

    let journal = Journal::open(
        &path,
        Pseudonymizer::new(KEY.as_bytes()).unwrap(),
        "2026-11",
    )
    .unwrap();
    for i in 0..20 {
        let expected = if i % 3 == 0 || i == 1 {
            Decision::Withdrawn
        } else {
            Decision::Granted
        };
        assert_eq!(
            journal
                .latest(&format!("user-{i}"), "chat_history")
                .unwrap(),
            Some(expected),
            "user-{i}"
        );
    }
    assert_eq!(journal.latest("user-99", "chat_history").unwrap(), None);
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.lines().count(), 21);
    assert!(
        !text.contains("user-"),
        "subjects are pseudonymised:\n{text}"
    );
    for line in text.lines() {
        let entry: Value = serde_json::from_str(line).unwrap();
        assert_eq!(entry["policy_version"], "2026-11");
        assert_eq!(entry["purpose"], "chat_history");
        assert!(entry["@timestamp"].as_str().unwrap().ends_with('Z'));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
