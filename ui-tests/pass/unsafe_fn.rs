// `unsafe fn`, sync and async, stays unsafe to call and can use unsafe operations in its body.
use ws_observe::{ws_handler, ws_observe};

/// # Safety
/// `ptr` must be valid for reads and aligned.
#[ws_observe]
unsafe fn read(ptr: *const u32) -> u32 {
    // SAFETY: guaranteed by the caller.
    unsafe { *ptr }
}

/// # Safety
/// `ptr` must be valid for writes and aligned, and stay so until the future completes.
#[ws_handler]
async unsafe fn write(ptr: *mut u32, value: u32) {
    // SAFETY: guaranteed by the caller.
    unsafe { *ptr = value }
}

#[tokio::main]
async fn main() {
    let mut value = 42u32;
    // SAFETY: `value` is alive, aligned, and not otherwise borrowed.
    assert_eq!(unsafe { read(&value) }, 42);
    // SAFETY: as above.
    unsafe { write(&mut value, 7) }.await;
    assert_eq!(value, 7);
}
