// A `name` that is not a string literal is an error at the value.
use ws_observe::ws_observe;

#[ws_observe(name = on_message)]
fn on_message() {}

fn main() {
    on_message();
}
