//! Log lines: JSON (default) or pretty, filtered by `RUST_LOG`, written through a non-blocking
//! queue so a slow stdout or disk never stalls a handler. Lines the queue had to drop are
//! counted in `ws_observe_log_lines_dropped_total`.
//!
//! The JSON format is ecs-logging lines that Filebeat, Elasticsearch and Loki read as they are
//! (`docs/LOGS.md`). Two writers produce it, line for line the same:
//!
//! - [`JsonSubscriber`], a complete `tracing` subscriber, is what `init()` installs in the
//!   common case (JSON, a plain `RUST_LOG`, no trace export). It keeps its own spans, made for
//!   a span per message: no allocation per span, no lookup of the parent's data, and a handler
//!   span's message kind and size received without `tracing`'s visit of every field.
//! - [`JsonLayer`], a `tracing-subscriber` layer, is what `init()` puts over the registry when
//!   the OpenTelemetry layer needs it (trace export), and what you add to a subscriber of your
//!   own.

mod escape;
mod fields;
pub mod file;
mod json;
mod queue;
mod settings;
mod subscriber;

pub use json::{ECS_VERSION, JsonLayer};
pub use settings::{LogFiles, LogFormat, LogSettings};
pub use subscriber::JsonSubscriber;

use std::io::{IsTerminal, Write};
use std::sync::Mutex;

pub(crate) use queue::QueueGuard;
use queue::QueuedWriter;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tracing_subscriber::filter::FilterExt;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::Filter;
use tracing_subscriber::{Layer, Registry};

use tracing_subscriber::fmt::MakeWriter;

use crate::error::InitError;
use crate::vars;

/// Lines queued and not yet written; past this, lines are dropped and counted.
const QUEUE_LINES: usize = 128 * 1024;

static DROP_COUNTERS: Mutex<Vec<Arc<AtomicU64>>> = Mutex::new(Vec::new());

/// Log lines dropped so far by every writer ws-observe started.
pub(crate) fn dropped_lines() -> u64 {
    DROP_COUNTERS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .map(|c| c.load(Ordering::Relaxed))
        .sum::<u64>()
        + file::lines_failed()
}

/// The filter a `RUST_LOG` value needs. Plain `target=level` directives (the usual case) get
/// `Targets`, which decides once per callsite and keeps no per-span state; `EnvFilter` takes a
/// shared lock on every span enter, exit and close (contended between worker threads), so it
/// is used only when the value needs it: span or field directives.
// Built once at start-up and consumed at once: its size does not matter.
#[allow(clippy::large_enum_variant)]
enum Chosen {
    Targets(Targets),
    #[cfg(feature = "env-filter")]
    Env(tracing_subscriber::EnvFilter),
}

fn choose(directives: &str, targets: Option<Targets>) -> Chosen {
    match targets {
        Some(targets) => Chosen::Targets(targets),
        // Validated by the setter; parse_lossy cannot fail here.
        #[cfg(feature = "env-filter")]
        None => Chosen::Env(tracing_subscriber::EnvFilter::builder().parse_lossy(directives)),
        // The setter refused what Targets cannot read; an empty value means `error` for every
        // target, as EnvFilter's default is.
        #[cfg(not(feature = "env-filter"))]
        None => {
            let _ = directives;
            Chosen::Targets(Targets::new().with_default(tracing::Level::ERROR))
        }
    }
}

/// The global filter `init()` puts in front of the registry (`targets`: [`plain_targets`] of
/// the same value, already worked out by the caller).
pub(crate) fn level_filter(
    directives: &str,
    targets: Option<Targets>,
) -> Box<dyn Layer<Registry> + Send + Sync> {
    match choose(directives, targets) {
        Chosen::Targets(targets) => Box::new(targets),
        #[cfg(feature = "env-filter")]
        Chosen::Env(filter) => Box::new(filter),
    }
}

/// The same decision as a per-layer filter, for the composable layer.
pub(crate) fn per_layer_filter<S>(directives: &str) -> Box<dyn Filter<S> + Send + Sync + 'static>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    match choose(directives, plain_targets(directives)) {
        Chosen::Targets(targets) => FilterExt::<S>::boxed(targets),
        #[cfg(feature = "env-filter")]
        Chosen::Env(filter) => FilterExt::<S>::boxed(filter),
    }
}

/// `directives` as `Targets` when they are plain `target=level` ones. `Targets` would read
/// `[span]` or `{field}` as part of a target name: those stay with EnvFilter, as does an empty
/// value (EnvFilter's own default applies).
pub(crate) fn plain_targets(directives: &str) -> Option<Targets> {
    let plain = !directives.trim().is_empty() && !directives.contains(['[', ']', '{', '}']);
    directives.parse().ok().filter(|_| plain)
}

/// The log files `init()` writes, opened before anything else starts so that a bad directory
/// is an `InitError` and nothing is left half-started. `None` when files are off.
pub(crate) fn open_files(
    settings: &LogSettings,
    service_name: &str,
) -> Result<Option<file::RotatingFile>, InitError> {
    if !settings.stdout && settings.files.is_none() {
        return Err(InitError::InvalidValue {
            var: vars::LOG_STDOUT,
            value: "off".into(),
            expected: format!(
                "{} set as well, or log lines would go nowhere (RUST_LOG=off turns logs off)",
                vars::LOG_DIR
            ),
        });
    }
    let Some(files) = &settings.files else {
        return Ok(None);
    };
    let error = |source| InitError::LogDir {
        var: vars::LOG_DIR,
        path: files.dir.clone(),
        source,
    };
    // Resolved once: a later change of the working directory must not move the files.
    let dir = std::path::absolute(&files.dir).map_err(error)?;
    let writer = file::RotatingFile::new(
        &dir,
        &file_prefix(service_name),
        files.rotation,
        files.max_size,
        Some(files.max_files),
    )
    .map_err(error)?;
    probe_writable(&dir).map_err(error)?;
    Ok(Some(writer))
}

/// Creates and removes a file in `dir`: a directory that exists but cannot be written (a
/// volume owned by another user) must fail `init()`, not lose every line afterwards. The name
/// is new each time (`create_new`): processes sharing the directory, such as containers whose
/// process is PID 1 each, never probe, or remove, one another's file.
fn probe_writable(dir: &std::path::Path) -> std::io::Result<()> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let mut last = None;
    for attempt in 0..8u32 {
        let probe = dir.join(format!(
            ".ws-observe-write-probe-{}-{nanos:09}-{attempt}",
            std::process::id()
        ));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&probe)
        {
            Ok(_) => return std::fs::remove_file(&probe),
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => last = Some(error),
            Err(error) => return Err(error),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no free probe name")))
}

/// The service name as a file-name prefix: path separators and dots would confuse the
/// `{prefix}.{time}.{n}.log` scheme.
fn file_prefix(service: &str) -> String {
    let prefix: String = service
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if prefix.is_empty() {
        "ws-observe".into()
    } else {
        prefix
    }
}

/// A writer behind its own non-blocking queue and thread, its drops counted.
fn non_blocking(writer: Box<dyn Write + Send>, thread: &str) -> (QueuedWriter, QueueGuard) {
    let (writer, guard, dropped) =
        queue::queued(writer, QUEUE_LINES, thread).expect("start a log writer thread");
    DROP_COUNTERS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(dropped);
    (writer, guard)
}

/// The log writers: stdout (or the configured writer) and the files, each behind its own
/// queue (a slow terminal does not hold up the files), and the guards that flush them.
pub(crate) fn writers(
    settings: &mut LogSettings,
    files: Option<file::RotatingFile>,
) -> (Writers, Vec<QueueGuard>) {
    let mut guards = Vec::new();
    let primary = settings.stdout.then(|| {
        let writer = settings
            .writer
            .take()
            .unwrap_or_else(|| Box::new(std::io::stdout()));
        let (writer, guard) = non_blocking(writer, "ws-observe-logs");
        guards.push(guard);
        writer
    });
    let files = files.map(|files| {
        let (writer, guard) = non_blocking(Box::new(files), "ws-observe-log-files");
        guards.push(guard);
        writer
    });
    (Writers { primary, files }, guards)
}

/// Whether pretty lines get colours: only for a human at a terminal (escape codes in a file, a
/// pipe or a writer of the user's are noise). Asked before [`writers`] takes the writer.
pub(crate) fn colours(settings: &LogSettings) -> bool {
    settings.writer.is_none() && std::io::stdout().is_terminal()
}

/// The output layer of `settings`' format over `writers`: JSON lines, or pretty lines for a
/// human at stdout (in colour when `ansi`) with the files kept JSON (they are for shippers).
/// `trace_ids` puts the OpenTelemetry trace and span ids on JSON lines.
pub(crate) fn output_layer<S>(
    settings: &LogSettings,
    writers: Writers,
    service_name: &str,
    trace_ids: bool,
    ansi: bool,
) -> Box<dyn Layer<S> + Send + Sync + 'static>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    match settings.format {
        LogFormat::Json => JsonLayer::new(writers, service_name)
            .with_trace_ids(trace_ids)
            .boxed(),
        LogFormat::Pretty => {
            let pretty = tracing_subscriber::fmt::layer()
                .pretty()
                .with_ansi(ansi)
                .with_writer(Writers {
                    primary: writers.primary,
                    files: None,
                });
            let files = writers.files.map(|files| {
                JsonLayer::new(
                    Writers {
                        primary: None,
                        files: Some(files),
                    },
                    service_name,
                )
                .with_trace_ids(trace_ids)
            });
            pretty.and_then(files).boxed()
        }
    }
}

/// Registers `ws_observe_log_lines_dropped_total` in `registry`.
pub(crate) fn register_metrics(registry: &prometheus::Registry) -> prometheus::Result<()> {
    use crate::metrics::{FnCounter, names};
    registry.register(Box::new(FnCounter::new(
        names::LOG_LINES_DROPPED,
        names::LOG_LINES_DROPPED_HELP,
        dropped_lines,
    )))
}

/// Every line to stdout (or the configured writer) and to the files, whichever are on. A
/// clone (queue handles) writes each line.
#[derive(Clone)]
pub(crate) struct Writers {
    primary: Option<QueuedWriter>,
    files: Option<QueuedWriter>,
}

impl<'a> MakeWriter<'a> for Writers {
    type Writer = Writers;

    fn make_writer(&'a self) -> Writers {
        self.clone()
    }
}

impl Write for Writers {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        // Each queue takes the whole buffer or drops (and counts) it: never a partial line.
        for writer in [&mut self.primary, &mut self.files].into_iter().flatten() {
            writer.write_all(buf)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        for writer in [&mut self.primary, &mut self.files].into_iter().flatten() {
            writer.flush()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::layer::{Context, SubscriberExt};
    use tracing_subscriber::{Layer, Registry};

    use super::{level_filter, plain_targets, probe_writable};

    /// Another process's probe (here: a directory where the old fixed name pointed) neither
    /// blocks nor is touched by ours.
    #[test]
    fn the_write_probe_never_meets_another_process_probe() {
        let dir = std::env::temp_dir().join(format!("ws-observe-probe-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let theirs = dir.join(format!(".ws-observe-write-probe-{}", std::process::id()));
        std::fs::create_dir_all(&theirs).unwrap();
        probe_writable(&dir).unwrap();
        assert!(theirs.is_dir(), "the other probe stays");
        let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(left.len(), 1, "ours is removed: {left:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Records the target and level of every event that passes the filter.
    struct Seen(Arc<Mutex<Vec<String>>>);

    impl<S: tracing::Subscriber> Layer<S> for Seen {
        fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
            let meta = event.metadata();
            let mut seen = self.0.lock().unwrap();
            seen.push(format!("{} {}", meta.target(), meta.level()));
        }
    }

    fn passing(directives: &str) -> Vec<String> {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let subscriber = Registry::default()
            .with(level_filter(directives, plain_targets(directives)))
            .with(Seen(seen.clone()));
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("conn");
            tracing::debug!(target: "app", "x");
            tracing::info!(target: "app::db", "x");
            tracing::warn!(target: "other", "x");
            tracing::trace!(target: "app_extra", "x");
            let _inside = span.enter();
            tracing::debug!(target: "other", "x");
        });
        seen.lock().unwrap().clone()
    }

    #[test]
    fn the_cheap_filter_decides_as_env_filter_would() {
        let mut cases: Vec<(&str, &[&str])> = vec![
            ("", &[][..]),
            ("info", &["app::db INFO", "other WARN"]),
            ("warn", &["other WARN"]),
            ("off", &[]),
            (
                "app=debug,warn",
                &["app DEBUG", "app::db INFO", "other WARN"],
            ),
            (
                "app::db=off,app=trace,info",
                &["app DEBUG", "other WARN", "app_extra TRACE"],
            ),
        ];
        // A span directive needs EnvFilter: `other` at debug only inside `conn`.
        if cfg!(feature = "env-filter") {
            cases.push((
                "info,[conn]=debug",
                &["app::db INFO", "other WARN", "other DEBUG"],
            ));
            cases.push((
                "info,[conn]",
                &["app::db INFO", "other WARN", "other DEBUG"],
            ));
        }
        for (directives, expected) in cases {
            assert_eq!(passing(directives), expected, "RUST_LOG={directives}");
        }
    }
}
