// A field listed twice in `fields(...)` is an error at its second name.
use ws_observe::ws_observe;

#[ws_observe(fields(room = 1, room = 2))]
fn on_message() {}

fn main() {
    on_message();
}
