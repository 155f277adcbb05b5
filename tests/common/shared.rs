//! A fixture several tests share (back-ends started once, for tests that each check one
//! behaviour of them): started by the first test that asks for it, dropped when the test
//! binary exits.
//!
//! A `static` is never dropped, so its processes would outlive the binary: an `atexit`
//! handler drops the fixture instead, after the last test.

use std::ops::Deref;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, Once, PoisonError};

/// Declared in a `static`; [`Shared::get`] starts or returns the fixture.
pub struct Shared<T: Send + Sync + 'static> {
    slot: Mutex<Option<Arc<T>>>,
    on_failure: fn(&T),
}

impl<T: Send + Sync + 'static> Shared<T> {
    /// `on_failure` runs when a test using the fixture fails, for instance to keep its
    /// scratch directory.
    pub const fn new(on_failure: fn(&T)) -> Self {
        Shared {
            slot: Mutex::new(None),
            on_failure,
        }
    }

    /// The fixture, started by `start` in the first caller while the others wait. If `start`
    /// fails, every test asking for the fixture fails rather than starting it again.
    pub fn get(&'static self, start: impl FnOnce() -> T) -> SharedRef<T> {
        let mut slot = self.slot.lock().unwrap_or_else(|_| {
            panic!("the shared fixture failed to start: see the first test that failed")
        });
        let value = match &*slot {
            Some(value) => Arc::clone(value),
            None => {
                let value = Arc::new(start());
                *slot = Some(Arc::clone(&value));
                at_exit(move || {
                    drop(
                        self.slot
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .take(),
                    );
                });
                value
            }
        };
        SharedRef {
            value,
            on_failure: self.on_failure,
        }
    }
}

/// A test's handle on the fixture: on a failing test it calls the fixture's `on_failure`.
pub struct SharedRef<T: 'static> {
    value: Arc<T>,
    on_failure: fn(&T),
}

impl<T> Deref for SharedRef<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T> Drop for SharedRef<T> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            (self.on_failure)(&self.value);
        }
    }
}

type ExitTask = Box<dyn FnOnce() + Send>;

static AT_EXIT: Mutex<Vec<ExitTask>> = Mutex::new(Vec::new());

/// Runs `task` when the process exits normally (libtest's `main` returns or calls
/// `process::exit`, both of which run the C library's exit handlers).
fn at_exit(task: impl FnOnce() + Send + 'static) {
    static REGISTER: Once = Once::new();
    REGISTER.call_once(|| {
        unsafe extern "C" {
            /// The C library's (std links it on every platform these tests run on).
            fn atexit(callback: extern "C" fn()) -> std::ffi::c_int;
        }
        // SAFETY: `run_at_exit` is an `extern "C" fn()` that never unwinds.
        let status = unsafe { atexit(run_at_exit) };
        assert_eq!(status, 0, "atexit failed");
    });
    AT_EXIT
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(Box::new(task));
}

extern "C" fn run_at_exit() {
    let tasks = std::mem::take(&mut *AT_EXIT.lock().unwrap_or_else(PoisonError::into_inner));
    for task in tasks {
        // A panic must not unwind out of an `extern "C"` function (it would abort).
        let _ = std::panic::catch_unwind(AssertUnwindSafe(task));
    }
}
