//! Compile-time behaviour of `#[ws_observe]` and `#[ws_handler]`, with trybuild.
//!
//! - `ui-tests/pass/*.rs`: every supported function shape compiles (warning-free under
//!   `#![deny(warnings)]` in `deny_warnings.rs`) and runs.
//! - `ui-tests/fail/*.rs`: one misuse per file, named `<argument>-<problem>.rs`; the expected
//!   compiler output is the `.stderr` file beside it.
//!
//! After changing a message or a span on purpose, regenerate the expected output with
//!
//! ```text
//! TRYBUILD=overwrite cargo test --test ui
//! ```
//!
//! and read the diff of every `.stderr` before committing it.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("ui-tests/pass/*.rs");
    cases.compile_fail("ui-tests/fail/*.rs");
}
