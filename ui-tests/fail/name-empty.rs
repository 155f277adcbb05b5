// An empty `name` is an error at the string.
use ws_observe::ws_observe;

#[ws_observe(name = " ")]
fn on_message() {}

fn main() {
    on_message();
}
