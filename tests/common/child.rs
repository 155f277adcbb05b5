//! What a child process (this test binary run again for one test, because `init()` installs
//! process-wide state) printed, and the `MARKER key=value` lines it reports to its parent.

use std::fmt::Display;

/// Prints `marker key=value` for the parent to read back with [`ChildOutput::value`].
pub fn report(marker: &str, key: &str, value: impl Display) {
    println!("{marker} {key}={value}");
}

/// A finished child's output.
pub struct ChildOutput {
    pub test: String,
    pub stdout: String,
    pub stderr: String,
    /// The prefix of the child's `report` lines.
    pub marker: &'static str,
}

impl std::fmt::Display for ChildOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "child {}\nstdout:\n{}\nstderr:\n{}",
            self.test, self.stdout, self.stderr
        )
    }
}

impl ChildOutput {
    /// What the child `report`ed under `key` (the harness may print `test name ... ` before
    /// it on the same line).
    pub fn value(&self, key: &str) -> &str {
        let marker = format!("{} {key}=", self.marker);
        let at = self
            .stdout
            .find(&marker)
            .unwrap_or_else(|| panic!("no {key} reported by {self}"));
        self.stdout[at + marker.len()..]
            .split_whitespace()
            .next()
            .unwrap_or("")
    }
}
