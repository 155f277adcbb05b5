//! End to end against a real OpenTelemetry collector process: `rotel` (PyPI; its wheel ships
//! the collector binary), started on loopback by this test, spans sent over OTLP/HTTP and
//! OTLP/gRPC, found in the collector's own debug output. `scripts/test.sh` installs rotel and
//! sets `ROTEL_AGENT` to its binary.

mod common;

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ws_observe::ws_handler;

/// A rotel collector on two free loopback ports, killed (by its own PID) when dropped.
struct Collector {
    child: Child,
    log: PathBuf,
    grpc_port: u16,
    http_port: u16,
}

impl Collector {
    fn start() -> Collector {
        let agent = std::env::var("ROTEL_AGENT").unwrap_or_else(|_| {
            panic!(
                "ROTEL_AGENT is not set: run scripts/test.sh, which installs the rotel collector"
            )
        });
        let dir = std::env::temp_dir().join(format!("ws-observe-rotel-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let log = dir.join("rotel.log");
        let (grpc_port, http_port) = (common::free_port(), common::free_port());
        let child = Command::new(&agent)
            .arg("start")
            .args(["--otlp-grpc-endpoint", &format!("127.0.0.1:{grpc_port}")])
            .args(["--otlp-http-endpoint", &format!("127.0.0.1:{http_port}")])
            .args(["--exporter", "blackhole"])
            .args(["--debug-log", "traces", "--debug-log-verbosity", "detailed"])
            .args(["--log-format", "text"])
            .args(["--pid-file", dir.join("rotel.pid").to_str().unwrap()])
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(std::fs::File::options().append(true).open(&log).unwrap())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {agent}: {e}"));
        let collector = Collector {
            child,
            log,
            grpc_port,
            http_port,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", http_port)).is_err()
            || TcpStream::connect(("127.0.0.1", grpc_port)).is_err()
        {
            assert!(
                Instant::now() < deadline,
                "rotel did not listen:\n{}",
                collector.output()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        collector
    }

    fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until the collector has printed `needle`.
    fn wait_for(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let output = self.output();
            if output.contains(needle) {
                return output;
            }
            assert!(
                Instant::now() < deadline,
                "collector never showed {needle:?}:\n{output}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Kept when the test failed: the collector's log is the evidence.
        if !std::thread::panicking()
            && let Some(dir) = self.log.parent()
        {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

#[derive(Debug)]
struct Declined;
impl std::fmt::Display for Declined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("declined by the e2e test")
    }
}
impl std::error::Error for Declined {}

#[ws_handler(alert = "warning")]
fn rotel_e2e_handler(fail: bool) -> Result<(), Declined> {
    if fail { Err(Declined) } else { Ok(()) }
}

#[test]
#[ignore = "child process: run by its parent test"]
fn child_exports_to_the_collector() {
    if !common::child::in_child() {
        return;
    }
    let telemetry = ws_observe::runtime::init().expect("init");
    rotel_e2e_handler(false).unwrap();
    rotel_e2e_handler(true).unwrap_err();
    drop(telemetry); // flushes the spans
}

fn export_through(protocol: &str, endpoint: String, service: &str) {
    common::child::run(
        "child_exports_to_the_collector",
        "ROTEL_TEST",
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
            ("OTEL_SERVICE_NAME", service),
            ("OTEL_BSP_SCHEDULE_DELAY", "50"),
        ],
    );
}

#[test]
#[ignore = "needs scripts/install-backends.sh"]
fn spans_reach_a_real_collector_over_http_and_grpc() {
    if common::child::in_child() {
        return;
    }
    let collector = Collector::start();
    export_through(
        "http/protobuf",
        format!("http://127.0.0.1:{}", collector.http_port),
        "rotel-e2e-http",
    );
    export_through(
        "grpc",
        format!("http://127.0.0.1:{}", collector.grpc_port),
        "rotel-e2e-grpc",
    );
    collector.wait_for("Str(rotel-e2e-http)");
    let output = collector.wait_for("Str(rotel-e2e-grpc)");
    assert!(
        output.contains("Name           : rotel_e2e_handler"),
        "{output}"
    );
    assert!(
        output.contains("ws.handler: Str(rotel_e2e_handler)"),
        "{output}"
    );
    assert!(
        output.contains("declined by the e2e test"),
        "the error message reaches the collector:\n{output}"
    );
}
