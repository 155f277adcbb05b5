//! TLS to every HTTP back-end (rustls; the system's roots, which `SSL_CERT_FILE` replaces, as
//! OpenSSL's does): an alert webhook, Alertmanager, Sentry and OTLP/HTTP over `https://` reach a
//! server whose certificate those roots trust, and nothing reaches a server whose certificate
//! they do not trust or that names another host: the handshake is refused, deliveries fail and
//! are counted. The server is Python's `ssl` and `http.server` (python3, which
//! `scripts/install-backends.sh` needs too), started on loopback by each test.
//!
//! The certificates below are a test CA, valid 2000-2100, and two server certificates it
//! signed with one key: one for `IP:127.0.0.1`, one for `DNS:other.example`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::child::{ChildOutput, RunningChild, in_child};
use ws_observe::ws_handler;

const CA: &str = "-----BEGIN CERTIFICATE-----
MIIBbjCCAROgAwIBAgIBATAKBggqhkjOPQQDAjAdMRswGQYDVQQDDBJ3cy1vYnNl
cnZlIHRlc3QgQ0EwIBcNMDAwMTAxMDAwMDAwWhgPMjEwMDAxMDEwMDAwMDBaMB0x
GzAZBgNVBAMMEndzLW9ic2VydmUgdGVzdCBDQTBZMBMGByqGSM49AgEGCCqGSM49
AwEHA0IABAWmxhwJcae5pVReOs9vqzfuFqr3gqYeKiTEEdj8h/kC+NyojNFAT41r
epLp4+hAkpEE/rHAmvtVoi9pXePo3U+jQjBAMA8GA1UdEwEB/wQFMAMBAf8wDgYD
VR0PAQH/BAQDAgIEMB0GA1UdDgQWBBS6yi85aoPwTry5Op8ixnsO287LNjAKBggq
hkjOPQQDAgNJADBGAiEAtl+MCp3paAnOpz73RUg22y6yhw//bwzx1a5nH02J95wC
IQCpqG76eMj9RBkiUwKQ59YbrvkGgA6jL1qledBzFvUJZA==
-----END CERTIFICATE-----
";
const SERVER_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgHL3vQivCHnHnRbxo
38Aao5nDprmC0UiU2Aw3UTC1af+hRANCAARkxIclNubzWeLyDlCfcKEyTaMouwyE
YHQ0/dmNqrZkZwNVdZ/LvW0ZHHtvaiJ5XHSgg5wbaO8mh90q/OVNZ9fS
-----END PRIVATE KEY-----
";
/// For `IP:127.0.0.1`, signed by `CA`.
const LOCALHOST_CERT: &str = "-----BEGIN CERTIFICATE-----
MIIBpzCCAU2gAwIBAgIBAjAKBggqhkjOPQQDAjAdMRswGQYDVQQDDBJ3cy1vYnNl
cnZlIHRlc3QgQ0EwIBcNMDAwMTAxMDAwMDAwWhgPMjEwMDAxMDEwMDAwMDBaMBQx
EjAQBgNVBAMMCTEyNy4wLjAuMTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABGTE
hyU25vNZ4vIOUJ9woTJNoyi7DIRgdDT92Y2qtmRnA1V1n8u9bRkce29qInlcdKCD
nBto7yaH3Sr85U1n19KjgYQwgYEwDwYDVR0RBAgwBocEfwAAATAJBgNVHRMEAjAA
MBMGA1UdJQQMMAoGCCsGAQUFBwMBMA4GA1UdDwEB/wQEAwIHgDAdBgNVHQ4EFgQU
zQAtytGDU/f57HodwMxdzDyTFKMwHwYDVR0jBBgwFoAUusovOWqD8E68uTqfIsZ7
DtvOyzYwCgYIKoZIzj0EAwIDSAAwRQIhANtIPsL9bcZE8J9NN1gDdOQcEbPsk5N1
2vMNJhr2PJc4AiAFe7w/AxsV0PAVhu0wXNM3wTo/EbJIszE9ccU6w1zD9Q==
-----END CERTIFICATE-----
";
/// For `DNS:other.example`, signed by `CA`.
const OTHER_HOST_CERT: &str = "-----BEGIN CERTIFICATE-----
MIIBsDCCAVagAwIBAgIBAzAKBggqhkjOPQQDAjAdMRswGQYDVQQDDBJ3cy1vYnNl
cnZlIHRlc3QgQ0EwIBcNMDAwMTAxMDAwMDAwWhgPMjEwMDAxMDEwMDAwMDBaMBQx
EjAQBgNVBAMMCTEyNy4wLjAuMTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABGTE
hyU25vNZ4vIOUJ9woTJNoyi7DIRgdDT92Y2qtmRnA1V1n8u9bRkce29qInlcdKCD
nBto7yaH3Sr85U1n19KjgY0wgYowGAYDVR0RBBEwD4INb3RoZXIuZXhhbXBsZTAJ
BgNVHRMEAjAAMBMGA1UdJQQMMAoGCCsGAQUFBwMBMA4GA1UdDwEB/wQEAwIHgDAd
BgNVHQ4EFgQUzQAtytGDU/f57HodwMxdzDyTFKMwHwYDVR0jBBgwFoAUusovOWqD
8E68uTqfIsZ7DtvOyzYwCgYIKoZIzj0EAwIDSAAwRQIgaGq1g8yDcs75YC9KO3ad
zX20dn4IXGhQpAfbQJxAXa4CIQD0cRMz0PtVnCfQR5wx/asm2qfVnaL23c2bBc9Y
NO0FBg==
-----END CERTIFICATE-----
";

/// An HTTPS server: logs `PORT n` once listening, `REQUEST <method> <path>` per request (and
/// answers 200), `HANDSHAKE_FAILED <error>` per refused handshake.
const SERVER_PY: &str = r#"
import http.server, socketserver, ssl, sys, threading

cert, key = sys.argv[1], sys.argv[2]
lock = threading.Lock()

def log(*words):
    with lock:
        print(*words, flush=True)

context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                self.rfile.read(size + 2)
                if size == 0:
                    break
        else:
            self.rfile.read(int(self.headers.get("content-length", 0)))
        log("REQUEST", self.command, self.path)
        protobuf = self.path.endswith("/v1/traces")
        body = b"" if protobuf else b"{}"
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf" if protobuf else "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

    def get_request(self):
        sock, addr = self.socket.accept()
        return context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

    def finish_request(self, request, client_address):
        try:
            request.do_handshake()
        except OSError as error:
            log("HANDSHAKE_FAILED", repr(error))
            return
        super().finish_request(request, client_address)

    def handle_error(self, request, client_address):
        pass

server = Server(("127.0.0.1", 0), Handler)
log("PORT", server.server_address[1])
server.serve_forever()
"#;

/// The HTTPS server above with `cert`, killed (by its own PID) when dropped.
struct TlsServer {
    child: Child,
    dir: PathBuf,
    port: u16,
}

impl TlsServer {
    fn start(name: &str, cert: &str) -> TlsServer {
        let dir =
            std::env::temp_dir().join(format!("ws-observe-tls-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for (file, text) in [
            ("server.py", SERVER_PY),
            ("server.crt", cert),
            ("server.key", SERVER_KEY),
            ("ca.crt", CA),
        ] {
            std::fs::write(dir.join(file), text).unwrap();
        }
        let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
        let log = std::fs::File::create(dir.join("server.log")).unwrap();
        let child = Command::new(&python)
            .arg(dir.join("server.py"))
            .arg(dir.join("server.crt"))
            .arg(dir.join("server.key"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run `{python}` ({e}): python3 is needed"));
        let mut server = TlsServer {
            child,
            dir,
            port: 0,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        server.port = loop {
            if let Some(port) = server
                .log()
                .lines()
                .find_map(|line| line.strip_prefix("PORT ")?.trim().parse().ok())
            {
                break port;
            }
            if let Some(status) = server.child.try_wait().unwrap() {
                panic!("the TLS server exited ({status}):\n{}", server.log());
            }
            assert!(
                Instant::now() < deadline,
                "the TLS server did not start:\n{}",
                server.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        server
    }

    fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    fn ca_file(&self) -> PathBuf {
        self.dir.join("ca.crt")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }

    /// `<method> <path>` of every request it answered.
    fn requests(&self) -> Vec<String> {
        self.log()
            .lines()
            .filter_map(|line| line.strip_prefix("REQUEST ").map(str::to_owned))
            .collect()
    }

    fn refused_handshakes(&self) -> usize {
        self.log()
            .lines()
            .filter(|line| line.starts_with("HANDSHAKE_FAILED "))
            .count()
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Kept when the test failed: the server's log is the evidence.
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

#[derive(Debug)]
struct Declined;
impl std::fmt::Display for Declined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("declined")
    }
}
impl std::error::Error for Declined {}

#[ws_handler(alert = "critical")]
fn pay() -> Result<(), Declined> {
    Err(Declined)
}

const MARKER: &str = "TLS_TEST";

/// One failing call (one alert to every sink, one span), then the guard's drop delivers them.
#[test]
#[ignore = "child process: run by its parent test"]
fn child_calls_over_tls() {
    if !in_child() {
        return;
    }
    let telemetry = ws_observe::runtime::init().expect("init");
    pay().unwrap_err();
    drop(telemetry);
    for line in ws_observe::runtime::render().lines() {
        if line.starts_with("ws_alerts_total{") || line.starts_with("ws_observe_spans_dropped") {
            println!("{MARKER} {line}");
        }
    }
}

/// Runs the child against `server`'s every back-end URL, trusting `ca` (else the system's
/// roots alone).
fn run_child(server: &TlsServer, ca: Option<&Path>) -> ChildOutput {
    let test = "child_calls_over_tls";
    let mut command = common::child::command(test);
    command
        .env_remove("SSL_CERT_FILE")
        .env_remove("SSL_CERT_DIR");
    if let Some(ca) = ca {
        command.env("SSL_CERT_FILE", ca);
    }
    let url = server.url();
    command
        .env("OTEL_SERVICE_NAME", "tls-test")
        .env("WS_OBSERVE_ALERT_WEBHOOK_URL", format!("{url}/hook"))
        .env("WS_OBSERVE_ALERTMANAGER_URL", &url)
        .env(
            "SENTRY_DSN",
            format!("https://publickey@127.0.0.1:{}/9", server.port),
        )
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", &url)
        // Room for three failed attempts (200 ms, then 400 ms apart) before the drop gives up.
        .env("WS_OBSERVE_SHUTDOWN_TIMEOUT", "5s");
    RunningChild::spawn(command, test, MARKER).finish(common::child::CHILD_LIMIT)
}

/// `ws_alerts_total{severity="critical",sink,result}` as the child printed it.
fn alerts(output: &ChildOutput, sink: &str, result: &str) -> f64 {
    let labels = [("severity", "critical"), ("sink", sink), ("result", result)];
    series(output, "ws_alerts_total", &labels)
}

fn series(output: &ChildOutput, name: &str, labels: &[(&str, &str)]) -> f64 {
    let prefix = format!("{MARKER} ");
    let text: String = output
        .stdout
        .lines()
        .filter_map(|line| line.strip_prefix(&prefix))
        .map(|line| format!("{line}\n"))
        .collect();
    common::sample(&text, name, labels)
        .unwrap_or_else(|| panic!("no {name} {labels:?} printed: {output}"))
}

const SINKS: [&str; 3] = ["webhook", "alertmanager", "sentry"];

/// Nothing reached the server, every handshake was refused, every delivery failed.
fn assert_refused(server: &TlsServer, output: &ChildOutput) {
    assert_eq!(server.requests(), Vec::<String>::new(), "{}", server.log());
    assert!(server.refused_handshakes() >= 4, "{}", server.log());
    for sink in SINKS {
        assert_eq!(alerts(output, sink, "sent"), 0.0, "{sink}: {output}");
        assert_eq!(alerts(output, sink, "failed"), 1.0, "{sink}: {output}");
    }
    assert_eq!(
        series(output, "ws_observe_spans_dropped_total", &[]),
        1.0,
        "the span could not be exported: {output}"
    );
}

#[test]
#[ignore = "needs python3 (as scripts/install-backends.sh does)"]
fn every_http_back_end_is_reached_over_tls_when_the_roots_trust_its_certificate() {
    let server = TlsServer::start("trusted", LOCALHOST_CERT);
    let output = run_child(&server, Some(&server.ca_file()));
    let mut requests = server.requests();
    requests.sort();
    assert_eq!(
        requests,
        [
            "POST /api/9/envelope/",
            "POST /api/v2/alerts",
            "POST /hook",
            "POST /v1/traces",
        ],
        "{}\n{output}",
        server.log()
    );
    assert_eq!(server.refused_handshakes(), 0, "{}", server.log());
    for sink in SINKS {
        assert_eq!(alerts(&output, sink, "sent"), 1.0, "{sink}: {output}");
    }
    assert_eq!(
        series(&output, "ws_observe_spans_dropped_total", &[]),
        0.0,
        "{output}"
    );
}

#[test]
#[ignore = "needs python3 (as scripts/install-backends.sh does)"]
fn a_certificate_the_roots_do_not_trust_is_refused_by_every_back_end() {
    let server = TlsServer::start("untrusted", LOCALHOST_CERT);
    // The system's roots: they hold no test CA.
    let output = run_child(&server, None);
    assert_refused(&server, &output);
}

#[test]
#[ignore = "needs python3 (as scripts/install-backends.sh does)"]
fn a_trusted_certificate_for_another_host_is_refused_by_every_back_end() {
    let server = TlsServer::start("other-host", OTHER_HOST_CERT);
    let output = run_child(&server, Some(&server.ca_file()));
    assert_refused(&server, &output);
}
