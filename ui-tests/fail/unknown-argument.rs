// An unknown argument on `#[ws_observe]` lists only the arguments `#[ws_observe]` takes.
use ws_observe::ws_observe;

#[ws_observe(nmae = "on_message")]
fn on_message() {}

fn main() {
    on_message();
}
