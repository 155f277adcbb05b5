// `redact` names an argument the function does not have: the error is at that name and lists
// the arguments.
use ws_observe::ws_observe;

#[ws_observe(redact(user, emial))]
fn join(user: u64, email: &str) -> usize {
    email.len() + user as usize
}

fn main() {
    join(1, "a");
}
