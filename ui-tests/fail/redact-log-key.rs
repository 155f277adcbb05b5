// A redacted argument or a field named like a key of every log line (`message`, `spans`...)
// would clash with that key: a compile error at the name.
use ws_observe::ws_observe;

#[ws_observe(redact(message))]
fn chat(message: &str) -> usize {
    message.len()
}

#[ws_observe(fields(spans = 3))]
fn other() {}

fn main() {
    chat("hi");
    other();
}
