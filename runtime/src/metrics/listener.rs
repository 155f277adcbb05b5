//! The `/metrics` and `/healthz` HTTP listener.
//!
//! A deliberately small HTTP/1.1 server on plain `std` threads: it must work from a synchronous
//! `main` and under any tokio flavour (a current-thread runtime busy in a handler must not
//! starve the scrape), and it serves two fixed paths, so a full HTTP stack would only add
//! dependencies. Each connection answers one request and closes.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use super::Exposition;
use crate::error::ServeError;

/// Requests larger than this (request line + headers) are refused: nothing legitimate is.
const MAX_REQUEST_BYTES: u64 = 16 * 1024;
/// A client that sends nothing for this long is dropped (slow-loris protection).
const IO_TIMEOUT: Duration = Duration::from_secs(5);
/// Connections served at once; more are answered 503 at once rather than queued.
const MAX_CONCURRENT: usize = 16;

/// A running `/metrics` listener, serving the [`Exposition`] it was handed (`init()` hands it
/// [`registry()`](crate::registry) and the `prometheus` crate's default registry). Stops when
/// dropped.
///
/// ```
/// use ws_observe_runtime::metrics::{Exposition, MetricsServer};
/// let served = Exposition::new([ws_observe_runtime::registry().clone()]);
/// let server = MetricsServer::bind("127.0.0.1:0".parse().unwrap(), None, served).unwrap();
/// let addr = server.local_addr(); // the port the OS chose
/// # let _ = addr;
/// ```
pub struct MetricsServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

struct Shared {
    token: Option<String>,
    exposition: Exposition,
    stopping: AtomicBool,
    active: AtomicUsize,
}

impl MetricsServer {
    /// Binds `addr` now (so "address in use" is an error here, not later) and serves on a
    /// thread of its own. With `token`, `/metrics` requires `Authorization: Bearer <token>`;
    /// `/healthz` never does (orchestrators probe it).
    pub fn bind(
        addr: SocketAddr,
        token: Option<String>,
        exposition: Exposition,
    ) -> Result<Self, ServeError> {
        let listener =
            TcpListener::bind(addr).map_err(|source| ServeError::Bind { addr, source })?;
        let local = listener
            .local_addr()
            .map_err(|source| ServeError::Bind { addr, source })?;
        let shared = Arc::new(Shared {
            token,
            exposition,
            stopping: AtomicBool::new(false),
            active: AtomicUsize::new(0),
        });
        let thread = std::thread::Builder::new()
            .name("ws-observe-metrics".into())
            .spawn({
                let shared = Arc::clone(&shared);
                move || accept_loop(listener, shared)
            })
            .map_err(ServeError::Thread)?;
        Ok(MetricsServer {
            addr: local,
            shared,
            thread: Some(thread),
        })
    }

    /// The address actually bound (the real port when `:0` was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        // Wake the blocking accept() with a connection of our own; if that fails the thread
        // is left to die with the process rather than blocking the drop.
        let wake = match self.addr {
            SocketAddr::V4(a) if a.ip().is_unspecified() => {
                SocketAddr::from(([127, 0, 0, 1], a.port()))
            }
            SocketAddr::V6(a) if a.ip().is_unspecified() => {
                SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, a.port()))
            }
            other => other,
        };
        if TcpStream::connect_timeout(&wake, Duration::from_millis(500)).is_ok()
            && let Some(thread) = self.thread.take()
        {
            let _ = thread.join();
        }
    }
}

impl std::fmt::Debug for MetricsServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.stopping.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        if shared.active.fetch_add(1, Ordering::SeqCst) >= MAX_CONCURRENT {
            shared.active.fetch_sub(1, Ordering::SeqCst);
            let _ = respond(
                &stream,
                503,
                "text/plain",
                "too many concurrent scrapes\n",
                &[],
            );
            continue;
        }
        let shared_for_conn = Arc::clone(&shared);
        let spawned = std::thread::Builder::new()
            .name("ws-observe-metrics-conn".into())
            .spawn(move || {
                let _ = serve_one(&stream, &shared_for_conn);
                let _ = stream.shutdown(Shutdown::Both);
                shared_for_conn.active.fetch_sub(1, Ordering::SeqCst);
            });
        if spawned.is_err() {
            shared.active.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

struct Request {
    method: String,
    path: String,
    authorization: Option<String>,
}

fn read_request(stream: &TcpStream) -> io::Result<Option<Request>> {
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    let mut reader = BufReader::new(stream.take(MAX_REQUEST_BYTES));
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 || !line.ends_with('\n') {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return Ok(None);
    };
    let path = target.split('?').next().unwrap_or(target).to_owned();
    let method = method.to_owned();
    let mut authorization = None;
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 || !line.ends_with('\n') {
            return Ok(None); // truncated or too large
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.trim().eq_ignore_ascii_case("authorization")
        {
            authorization = Some(value.trim().to_owned());
        }
    }
    Ok(Some(Request {
        method,
        path,
        authorization,
    }))
}

fn serve_one(stream: &TcpStream, shared: &Shared) -> io::Result<()> {
    let Some(request) = read_request(stream)? else {
        return respond(stream, 400, "text/plain", "bad request\n", &[]);
    };
    if request.method != "GET" && request.method != "HEAD" {
        return respond(
            stream,
            405,
            "text/plain",
            "method not allowed\n",
            &[("Allow", "GET, HEAD")],
        );
    }
    let head_only = request.method == "HEAD";
    let body_of = |body: String| if head_only { String::new() } else { body };
    match request.path.as_str() {
        "/healthz" => respond(stream, 200, "text/plain", &body_of("ok\n".into()), &[]),
        "/metrics" => {
            if !authorized(shared.token.as_deref(), request.authorization.as_deref()) {
                return respond(
                    stream,
                    401,
                    "text/plain",
                    "unauthorized: send Authorization: Bearer <WS_OBSERVE_METRICS_TOKEN>\n",
                    &[("WWW-Authenticate", "Bearer realm=\"metrics\"")],
                );
            }
            let body = shared.exposition.render();
            respond(stream, 200, prometheus::TEXT_FORMAT, &body_of(body), &[])
        }
        _ => respond(
            stream,
            404,
            "text/plain",
            "not found: try /metrics or /healthz\n",
            &[],
        ),
    }
}

fn authorized(expected: Option<&str>, header: Option<&str>) -> bool {
    let Some(expected) = expected else {
        return true;
    };
    let Some(given) = header.and_then(|h| {
        let (scheme, token) = h.split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
    }) else {
        return false;
    };
    // Constant time in the token's content, so response timing does not leak a prefix.
    given.len() == expected.len()
        && given
            .bytes()
            .zip(expected.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

fn respond(
    mut stream: &TcpStream,
    status: u16,
    content_type: &str,
    body: &str,
    extra_headers: &[(&str, &str)],
) -> io::Result<()> {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Service Unavailable",
    };
    let mut head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in extra_headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body.as_bytes())?;
    stream.flush()
}

#[cfg(test)]
mod tests {
    use super::authorized;

    #[test]
    fn bearer_token_must_match_exactly() {
        assert!(authorized(None, None));
        assert!(authorized(Some("s3cret"), Some("Bearer s3cret")));
        assert!(authorized(Some("s3cret"), Some("bearer s3cret")));
        assert!(!authorized(Some("s3cret"), None));
        assert!(!authorized(Some("s3cret"), Some("Bearer s3cre")));
        assert!(!authorized(Some("s3cret"), Some("Basic s3cret")));
        assert!(!authorized(Some("s3cret"), Some("s3cret")));
    }
}
