// A `fields(...)` name that is a key of every log line (`message`, `spans`...) would clash with
// that key: a compile error at the name.
use ws_observe::ws_observe;

#[ws_observe(fields(message = 1))]
fn chat() {}

#[ws_observe(fields(spans = 3))]
fn other() {}

fn main() {
    chat();
    other();
}
