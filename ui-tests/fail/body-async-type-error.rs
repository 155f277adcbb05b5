// A type error in an async body is one error on the user's line, not in generated code.
use ws_observe::ws_handler;

#[ws_handler]
async fn answer() -> u32 {
    "forty-two"
}

fn main() {
    let _ = answer();
}
