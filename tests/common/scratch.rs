//! A test's own scratch directory under the system's temporary directory, removed when dropped
//! unless the test failed: then the logs and data in it are the evidence.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

pub struct Scratch {
    dir: PathBuf,
    keep: AtomicBool,
}

impl Scratch {
    /// An empty `ws-observe-{purpose}-{pid}-{n}` directory (`n` counts the scratch
    /// directories of this process).
    pub fn new(purpose: &str) -> Scratch {
        static INSTANCE: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "ws-observe-{purpose}-{}-{}",
            std::process::id(),
            INSTANCE.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        Scratch {
            dir,
            keep: AtomicBool::new(false),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `name` inside the directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Keeps the directory when dropped, for a failure seen by another thread than the one
    /// that drops it (a test of a fixture shared by several tests).
    pub fn keep(&self) {
        self.keep.store(true, Ordering::Relaxed);
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if std::thread::panicking() || self.keep.load(Ordering::Relaxed) {
            eprintln!("kept {} for inspection", self.dir.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
