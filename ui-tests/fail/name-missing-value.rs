// `name =` with nothing after it is an error that shows the expected form.
use ws_observe::ws_observe;

#[ws_observe(name = )]
fn on_message() {}

fn main() {
    on_message();
}
