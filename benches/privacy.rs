//! What privacy costs: a `redact(...)` argument against the same argument recorded in clear
//! with `fields(...)` and against no argument at all, each with the span enabled under
//! ws-observe's JSON layer (the pseudonym is only computed when the span is); the pseudonym on
//! its own; and one durable consent decision (`consent::record` with its fsync).
//!
//! ```text
//! cargo bench --bench privacy
//! ```

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use tracing::Dispatch;
use ws_observe::runtime::consent::{Decision, Journal};
use ws_observe::runtime::privacy::Pseudonymizer;
use ws_observe::ws_observe;

const EMAIL: &str = "alice.example@example.com";

#[ws_observe(name = "plain")]
fn plain(email: &str) -> usize {
    email.len()
}

#[ws_observe(name = "in_clear", fields(email = %email))]
fn in_clear(email: &str) -> usize {
    email.len()
}

#[ws_observe(name = "redacted", redact(email))]
fn redacted(email: &str) -> usize {
    email.len()
}

/// ws-observe's JSON subscriber at `info`, as `runtime::init()` installs it.
fn json_dispatch() -> Dispatch {
    let filter = tracing_subscriber::filter::Targets::new().with_default(tracing::Level::INFO);
    Dispatch::new(ws_observe::runtime::logs::JsonSubscriber::new(
        std::io::sink,
        "bench",
        filter,
    ))
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("privacy");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    tracing::dispatcher::with_default(&json_dispatch(), || {
        group.bench_function("handler_no_argument_recorded", |b| {
            b.iter(|| plain(black_box(EMAIL)))
        });
        group.bench_function("handler_fields_in_clear", |b| {
            b.iter(|| in_clear(black_box(EMAIL)))
        });
        group.bench_function("handler_redact", |b| b.iter(|| redacted(black_box(EMAIL))));
    });
    let keyed = Pseudonymizer::new(b"bench-key-0123456789abcdef").unwrap();
    group.bench_function("pseudonym", |b| {
        b.iter(|| keyed.pseudonym(black_box(EMAIL)))
    });
    group.finish();

    let mut durable = c.benchmark_group("consent");
    durable
        .sample_size(20)
        .measurement_time(Duration::from_secs(5));
    let path =
        std::env::temp_dir().join(format!("ws-observe-bench-consent-{}", std::process::id()));
    let journal = Journal::open(&path, keyed, "bench").unwrap();
    durable.bench_function("record_fsync", |b| {
        b.iter(|| journal.record(black_box("user-1"), "chat_history", Decision::Granted))
    });
    durable.finish();
    let _ = std::fs::remove_file(path);
}

criterion_group!(benches, bench);
criterion_main!(benches);
