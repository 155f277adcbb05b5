//! The clock of per-call durations: `quanta`'s TSC-based clock (a few nanoseconds a read,
//! against ~20 ns for `std::time::Instant` through the vDSO; it falls back to the OS clock
//! where the TSC is not usable), read raw at the start and scaled once at the end, straight to
//! nanoseconds: no `Duration` in between, whose construction divides by 10⁹.

use std::sync::OnceLock;

fn clock() -> &'static quanta::Clock {
    static CLOCK: OnceLock<quanta::Clock> = OnceLock::new();
    CLOCK.get_or_init(quanta::Clock::new)
}

/// A raw reading, for [`nanos_since`].
#[inline]
pub(crate) fn start() -> u64 {
    clock().raw()
}

/// Nanoseconds since `start` (0 if the clock seems to have gone back, as the TSCs of two
/// cores may when a call moves between them).
#[inline]
pub(crate) fn nanos_since(start: u64) -> u64 {
    let clock = clock();
    clock.delta_as_nanos(start, clock.raw())
}

/// Calibrates the clock (a few milliseconds the first time), so no handler call pays it.
pub(crate) fn calibrate() {
    let _ = clock();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_a_sleep() {
        let begun = start();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let nanos = nanos_since(begun);
        assert!((20_000_000..2_000_000_000).contains(&nanos), "{nanos}");
    }
}
