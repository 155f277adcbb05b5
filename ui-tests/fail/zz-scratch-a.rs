use ws_observe::{ws_handler, ws_observe};

#[ws_observe(nmae = "x", level = "loud", alert)]
fn a() {}

#[ws_observe(alert = "critcal")]
fn b() {}

#[ws_handler(alert = "critical", alert = "warning")]
fn c() {}

#[ws_observe(fields(a = 1, a = 2))]
fn d() {}

#[ws_observe(fields("ws.handler" = "spoof", error.type = 3))]
fn e() {}

#[ws_observe(fields(a = 1), fields(b = 2))]
fn f() {}

#[ws_observe(level = debug)]
fn g() {}

#[ws_observe(crate = "::nope")]
fn h() {}

fn main() { a(); b(); c(); d(); e(); f(); g(); h(); }
