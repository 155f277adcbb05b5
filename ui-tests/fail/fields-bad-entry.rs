// A `fields(...)` entry that is not `key = value` is an error at the bad token.
use ws_observe::ws_observe;

#[ws_observe(fields(user = ))]
fn on_message(user: &str) {
    let _ = user;
}

fn main() {
    on_message("ann");
}
