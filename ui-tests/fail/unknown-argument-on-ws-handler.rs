// An unknown argument on `#[ws_handler]` lists its arguments, `alert` included.
use ws_observe::ws_handler;

#[ws_handler(severity = "critical")]
fn on_message() {}

fn main() {
    on_message();
}
