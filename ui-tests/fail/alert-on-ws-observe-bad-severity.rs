// `alert` on `#[ws_observe]` is reported even when its value is also wrong.
use ws_observe::ws_observe;

#[ws_observe(alert = "critcal")]
fn on_message() {}

fn main() {
    on_message();
}
