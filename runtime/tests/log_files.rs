//! Rotating log files: rotation by size and time, retention, names, buffering and failures,
//! on real files in a fresh temporary directory per test.

use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ws_observe_runtime::logs::file::{RotatingFile, Rotation, parse_size};

/// 2026-03-10T14:37:12Z.
const MID_HOUR: u64 = 1_773_153_432;
/// 2026-03-10T15:00:00Z.
const NEXT_HOUR: u64 = 1_773_154_800;
/// 2026-03-10T23:10:00Z.
const LATE_EVENING: u64 = 1_773_184_200;
/// 2026-03-11T00:00:00Z.
const MIDNIGHT: u64 = 1_773_187_200;

/// A temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(test: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "ws-observe-log-files-{test}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        // The directory may be a file in the failure tests.
        let _ = std::fs::remove_dir_all(&self.0);
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A clock the test moves, in seconds since the epoch.
#[derive(Clone)]
struct Clock(Arc<AtomicU64>);

impl Clock {
    fn at(secs: u64) -> Self {
        Self(Arc::new(AtomicU64::new(secs)))
    }

    fn set(&self, secs: u64) {
        self.0.store(secs, Ordering::SeqCst);
    }

    fn advance(&self, secs: u64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }

    fn reader(&self) -> impl Fn() -> SystemTime + Send + 'static {
        let secs = self.0.clone();
        move || UNIX_EPOCH + Duration::from_secs(secs.load(Ordering::SeqCst))
    }
}

/// The names of the files in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

/// The contents of the `*.log` files in `dir`, in name order.
fn contents(dir: &Path) -> Vec<String> {
    names(dir)
        .iter()
        .filter(|n| n.ends_with(".log"))
        .map(|n| std::fs::read_to_string(dir.join(n)).unwrap())
        .collect()
}

/// A 30-byte line: `line 007 ...\n`.
fn line(i: usize) -> String {
    format!("line {i:03} {}\n", ".".repeat(20))
}

/// `writer` (as `RotatingFile::new` returned it) on the test's `clock`.
fn clocked(writer: std::io::Result<RotatingFile>, clock: &Clock) -> RotatingFile {
    writer.unwrap().with_clock(clock.reader())
}

fn write_lines(writer: &mut RotatingFile, lines: impl IntoIterator<Item = usize>) {
    for i in lines {
        writer.write_all(line(i).as_bytes()).unwrap();
    }
}

/// Every line of every file, in name order, checking that each file is whole lines.
fn all_lines(dir: &Path) -> Vec<String> {
    let mut lines = Vec::new();
    for content in contents(dir) {
        assert!(content.ends_with('\n'), "a line was split: {content:?}");
        lines.extend(content.lines().map(|l| format!("{l}\n")));
    }
    lines
}

#[test]
fn size_rotation_keeps_whole_lines_within_the_limit() {
    let tmp = TempDir::new("size");
    let mut writer = RotatingFile::new(&tmp.0, "app", Rotation::Never, Some(100), None).unwrap();
    write_lines(&mut writer, 0..10);
    drop(writer);

    // 30-byte lines, 100 bytes per file: 3 lines (90 bytes) each, then the last one.
    let files = contents(&tmp.0);
    let sizes: Vec<usize> = files.iter().map(|c| c.len()).collect();
    assert_eq!(sizes, [90, 90, 90, 30], "{files:?}");
    assert_eq!(all_lines(&tmp.0), (0..10).map(line).collect::<Vec<_>>());
}

#[test]
fn a_file_may_reach_the_limit_exactly() {
    let tmp = TempDir::new("exact");
    let mut writer = RotatingFile::new(&tmp.0, "app", Rotation::Never, Some(90), None).unwrap();
    write_lines(&mut writer, 0..6);
    drop(writer);

    let sizes: Vec<usize> = contents(&tmp.0).iter().map(|c| c.len()).collect();
    assert_eq!(sizes, [90, 90]);
}

#[test]
fn a_line_longer_than_the_limit_gets_a_file_of_its_own() {
    let tmp = TempDir::new("long-line");
    let mut writer = RotatingFile::new(&tmp.0, "app", Rotation::Never, Some(100), None).unwrap();
    let long = format!("{}\n", "x".repeat(249));
    writer.write_all(long.as_bytes()).unwrap(); // Into the empty first file.
    write_lines(&mut writer, 0..1);
    writer.write_all(long.as_bytes()).unwrap();
    write_lines(&mut writer, 1..2);
    drop(writer);

    assert_eq!(
        contents(&tmp.0),
        [long.clone(), line(0), long, line(1)],
        "each long line whole, alone in its file"
    );
}

#[test]
fn hourly_rotation_at_full_hours_utc() {
    let tmp = TempDir::new("hourly");
    let clock = Clock::at(MID_HOUR);
    let mut writer = clocked(
        RotatingFile::new(&tmp.0, "app", Rotation::Hourly, None, None),
        &clock,
    );
    write_lines(&mut writer, 0..1);
    clock.set(NEXT_HOUR - 1);
    write_lines(&mut writer, 1..2);
    clock.set(NEXT_HOUR);
    write_lines(&mut writer, 2..3);
    clock.set(NEXT_HOUR + 3599);
    write_lines(&mut writer, 3..4);
    clock.set(NEXT_HOUR + 3600);
    write_lines(&mut writer, 4..5);
    drop(writer);

    assert_eq!(
        names(&tmp.0),
        [
            "app.2026-03-10T14-37-12Z.000000.log",
            "app.2026-03-10T15-00-00Z.000000.log",
            "app.2026-03-10T16-00-00Z.000000.log",
        ]
    );
    assert_eq!(
        contents(&tmp.0),
        [line(0) + &line(1), line(2) + &line(3), line(4)]
    );
}

#[test]
fn an_hour_without_lines_opens_no_file() {
    let tmp = TempDir::new("quiet-hour");
    let clock = Clock::at(MID_HOUR);
    let mut writer = clocked(
        RotatingFile::new(&tmp.0, "app", Rotation::Hourly, None, None),
        &clock,
    );
    assert!(names(&tmp.0).is_empty(), "no file before the first line");
    write_lines(&mut writer, 0..1);
    clock.set(NEXT_HOUR + 2 * 3600 + 5);
    write_lines(&mut writer, 1..2);
    drop(writer);

    assert_eq!(
        names(&tmp.0),
        [
            "app.2026-03-10T14-37-12Z.000000.log",
            "app.2026-03-10T17-00-05Z.000000.log",
        ]
    );
}

#[test]
fn daily_rotation_at_midnight_utc() {
    let tmp = TempDir::new("daily");
    let clock = Clock::at(LATE_EVENING);
    let mut writer = clocked(
        RotatingFile::new(&tmp.0, "app", Rotation::Daily, None, None),
        &clock,
    );
    write_lines(&mut writer, 0..1);
    clock.set(MIDNIGHT - 1);
    write_lines(&mut writer, 1..2);
    clock.set(MIDNIGHT);
    write_lines(&mut writer, 2..3);
    clock.set(MIDNIGHT + 13 * 3600); // Hours pass: same day, same file.
    write_lines(&mut writer, 3..4);
    clock.set(MIDNIGHT + 86_400);
    write_lines(&mut writer, 4..5);
    drop(writer);

    assert_eq!(
        names(&tmp.0),
        [
            "app.2026-03-10T23-10-00Z.000000.log",
            "app.2026-03-11T00-00-00Z.000000.log",
            "app.2026-03-12T00-00-00Z.000000.log",
        ]
    );
    assert_eq!(
        contents(&tmp.0),
        [line(0) + &line(1), line(2) + &line(3), line(4)]
    );
}

#[test]
fn never_rotates_on_time() {
    let tmp = TempDir::new("never");
    let clock = Clock::at(MID_HOUR);
    let mut writer = clocked(
        RotatingFile::new(&tmp.0, "app", Rotation::Never, None, None),
        &clock,
    );
    for i in 0..5 {
        write_lines(&mut writer, i..i + 1);
        clock.advance(40 * 86_400);
    }
    drop(writer);

    assert_eq!(names(&tmp.0), ["app.2026-03-10T14-37-12Z.000000.log"]);
    assert_eq!(all_lines(&tmp.0), (0..5).map(line).collect::<Vec<_>>());
}

#[test]
fn time_and_size_together_whichever_comes_first() {
    let tmp = TempDir::new("both");
    let clock = Clock::at(NEXT_HOUR - 2);
    let mut writer = clocked(
        RotatingFile::new(&tmp.0, "app", Rotation::Hourly, Some(60), None),
        &clock,
    );
    // Size first: three files within one second, numbered in order.
    write_lines(&mut writer, 0..5);
    // Then time, with the file at 30 of 60 bytes.
    clock.set(NEXT_HOUR);
    write_lines(&mut writer, 5..6);
    drop(writer);

    assert_eq!(
        names(&tmp.0),
        [
            "app.2026-03-10T14-59-58Z.000000.log",
            "app.2026-03-10T14-59-58Z.000001.log",
            "app.2026-03-10T14-59-58Z.000002.log",
            "app.2026-03-10T15-00-00Z.000000.log",
        ]
    );
    assert_eq!(
        contents(&tmp.0),
        [line(0) + &line(1), line(2) + &line(3), line(4), line(5)]
    );
}

#[test]
fn names_sort_in_creation_order_when_the_clock_goes_back() {
    let tmp = TempDir::new("clock-back");
    let clock = Clock::at(NEXT_HOUR);
    let mut writer = clocked(
        RotatingFile::new(&tmp.0, "app", Rotation::Never, Some(30), None),
        &clock,
    );
    write_lines(&mut writer, 0..1);
    clock.set(MID_HOUR);
    write_lines(&mut writer, 1..2);
    drop(writer);

    assert_eq!(
        names(&tmp.0),
        [
            "app.2026-03-10T15-00-00Z.000000.log",
            "app.2026-03-10T15-00-00Z.000001.log",
        ]
    );
    assert_eq!(contents(&tmp.0), [line(0), line(1)]);
}

#[test]
fn two_writers_never_share_a_file() {
    let tmp = TempDir::new("two-writers");
    let clock = Clock::at(MID_HOUR);
    let open = || {
        clocked(
            RotatingFile::new(&tmp.0, "app", Rotation::Hourly, None, None),
            &clock,
        )
    };
    let (mut a, mut b) = (open(), open());
    write_lines(&mut a, 0..1);
    write_lines(&mut b, 1..2);
    write_lines(&mut a, 2..3);
    write_lines(&mut b, 3..4);
    drop((a, b));

    assert_eq!(
        names(&tmp.0),
        [
            "app.2026-03-10T14-37-12Z.000000.log",
            "app.2026-03-10T14-37-12Z.000001.log",
        ]
    );
    assert_eq!(contents(&tmp.0), [line(0) + &line(2), line(1) + &line(3)]);
}

#[test]
fn retention_counts_the_active_file() {
    let tmp = TempDir::new("retention");
    let mut writer = RotatingFile::new(&tmp.0, "app", Rotation::Never, Some(30), Some(3)).unwrap();
    write_lines(&mut writer, 0..10);
    writer.flush().unwrap();

    // The active file (line 9) and the two before it.
    assert_eq!(contents(&tmp.0), [line(7), line(8), line(9)]);
    drop(writer);
}

#[test]
fn retention_counts_earlier_files_of_the_prefix_only() {
    let tmp = TempDir::new("retention-earlier");
    let clock = Clock::at(MID_HOUR);
    let mut earlier = clocked(
        RotatingFile::new(&tmp.0, "app", Rotation::Never, Some(30), None),
        &clock,
    );
    write_lines(&mut earlier, 0..4);
    drop(earlier);
    // Files that are not this prefix's: another prefix, and look-alikes.
    let others = [
        "app-2026-03-10T14-37-12Z.000000.log",
        "app.access.2026-03-10T14-37-12Z.000000.log",
        "app.2026-03-10T14-37-12Z.000000.log.gz",
        "app.log",
        "other.2026-03-10T14-37-12Z.000000.log",
    ];
    for name in others {
        std::fs::write(tmp.0.join(name), "keep\n").unwrap();
    }

    clock.advance(1);
    let mut writer = clocked(
        RotatingFile::new(&tmp.0, "app", Rotation::Never, None, Some(3)),
        &clock,
    );
    assert_eq!(names(&tmp.0).len(), 4 + others.len(), "nothing deleted yet");
    write_lines(&mut writer, 4..5);
    drop(writer);

    let mut expected = vec![
        "app.2026-03-10T14-37-12Z.000002.log".to_owned(),
        "app.2026-03-10T14-37-12Z.000003.log".to_owned(),
        "app.2026-03-10T14-37-13Z.000000.log".to_owned(),
    ];
    expected.extend(others.iter().map(|n| n.to_string()));
    expected.sort();
    assert_eq!(names(&tmp.0), expected);
    for name in others {
        assert_eq!(std::fs::read_to_string(tmp.0.join(name)).unwrap(), "keep\n");
    }
}

#[test]
fn invalid_arguments() {
    let tmp = TempDir::new("invalid");
    for (prefix, max_size, max_files) in [
        ("app", None, Some(0)),
        ("app", Some(0), None),
        ("", None, None),
        ("logs/app", None, None),
    ] {
        let err = RotatingFile::new(&tmp.0, prefix, Rotation::Daily, max_size, max_files)
            .expect_err(prefix);
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{prefix:?}");
    }
}

#[test]
fn new_creates_the_directory_and_refuses_a_file() {
    let tmp = TempDir::new("mkdir");
    let nested = tmp.0.join("a/b");
    RotatingFile::new(&nested, "app", Rotation::Daily, None, None).unwrap();
    assert!(nested.is_dir());

    let file = tmp.0.join("a/file");
    std::fs::write(&file, "").unwrap();
    assert!(RotatingFile::new(&file, "app", Rotation::Daily, None, None).is_err());
}

#[test]
fn flush_pushes_to_the_os() {
    let tmp = TempDir::new("flush");
    let mut writer = RotatingFile::new(&tmp.0, "app", Rotation::Never, None, None).unwrap();
    write_lines(&mut writer, 0..2);
    writer.flush().unwrap();
    assert_eq!(contents(&tmp.0), [line(0) + &line(1)]);
    drop(writer);
}

#[test]
fn drop_flushes() {
    let tmp = TempDir::new("drop");
    let mut writer = RotatingFile::new(&tmp.0, "app", Rotation::Never, None, None).unwrap();
    write_lines(&mut writer, 0..2);
    assert_eq!(contents(&tmp.0), [""], "buffered until flushed");
    drop(writer);
    assert_eq!(contents(&tmp.0), [line(0) + &line(1)]);
}

#[test]
fn a_removed_directory_is_created_again() {
    let tmp = TempDir::new("dir-removed");
    let clock = Clock::at(MID_HOUR);
    let mut writer = clocked(
        RotatingFile::new(&tmp.0, "app", Rotation::Never, None, None),
        &clock,
    );
    write_lines(&mut writer, 0..1);
    writer.flush().unwrap();
    std::fs::remove_dir_all(&tmp.0).unwrap();

    // The active file is checked once per second of the clock.
    clock.advance(1);
    write_lines(&mut writer, 1..2);
    writer.flush().unwrap();
    assert_eq!(names(&tmp.0), ["app.2026-03-10T14-37-13Z.000000.log"]);
    assert_eq!(contents(&tmp.0), [line(1)]);
    assert_eq!(writer.lines_failed(), 0);
}

#[test]
fn failed_lines_are_counted_and_writing_resumes() {
    let tmp = TempDir::new("fail");
    let clock = Clock::at(MID_HOUR);
    let mut writer = clocked(
        RotatingFile::new(&tmp.0, "app", Rotation::Never, None, None),
        &clock,
    );
    write_lines(&mut writer, 0..1);
    writer.flush().unwrap();
    // The directory becomes a file: no log file can be opened there.
    std::fs::remove_dir_all(&tmp.0).unwrap();
    std::fs::write(&tmp.0, "not a directory\n").unwrap();

    clock.advance(1);
    write_lines(&mut writer, 1..2); // Fails: Ok, counted, no panic.
    writer.flush().unwrap();
    assert_eq!(writer.lines_failed(), 1);
    assert_eq!(
        std::fs::read_to_string(&tmp.0).unwrap(),
        "not a directory\n"
    );

    // Fixed, but within the retry delay (a second after the failure): counted, not tried.
    std::fs::remove_file(&tmp.0).unwrap();
    write_lines(&mut writer, 2..3);
    assert_eq!(writer.lines_failed(), 2);
    assert!(!tmp.0.exists(), "no attempt to open a file");

    // After the delay, lines go to a fresh file.
    clock.advance(1);
    write_lines(&mut writer, 3..4);
    assert_eq!(writer.lines_failed(), 2);
    drop(writer);
    assert_eq!(names(&tmp.0), ["app.2026-03-10T14-37-14Z.000000.log"]);
    assert_eq!(contents(&tmp.0), [line(3)]);
}

#[test]
fn sizes() {
    for (text, bytes) in [
        ("100MB", 100_000_000),
        ("100MiB", 104_857_600),
        ("100 MiB", 104_857_600),
        (" 64mib ", 64 << 20),
        ("1KB", 1000),
        ("1kib", 1024),
        ("2GB", 2_000_000_000),
        ("2GiB", 2 << 30),
        ("512", 512),
        ("512B", 512),
        ("1 b", 1),
        ("18446744073709551615", u64::MAX),
    ] {
        assert_eq!(parse_size(text), Ok(bytes), "{text:?}");
    }
    for text in [
        "",
        "  ",
        "0",
        "0MB",
        "-1MB",
        "+1MB",
        "1.5GB",
        "MB",
        "100XB",
        "100M",
        "100 M B",
        "1MB 2MB",
        "18446744073709551616",
        "18446744073709551615KB",
        "1_000",
    ] {
        let err = parse_size(text).expect_err(text);
        assert!(err.contains(&format!("{text:?}")), "{err}");
        assert!(err.contains("MiB") && err.contains("MB"), "{err}");
    }
    // The reason names the mistake.
    assert!(parse_size("1.5GB").unwrap_err().contains("fractions"));
    assert!(parse_size("-5").unwrap_err().contains("sign"));
}

#[test]
fn rotations() {
    for (text, rotation) in [
        ("hourly", Rotation::Hourly),
        ("DAILY", Rotation::Daily),
        (" Never\n", Rotation::Never),
    ] {
        assert_eq!(text.parse::<Rotation>(), Ok(rotation), "{text:?}");
    }
    for text in ["", "weekly", "hour", "daily never"] {
        let err = text.parse::<Rotation>().expect_err(text);
        assert!(err.contains("hourly, daily or never"), "{err}");
    }
}
