//! The `/metrics` listener over real HTTP on loopback.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};

use ws_observe_runtime::metrics::{MetricsServer, ServeError};

fn get(addr: SocketAddr, request: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response[9..12].parse().unwrap();
    (
        status,
        response.split_once("\r\n\r\n").unwrap().1.to_owned(),
    )
}

fn server(token: Option<&str>) -> MetricsServer {
    MetricsServer::bind(
        "127.0.0.1:0".parse().unwrap(),
        token.map(str::to_owned),
        ws_observe_runtime::exposition(),
    )
    .unwrap()
}

#[test]
fn serves_metrics_in_text_format_with_process_and_build_info() {
    let server = server(None);
    let (status, body) = get(
        server.local_addr(),
        "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    assert_eq!(status, 200);
    assert!(
        body.contains(&format!(
            "ws_observe_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        )),
        "{body}"
    );
    assert!(body.contains("# TYPE ws_observe_build_info gauge"));
    assert!(body.contains("process_resident_memory_bytes"), "{body}");
    assert!(body.contains("ws_observe_spans_dropped_total 0"));
    assert!(body.contains("ws_observe_log_lines_dropped_total 0"));
}

#[test]
fn token_guards_metrics_but_not_healthz() {
    let server = server(Some("s3cret"));
    let addr = server.local_addr();
    let (status, _) = get(addr, "GET /metrics HTTP/1.1\r\n\r\n");
    assert_eq!(status, 401);
    let (status, _) = get(
        addr,
        "GET /metrics HTTP/1.1\r\nAuthorization: Bearer wrong\r\n\r\n",
    );
    assert_eq!(status, 401);
    let (status, body) = get(
        addr,
        "GET /metrics HTTP/1.1\r\nAuthorization: Bearer s3cret\r\n\r\n",
    );
    assert_eq!(status, 200);
    assert!(body.contains("ws_observe_build_info"));
    let (status, body) = get(addr, "GET /healthz HTTP/1.1\r\n\r\n");
    assert_eq!((status, body.as_str()), (200, "ok\n"));
}

#[test]
fn unknown_paths_methods_and_garbage_are_refused() {
    let server = server(None);
    let addr = server.local_addr();
    assert_eq!(get(addr, "GET /nope HTTP/1.1\r\n\r\n").0, 404);
    assert_eq!(get(addr, "POST /metrics HTTP/1.1\r\n\r\n").0, 405);
    assert_eq!(get(addr, "\r\n\r\n").0, 400);
    let huge = format!("GET /metrics HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(20_000));
    let mut stream = TcpStream::connect(addr).unwrap();
    let _ = stream.write_all(huge.as_bytes());
    let mut response = String::new();
    // The server answers 400 and closes with the rest unread, so the kernel may reset the
    // connection before the answer is read: either is fine, serving on is what matters.
    if stream.read_to_string(&mut response).is_ok() && !response.is_empty() {
        assert!(response.starts_with("HTTP/1.1 400"), "{response:.40}");
    }
    // Still serving after all that.
    assert_eq!(get(addr, "GET /healthz HTTP/1.1\r\n\r\n").0, 200);
}

#[test]
fn address_in_use_is_an_error_naming_the_address() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let error = MetricsServer::bind(addr, None, ws_observe_runtime::exposition()).unwrap_err();
    assert!(matches!(error, ServeError::Bind { .. }));
    assert!(error.to_string().contains(&addr.to_string()), "{error}");
}

#[test]
fn dropping_the_server_frees_the_port() {
    let server = server(None);
    let addr = server.local_addr();
    drop(server);
    let rebound = TcpListener::bind(addr);
    assert!(rebound.is_ok(), "{rebound:?}");
}
