// A sync free function, with and without a return value, is wrapped and still returns its value.
use ws_observe::{ws_handler, ws_observe};

#[ws_observe]
fn double(input: u32) -> u32 {
    input * 2
}

#[ws_handler]
fn unit_return(log: &mut Vec<&'static str>) {
    log.push("called");
}

fn calls(name: &str) -> [u64; 4] {
    let handlers = ws_observe::runtime::handler::registered_handlers();
    let meta = handlers.iter().find(|m| m.name() == name).expect(name);
    meta.snapshot().calls
}

fn main() {
    assert_eq!(double(21), 42);
    let mut log = Vec::new();
    unit_return(&mut log);
    assert_eq!(log, ["called"]);
    assert_eq!(calls("double"), [1, 0, 0, 0]);
    assert_eq!(calls("unit_return"), [1, 0, 0, 0]);
}
