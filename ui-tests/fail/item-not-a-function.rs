// The attribute on a non-function item is one error, and the item is still emitted.
use ws_observe::ws_handler;

#[ws_handler]
struct Handler;

fn main() {
    let _handler = Handler;
}
