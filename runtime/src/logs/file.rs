//! Log files that rotate by time and size and keep a bounded number of files, written so that
//! log shippers (Promtail, Filebeat) globbing `{dir}/*.log` see every line exactly once.
//!
//! Hand a [`RotatingFile`] to [`Config::with_log_writer`](crate::Config::with_log_writer):
//! `init()` puts its non-blocking queue in front of it, which writes one whole line per
//! `write` call. The shipper-safe rules:
//!
//! - a written file is never renamed or truncated: rotation opens a *new* file, so a shipper's
//!   read offset in the old one stays valid;
//! - a line is never split across two files;
//! - names sort in creation order (`app.2026-03-10T14-37-12Z.000000.log`), so "oldest" is
//!   plain name order for retention, shippers and people alike.
//!
//! ```
//! use std::io::Write;
//! use ws_observe_runtime::logs::file::{RotatingFile, Rotation};
//!
//! let dir = std::env::temp_dir().join(format!("ws-observe-doc-mod-{}", std::process::id()));
//! let file = RotatingFile::new(&dir, "app", Rotation::Daily, Some(100 << 20), Some(7))?;
//! // What `init()` does with `Config::with_log_writer(file)`.
//! let mut writer = std::io::LineWriter::new(file);
//! writer.write_all(b"{\"message\":\"hello\"}\n")?;
//! drop(writer); // Flushes: the line is in the file.
//!
//! let names: Vec<_> = std::fs::read_dir(&dir)?.collect::<Result<_, _>>()?;
//! assert_eq!(names.len(), 1);
//! assert_eq!(std::fs::read_to_string(names[0].path())?, "{\"message\":\"hello\"}\n");
//! std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), std::io::Error>(())
//! ```

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Bytes buffered before a write reaches the OS. The non-blocking worker flushes after each
/// batch of lines, so this bounds memory, not latency.
const BUF_CAPACITY: usize = 64 * 1024;

/// After a failure, the first retry waits this long (clock seconds), doubling up to
/// [`MAX_RETRY_SECS`]: a full disk then costs a few attempts (and a few near-empty files),
/// not one per line.
const FIRST_RETRY_SECS: u64 = 1;
const MAX_RETRY_SECS: u64 = 64;

/// How often (clock seconds) the active file is checked to still be in the directory.
const CHECK_SECS: u64 = 1;

/// Lines that every [`RotatingFile`] of the process could not write.
static LINES_FAILED: AtomicU64 = AtomicU64::new(0);

/// Log lines that no [`RotatingFile`] of this process could write (disk full, directory
/// removed or unwritable). Reported with the lines the non-blocking queue dropped.
pub(crate) fn lines_failed() -> u64 {
    LINES_FAILED.load(Ordering::Relaxed)
}

/// When a log file is closed for the next one, by the clock of [`RotatingFile::with_clock`].
/// Boundaries are in UTC: with `Hourly`, a file opened at 14:37 takes lines until 15:00.
///
/// Parses from `hourly`, `daily` or `never`, in any case:
///
/// ```
/// use ws_observe_runtime::logs::file::Rotation;
///
/// assert_eq!(" Daily ".parse::<Rotation>(), Ok(Rotation::Daily));
/// assert_eq!(
///     "weekly".parse::<Rotation>().unwrap_err(),
///     "invalid log rotation \"weekly\": expected hourly, daily or never"
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rotation {
    /// A new file at every full hour (UTC).
    Hourly,
    /// A new file at every midnight UTC.
    Daily,
    /// No time limit: only `max_size` closes a file.
    Never,
}

impl Rotation {
    /// The clock second (since the Unix epoch) at which a file opened at `opened` is closed.
    fn deadline(self, opened: u64) -> Option<u64> {
        let period = match self {
            Rotation::Hourly => 3600,
            Rotation::Daily => 86_400,
            Rotation::Never => return None,
        };
        Some((opened / period + 1) * period)
    }
}

impl FromStr for Rotation {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "hourly" => Ok(Rotation::Hourly),
            "daily" => Ok(Rotation::Daily),
            "never" => Ok(Rotation::Never),
            _ => Err(format!(
                "invalid log rotation {s:?}: expected hourly, daily or never"
            )),
        }
    }
}

/// Bytes in a size such as `100MB`, `64MiB` or `1048576`.
///
/// A whole number, an optional space, then an optional unit: `B`; `KB`, `MB`, `GB` (powers of
/// 1000, as disks and most tools count); `KiB`, `MiB`, `GiB` (powers of 1024). Units are read
/// in any case (`mb` is `MB`, and `b` is always bytes, never bits); no unit means bytes.
/// Zero, fractions (`1.5GB`: write `1500MB`), signs and sizes past `u64::MAX` are errors.
///
/// ```
/// use ws_observe_runtime::logs::file::parse_size;
///
/// assert_eq!(parse_size("100MB"), Ok(100_000_000));
/// assert_eq!(parse_size("100 MiB"), Ok(100 << 20));
/// assert!(parse_size("1.5GB").is_err());
/// ```
pub fn parse_size(s: &str) -> Result<u64, String> {
    let invalid = |why: &str| {
        format!(
            "invalid size {s:?}: {why}; expected a whole number of bytes, optionally followed by \
             B, KB, MB, GB (powers of 1000) or KiB, MiB, GiB (powers of 1024), e.g. 100MB"
        )
    };
    let text = s.trim();
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits_end);
    if unit.starts_with(['.', ',']) {
        return Err(invalid(
            "fractions are not accepted (write 1500MB, not 1.5GB)",
        ));
    }
    if text.starts_with(['-', '+']) {
        return Err(invalid("a size has no sign"));
    }
    if number.is_empty() {
        return Err(invalid("no number"));
    }
    let multiplier: u64 = match unit.trim_start().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1000,
        "mb" => 1000_u64.pow(2),
        "gb" => 1000_u64.pow(3),
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        _ => return Err(invalid("unknown unit")),
    };
    let bytes = number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(multiplier))
        .ok_or_else(|| invalid("too large"))?;
    if bytes == 0 {
        return Err(invalid("must be more than 0"));
    }
    Ok(bytes)
}

/// A log file writer that rotates by time ([`Rotation`]) and size, and deletes the oldest
/// files past a count.
///
/// Files are named `{prefix}.{YYYY-MM-DDTHH-MM-SSZ}.{n:06}.log`: the UTC time the file was
/// opened and a sequence number within that second, so names sort in creation order, even
/// across processes and restarts (a new name always sorts after every file of the prefix
/// already in the directory; if the clock went back, the newest file's time is reused with the
/// next number). Files are opened with `create_new`, so two writers never share one.
///
/// No file is opened before there is a line for it: no empty files for quiet hours.
///
/// Each `write` call must be one whole log line, as the non-blocking worker writes them.
/// Writes go through a 64 KiB buffer; [`flush`](Write::flush) and dropping the writer push it
/// to the OS.
///
/// # Failures
///
/// A line that cannot be written (disk full, directory removed or not writable) is counted,
/// in [`lines_failed`](RotatingFile::lines_failed) and in the process's
/// `ws_observe_log_lines_dropped_total`, and `write` still returns `Ok`: the non-blocking
/// worker drops errors anyway, and an `Err` would end its batch before the batch's flush. `flush` returns the error after counting. Writing resumes in a fresh file after one
/// second, then two, four... (up to about a minute) of the clock: a torn line is then never
/// glued to the next one. The active file is checked each second of the clock to still be in
/// the directory; if it was deleted (or the directory was), the next line goes into a fresh
/// file (the directory is created again); lines written to the deleted file within that
/// second are lost without being counted.
///
/// ```
/// use std::io::Write;
/// use ws_observe_runtime::logs::file::{RotatingFile, Rotation};
///
/// let dir = std::env::temp_dir().join(format!("ws-observe-doc-rf-{}", std::process::id()));
/// // At most 10 bytes per file, unless a single line is longer.
/// let mut file = RotatingFile::new(&dir, "app", Rotation::Never, Some(10), None)?;
/// file.write_all(b"first\n")?;
/// file.write_all(b"second\n")?; // 6 + 7 > 10 bytes: a new file.
/// file.flush()?;
///
/// let mut names: Vec<_> = std::fs::read_dir(&dir)?
///     .map(|e| e.map(|e| e.file_name().into_string().unwrap()))
///     .collect::<Result<_, _>>()?;
/// names.sort();
/// assert_eq!(names.len(), 2);
/// assert!(names[0].starts_with("app.") && names[0].ends_with(".000000.log"));
/// assert_eq!(std::fs::read_to_string(dir.join(&names[1]))?, "second\n");
/// std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct RotatingFile {
    dir: PathBuf,
    prefix: String,
    rotation: Rotation,
    max_size: Option<u64>,
    max_files: Option<usize>,
    clock: Box<dyn Fn() -> SystemTime + Send>,
    active: Option<Active>,
    /// After a failure: no file is opened before this clock second.
    retry_at: u64,
    retry_secs: u64,
    failed: u64,
}

/// The file lines currently go to.
struct Active {
    file: File,
    path: PathBuf,
    buf: Vec<u8>,
    /// Where each buffered line ends in `buf`: after a short write, the lines not (wholly)
    /// written are the ones to count.
    line_ends: Vec<usize>,
    /// Bytes given to this file, written or buffered.
    len: u64,
    /// The clock second at which time rotation closes the file.
    deadline: Option<u64>,
    /// The clock second at which to check the file is still in the directory.
    check_at: u64,
}

impl RotatingFile {
    /// A writer of `{prefix}.*.log` files in `dir`, created (with its parents) if missing.
    ///
    /// - `max_size`: bytes per file. A line that would take the file past it goes to a new
    ///   file, unless the file is still empty (a line longer than the limit gets a file of
    ///   its own). Time and size limits apply together: whichever comes first.
    /// - `max_files`: how many files of the prefix the directory keeps, counting the one
    ///   being written and those of earlier runs or other writers of the same prefix; when a
    ///   file is opened, the oldest are deleted. Files of other prefixes are never touched.
    ///
    /// Errors: `InvalidInput` for `max_files` or `max_size` of `Some(0)`, or a prefix that is
    /// empty or holds a path separator; the error of creating `dir`, or `dir` not being a
    /// directory. The first file is opened by the first line.
    ///
    /// ```
    /// use ws_observe_runtime::logs::file::{RotatingFile, Rotation};
    ///
    /// let dir = std::env::temp_dir().join(format!("ws-observe-doc-new-{}", std::process::id()));
    /// let file = RotatingFile::new(dir.join("logs"), "app", Rotation::Hourly, None, Some(24))?;
    /// assert!(dir.join("logs").is_dir());
    /// assert!(RotatingFile::new(&dir, "app", Rotation::Hourly, None, Some(0)).is_err());
    /// # drop(file);
    /// std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new(
        dir: impl Into<PathBuf>,
        prefix: &str,
        rotation: Rotation,
        max_size: Option<u64>,
        max_files: Option<usize>,
    ) -> io::Result<Self> {
        let invalid = |why: &str| io::Error::new(ErrorKind::InvalidInput, why.to_owned());
        if max_files == Some(0) {
            return Err(invalid(
                "max_files must be at least 1: it counts the active file",
            ));
        }
        if max_size == Some(0) {
            return Err(invalid("max_size must be more than 0 bytes"));
        }
        if prefix.is_empty() || prefix.contains(['/', '\\']) {
            return Err(invalid(
                "the log file prefix must be non-empty, without path separators",
            ));
        }
        let dir = dir.into();
        // Fails here, at start-up, if `dir` is a file or cannot be created.
        fs::create_dir_all(&dir)?;
        Ok(Self {
            dir,
            prefix: prefix.to_owned(),
            rotation,
            max_size,
            max_files,
            clock: Box::new(SystemTime::now),
            active: None,
            retry_at: 0,
            retry_secs: FIRST_RETRY_SECS,
            failed: 0,
        })
    }

    /// Uses `clock` instead of `SystemTime::now` for rotation times, file names and retry
    /// delays: for tests and replays. Call it before the first write.
    ///
    /// ```
    /// use std::io::Write;
    /// use std::time::{Duration, UNIX_EPOCH};
    /// use ws_observe_runtime::logs::file::{RotatingFile, Rotation};
    ///
    /// let dir = std::env::temp_dir().join(format!("ws-observe-doc-clock-{}", std::process::id()));
    /// let mut file = RotatingFile::new(&dir, "app", Rotation::Daily, None, None)?
    ///     .with_clock(|| UNIX_EPOCH + Duration::from_secs(1_773_153_432));
    /// file.write_all(b"line\n")?;
    /// drop(file);
    /// assert!(dir.join("app.2026-03-10T14-37-12Z.000000.log").is_file());
    /// std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn with_clock(mut self, clock: impl Fn() -> SystemTime + Send + 'static) -> Self {
        self.clock = Box::new(clock);
        self
    }

    /// Lines this writer could not write. The process-wide total, over all writers, is in
    /// `ws_observe_log_lines_dropped_total`.
    ///
    /// ```
    /// use ws_observe_runtime::logs::file::{RotatingFile, Rotation};
    ///
    /// let dir = std::env::temp_dir().join(format!("ws-observe-doc-failed-{}", std::process::id()));
    /// let file = RotatingFile::new(&dir, "app", Rotation::Never, None, None)?;
    /// assert_eq!(file.lines_failed(), 0);
    /// std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn lines_failed(&self) -> u64 {
        self.failed
    }

    fn now(&self) -> u64 {
        (self.clock)()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }

    fn write_line(&mut self, line: &[u8]) {
        let now = self.now();
        if let Some(active) = &mut self.active {
            // Never empty: a file is opened for a line, which it takes whole, however long.
            let full = self
                .max_size
                .is_some_and(|max| active.len + line.len() as u64 > max);
            let due = active.deadline.is_some_and(|deadline| now >= deadline);
            if full || due || active.is_gone(now) {
                self.close(now);
            }
        }
        if self.active.is_none() {
            if now < self.retry_at {
                self.count_failed(1);
                return;
            }
            match self.open(now) {
                Ok(active) => self.active = Some(active),
                Err(_) => {
                    self.broken(now, 1);
                    return;
                }
            }
        }
        let Some(active) = &mut self.active else {
            return;
        };
        active.buf.extend_from_slice(line);
        active.line_ends.push(active.buf.len());
        active.len += line.len() as u64;
        if active.buf.len() >= BUF_CAPACITY
            && let Err((_, lost)) = active.flush()
        {
            self.broken(now, lost);
        }
    }

    /// Flushes and closes the active file.
    fn close(&mut self, now: u64) {
        if let Some(mut active) = self.active.take()
            && let Err((_, lost)) = active.flush()
        {
            self.broken(now, lost);
        }
    }

    /// Counts `lost` lines, abandons the active file (it may end in a torn line) and waits
    /// before opening the next one.
    fn broken(&mut self, now: u64, lost: u64) {
        self.count_failed(lost);
        self.active = None;
        self.retry_at = now + self.retry_secs;
        self.retry_secs = (self.retry_secs * 2).min(MAX_RETRY_SECS);
    }

    fn count_failed(&mut self, lines: u64) {
        self.failed += lines;
        LINES_FAILED.fetch_add(lines, Ordering::Relaxed);
    }

    /// Opens a new file, named after every file of the prefix already there, then deletes the
    /// oldest past `max_files`.
    fn open(&self, now: u64) -> io::Result<Active> {
        // Again: the directory may have been removed since.
        fs::create_dir_all(&self.dir)?;
        let existing = files_of(&self.dir, &self.prefix)?;
        let now_stamp = stamp(now);
        let (stamp, mut seq) = match existing.last() {
            Some((stamp, seq, _)) if *stamp >= now_stamp => (stamp.clone(), seq.saturating_add(1)),
            _ => (now_stamp, 0),
        };
        let (file, path) = loop {
            let path = self
                .dir
                .join(format!("{}.{stamp}.{seq:06}.log", self.prefix));
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(file) => break (file, path),
                // Another process took the name since the listing.
                Err(e) if e.kind() == ErrorKind::AlreadyExists && seq < 1_000_000 => seq += 1,
                Err(e) => return Err(e),
            }
        };
        if let Some(max_files) = self.max_files {
            // The new file counts as one of them.
            let excess = (existing.len() + 1).saturating_sub(max_files);
            for (_, _, old) in &existing[..excess] {
                // Already gone (another writer's retention) is fine.
                let _ = fs::remove_file(old);
            }
        }
        Ok(Active {
            file,
            path,
            buf: Vec::with_capacity(BUF_CAPACITY),
            line_ends: Vec::new(),
            len: 0,
            deadline: self.rotation.deadline(now),
            check_at: now + CHECK_SECS,
        })
    }
}

impl Active {
    /// Writes the buffer out. On error: the error and the number of lines not wholly written.
    fn flush(&mut self) -> Result<(), (io::Error, u64)> {
        let mut written = 0;
        let mut error = None;
        while written < self.buf.len() {
            match self.file.write(&self.buf[written..]) {
                Ok(0) => {
                    error = Some(io::Error::from(ErrorKind::WriteZero));
                    break;
                }
                Ok(n) => written += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    error = Some(e);
                    break;
                }
            }
        }
        let lost = self.line_ends.iter().filter(|&&end| end > written).count() as u64;
        self.buf.clear();
        // A huge line must not keep its memory for the life of the file.
        self.buf.shrink_to(BUF_CAPACITY);
        self.line_ends.clear();
        error.map_or(Ok(()), |e| Err((e, lost)))
    }

    /// Whether the file was deleted (or its directory was): lines written to it would go
    /// nowhere. Checked at most once per clock second, as it costs a system call.
    fn is_gone(&mut self, now: u64) -> bool {
        if now < self.check_at {
            return false;
        }
        self.check_at = now + CHECK_SECS;
        fs::metadata(&self.path).is_err()
    }
}

impl Write for RotatingFile {
    /// Takes one whole line. Always `Ok`: a line that cannot be written is counted (see
    /// [`RotatingFile`]).
    fn write(&mut self, line: &[u8]) -> io::Result<usize> {
        if !line.is_empty() {
            self.write_line(line);
        }
        Ok(line.len())
    }

    /// Pushes buffered lines to the OS. On error, the lost lines are counted and the error is
    /// returned; the next line goes into a fresh file after the retry delay.
    fn flush(&mut self) -> io::Result<()> {
        let Some(active) = &mut self.active else {
            return Ok(());
        };
        match active.flush() {
            Ok(()) => {
                self.retry_secs = FIRST_RETRY_SECS;
                Ok(())
            }
            Err((error, lost)) => {
                let now = self.now();
                self.broken(now, lost);
                Err(error)
            }
        }
    }
}

impl Drop for RotatingFile {
    fn drop(&mut self) {
        // Errors are counted by flush; nobody is left to return them to.
        let _ = self.flush();
    }
}

impl fmt::Debug for RotatingFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RotatingFile")
            .field("dir", &self.dir)
            .field("prefix", &self.prefix)
            .field("rotation", &self.rotation)
            .field("max_size", &self.max_size)
            .field("max_files", &self.max_files)
            .field("active", &self.active.as_ref().map(|a| &a.path))
            .field("lines_failed", &self.failed)
            .finish_non_exhaustive()
    }
}

/// `2026-03-10T14-37-12Z`: RFC 3339 to the second, with `-` for `:` (not allowed in Windows
/// file names). Fixed width, so text order is time order.
fn stamp(secs: u64) -> String {
    let rfc3339 = crate::timestamp::rfc3339(UNIX_EPOCH + std::time::Duration::from_secs(secs));
    format!("{}Z", rfc3339[..19].replace(':', "-"))
}

/// Whether `s` has the shape of a [`stamp`].
fn is_stamp(s: &str) -> bool {
    const SHAPE: &[u8] = b"0000-00-00T00-00-00Z";
    s.len() == SHAPE.len()
        && s.bytes()
            .zip(SHAPE)
            .all(|(c, &shape)| c == shape || (shape == b'0' && c.is_ascii_digit()))
}

/// The files named `{prefix}.{stamp}.{n}.log` in `dir`, oldest first: (stamp, n, path).
/// Strict, so that prefix `app` does not take `app.access.*.log` for its own.
fn files_of(dir: &Path, prefix: &str) -> io::Result<Vec<(String, u64, PathBuf)>> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| {
            n.strip_prefix(prefix)?
                .strip_prefix('.')?
                .strip_suffix(".log")
        }) else {
            continue;
        };
        let Some((stamp, seq)) = rest.split_once('.') else {
            continue;
        };
        if !is_stamp(stamp) || !seq.bytes().all(|c| c.is_ascii_digit()) {
            continue;
        }
        if let Ok(seq) = seq.parse::<u64>() {
            files.push((stamp.to_owned(), seq, entry.path()));
        }
    }
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps() {
        assert_eq!(stamp(0), "1970-01-01T00-00-00Z");
        assert_eq!(stamp(1_773_153_432), "2026-03-10T14-37-12Z");
        assert!(is_stamp(&stamp(1_773_153_432)));
        assert!(!is_stamp("2026-03-10T14:37:12Z"));
        assert!(!is_stamp("2026-03-10T14-37-12"));
    }

    /// A write error on the OS side (here: `/dev/full`) counts every buffered line, in the
    /// writer and in the process-wide counter, and the next line goes into a fresh file.
    #[cfg(target_os = "linux")]
    #[test]
    fn failed_flush_counts_lines_process_wide() {
        let dir = std::env::temp_dir().join(format!("ws-observe-unit-full-{}", std::process::id()));
        let mut writer = RotatingFile::new(&dir, "app", Rotation::Never, None, None).unwrap();
        let full = OpenOptions::new().write(true).open("/dev/full").unwrap();
        writer.active = Some(Active {
            file: full,
            path: PathBuf::from("/dev/full"),
            buf: Vec::new(),
            line_ends: Vec::new(),
            len: 0,
            deadline: None,
            check_at: u64::MAX,
        });
        let before = lines_failed();
        writer.write_all(b"one\n").unwrap();
        writer.write_all(b"two\n").unwrap();
        assert!(writer.flush().is_err());
        assert_eq!(writer.lines_failed(), 2);
        assert_eq!(lines_failed() - before, 2);
        assert!(writer.active.is_none(), "the broken file is abandoned");

        // Within the retry delay: counted, nothing opened.
        writer.retry_at = u64::MAX;
        writer.write_all(b"three\n").unwrap();
        assert_eq!(writer.lines_failed(), 3);
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 0);

        writer.retry_at = 0;
        writer.write_all(b"four\n").unwrap();
        writer.flush().unwrap();
        let files = files_of(&dir, "app").unwrap();
        assert_eq!(files.len(), 1);
        assert_eq!(fs::read_to_string(&files[0].2).unwrap(), "four\n");
        drop(writer);
        fs::remove_dir_all(&dir).unwrap();
    }
}
