// `alert` is only accepted by `#[ws_handler]`: on `#[ws_observe]` it is an error at the key.
use ws_observe::ws_observe;

#[ws_observe(alert = "critical")]
fn on_message() {}

fn main() {
    on_message();
}
