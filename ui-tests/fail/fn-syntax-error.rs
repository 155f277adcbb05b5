// A function with a syntax error gets syn's error (beside rustc's), not "applies to functions".
use ws_observe::ws_observe;

#[ws_observe]
fn on_message(text: &str) -> usize {
    let length = text.len() +;
    length
}

fn main() {
    let _ = on_message("hi");
}
