//! ws-observe added to a program that already has a `tracing` stack of its own.
//!
//! ```text
//! cargo run --example existing_stack
//! curl -s 127.0.0.1:9464/metrics | grep -E 'ws_handler_calls_total|my_app_jobs_total'
//! ```
//!
//! `Config::into_layer()` starts everything `init()` starts (the `/metrics` listener, the alert
//! sinks, span export, the log writers) without installing a global subscriber, and returns
//! ws-observe's layer to stack next to the program's own layers: here a human-readable
//! `fmt` layer on stderr. ws-observe's JSON lines go to stdout as under `init()`.

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use ws_observe::{prometheus, runtime, ws_handler};

#[derive(Debug)]
struct Declined;

impl std::fmt::Display for Declined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("card declined")
    }
}

impl std::error::Error for Declined {}

#[ws_handler(alert = "critical")]
fn charge(amount: u64) -> Result<u64, Declined> {
    if amount == 0 {
        Err(Declined)
    } else {
        Ok(amount)
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // ws-observe's layer and the guard that owns what it started.
    let (observe, telemetry) = runtime::Config::from_env()?.into_layer()?;
    // The program's own stack: its own layer next to ws-observe's.
    tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
        .with(observe)
        .try_init()?;

    // Metrics registered the usual way appear on the same /metrics.
    let jobs = prometheus::register_int_counter!("my_app_jobs_total", "Jobs done.")?;
    for amount in [5, 0, 7] {
        jobs.inc();
        let _ = charge(amount);
    }
    tracing::info!(addr = ?telemetry.metrics_addr(), "done; metrics stay up for 2 s");
    std::thread::sleep(std::time::Duration::from_secs(2));
    Ok(())
}
