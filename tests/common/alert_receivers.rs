//! What the alerting tests deliver to, all on 127.0.0.1: a real Alertmanager process (Debian's
//! `prometheus-alertmanager`, installed by `scripts/install-backends.sh`) killed by its own PID
//! when dropped, and a webhook receiver that keeps every request and answers 200.
//!
//! Both are driven with plain `std` HTTP: the facade has no HTTP client among its
//! dev-dependencies, and these few requests do not need one.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

/// One request a [`WebhookReceiver`] got.
#[derive(Clone, Debug)]
pub struct WebhookRequest {
    pub method: String,
    pub path: String,
    /// Header names lowercased.
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

impl WebhookRequest {
    /// The body as JSON; panics if it is not.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("webhook body is not JSON ({e}): {}", self.body))
    }
}

/// A Slack-style incoming webhook: keeps every request (several per keep-alive connection)
/// and answers `200 ok` to each.
pub struct WebhookReceiver {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<WebhookRequest>>>,
}

impl WebhookReceiver {
    pub fn start() -> WebhookReceiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the webhook receiver");
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let store = Arc::clone(&requests);
        std::thread::Builder::new()
            .name("alert-webhook-receiver".into())
            .spawn(move || {
                for stream in listener.incoming().flatten() {
                    let store = Arc::clone(&store);
                    std::thread::spawn(move || {
                        let _ = serve_connection(stream, &store);
                    });
                }
            })
            .unwrap();
        WebhookReceiver { addr, requests }
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn requests(&self) -> Vec<WebhookRequest> {
        self.requests.lock().unwrap().clone()
    }
}

fn serve_connection(stream: TcpStream, store: &Mutex<Vec<WebhookRequest>>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line)? == 0 {
            return Ok(());
        }
        let mut parts = request_line.split_whitespace();
        let method = parts.next().unwrap_or_default().to_owned();
        let path = parts.next().unwrap_or_default().to_owned();
        let mut headers = BTreeMap::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line)?;
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
            }
        }
        let length = headers
            .get("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        store.lock().unwrap().push(WebhookRequest {
            method,
            path,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        });
        writer.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")?;
        writer.flush()?;
    }
}

/// A real Alertmanager on a free loopback port with one `null` receiver, no clustering, its
/// own storage directory; killed by its PID when dropped.
pub struct Alertmanager {
    child: Child,
    dir: PathBuf,
    addr: SocketAddr,
}

impl Alertmanager {
    /// Starts it and waits until `GET /-/ready` answers 200.
    pub fn start() -> Alertmanager {
        static INSTANCE: AtomicUsize = AtomicUsize::new(0);
        let binary =
            std::env::var("ALERTMANAGER").unwrap_or_else(|_| "prometheus-alertmanager".into());
        let dir = std::env::temp_dir().join(format!(
            "ws-observe-alertmanager-{}-{}",
            std::process::id(),
            INSTANCE.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(dir.join("data")).unwrap();
        let config = dir.join("alertmanager.yml");
        std::fs::write(
            &config,
            "route:\n  receiver: \"null\"\n  group_wait: 1s\nreceivers:\n  - name: \"null\"\n",
        )
        .unwrap();
        let log = dir.join("alertmanager.log");
        let addr: SocketAddr = format!("127.0.0.1:{}", super::free_port()).parse().unwrap();
        let child = Command::new(&binary)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.path={}", dir.join("data").display()))
            .arg(format!("--web.listen-address={addr}"))
            // Empty: no gossip port, a single instance.
            .arg("--cluster.listen-address=")
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(std::fs::File::options().append(true).open(&log).unwrap())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start `{binary}` ({e}): run scripts/install-backends.sh, which \
                     installs Debian's `prometheus-alertmanager`"
                )
            });
        let mut alertmanager = Alertmanager { child, dir, addr };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok((200, _)) = http(addr, "GET", "/-/ready", None) {
                return alertmanager;
            }
            if let Some(status) = alertmanager.child.try_wait().unwrap() {
                panic!("alertmanager exited ({status}):\n{}", alertmanager.log());
            }
            assert!(
                Instant::now() < deadline,
                "alertmanager not ready on {addr}:\n{}",
                alertmanager.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `GET /api/v2/alerts{query}` (`query` empty or `?active=true`...).
    pub fn alerts(&self, query: &str) -> Vec<Value> {
        let path = format!("/api/v2/alerts{query}");
        let (status, body) = http(self.addr, "GET", &path, None)
            .unwrap_or_else(|e| panic!("GET {path}: {e}\n{}", self.log()));
        assert_eq!(status, 200, "GET {path}: {body}");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path} is not JSON ({e}): {body}"))
    }

    /// Its own log (kept in the storage directory).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("alertmanager.log")).unwrap_or_default()
    }
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        // `Child::kill` signals this very PID, never a process found by name.
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Kept when the test failed: the log is the evidence.
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// One HTTP/1.1 request with `Connection: close`; returns (status, body), a chunked body
/// decoded.
pub fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let body = body.unwrap_or("");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes())?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let response = String::from_utf8_lossy(&response).into_owned();
    let (head, payload) = response
        .split_once("\r\n\r\n")
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, "no end of headers"))?;
    let status = head
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, "no status"))?;
    let chunked = head
        .lines()
        .any(|l| l.eq_ignore_ascii_case("transfer-encoding: chunked"));
    let payload = if chunked {
        dechunk(payload)
    } else {
        payload.to_owned()
    };
    Ok((status, payload))
}

fn dechunk(mut text: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = text.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        text = rest[size..].trim_start_matches("\r\n");
    }
    out
}

/// Parses the RFC 3339 UTC times Alertmanager writes (`2026-11-25T13:34:59.123Z`).
pub fn parse_rfc3339(text: &str) -> SystemTime {
    let fail = || -> ! { panic!("not an RFC 3339 UTC time: {text}") };
    let number = |s: &str| -> i64 { s.parse().unwrap_or_else(|_| fail()) };
    let body = text.strip_suffix('Z').unwrap_or_else(|| fail());
    let (date, time) = body.split_once('T').unwrap_or_else(|| fail());
    let (clock, fraction) = time.split_once('.').unwrap_or((time, "0"));
    let date: Vec<i64> = date.split('-').map(number).collect();
    let clock: Vec<i64> = clock.split(':').map(number).collect();
    let (&[year, month, day], &[hour, minute, second]) = (&date[..], &clock[..]) else {
        fail()
    };
    let nanos = number(&format!("{fraction:0<9}")[..9]);
    // Howard Hinnant's `days_from_civil`.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second;
    UNIX_EPOCH
        + Duration::new(
            u64::try_from(seconds).unwrap_or_else(|_| fail()),
            u32::try_from(nanos).unwrap_or_else(|_| fail()),
        )
}
