// An unknown span level is an error at the string that lists the valid levels.
use ws_observe::ws_observe;

#[ws_observe(level = "verbose")]
fn on_message() {}

fn main() {
    on_message();
}
