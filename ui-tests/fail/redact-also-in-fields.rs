// An argument both redacted and recorded by `fields(...)` would leak its value: refused at the
// redacted name.
use ws_observe::ws_observe;

#[ws_observe(fields(email), redact(email))]
fn join(email: &str) -> usize {
    email.len()
}

fn main() {
    join("a@b.c");
}
