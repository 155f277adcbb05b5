// A repeated argument is an error at its second key.
use ws_observe::ws_observe;

#[ws_observe(name = "first", name = "second")]
fn on_message() {}

fn main() {
    on_message();
}
