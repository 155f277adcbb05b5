// `alert` on `#[ws_observe]` is one error at the key, whatever its value.
use ws_observe::ws_observe;

#[ws_observe(alert = "critcal")]
fn on_message() {}

fn main() {
    on_message();
}
