//! What a child process (this test binary run again for one test, because `init()` installs
//! process-wide state) printed, and the `MARKER key=value` lines it reports to its parent.

use std::fmt::Display;

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
}

/// Whether this process is a child: this test binary run again by [`command`] for one test.
/// Each `child_*` test returns at once unless it is.
pub fn in_child() -> bool {
    std::env::var_os(CHILD_MARK).is_some()
}

const CHILD_MARK: &str = "WS_OBSERVE_CHILD";

/// How long a child may run before it is killed and its test fails.
pub const CHILD_LIMIT: std::time::Duration = std::time::Duration::from_secs(60);

/// This test binary run again for `test` alone, as a child: without any ws-observe,
/// OpenTelemetry or Sentry variable or `RUST_LOG` inherited from the parent's environment,
/// with `/metrics` off (a test turns it on with its own variables), output piped.
pub fn command(test: &str) -> std::process::Command {
    use std::process::Stdio;
    let mut command = std::process::Command::new(std::env::current_exe().unwrap());
    command
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
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
    stdout: Option<std::thread::JoinHandle<String>>,
    stderr: Option<std::thread::JoinHandle<String>>,
}

impl RunningChild {
    /// Starts `command` (for `test`; its `report` lines use `marker`), reading both pipes on
    /// threads so a chatty child never blocks on a full pipe.
    pub fn spawn(mut command: std::process::Command, test: &str, marker: &'static str) -> Self {
        let mut child = command.spawn().expect("run the test binary again");
        let read_all = |mut pipe: Box<dyn std::io::Read + Send>| {
            std::thread::spawn(move || {
                let mut text = Vec::new();
                let _ = pipe.read_to_end(&mut text);
                String::from_utf8_lossy(&text).into_owned()
            })
        };
        RunningChild {
            test: test.to_owned(),
            marker,
            stdin: child.stdin.take(),
            stdout: Some(read_all(Box::new(child.stdout.take().unwrap()))),
            stderr: Some(read_all(Box::new(child.stderr.take().unwrap()))),
            child: Some(child),
        }
    }

    /// Closes the child's stdin (a child waiting on it goes on) and waits for it to end;
    /// fails the test if it fails or outlives `limit` (then it is killed).
    pub fn finish(mut self, limit: std::time::Duration) -> ChildOutput {
        drop(self.stdin.take());
        let mut child = self.child.take().unwrap();
        let deadline = std::time::Instant::now() + limit;
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break Some(status);
            }
            if std::time::Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        let output = ChildOutput {
            test: self.test.clone(),
            stdout: self.stdout.take().unwrap().join().unwrap(),
            stderr: self.stderr.take().unwrap().join().unwrap(),
            marker: self.marker,
        };
        match status {
            None => panic!("still running after {limit:?}, killed: {output}"),
            Some(status) if !status.success() => panic!("{status}: {output}"),
            Some(_) => output,
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
