//! End-to-end echo throughput: a plain tokio-tungstenite echo server next to the same server
//! fully instrumented by ws-observe, measured in one run.
//!
//! - `bare`: `tokio_tungstenite::accept_async`, each message handled by a plain `async fn`
//!   that returns the echo; no subscriber on the server threads.
//! - `instrumented`: `ws_observe::ws::accept` (connection and message metrics, connection
//!   span) with keepalive as in `examples/echo_server.rs`, each message handled by a
//!   `#[ws_handler]` `async fn` taking the `Message` (its span gets the message kind and size)
//!   that calls a `#[ws_observe]` sync helper at `debug`, all inside the connection's span,
//!   with what `runtime::init()` installs, through `init()` itself (the `RUST_LOG` filter at
//!   `info`, ws-observe's JSON subscriber and its non-blocking writer, here into
//!   `io::sink()`). No log line per message: the spans are what costs.
//! - `instrumented_handler_spans_filtered`: the same with the handlers' spans at `debug`,
//!   below the filter: what the spans cost, by difference.
//!
//! Load: 4 client connections, each pipelining 64-byte binary messages with at most 64
//! unanswered, 2 000 messages per connection per iteration (8 000 echoes an iteration, the
//! criterion "element"). The server runtime has one worker by default
//! (`WS_BENCH_SERVER_WORKERS=2` for two); the clients run on a current-thread runtime on the
//! bench's main thread. Only the server differs between the variants.
//!
//! ```text
//! cargo bench --bench ws_throughput
//! ```
//!
//! Two measurements, in this order:
//!
//! 1. Criterion's, one variant after the other: each variant's `thrpt` (messages per second),
//!    with a summary of the medians and the CPU time the server and client threads spent per
//!    message (Linux `/proc`, indicative only).
//! 2. The paired phase, which gives the ratios: `PAIRED_ROUNDS` rounds, each running every
//!    variant for one iteration back to back in a rotating order, so each round's ratio is
//!    measured under the same load of the shared machine (which drifts by more than the
//!    difference being measured over the seconds between criterion's variants). It prints
//!    each variant's median msgs/s and the median and quartiles of the per-round ratios
//!    `throughput(variant) / throughput(bare)`.
//!
//! With one server worker the server is the bottleneck, so the ratio is close to the ratio of
//! server time per message: the strict measure. With two, the server workers and the client
//! share the two cores, and the client's own cost dilutes the difference.
//!
//! For a measure that does not depend on the machine's load, `scripts/echo-instructions.sh`
//! runs one variant at a time under valgrind (`WS_BENCH_ONLY=<variant>` makes this bench serve
//! `WS_BENCH_ECHOES` echoes of that variant and exit) and prints the instructions the server
//! thread executes per echo.
//!
//! How it measures is in `benches/support/`: `cpu` (the `/proc` CPU time), `paired` (the
//! paired phase's rounds and report), `valgrind` (the `WS_BENCH_ONLY` mode).

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Runtime;
use tokio::sync::Semaphore;
use tokio_tungstenite::WebSocketStream;
use tracing::Instrument;
use ws_observe::ws::Message;
use ws_observe::{ws_handler, ws_observe};

use support::{cpu, paired, valgrind};

const CONNECTIONS: usize = 4;
const MESSAGES_PER_CONNECTION: u64 = 2_000;
/// Unanswered messages allowed per connection.
const WINDOW: usize = 64;
const PAYLOAD_BYTES: usize = 64;
const SAMPLE_SIZE: usize = 20;
/// Server runtime worker threads (`WS_BENCH_SERVER_WORKERS` overrides).
const SERVER_WORKERS: usize = 1;

fn server_workers() -> usize {
    std::env::var("WS_BENCH_SERVER_WORKERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(SERVER_WORKERS)
}
/// Echoes per criterion iteration.
const MESSAGES: u64 = CONNECTIONS as u64 * MESSAGES_PER_CONNECTION;
/// Largest frame the handlers accept.
const MAX_FRAME: usize = 64 * 1024;

#[derive(Debug)]
struct EchoError;

impl std::fmt::Display for EchoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("frame too large")
    }
}

impl std::error::Error for EchoError {}

// ---- The handlers: the same work, with and without the attributes. ----

#[inline(never)]
fn check_frame(payload: &[u8]) -> Result<usize, EchoError> {
    if payload.len() > MAX_FRAME {
        Err(EchoError)
    } else {
        Ok(payload.len())
    }
}

#[inline(never)]
#[ws_observe(name = "check_frame", level = "debug")]
fn observed_check_frame(payload: &[u8]) -> Result<usize, EchoError> {
    check_frame(payload)
}

#[inline(never)]
async fn bare_on_message(message: Message) -> Result<Option<Message>, EchoError> {
    match message {
        Message::Binary(bytes) => {
            check_frame(&bytes)?;
            Ok(Some(Message::Binary(bytes)))
        }
        Message::Text(text) => {
            check_frame(text.as_bytes())?;
            Ok(Some(Message::Text(text)))
        }
        _ => Ok(None),
    }
}

#[inline(never)]
#[ws_handler(name = "on_message")]
async fn observed_on_message(message: Message) -> Result<Option<Message>, EchoError> {
    match message {
        Message::Binary(bytes) => {
            observed_check_frame(&bytes)?;
            Ok(Some(Message::Binary(bytes)))
        }
        Message::Text(text) => {
            observed_check_frame(text.as_bytes())?;
            Ok(Some(Message::Text(text)))
        }
        _ => Ok(None),
    }
}

#[inline(never)]
#[ws_observe(name = "check_frame_quiet", level = "debug")]
fn quiet_check_frame(payload: &[u8]) -> Result<usize, EchoError> {
    check_frame(payload)
}

#[inline(never)]
#[ws_handler(name = "on_message_quiet", level = "debug")]
async fn quiet_on_message(message: Message) -> Result<Option<Message>, EchoError> {
    match message {
        Message::Binary(bytes) => {
            quiet_check_frame(&bytes)?;
            Ok(Some(Message::Binary(bytes)))
        }
        Message::Text(text) => {
            quiet_check_frame(text.as_bytes())?;
            Ok(Some(Message::Text(text)))
        }
        _ => Ok(None),
    }
}

// ---- The servers. ----

async fn serve_bare(tcp: TcpStream) {
    let Ok(mut websocket) = tokio_tungstenite::accept_async(tcp).await else {
        return;
    };
    while let Some(Ok(message)) = websocket.next().await {
        if message.is_close() {
            break;
        }
        let reply = match bare_on_message(message).await {
            Ok(Some(reply)) => reply,
            Ok(None) => continue,
            Err(error) => Message::text(format!("error: {error}")),
        };
        if websocket.send(reply).await.is_err() {
            break;
        }
    }
}

/// The instrumented server, with `handle` as the per-message handler.
async fn serve_instrumented<F, Fut>(tcp: TcpStream, handle: F)
where
    F: Fn(Message) -> Fut,
    Fut: std::future::Future<Output = Result<Option<Message>, EchoError>>,
{
    let Ok(websocket) = ws_observe::ws::accept(tcp).await else {
        return;
    };
    let mut websocket = websocket.with_keepalive(Duration::from_secs(20), Duration::from_secs(10));
    // The whole connection loop runs inside the connection span (entered once per poll, not
    // once per message), so the handler spans opened in it are its children.
    let connection = websocket.span().clone();
    async move {
        while let Some(Ok(message)) = websocket.next().await {
            if message.is_close() {
                break;
            }
            let reply = match handle(message).await {
                Ok(Some(reply)) => reply,
                Ok(None) => continue,
                Err(error) => Message::text(format!("error: {error}")),
            };
            if websocket.send(reply).await.is_err() {
                break;
            }
        }
    }
    .instrument(connection)
    .await
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Variant {
    Bare,
    Instrumented,
    /// The same, with the handlers' spans at `debug`, below the subscriber's `info`: metrics,
    /// wrapper, connection span and JSON layer, no span per message.
    HandlerSpansFiltered,
}

impl Variant {
    fn name(self) -> &'static str {
        match self {
            Variant::Bare => "bare",
            Variant::Instrumented => "instrumented",
            Variant::HandlerSpansFiltered => "instrumented_handler_spans_filtered",
        }
    }

    /// The server runtime's thread name (at most 15 bytes: Linux truncates `comm`).
    fn thread_name(self) -> &'static str {
        match self {
            Variant::Bare => "srv-bare",
            Variant::Instrumented => "srv-instrumentd",
            Variant::HandlerSpansFiltered => "srv-filtered",
        }
    }
}

/// What `runtime::init()` installs, through `init()` itself: the `RUST_LOG`-style filter at
/// `info`, ws-observe's JSON layer behind its non-blocking queue, writing to `io::sink()`. No
/// `/metrics` listener and no trace export (neither is on the message path).
fn install_runtime() -> ws_observe::runtime::Telemetry {
    ws_observe::runtime::Config::from_vars(|_| None)
        .and_then(|config| config.set_log_filter("info"))
        .expect("bench configuration")
        .disable_metrics()
        .disable_trace_export()
        .with_log_writer(std::io::sink())
        .init()
        .expect("runtime::init for the bench")
}

struct Server {
    runtime: Runtime,
    addr: SocketAddr,
}

impl Server {
    fn start(variant: Variant) -> Server {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder
            .worker_threads(server_workers())
            .enable_all()
            .thread_name(variant.thread_name());
        if variant != Variant::Bare {
            // `runtime::init()`'s process-wide subscriber: callsite interest is then cached,
            // as in production. The bare server has no tracing callsites, so it
            // is unaffected.
            static INSTALL: std::sync::Once = std::sync::Once::new();
            INSTALL.call_once(|| {
                // Kept for the whole process, as a server's `main` keeps it.
                std::mem::forget(install_runtime());
            });
        }
        let runtime = builder.build().expect("server runtime");
        let listener = runtime
            .block_on(TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let addr = listener.local_addr().expect("local addr");
        runtime.spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let _ = tcp.set_nodelay(true);
                match variant {
                    Variant::Bare => tokio::spawn(serve_bare(tcp)),
                    Variant::Instrumented => {
                        tokio::spawn(serve_instrumented(tcp, observed_on_message))
                    }
                    Variant::HandlerSpansFiltered => {
                        tokio::spawn(serve_instrumented(tcp, quiet_on_message))
                    }
                };
            }
        });
        Server { runtime, addr }
    }

    fn stop(self) {
        self.runtime.shutdown_timeout(Duration::from_secs(1));
    }
}

// ---- The clients. ----

type ClientSocket = WebSocketStream<TcpStream>;
type Connection = (SplitSink<ClientSocket, Message>, SplitStream<ClientSocket>);

struct Clients {
    runtime: Runtime,
    connections: Vec<Connection>,
    message: Message,
}

/// One iteration's measurements.
struct Record {
    iters: u64,
    wall: Duration,
    server_cpu: Option<Duration>,
    client_cpu: Option<Duration>,
}

impl Clients {
    fn connect(addr: SocketAddr) -> Clients {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("client runtime");
        let connections = runtime.block_on(async {
            let mut connections = Vec::with_capacity(CONNECTIONS);
            for _ in 0..CONNECTIONS {
                let tcp = TcpStream::connect(addr).await.expect("connect");
                tcp.set_nodelay(true).expect("nodelay");
                let (websocket, _) = tokio_tungstenite::client_async(format!("ws://{addr}/"), tcp)
                    .await
                    .expect("handshake");
                connections.push(websocket.split());
            }
            connections
        });
        Clients {
            runtime,
            connections,
            message: Message::binary(vec![0x5a; PAYLOAD_BYTES]),
        }
    }

    /// Runs `iters` batches; the wall time covers the batches only.
    fn run(&mut self, iters: u64, server_threads: &str) -> Record {
        let usage = cpu::measure(server_threads, || {
            self.runtime.block_on(async {
                for _ in 0..iters {
                    let batches = self
                        .connections
                        .iter_mut()
                        .map(|(sink, stream)| batch(sink, stream, &self.message));
                    futures_util::future::join_all(batches).await;
                }
            })
        });
        Record {
            iters,
            wall: usage.wall,
            client_cpu: usage.caller_cpu,
            server_cpu: usage.threads_cpu,
        }
    }

    fn close(mut self) {
        self.runtime.block_on(async {
            for (sink, stream) in &mut self.connections {
                let _ = sink.send(Message::Close(None)).await;
                while let Some(Ok(_)) = stream.next().await {}
            }
        });
    }
}

/// One connection's share of an iteration: a sender keeping at most `WINDOW` messages
/// unanswered, and a receiver taking the echoes and reopening the window.
async fn batch(
    sink: &mut SplitSink<ClientSocket, Message>,
    stream: &mut SplitStream<ClientSocket>,
    message: &Message,
) {
    let window = Semaphore::new(WINDOW);
    let send = async {
        for _ in 0..MESSAGES_PER_CONNECTION {
            let permit = match window.try_acquire() {
                Ok(permit) => permit,
                Err(_) => {
                    // The window is full: push what is buffered, then wait for echoes.
                    sink.flush().await.expect("flush");
                    window.acquire().await.expect("window")
                }
            };
            permit.forget();
            sink.feed(message.clone()).await.expect("send");
        }
        sink.flush().await.expect("flush");
    };
    let receive = async {
        let mut echoes = 0;
        while echoes < MESSAGES_PER_CONNECTION {
            match stream.next().await {
                Some(Ok(Message::Binary(echo))) => assert_eq!(echo.len(), PAYLOAD_BYTES),
                // The instrumented server's keepalive pings (tungstenite answers them).
                Some(Ok(Message::Ping(_))) => continue,
                other => panic!("unexpected echo: {other:?}"),
            }
            echoes += 1;
            window.add_permits(1);
        }
    };
    futures_util::future::join(send, receive).await;
}

// ---- The bench. ----

const VARIANTS: [Variant; 3] = [
    Variant::Bare,
    Variant::Instrumented,
    Variant::HandlerSpansFiltered,
];
/// Rounds of the paired phase; each runs every variant once, back to back.
const PAIRED_ROUNDS: usize = 150;
/// Iterations (of `MESSAGES` echoes) per variant per round: about a tenth of a second.
const PAIRED_ITERS: u64 = 1;

fn bench(c: &mut Criterion) {
    if let Some(only) = valgrind::requested() {
        return echo_only(&only);
    }
    // Every server is up for the whole run (an idle one parks its threads and costs nothing),
    // so the paired phase can switch between them without restarting anything.
    let mut setups: Vec<(Variant, Server, Clients)> = VARIANTS
        .into_iter()
        .map(|variant| {
            let server = Server::start(variant);
            let clients = Clients::connect(server.addr);
            (variant, server, clients)
        })
        .collect();

    let mut group = c.benchmark_group("ws_throughput");
    group
        .throughput(Throughput::Elements(MESSAGES))
        .sample_size(SAMPLE_SIZE)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sampling_mode(SamplingMode::Flat);
    let mut results = Vec::new();
    for (variant, _, clients) in &mut setups {
        let mut records = Vec::new();
        group.bench_function(variant.name(), |b| {
            b.iter_custom(|iters| {
                let record = clients.run(iters, variant.thread_name());
                let wall = record.wall;
                records.push(record);
                wall
            })
        });
        results.push((*variant, records));
    }
    group.finish();
    summarise(&results);

    // Criterion measures the variants one after the other, seconds apart; on a shared machine
    // the load of other tenants drifts by more than the difference being measured. The
    // ratios come from this phase instead: short runs of each variant back to back, in a
    // rotating order, each round giving one ratio measured under the same conditions.
    if std::env::args().any(|arg| arg == "--list" || arg == "--test") {
        return;
    }
    let rounds = paired::rounds(setups.len(), PAIRED_ROUNDS, |index| {
        let (variant, _, clients) = &mut setups[index];
        let record = clients.run(PAIRED_ITERS, variant.thread_name());
        record.wall.as_secs_f64() / (PAIRED_ITERS * MESSAGES) as f64
    });
    paired::report(
        &format!(
            "ws_throughput paired: {} rounds, each variant {} x {MESSAGES} echoes per round, \
             back to back in rotating order, {} server worker(s)",
            rounds.len(),
            PAIRED_ITERS,
            server_workers()
        ),
        &VARIANTS.map(Variant::name),
        "msgs",
        &rounds,
    );

    for (_, server, clients) in setups {
        clients.close();
        server.stop();
    }
}

/// The variant named `only`, alone, for valgrind (`support::valgrind`).
fn echo_only(only: &str) {
    valgrind::run_only(
        only,
        &VARIANTS.map(Variant::name),
        MESSAGES,
        |index, iterations| {
            let variant = VARIANTS[index];
            let server = Server::start(variant);
            let mut clients = Clients::connect(server.addr);
            let record = clients.run(iterations, variant.thread_name());
            clients.close();
            server.stop();
            record.wall
        },
    );
}

struct Summary {
    median_msgs_per_sec: f64,
    server_cpu_per_msg: Option<Duration>,
    client_cpu_per_msg: Option<Duration>,
}

/// The measured samples are the last `SAMPLE_SIZE` calls (warm-up calls come first).
fn summary(records: &[Record]) -> Option<Summary> {
    let samples = &records[records.len().saturating_sub(SAMPLE_SIZE)..];
    if samples.is_empty() {
        return None;
    }
    let mut per_iteration: Vec<f64> = samples
        .iter()
        .map(|r| r.wall.as_secs_f64() / r.iters as f64)
        .collect();
    per_iteration.sort_by(f64::total_cmp);
    let middle = per_iteration.len() / 2;
    let median = if per_iteration.len().is_multiple_of(2) {
        (per_iteration[middle - 1] + per_iteration[middle]) / 2.0
    } else {
        per_iteration[middle]
    };
    let messages: u64 = samples.iter().map(|r| r.iters * MESSAGES).sum();
    let per_message = |cpu: fn(&Record) -> Option<Duration>| {
        let total = samples
            .iter()
            .map(cpu)
            .sum::<Option<Duration>>()?
            .as_secs_f64();
        Some(Duration::from_secs_f64(total / messages as f64))
    };
    Some(Summary {
        median_msgs_per_sec: MESSAGES as f64 / median,
        server_cpu_per_msg: per_message(|r| r.server_cpu),
        client_cpu_per_msg: per_message(|r| r.client_cpu),
    })
}

fn micros(cpu: Option<Duration>) -> String {
    cpu.map_or_else(
        || "n/a".to_owned(),
        |d| format!("{:.2} µs", d.as_secs_f64() * 1e6),
    )
}

fn summarise(results: &[(Variant, Vec<Record>)]) {
    println!();
    println!(
        "ws_throughput (criterion, one variant after the other): median of the measured \
         samples, {CONNECTIONS} connections x {MESSAGES_PER_CONNECTION} messages of \
         {PAYLOAD_BYTES} B, window {WINDOW}, {} server worker(s)",
        server_workers()
    );
    let mut summaries = Vec::new();
    for (variant, records) in results {
        let Some(summary) = summary(records) else {
            continue;
        };
        println!(
            "  {:<13} {:>10.0} msgs/s   server CPU {:>9}/msg   client CPU {:>9}/msg",
            variant.name(),
            summary.median_msgs_per_sec,
            micros(summary.server_cpu_per_msg),
            micros(summary.client_cpu_per_msg),
        );
        summaries.push((*variant, summary));
    }
    let find = |wanted| summaries.iter().find(|(v, _)| *v == wanted).map(|(_, s)| s);
    if let (Some(bare), Some(filtered)) = (find(Variant::Bare), find(Variant::HandlerSpansFiltered))
    {
        println!(
            "  sequential ratio instrumented (handler spans filtered) / bare = {:.3}",
            filtered.median_msgs_per_sec / bare.median_msgs_per_sec
        );
    }
    if let (Some(bare), Some(instrumented)) = (find(Variant::Bare), find(Variant::Instrumented)) {
        println!(
            "  sequential ratio instrumented / bare = {:.3} (measured seconds apart: the \
             paired phase below gives the ratio)",
            instrumented.median_msgs_per_sec / bare.median_msgs_per_sec
        );
        if let (Some(b), Some(i)) = (bare.server_cpu_per_msg, instrumented.server_cpu_per_msg) {
            println!(
                "  server CPU per message instrumented / bare = {:.3} (+{:.2} µs/msg)",
                i.as_secs_f64() / b.as_secs_f64(),
                (i.as_secs_f64() - b.as_secs_f64()) * 1e6
            );
        }
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
