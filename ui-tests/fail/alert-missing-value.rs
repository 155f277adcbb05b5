// `alert` without a value is an error at the key that shows the expected form.
use ws_observe::ws_handler;

#[ws_handler(alert)]
fn on_message() {}

fn main() {
    on_message();
}
