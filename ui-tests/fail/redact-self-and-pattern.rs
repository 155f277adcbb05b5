// `redact(self)` and a name bound inside a pattern argument: each refused at its name, with
// what to write instead.
use ws_observe::ws_observe;

struct User {
    id: u64,
}

impl User {
    #[ws_observe(redact(self))]
    fn greet(&self) -> u64 {
        self.id
    }
}

#[ws_observe(redact(a))]
fn sum((a, b): (u32, u32)) -> u32 {
    a + b
}

fn main() {
    User { id: 1 }.greet();
    sum((1, 2));
}
