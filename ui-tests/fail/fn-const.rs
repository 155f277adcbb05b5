// A `const fn` is an error at `const`: metrics and spans cannot run at compile time.
use ws_observe::ws_observe;

#[ws_observe]
const fn answer() -> u32 {
    42
}

fn main() {
    let _ = answer();
}
