// `redact()` lists nothing, and a name listed twice: both reported, each at its token.
use ws_observe::ws_observe;

#[ws_observe(redact())]
fn a(user: u64) -> u64 {
    user
}

#[ws_observe(redact(user, user))]
fn b(user: u64) -> u64 {
    user
}

fn main() {
    a(1);
    b(1);
}
