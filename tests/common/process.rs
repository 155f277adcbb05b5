//! A program a test runs in the background (a back-end such as Prometheus, or an example
//! server): its output in a log file, stopped by its own PID when dropped.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::alert_receivers::http;

pub struct Running {
    name: &'static str,
    child: Mutex<Child>,
    log: PathBuf,
}

impl Running {
    /// Starts `command` with stdin closed and stdout and stderr into the file `log`; fails
    /// the test, with a hint at the installer, if the program cannot start.
    pub fn start(name: &'static str, mut command: Command, log: PathBuf) -> Running {
        let out =
            std::fs::File::create(&log).unwrap_or_else(|e| panic!("create {}: {e}", log.display()));
        let child = command
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start {name} ({command:?}): {e}; run scripts/install-backends.sh, \
                     which installs the back-ends the tests start"
                )
            });
        Running {
            name,
            child: Mutex::new(child),
            log,
        }
    }

    /// Everything it has printed so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until `GET path` on `addr` answers 200; fails if the process exits first or
    /// after 30 s.
    pub fn wait_ready(&self, addr: SocketAddr, path: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok((200, _)) = http(addr, "GET", path, None) {
                return;
            }
            if let Some(status) = self.child.lock().unwrap().try_wait().unwrap() {
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

    /// Kills the process and waits for it (again: a no-op).
    pub fn stop(&self) {
        let mut child = self
            .child
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // `Child::kill` signals this very PID, never a process found by name.
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A loopback address nothing listens on, for a process the test starts (or a dead one).
pub fn free_addr() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], super::free_port()))
}

/// Removes from `command` every ws-observe, OpenTelemetry and Sentry variable and `RUST_LOG`
/// the test inherited, so only what the test sets configures the program.
pub fn without_inherited_config(command: &mut Command) -> &mut Command {
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if ["WS_OBSERVE_", "OTEL_", "SENTRY_"]
            .iter()
            .any(|prefix| name.starts_with(prefix))
            || name == "RUST_LOG"
        {
            command.env_remove(&*name);
        }
    }
    command
}
