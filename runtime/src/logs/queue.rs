//! The non-blocking writer in front of stdout and the log files: a bounded queue and a thread
//! of its own per destination, so a slow terminal or disk never stalls a handler. A line that
//! does not fit in the queue is dropped and counted, never waited for.
//!
//! Written here rather than taken from `tracing-appender`, whose `non_blocking` does the same:
//! its guard waits a fixed second on drop, where ws-observe's shutdown has one bound for
//! everything (`WS_OBSERVE_SHUTDOWN_TIMEOUT`), and it brings eight crates (`time` among them)
//! to every build for a hundred lines (BENCHMARKS.md, build cost).

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::time::{Duration, Instant};

enum Message {
    Line(Vec<u8>),
    /// Write what came before, flush, then say so.
    Finish(SyncSender<()>),
}

/// The writing end: each `write` is one whole line queued (or dropped and counted).
#[derive(Clone)]
pub(crate) struct QueuedWriter {
    queue: SyncSender<Message>,
    dropped: Arc<AtomicU64>,
}

/// Ends the writer thread once what was queued is written, within a bound.
pub(crate) struct QueueGuard {
    queue: SyncSender<Message>,
}

/// Starts the thread writing to `writer`; `lines` queued at most.
pub(crate) fn queued(
    writer: Box<dyn Write + Send>,
    lines: usize,
    thread: &str,
) -> std::io::Result<(QueuedWriter, QueueGuard, Arc<AtomicU64>)> {
    let (queue, receiver) = mpsc::sync_channel(lines);
    let dropped = Arc::new(AtomicU64::new(0));
    std::thread::Builder::new()
        .name(thread.to_owned())
        .spawn(move || write_loop(writer, receiver))?;
    Ok((
        QueuedWriter {
            queue: queue.clone(),
            dropped: Arc::clone(&dropped),
        },
        QueueGuard { queue },
        dropped,
    ))
}

fn write_loop(mut writer: Box<dyn Write + Send>, lines: Receiver<Message>) {
    loop {
        // Flushed whenever the queue runs empty: a line is on its way as soon as nothing
        // follows it, and a burst is written in one go.
        let message = match lines.try_recv() {
            Ok(message) => message,
            Err(_) => {
                let _ = writer.flush();
                match lines.recv() {
                    Ok(message) => message,
                    Err(_) => return,
                }
            }
        };
        match message {
            // A failed write is the writer's to count (the log files do); stdout has nowhere
            // else to report to.
            Message::Line(line) => {
                let _ = writer.write_all(&line);
            }
            Message::Finish(done) => {
                let _ = writer.flush();
                let _ = done.send(());
                return;
            }
        }
    }
}

impl Write for QueuedWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.queue.try_send(Message::Line(buf.to_vec())) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl QueueGuard {
    /// Waits until every line queued so far is written and flushed, or `deadline` passes
    /// (a hung disk or terminal: the thread is left behind, not waited for).
    pub(crate) fn finish(self, deadline: Instant) {
        let (done, finished) = mpsc::sync_channel(1);
        let mut message = Message::Finish(done);
        loop {
            match self.queue.try_send(message) {
                Ok(()) => break,
                Err(TrySendError::Full(back)) if Instant::now() < deadline => {
                    message = back;
                    std::thread::sleep(Duration::from_millis(2));
                }
                Err(_) => return,
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if let Err(RecvTimeoutError::Timeout) = finished.recv_timeout(left) {
            // Counted nowhere on purpose: the lines may still be written after we return.
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// A writer into a shared buffer, optionally slow.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>, Duration);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            std::thread::sleep(self.1);
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn every_queued_line_is_written_in_order_before_finish_returns() {
        let out = Shared::default();
        let (mut writer, guard, dropped) = queued(Box::new(out.clone()), 1024, "t").unwrap();
        for i in 0..500 {
            writer.write_all(format!("{i}\n").as_bytes()).unwrap();
        }
        guard.finish(Instant::now() + Duration::from_secs(10));
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        let expected: String = (0..500).map(|i| format!("{i}\n")).collect();
        assert_eq!(text, expected);
        assert_eq!(dropped.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn a_full_queue_drops_and_counts_and_finish_keeps_its_bound() {
        let out = Shared(Arc::default(), Duration::from_millis(50));
        let (mut writer, guard, dropped) = queued(Box::new(out.clone()), 2, "t").unwrap();
        let started = Instant::now();
        for _ in 0..20 {
            writer.write_all(b"line\n").unwrap();
        }
        // Never waited on the slow writer.
        assert!(started.elapsed() < Duration::from_millis(500));
        let written_at_most = 3; // one being written, two queued
        assert!(dropped.load(Ordering::Relaxed) >= 20 - written_at_most);
        let finishing = Instant::now();
        guard.finish(Instant::now() + Duration::from_millis(20));
        assert!(finishing.elapsed() < Duration::from_millis(500));
    }
}
