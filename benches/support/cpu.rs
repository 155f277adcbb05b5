//! CPU time from Linux's `/proc` (`None` elsewhere): what threads spent, next to the wall time
//! of the same work. Indicative only: ticks of 10 ms, summed over many iterations.

use std::time::{Duration, Instant};

/// `/proc` reports CPU time in USER_HZ ticks, 100 a second on every mainstream Linux target.
const TICK: Duration = Duration::from_millis(10);

/// The wall time of some work and the CPU time spent meanwhile.
pub struct Usage {
    pub wall: Duration,
    /// By the thread that did the work.
    pub caller_cpu: Option<Duration>,
    /// By this process's threads of the given name.
    pub threads_cpu: Option<Duration>,
}

/// Runs `work` on the calling thread, timing it and the CPU time of the calling thread and of
/// this process's threads named `threads` (which the work keeps busy).
pub fn measure(threads: &str, work: impl FnOnce()) -> Usage {
    let threads_before = threads_cpu(threads);
    let caller_before = current_thread_cpu();
    let start = Instant::now();
    work();
    let wall = start.elapsed();
    let elapsed =
        |before: Option<Duration>, after: Option<Duration>| Some(after?.saturating_sub(before?));
    Usage {
        wall,
        caller_cpu: elapsed(caller_before, current_thread_cpu()),
        threads_cpu: elapsed(threads_before, threads_cpu(threads)),
    }
}

/// utime + stime of one `/proc/.../stat` file.
fn stat_cpu(stat: &str) -> Option<Duration> {
    // Fields after the parenthesised command name start at field 3 (state); utime and stime
    // are fields 14 and 15.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u32 = fields.next()?.parse().ok()?;
    let stime: u32 = fields.next()?.parse().ok()?;
    Some(TICK * (utime + stime))
}

/// CPU time of this process's threads named `name`.
fn threads_cpu(name: &str) -> Option<Duration> {
    let mut total = Duration::ZERO;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let path = task.ok()?.path();
        let Ok(comm) = std::fs::read_to_string(path.join("comm")) else {
            continue;
        };
        if comm.trim_end() != name {
            continue;
        }
        if let Some(cpu) = std::fs::read_to_string(path.join("stat"))
            .ok()
            .and_then(|stat| stat_cpu(&stat))
        {
            total += cpu;
        }
    }
    Some(total)
}

/// CPU time of the calling thread.
fn current_thread_cpu() -> Option<Duration> {
    stat_cpu(&std::fs::read_to_string("/proc/thread-self/stat").ok()?)
}
