//! The WebSocket wrapper end to end: a real tokio-tungstenite client (or raw TCP, where the
//! peer has to misbehave) against a server task on `ws_observe::ws::accept`, with every `ws_*`
//! metric scraped over HTTP from `/metrics`.
//!
//! The `ws_*` metrics are process-wide and the tests of this file run in parallel: each test
//! holds `LOCK` for its whole scenario, waits for its server task to finish, and asserts the
//! exact difference between a scrape before and a scrape after.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Mutex, mpsc, oneshot};
use tokio::task::JoinHandle;
use ws_observe::tokio_tungstenite::tungstenite::Error;
use ws_observe::tokio_tungstenite::tungstenite::error::ProtocolError;
use ws_observe::tokio_tungstenite::tungstenite::protocol::CloseFrame;
use ws_observe::tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use ws_observe::tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};
use ws_observe::ws::{self, CloseReason, Message, ObservedStream};

/// Serialises the scenarios: the metrics they assert on are shared by the whole process.
static LOCK: Mutex<()> = Mutex::const_new(());

/// The bound on every wait (for a server task, for a metric).
const PATIENCE: Duration = Duration::from_secs(5);

type Client = WebSocketStream<MaybeTlsStream<TcpStream>>;
type Server = ObservedStream<TcpStream>;

/// One scrape of `/metrics`, read through the `ws_*` names.
struct Scrape(String);

impl Scrape {
    async fn take() -> Scrape {
        // The scrape is blocking HTTP; keep it off the test's single-threaded runtime.
        Scrape(
            tokio::task::spawn_blocking(common::scrape)
                .await
                .expect("scrape"),
        )
    }

    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        common::sample(&self.0, name, labels)
            .unwrap_or_else(|| panic!("no {name}{labels:?} in /metrics:\n{}", self.0))
    }

    fn messages(&self, direction: &str, kind: &str) -> f64 {
        self.value(
            "ws_messages_total",
            &[("direction", direction), ("kind", kind)],
        )
    }

    fn closed(&self, reason: &str) -> f64 {
        self.value("ws_connections_closed_total", &[("reason", reason)])
    }

    fn closed_any(&self) -> f64 {
        CloseReason::ALL
            .iter()
            .map(|r| self.closed(r.as_str()))
            .sum()
    }

    fn opened(&self) -> f64 {
        self.value("ws_connections_opened_total", &[])
    }

    fn active(&self) -> f64 {
        self.value("ws_connections_active", &[])
    }

    fn rtt_count(&self) -> f64 {
        self.value("ws_ping_rtt_seconds_count", &[])
    }

    fn handshake_failures(&self) -> f64 {
        self.value("ws_handshake_failures_total", &[])
    }

    /// Every message series of one direction.
    fn traffic(&self, direction: &str) -> Traffic {
        let labels = [("direction", direction)];
        Traffic {
            text: self.messages(direction, "text"),
            binary: self.messages(direction, "binary"),
            ping: self.messages(direction, "ping"),
            pong: self.messages(direction, "pong"),
            close: self.messages(direction, "close"),
            size_count: self.value("ws_message_size_bytes_count", &labels),
            size_sum: self.value("ws_message_size_bytes_sum", &labels),
        }
    }
}

/// The message counts of one direction by kind, and its size histogram's count and sum.
#[derive(Debug, Default, PartialEq)]
struct Traffic {
    text: f64,
    binary: f64,
    ping: f64,
    pong: f64,
    close: f64,
    size_count: f64,
    size_sum: f64,
}

impl Traffic {
    /// What `messages` add up to: one count per message, payload bytes in the sum.
    fn of(messages: &[Message]) -> Traffic {
        let mut traffic = Traffic::default();
        for message in messages {
            let (kind, size) = match message {
                Message::Text(text) => (&mut traffic.text, text.len()),
                Message::Binary(bytes) => (&mut traffic.binary, bytes.len()),
                Message::Ping(bytes) => (&mut traffic.ping, bytes.len()),
                Message::Pong(bytes) => (&mut traffic.pong, bytes.len()),
                Message::Close(frame) => (
                    &mut traffic.close,
                    frame.as_ref().map_or(0, |f| 2 + f.reason.len()),
                ),
                Message::Frame(_) => unreachable!("tests send no raw frames"),
            };
            *kind += 1.0;
            traffic.size_count += 1.0;
            traffic.size_sum += size as f64;
        }
        traffic
    }

    fn minus(&self, before: &Traffic) -> Traffic {
        Traffic {
            text: self.text - before.text,
            binary: self.binary - before.binary,
            ping: self.ping - before.ping,
            pong: self.pong - before.pong,
            close: self.close - before.close,
            size_count: self.size_count - before.size_count,
            size_sum: self.size_sum - before.size_sum,
        }
    }
}

/// Asserts the message deltas of both directions between two scrapes.
fn assert_traffic(before: &Scrape, after: &Scrape, received: &[Message], sent: &[Message]) {
    for (direction, messages) in [("received", received), ("sent", sent)] {
        assert_eq!(
            after.traffic(direction).minus(&before.traffic(direction)),
            Traffic::of(messages),
            "{direction} messages",
        );
    }
}

/// Asserts that, between two scrapes, exactly one connection opened and closed with `reason`.
fn assert_one_connection(before: &Scrape, after: &Scrape, reason: &str) {
    assert_eq!(after.opened() - before.opened(), 1.0, "opened");
    assert_eq!(
        after.closed(reason) - before.closed(reason),
        1.0,
        "closed as {reason}"
    );
    assert_eq!(
        after.closed_any() - before.closed_any(),
        1.0,
        "closed, all reasons"
    );
    assert_eq!(after.active(), before.active(), "active");
    assert_eq!(
        after.value("ws_connection_duration_seconds_count", &[])
            - before.value("ws_connection_duration_seconds_count", &[]),
        1.0,
        "duration count"
    );
}

/// Scrapes until `done` holds, every 20 ms, for at most `PATIENCE`.
async fn scrape_until(what: &str, done: impl Fn(&Scrape) -> bool) -> Scrape {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let scrape = Scrape::take().await;
        if done(&scrape) {
            return scrape;
        }
        assert!(
            Instant::now() < deadline,
            "waited {PATIENCE:?} for {what}:\n{}",
            scrape.0
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn listen() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().unwrap();
    (listener, addr)
}

async fn accept_one(listener: &TcpListener) -> Server {
    let (tcp, _) = listener.accept().await.expect("accept");
    ws::accept(tcp).await.expect("server handshake")
}

async fn connect(addr: SocketAddr) -> Client {
    connect_async(format!("ws://{addr}/"))
        .await
        .expect("client handshake")
        .0
}

/// Reads the server side until the stream ends.
async fn drain(server: &mut Server) -> Vec<Result<Message, Error>> {
    let mut seen = Vec::new();
    while let Some(message) = server.next().await {
        seen.push(message);
    }
    seen
}

/// Reads the client side until the stream ends; every read must succeed.
async fn drain_client(client: &mut Client) -> Vec<Message> {
    let mut seen = Vec::new();
    while let Some(message) = client.next().await {
        seen.push(message.expect("client read"));
    }
    seen
}

/// Waits for a task (within `PATIENCE`) and fails the test if it panicked.
async fn finish<T>(task: JoinHandle<T>) -> T {
    tokio::time::timeout(PATIENCE, task)
        .await
        .expect("task did not finish in time")
        .expect("task panicked")
}

/// The client side of the handshake, by hand over raw TCP; returns the socket right after the
/// `101` response (read byte by byte, so no frame after it is consumed).
async fn raw_upgrade(addr: SocketAddr) -> TcpStream {
    let mut tcp = TcpStream::connect(addr).await.expect("connect");
    let request = format!(
        "GET / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    while !response.ends_with(b"\r\n\r\n") {
        response.push(tcp.read_u8().await.expect("read the handshake response"));
    }
    let response = String::from_utf8(response).unwrap();
    assert!(
        response.starts_with("HTTP/1.1 101 "),
        "not upgraded:\n{response}"
    );
    // RFC 6455's example key, whose accept value the RFC gives (header names in any case).
    let accept = response.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("sec-websocket-accept")
            .then(|| value.trim())
    });
    assert_eq!(accept, Some("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), "{response}");
    tcp
}

fn close_frame(code: CloseCode, reason: &'static str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}

#[tokio::test]
async fn messages_each_way_are_counted_with_their_payload_sizes() {
    let _lock = LOCK.lock().await;
    let to_server = vec![
        Message::text("a"),
        Message::text("héllo wörld"), // 13 bytes, 11 characters: sizes are bytes
        Message::text("x".repeat(300)),
        Message::binary(Vec::new()),
        Message::binary(vec![7; 70_000]),
        Message::Ping(b"k1".to_vec().into()),
        Message::Ping(vec![9; 125].into()),
    ];
    let to_client = vec![
        Message::text("ok"),
        Message::text("ünïcödé"),
        Message::binary(vec![1; 17]),
        Message::binary(vec![2; 5000]),
        Message::binary(vec![3; 1]),
        Message::Ping(Vec::new().into()),
        Message::Ping(b"server ping".to_vec().into()),
    ];
    let (listener, addr) = listen().await;
    let before = Scrape::take().await;

    let (expected_in, replies) = (to_server.clone(), to_client.clone());
    let server = tokio::spawn(async move {
        let mut server = accept_one(&listener).await;
        let mut first = Vec::new();
        while first.len() < expected_in.len() {
            first.push(server.next().await.expect("a message").expect("read"));
        }
        for reply in replies {
            server.send(reply).await.expect("send");
        }
        let rest: Vec<Message> = drain(&mut server)
            .await
            .into_iter()
            .map(|m| m.expect("read"))
            .collect();
        (first, rest)
    });

    let mut client = connect(addr).await;
    for message in &to_server {
        client.send(message.clone()).await.expect("client send");
    }
    let mut from_server = Vec::new();
    let mut pongs = Vec::new();
    while from_server.len() < to_client.len() {
        match client
            .next()
            .await
            .expect("a message")
            .expect("client read")
        {
            Message::Pong(payload) => pongs.push(payload),
            other => from_server.push(other),
        }
    }
    assert_eq!(from_server, to_client);
    // The server's automatic pongs did go out on the wire (and must not count as sent).
    assert_eq!(
        pongs,
        [b"k1".to_vec(), vec![9; 125]],
        "automatic pongs of the server"
    );
    // tungstenite queues the pong to a ping until the next read or write, and puts it behind
    // a close frame being written, where the server never reads it: flush it first.
    client.flush().await.expect("flush the pongs");
    client.close(None).await.expect("client close");
    drain_client(&mut client).await;

    let (first, rest) = finish(server).await;
    assert_eq!(first, to_server);
    let server_pings = [Vec::new(), b"server ping".to_vec()];
    let mut expected_rest: Vec<Message> = server_pings
        .iter()
        .map(|p| Message::Pong(p.clone().into()))
        .collect();
    expected_rest.push(Message::Close(None));
    assert_eq!(rest, expected_rest);

    let after = Scrape::take().await;
    let received: Vec<Message> = to_server.into_iter().chain(expected_rest).collect();
    assert_traffic(&before, &after, &received, &to_client);
    // Spelled out, against a slip in `Traffic::of`: 1 + 13 + 300 + 0 + 70000 + 2 + 125 bytes
    // of the client, 0 + 11 bytes of pongs, 0 of the close frame; 2 + 11 + 17 + 5000 + 1 + 0
    // + 11 bytes sent.
    let sum = |s: &Scrape, d| s.value("ws_message_size_bytes_sum", &[("direction", d)]);
    assert_eq!(sum(&after, "received") - sum(&before, "received"), 70452.0);
    assert_eq!(sum(&after, "sent") - sum(&before, "sent"), 5042.0);
    assert_one_connection(&before, &after, "normal");
}

#[tokio::test]
async fn clean_close_counts_opened_active_and_closed_normal() {
    let _lock = LOCK.lock().await;
    for close in [Message::Close(None), close_frame(CloseCode::Normal, "")] {
        let (listener, addr) = listen().await;
        let before = Scrape::take().await;
        let (accepted_tx, accepted_rx) = oneshot::channel();
        let server = tokio::spawn(async move {
            let mut server = accept_one(&listener).await;
            accepted_tx.send(()).unwrap();
            drain(&mut server).await
        });
        let mut client = connect(addr).await;
        accepted_rx.await.unwrap();
        let open = Scrape::take().await;
        assert_eq!(open.opened() - before.opened(), 1.0, "opened");
        assert_eq!(open.active() - before.active(), 1.0, "active while open");
        assert_eq!(open.closed_any(), before.closed_any(), "closed while open");

        client.send(close.clone()).await.expect("send close");
        drain_client(&mut client).await;
        let seen = finish(server).await;
        assert!(
            matches!(seen.as_slice(), [Ok(m)] if *m == close),
            "{seen:?}"
        );

        let after = Scrape::take().await;
        assert_one_connection(&before, &after, "normal");
        assert_traffic(&before, &after, &[close], &[]);
    }
}

#[tokio::test]
async fn peer_vanishing_without_close_is_abnormal() {
    let _lock = LOCK.lock().await;
    let (listener, addr) = listen().await;
    let before = Scrape::take().await;
    let (accepted_tx, accepted_rx) = oneshot::channel();
    let server = tokio::spawn(async move {
        let mut server = accept_one(&listener).await;
        accepted_tx.send(()).unwrap();
        drain(&mut server).await
    });
    let client = connect(addr).await;
    accepted_rx.await.unwrap();
    drop(client); // the TCP connection goes, without a close frame

    let seen = finish(server).await;
    assert!(
        matches!(
            seen.as_slice(),
            [Err(Error::Protocol(
                ProtocolError::ResetWithoutClosingHandshake
            ))] | [Err(Error::Io(_))]
        ),
        "{seen:?}"
    );
    let after = Scrape::take().await;
    assert_one_connection(&before, &after, "abnormal");
    assert_traffic(&before, &after, &[], &[]);
}

#[tokio::test]
async fn malformed_frames_are_protocol_errors() {
    let _lock = LOCK.lock().await;
    let cases: [(&str, &[u8], ProtocolError); 2] = [
        // FIN, RSV1-3 set, text; masked, empty, mask 0.
        (
            "reserved bits",
            &[0xF1, 0x80, 0, 0, 0, 0],
            ProtocolError::NonZeroReservedBits,
        ),
        // FIN, text "hi", not masked: a client must mask (RFC 6455 §5.1).
        (
            "unmasked",
            &[0x81, 0x02, b'h', b'i'],
            ProtocolError::UnmaskedFrameFromClient,
        ),
    ];
    for (case, garbage, expected) in cases {
        let (listener, addr) = listen().await;
        let before = Scrape::take().await;
        let server = tokio::spawn(async move {
            let mut server = accept_one(&listener).await;
            drain(&mut server).await
        });
        let mut raw = raw_upgrade(addr).await;
        raw.write_all(garbage).await.unwrap();
        // `finish` fails the test if the server task panicked.
        let seen = finish(server).await;
        assert!(
            matches!(seen.as_slice(), [Err(Error::Protocol(e))] if *e == expected),
            "{case}: {seen:?}"
        );
        drop(raw);

        let after = Scrape::take().await;
        assert_one_connection(&before, &after, "protocol_error");
        assert_traffic(&before, &after, &[], &[]);
    }
}

#[tokio::test]
async fn silent_peer_times_out() {
    let _lock = LOCK.lock().await;
    let (before, after, mut raw) =
        silent_peer(|mut server| async move { drain(&mut server).await }).await;
    // Keepalive pings and the timeout's close frame are not messages of the sink.
    assert_traffic(&before, &after, &[], &[]);

    // What the silent peer was sent: a ping with an 8-byte payload, then a close frame with
    // 1001 (going away), then the end of the connection.
    let mut wire = Vec::new();
    raw.read_to_end(&mut wire)
        .await
        .expect("read what was sent");
    assert_eq!(wire[..2], [0x89, 8], "ping frame: {wire:?}");
    assert_eq!(wire[10], 0x88, "close frame: {wire:?}");
    assert_eq!(wire[12..14], 1001u16.to_be_bytes(), "close code: {wire:?}");
}

#[tokio::test]
async fn answering_peer_stays_open_and_round_trips_are_measured() {
    let _lock = LOCK.lock().await;
    let (listener, addr) = listen().await;
    let before = Scrape::take().await;
    let server = tokio::spawn(async move {
        let mut server = accept_one(&listener)
            .await
            .with_keepalive(Duration::from_millis(100), Duration::from_millis(200));
        drain(&mut server).await
    });
    let mut client = connect(addr).await;
    let (stop_tx, mut stop_rx) = oneshot::channel::<()>();
    // The client keeps reading (tungstenite answers each ping on the next read) until stopped.
    let client_task = tokio::spawn(async move {
        let mut pings = 0;
        loop {
            tokio::select! {
                message = client.next() => match message {
                    Some(Ok(Message::Ping(_))) => pings += 1,
                    other => panic!("client read {other:?} while the server should ping"),
                },
                _ = &mut stop_rx => break,
            }
        }
        client.close(None).await.expect("client close");
        drain_client(&mut client).await;
        pings
    });

    // The scenario: a peer that answers for half a second, five keepalive intervals.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let open = scrape_until("two ping round trips", |s| {
        s.rtt_count() - before.rtt_count() >= 2.0
    })
    .await;
    assert!(!server.is_finished(), "the server ended an answering peer");
    assert_eq!(open.closed_any(), before.closed_any(), "closed while open");
    assert_eq!(open.active() - before.active(), 1.0, "active while open");

    stop_tx.send(()).unwrap();
    let pings = finish(client_task).await;
    let seen = finish(server).await;
    assert!(
        matches!(seen.last(), Some(Ok(Message::Close(None)))),
        "{seen:?}"
    );
    let after = Scrape::take().await;
    assert_one_connection(&before, &after, "normal");
    let rtts = after.rtt_count() - before.rtt_count();
    assert!(rtts >= 2.0, "{rtts} round trips");
    assert!(
        f64::from(pings) >= rtts,
        "{pings} pings, {rtts} round trips"
    );
    // Every pong the server read answered its ping, and keepalive pings are not sent messages.
    let (received, sent) = (
        after.traffic("received").minus(&before.traffic("received")),
        after.traffic("sent").minus(&before.traffic("sent")),
    );
    assert_eq!(received.pong, rtts, "{received:?}");
    assert_eq!(received.close, 1.0, "{received:?}");
    assert_eq!(sent, Traffic::default(), "sent");
}

#[tokio::test]
async fn failed_handshake_is_not_a_connection() {
    let _lock = LOCK.lock().await;
    let (listener, addr) = listen().await;
    let before = Scrape::take().await;
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.expect("accept");
        ws::accept(tcp).await.err().map(|e| e.to_string())
    });
    let mut raw = TcpStream::connect(addr).await.unwrap();
    raw.write_all(format!("GET / HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let error = finish(server).await;
    assert!(error.is_some(), "a plain GET was upgraded");
    drop(raw);

    let after = Scrape::take().await;
    assert_eq!(
        after.handshake_failures() - before.handshake_failures(),
        1.0,
        "handshake failures"
    );
    assert_eq!(after.opened(), before.opened(), "opened");
    assert_eq!(after.closed_any(), before.closed_any(), "closed");
    assert_eq!(after.active(), before.active(), "active");
}

#[tokio::test]
async fn dropping_the_stream_counts_one_abnormal_close() {
    let _lock = LOCK.lock().await;
    let (listener, addr) = listen().await;
    let before = Scrape::take().await;
    let server = tokio::spawn(async move {
        let server = accept_one(&listener).await;
        drop(server); // no close frame, no read to the end
    });
    let mut client = connect(addr).await;
    finish(server).await;

    let dropped = Scrape::take().await;
    assert_one_connection(&before, &dropped, "abnormal");
    // The client now sees the connection end; nothing is counted again.
    let end = client.next().await;
    assert!(
        !matches!(end, Some(Ok(Message::Text(_) | Message::Binary(_)))),
        "{end:?}"
    );
    drop(client);
    let after = Scrape::take().await;
    assert_one_connection(&before, &after, "abnormal");
    assert_traffic(&before, &after, &[], &[]);
}

#[tokio::test]
async fn close_codes_name_the_reason() {
    let _lock = LOCK.lock().await;

    // The client closes with a private code.
    let (listener, addr) = listen().await;
    let before = Scrape::take().await;
    let server = tokio::spawn(async move {
        let mut server = accept_one(&listener).await;
        drain(&mut server).await
    });
    let mut client = connect(addr).await;
    let bye = close_frame(CloseCode::Library(4001), "bye");
    client.send(bye.clone()).await.expect("send close");
    drain_client(&mut client).await;
    let seen = finish(server).await;
    assert!(matches!(seen.as_slice(), [Ok(m)] if *m == bye), "{seen:?}");
    let after = Scrape::take().await;
    assert_one_connection(&before, &after, "application");
    // The close frame's payload: 2 bytes of code and "bye".
    assert_traffic(&before, &after, &[bye], &[]);

    // The server closes for a policy violation.
    let (listener, addr) = listen().await;
    let before = Scrape::take().await;
    let policy = close_frame(CloseCode::Policy, "no");
    let sent = policy.clone();
    let server = tokio::spawn(async move {
        let mut server = accept_one(&listener).await;
        server.send(sent).await.expect("send close");
        drain(&mut server).await
    });
    let mut client = connect(addr).await;
    let client_seen = drain_client(&mut client).await;
    assert_eq!(client_seen, std::slice::from_ref(&policy));
    let seen = finish(server).await;
    // tungstenite echoes the close frame it received.
    assert!(
        matches!(seen.as_slice(), [Ok(m)] if *m == policy),
        "{seen:?}"
    );
    let after = Scrape::take().await;
    assert_one_connection(&before, &after, "policy");
    assert_traffic(
        &before,
        &after,
        std::slice::from_ref(&policy),
        std::slice::from_ref(&policy),
    );
}

#[tokio::test]
async fn split_halves_count_from_their_own_tasks() {
    let _lock = LOCK.lock().await;
    let words = ["one", "two", "three", "quatre-vingt-dix-neuf"];
    let (listener, addr) = listen().await;
    let before = Scrape::take().await;
    let server = tokio::spawn(async move {
        let (mut sink, mut stream) = accept_one(&listener).await.split();
        let (tx, mut rx) = mpsc::channel::<String>(8);
        let reader = tokio::spawn(async move {
            let mut others = Vec::new();
            while let Some(message) = stream.next().await {
                match message.expect("read") {
                    Message::Text(text) => tx.send(text.to_string()).await.unwrap(),
                    other => others.push(other),
                }
            }
            others
        });
        let writer = tokio::spawn(async move {
            while let Some(text) = rx.recv().await {
                sink.send(Message::text(format!("echo: {text}")))
                    .await
                    .expect("send");
            }
        });
        let others = reader.await.expect("reader panicked");
        writer.await.expect("writer panicked");
        others
    });

    let mut client = connect(addr).await;
    for word in words {
        client.send(Message::text(word)).await.expect("send");
    }
    let mut echoes = Vec::new();
    while echoes.len() < words.len() {
        echoes.push(client.next().await.expect("an echo").expect("read"));
    }
    let expected: Vec<Message> = words
        .iter()
        .map(|w| Message::text(format!("echo: {w}")))
        .collect();
    assert_eq!(echoes, expected);
    client.close(None).await.expect("close");
    drain_client(&mut client).await;
    let others = finish(server).await;
    assert_eq!(others, [Message::Close(None)]);

    let after = Scrape::take().await;
    let mut received: Vec<Message> = words.iter().map(|w| Message::text(*w)).collect();
    received.push(Message::Close(None));
    assert_traffic(&before, &after, &received, &expected);
    assert_one_connection(&before, &after, "normal");
}

/// A server with keepalive (a ping after 100 ms, given up 200 ms later) whose peer completes
/// the handshake and then never reads, its stream read by `read`: the connection must end,
/// counted as a `timeout`, no sooner than 300 ms after the handshake, with nothing received.
/// Returns the scrapes around it and the peer's side of the socket.
async fn silent_peer<F, R>(read: F) -> (Scrape, Scrape, TcpStream)
where
    F: FnOnce(Server) -> R + Send + 'static,
    R: std::future::Future<Output = Vec<Result<Message, Error>>> + Send,
{
    let (listener, addr) = listen().await;
    let before = Scrape::take().await;
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.expect("accept");
        let server = ws::accept(tcp).await.expect("server handshake");
        let start = Instant::now();
        let server = server.with_keepalive(Duration::from_millis(100), Duration::from_millis(200));
        let seen = read(server).await;
        (start.elapsed(), seen)
    });
    let raw = raw_upgrade(addr).await;
    let (lasted, seen) = finish(server).await;
    assert!(seen.is_empty(), "{seen:?}");
    assert!(
        lasted >= Duration::from_millis(300),
        "ended after {lasted:?}"
    );
    let after = Scrape::take().await;
    assert_one_connection(&before, &after, "timeout");
    (before, after, raw)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_peer_times_out_when_another_task_reads_after_the_first() {
    // The keepalive timer is armed with the waker of the task that first reads; the stream is
    // then read by another task, which the armed timer does not wake: it must be re-armed for
    // the new reader.
    let _lock = LOCK.lock().await;
    silent_peer(|mut server| async move {
        let first = tokio::time::timeout(Duration::from_millis(20), server.next()).await;
        assert!(first.is_err(), "the peer sends nothing: {first:?}");
        tokio::spawn(async move { drain(&mut server).await })
            .await
            .expect("second reader")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_peer_times_out_on_split_halves_busy_writing() {
    // The write half sends all along (polling the sink); only the read half drives the timers.
    let _lock = LOCK.lock().await;
    silent_peer(|server| async move {
        let (mut sink, mut stream) = server.split();
        let writer = tokio::spawn(async move {
            for n in 0..40 {
                if sink.send(Message::text(n.to_string())).await.is_err() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(15)).await;
            }
        });
        let mut seen = Vec::new();
        while let Some(message) = stream.next().await {
            seen.push(message);
        }
        writer.abort();
        seen
    })
    .await;
}
