// A `fields(...)` name that ws-observe records itself is an error at that name.
use ws_observe::ws_observe;

#[ws_observe(fields("error.message" = "spoofed"))]
fn on_message() {}

fn main() {
    on_message();
}
