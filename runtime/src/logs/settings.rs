//! The logs subsystem's settings: the filter, the format, and where lines go (stdout or a
//! writer of yours, rotated files), from `RUST_LOG` and the `WS_OBSERVE_LOG_*` variables.

use std::io::Write;

use crate::env_value::{non_empty, parse_positive, parse_switch};
use crate::error::InitError;
use crate::vars;

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// One JSON object per line, for ELK and Loki.
    #[default]
    Json,
    /// Human-readable multi-line output, for a terminal.
    Pretty,
}

/// Rotated log files: where, and when a new file starts (see
/// [`logs::file`](crate::logs::file)).
///
/// ```
/// use ws_observe_runtime::{Config, LogFiles};
/// use ws_observe_runtime::logs::file::Rotation;
/// let files = LogFiles::new("/var/log/my-app")
///     .rotation(Rotation::Hourly)
///     .max_size(Some(50_000_000))
///     .max_files(24);
/// let config = Config::default().with_log_files(files);
/// # let _ = config;
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogFiles {
    pub(crate) dir: std::path::PathBuf,
    pub(crate) rotation: super::file::Rotation,
    pub(crate) max_size: Option<u64>,
    pub(crate) max_files: usize,
}

impl LogFiles {
    /// Files in `dir`, with the defaults: a new file daily or at 100 MB, 10 files kept.
    pub fn new(dir: impl Into<std::path::PathBuf>) -> Self {
        LogFiles {
            dir: dir.into(),
            rotation: super::file::Rotation::Daily,
            max_size: Some(100_000_000),
            max_files: 10,
        }
    }

    /// When a new file starts by time.
    pub fn rotation(mut self, rotation: super::file::Rotation) -> Self {
        self.rotation = rotation;
        self
    }

    /// When a new file starts by size (`None`: no size limit).
    pub fn max_size(mut self, bytes: Option<u64>) -> Self {
        self.max_size = bytes;
        self
    }

    /// Files kept in all, the active one included (at least 1).
    pub fn max_files(mut self, files: usize) -> Self {
        self.max_files = files.max(1);
        self
    }
}

/// How and where log lines are written.
///
/// ```
/// use ws_observe_runtime::{LogFormat, logs::LogSettings};
/// let settings = LogSettings::from_vars(|name| match name {
///     "RUST_LOG" => Some("warn,my_app=debug".to_owned()),
///     "WS_OBSERVE_LOG_FORMAT" => Some("pretty".to_owned()),
///     _ => None,
/// })
/// .unwrap();
/// assert_eq!(settings.filter(), "warn,my_app=debug");
/// assert_eq!(settings.format(), LogFormat::Pretty);
/// ```
pub struct LogSettings {
    pub(crate) filter: String,
    pub(crate) format: LogFormat,
    pub(crate) writer: Option<Box<dyn Write + Send>>,
    pub(crate) files: Option<LogFiles>,
    pub(crate) stdout: bool,
}

impl Default for LogSettings {
    /// JSON lines at `info` on stdout, no files.
    fn default() -> Self {
        LogSettings {
            filter: "info".to_owned(),
            format: LogFormat::Json,
            writer: None,
            files: None,
            stdout: true,
        }
    }
}

impl std::fmt::Debug for LogSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogSettings")
            .field("filter", &self.filter)
            .field("format", &self.format)
            .field("writer", &self.writer.as_ref().map(|_| "<writer>"))
            .field("files", &self.files)
            .field("stdout", &self.stdout)
            .finish()
    }
}

impl LogSettings {
    /// The defaults overridden by the variables from `lookup`.
    pub fn from_vars(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, InitError> {
        let mut settings = LogSettings::default();
        if let Some(value) = non_empty(&lookup, vars::RUST_LOG) {
            settings.set_filter(&value)?;
        }
        if let Some(value) = lookup(vars::LOG_FORMAT) {
            settings.format = parse_log_format(&value)?;
        }
        settings.files = log_files_from_vars(&lookup)?;
        if let Some(value) = non_empty(&lookup, vars::LOG_STDOUT) {
            settings.stdout = parse_switch(vars::LOG_STDOUT, &value)?;
        }
        Ok(settings)
    }

    /// Sets the log and span filter (`RUST_LOG` syntax, e.g. `info,my_app=debug`).
    pub fn set_filter(&mut self, filter: &str) -> Result<(), InitError> {
        check_filter(filter)?;
        self.filter = filter.to_owned();
        Ok(())
    }

    /// The filter in effect.
    pub fn filter(&self) -> &str {
        &self.filter
    }

    /// The format in effect.
    pub fn format(&self) -> LogFormat {
        self.format
    }

    /// The rotated files, if any.
    pub fn files(&self) -> Option<&LogFiles> {
        self.files.as_ref()
    }

    /// Whether lines also go to stdout (or the configured writer).
    pub fn stdout(&self) -> bool {
        self.stdout
    }
}

/// A `RUST_LOG` value as EnvFilter reads it.
#[cfg(feature = "env-filter")]
fn check_filter(filter: &str) -> Result<(), InitError> {
    tracing_subscriber::EnvFilter::builder()
        .parse(filter)
        .map(|_| ())
        .map_err(|e| InitError::InvalidValue {
            var: vars::RUST_LOG,
            value: filter.to_owned(),
            expected: format!("a tracing filter such as `info,my_app=debug` ({e})"),
        })
}

/// A `RUST_LOG` value of plain `target=level` directives: span and field directives need
/// EnvFilter, which this build leaves out.
#[cfg(not(feature = "env-filter"))]
fn check_filter(filter: &str) -> Result<(), InitError> {
    if filter.contains(['[', ']', '{', '}']) {
        return Err(InitError::FeatureDisabled {
            var: vars::RUST_LOG,
            feature: "env-filter",
        });
    }
    filter
        .parse::<tracing_subscriber::filter::Targets>()
        .map(|_| ())
        .map_err(|e| InitError::InvalidValue {
            var: vars::RUST_LOG,
            value: filter.to_owned(),
            expected: format!("a tracing filter such as `info,my_app=debug` ({e})"),
        })
}

/// `WS_OBSERVE_LOG_DIR` and its companions; the companions without a directory are an error
/// (they would silently do nothing).
fn log_files_from_vars(
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<Option<LogFiles>, InitError> {
    let Some(dir) = non_empty(lookup, vars::LOG_DIR) else {
        for var in [vars::LOG_ROTATION, vars::LOG_MAX_SIZE, vars::LOG_MAX_FILES] {
            if let Some(value) = non_empty(lookup, var) {
                return Err(InitError::InvalidValue {
                    var,
                    value,
                    expected: format!("{} set as well: it configures the log files", vars::LOG_DIR),
                });
            }
        }
        return Ok(None);
    };
    let mut files = LogFiles::new(dir.trim());
    if let Some(value) = non_empty(lookup, vars::LOG_ROTATION) {
        files.rotation = value.parse().map_err(|_| InitError::InvalidValue {
            var: vars::LOG_ROTATION,
            value: value.clone(),
            expected: "`hourly`, `daily` or `never`".into(),
        })?;
    }
    if let Some(value) = non_empty(lookup, vars::LOG_MAX_SIZE) {
        files.max_size = match value.trim().to_ascii_lowercase().as_str() {
            "none" | "off" => None,
            _ => Some(
                super::file::parse_size(&value).map_err(|why| InitError::InvalidValue {
                    var: vars::LOG_MAX_SIZE,
                    value: value.clone(),
                    expected: format!("a size such as `100MB` or `64MiB`, or `none` ({why})"),
                })?,
            ),
        };
    }
    if let Some(value) = non_empty(lookup, vars::LOG_MAX_FILES) {
        files.max_files = parse_positive(
            vars::LOG_MAX_FILES,
            &value,
            "files, the active one included",
        )?;
    }
    Ok(Some(files))
}

fn parse_log_format(value: &str) -> Result<LogFormat, InitError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "json" => Ok(LogFormat::Json),
        "pretty" => Ok(LogFormat::Pretty),
        _ => Err(InitError::InvalidValue {
            var: vars::LOG_FORMAT,
            value: value.to_owned(),
            expected: "one of `json`, `pretty`".into(),
        }),
    }
}
