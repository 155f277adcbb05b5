// A `fields(...)` value naming a missing variable is an error at the user's token.
use ws_observe::ws_handler;

#[ws_handler(fields(user = %usr))]
async fn on_message(user: &str) -> usize {
    user.len()
}

fn main() {
    let _ = on_message("ann");
}
