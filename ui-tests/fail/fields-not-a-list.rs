// `fields = ...` instead of `fields(...)` is an error at the key that shows the list form.
use ws_observe::ws_observe;

#[ws_observe(fields = "user")]
fn on_message() {}

fn main() {
    on_message();
}
