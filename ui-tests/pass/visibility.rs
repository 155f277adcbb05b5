// `pub`, `pub(crate)`, `pub(super)` and private functions keep their visibility.
mod handlers {
    use ws_observe::{ws_handler, ws_observe};

    #[ws_observe]
    pub fn public() -> u8 {
        1
    }

    #[ws_handler]
    pub(crate) fn crate_visible() -> u8 {
        2
    }

    pub mod inner {
        #[ws_observe::ws_observe]
        pub(super) fn parent_visible() -> u8 {
            3
        }

        #[ws_observe::ws_observe]
        pub(in crate::handlers) async fn path_visible() -> u8 {
            4
        }
    }

    #[ws_observe]
    fn private() -> u8 {
        inner::parent_visible()
    }

    pub async fn through_private() -> u8 {
        private() + inner::path_visible().await
    }
}

#[tokio::main]
async fn main() {
    assert_eq!(handlers::public(), 1);
    assert_eq!(handlers::crate_visible(), 2);
    assert_eq!(handlers::through_private().await, 7);
}
