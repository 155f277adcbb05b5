//! What a child process (this test binary run again for one test, because `init()` installs
//! process-wide state) printed, and the `MARKER key=value` lines it reports to its parent.
//!
//! A child entry is a `#[test]` named `child_*`, `#[ignore = "child process: run by its parent
//! test"]` so that a plain `cargo test` lists it as ignored rather than counting a test that did
//! nothing, and a no-op unless [`in_child`]. Its parent runs it with `--exact --include-ignored` and fails
//! unless the harness reports exactly one test passed: a renamed or missing entry fails its
//! parent instead of passing empty. `scripts/test.sh` runs every other test with
//! `--include-ignored` and skips the ignored `child_*` tests by their exact names.

use std::fmt::Display;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Prints `marker key=value` for the parent to read back with [`ChildOutput::value`].
pub fn report(marker: &str, key: &str, value: impl Display) {
    println!("{marker} {key}={value}");
}

/// A finished child's output.
pub struct ChildOutput {
    pub test: String,
    pub stdout: String,
    pub stderr: String,
    /// The prefix of the child's `report` lines.
    pub marker: &'static str,
}

impl std::fmt::Display for ChildOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "child {}\nstdout:\n{}\nstderr:\n{}",
            self.test, self.stdout, self.stderr
        )
    }
}

impl ChildOutput {
    /// What the child `report`ed under `key` (the harness may print `test name ... ` before
    /// it on the same line).
    pub fn value(&self, key: &str) -> &str {
        let marker = format!("{} {key}=", self.marker);
        let at = self
            .stdout
            .find(&marker)
            .unwrap_or_else(|| panic!("no {key} reported by {self}"));
        self.stdout[at + marker.len()..]
            .split_whitespace()
            .next()
            .unwrap_or("")
    }

    /// The lines of stdout that are neither the test harness's nor the child's `report`
    /// lines (`MARKER ...`): the child's log lines, as printed.
    pub fn log_line_texts(&self) -> Vec<&str> {
        let started = format!("test {} ... ", self.test);
        let reported = format!("{} ", self.marker);
        self.stdout
            .lines()
            .map(|line| line.strip_prefix(&started).unwrap_or(line))
            .filter(|line| {
                !(line.is_empty()
                    || *line == "ok"
                    || line.starts_with("running ")
                    || line.starts_with("test result: ")
                    || line.starts_with(&reported))
            })
            .collect()
    }

    /// The child's log lines on stdout as JSON: every one of them must be a JSON object.
    pub fn log_lines(&self) -> Vec<serde_json::Value> {
        self.log_line_texts()
            .into_iter()
            .map(|line| {
                let value: serde_json::Value = serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line:?}\nin {self}"));
                assert!(value.is_object(), "not a JSON object: {line:?}\nin {self}");
                value
            })
            .collect()
    }

    /// How many tests the child's harness says passed (`test result: ok. N passed; ...`).
    fn passed(&self) -> Option<u64> {
        self.stdout.lines().find_map(|line| {
            line.strip_prefix("test result: ok. ")?
                .split_once(" passed;")?
                .0
                .parse()
                .ok()
        })
    }
}

/// Whether this process is a child: this test binary run again by [`command`] for one test.
/// Each `child_*` test returns at once unless it is.
pub fn in_child() -> bool {
    std::env::var_os(CHILD_MARK).is_some()
}

const CHILD_MARK: &str = "WS_OBSERVE_CHILD";

/// How long a child may run before it is killed and its test fails.
pub const CHILD_LIMIT: Duration = Duration::from_secs(60);

/// This test binary run again for `test` alone (ignored or not), as a child: without any
/// ws-observe, OpenTelemetry or Sentry variable or `RUST_LOG` inherited from the parent's
/// environment, with `/metrics` off (a test turns it on with its own variables), output piped.
pub fn command(test: &str) -> std::process::Command {
    use std::process::Stdio;
    let mut command = std::process::Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "--exact",
            test,
            "--include-ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if ["OTEL_", "WS_OBSERVE_", "SENTRY_"]
            .iter()
            .any(|prefix| name.starts_with(prefix))
            || name == "RUST_LOG"
        {
            command.env_remove(&*name);
        }
    }
    command
        .env(CHILD_MARK, "1")
        .env("WS_OBSERVE_METRICS_ADDR", "off");
    command
}

/// A child started from [`command`], killed (by its own PID) if dropped before [`finish`]
/// (a failing test must not leave it behind).
///
/// [`finish`]: RunningChild::finish
pub struct RunningChild {
    test: String,
    marker: &'static str,
    child: Option<std::process::Child>,
    stdin: Option<std::process::ChildStdin>,
    /// Stdout so far, appended to by its reading thread.
    stdout_so_far: Arc<Mutex<Vec<u8>>>,
    stdout: Option<std::thread::JoinHandle<()>>,
    stderr: Option<std::thread::JoinHandle<Vec<u8>>>,
}

impl RunningChild {
    /// Starts `command` (for `test`; its `report` lines use `marker`), reading both pipes on
    /// threads so a chatty child never blocks on a full pipe.
    pub fn spawn(mut command: std::process::Command, test: &str, marker: &'static str) -> Self {
        use std::io::Read;
        let mut child = command.spawn().expect("run the test binary again");
        let stdout_so_far = Arc::new(Mutex::new(Vec::new()));
        let mut stdout = child.stdout.take().unwrap();
        let sink = Arc::clone(&stdout_so_far);
        let stdout = std::thread::spawn(move || {
            let mut buffer = [0; 8192];
            while let Ok(n @ 1..) = stdout.read(&mut buffer) {
                sink.lock().unwrap().extend_from_slice(&buffer[..n]);
            }
        });
        let mut stderr = child.stderr.take().unwrap();
        let stderr = std::thread::spawn(move || {
            let mut text = Vec::new();
            let _ = stderr.read_to_end(&mut text);
            text
        });
        RunningChild {
            test: test.to_owned(),
            marker,
            stdin: child.stdin.take(),
            stdout_so_far,
            stdout: Some(stdout),
            stderr: Some(stderr),
            child: Some(child),
        }
    }

    /// Waits until the child has printed `needle` on stdout; fails the test (the child is
    /// killed) if it has not within `limit`.
    pub fn wait_for_stdout(&self, needle: &str, limit: Duration) {
        let deadline = Instant::now() + limit;
        loop {
            let text = String::from_utf8_lossy(&self.stdout_so_far.lock().unwrap()).into_owned();
            if text.contains(needle) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "child {} printed no {needle:?} within {limit:?}:\n{text}",
                self.test
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the child (SIGKILL, by its own PID) and returns what it printed.
    pub fn kill(mut self) -> ChildOutput {
        let mut child = self.child.take().unwrap();
        let _ = child.kill();
        let _ = child.wait();
        self.output()
    }

    /// Closes the child's stdin (a child waiting on it goes on) and waits for it to end;
    /// fails the test if it fails, outlives `limit` (then it is killed), or ran anything but
    /// exactly one test (a renamed or missing `child_*` entry runs none and exits 0).
    pub fn finish(mut self, limit: Duration) -> ChildOutput {
        drop(self.stdin.take());
        let mut child = self.child.take().unwrap();
        let deadline = Instant::now() + limit;
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break Some(status);
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let output = self.output();
        match status {
            None => panic!("still running after {limit:?}, killed: {output}"),
            Some(status) if !status.success() => panic!("{status}: {output}"),
            Some(_) if output.passed() != Some(1) => {
                panic!("the child did not run exactly one test: {output}")
            }
            Some(_) => output,
        }
    }

    /// What the child printed, once it has ended (its pipes are closed).
    fn output(&mut self) -> ChildOutput {
        self.stdout.take().unwrap().join().unwrap();
        let stdout = std::mem::take(&mut *self.stdout_so_far.lock().unwrap());
        ChildOutput {
            test: self.test.clone(),
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&self.stderr.take().unwrap().join().unwrap())
                .into_owned(),
            marker: self.marker,
        }
    }
}

impl Drop for RunningChild {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Runs `test` in a child with `env` on top of [`command`]'s, to the end; fails the test if
/// the child fails or outlives [`CHILD_LIMIT`].
pub fn run<V: AsRef<std::ffi::OsStr>>(
    test: &str,
    marker: &'static str,
    env: &[(&str, V)],
) -> ChildOutput {
    let mut command = command(test);
    for (name, value) in env {
        command.env(name, value);
    }
    RunningChild::spawn(command, test, marker).finish(CHILD_LIMIT)
}
