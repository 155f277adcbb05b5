// `io::Result<T>` and a crate alias `AppResult<T>` are classified as `Result`s: `Err` counts as `error`.
use std::fmt;
use std::io;

use ws_observe::{ws_handler, ws_observe};

#[derive(Debug)]
struct AppError(&'static str);

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for AppError {}

type AppResult<T> = Result<T, AppError>;

#[ws_observe]
fn read_config(fail: bool) -> io::Result<u8> {
    if fail {
        Err(io::Error::other("disk"))?;
    }
    Ok(1)
}

#[ws_handler]
async fn load_user(id: u32) -> AppResult<String> {
    if id == 0 {
        return Err(AppError("no user 0"));
    }
    Ok(format!("user {id}"))
}

fn calls(name: &str) -> [u64; 4] {
    let handlers = ws_observe::runtime::handler::registered_handlers();
    let meta = handlers.iter().find(|m| m.name() == name).expect(name);
    meta.snapshot().calls
}

#[tokio::main]
async fn main() {
    assert_eq!(read_config(false).unwrap(), 1);
    assert!(read_config(true).is_err());
    assert_eq!(load_user(1).await.unwrap(), "user 1");
    assert!(load_user(0).await.is_err());
    // [ok, error, panic, cancelled]
    assert_eq!(calls("read_config"), [1, 1, 0, 0]);
    assert_eq!(calls("load_user"), [1, 1, 0, 0]);
}
