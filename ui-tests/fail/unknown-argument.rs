// An unknown argument is an error at its key that lists the valid arguments.
use ws_observe::ws_observe;

#[ws_observe(nmae = "on_message")]
fn on_message() {}

fn main() {
    on_message();
}
