// A function that never returns cannot be measured: its calls would never finish.
use ws_observe::ws_observe;

#[ws_observe]
fn serve_forever() -> ! {
    loop {
        std::thread::park();
    }
}

fn main() {
    let _ = serve_forever as fn() -> !;
}
