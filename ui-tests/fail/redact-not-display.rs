// A redacted argument must have a `Display` text to pseudonymise: the error is at its name.
use ws_observe::ws_observe;

struct Secret(Vec<u8>);

#[ws_observe(redact(secret))]
fn store(secret: Secret) -> usize {
    secret.0.len()
}

fn main() {
    store(Secret(vec![1]));
}
