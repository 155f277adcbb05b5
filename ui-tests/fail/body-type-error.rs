// A type error in a sync body is one error on the user's line, not in generated code.
use ws_observe::ws_observe;

#[ws_observe]
fn answer() -> u32 {
    "forty-two"
}

fn main() {
    let _ = answer();
}
