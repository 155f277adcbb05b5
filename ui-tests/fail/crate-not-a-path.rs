// A `crate` value that is not a path is an error at the string.
use ws_observe::ws_observe;

#[ws_observe(crate = "my reexports")]
fn on_message() {}

fn main() {
    on_message();
}
