// `redact` takes argument names, not expressions: the error is at the expression and shows
// how to record the pseudonym of one.
use ws_observe::ws_observe;

struct User {
    id: u64,
}

#[ws_observe(redact(user.id))]
fn join(user: &User) -> u64 {
    user.id
}

fn main() {
    join(&User { id: 1 });
}
