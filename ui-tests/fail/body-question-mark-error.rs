// A `?` whose error does not convert is one error at the user's `?`, as without the macro.
use ws_observe::ws_observe;

#[derive(Debug)]
struct AppError;

#[ws_observe]
fn parse(text: &str) -> Result<u32, AppError> {
    let n: u32 = text.parse()?;
    Ok(n)
}

fn main() {
    let _ = parse("1");
}
