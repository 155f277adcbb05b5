//! Attribute macros of [ws-observe](https://docs.rs/ws-observe). Use them through the facade
//! crate: `use ws_observe::{ws_handler, ws_observe};` — the generated code calls
//! `::ws_observe::__private` (or the path given by `crate = "..."`).
//!
//! The crate is a pure function of its tokens: it reads no environment and no file, and holds
//! no metric or field name (the runtime owns that vocabulary).

mod args;
mod expand;
mod validate;

use proc_macro::TokenStream;
use proc_macro2::Span;
use quote::quote;

use validate::Kind;

/// Measures a function: Prometheus metrics (calls by outcome, duration, in flight) and a
/// tracing span. Never alerts. See the `ws_observe` crate for the arguments.
#[proc_macro_attribute]
pub fn ws_observe(args: TokenStream, item: TokenStream) -> TokenStream {
    expand_or_error(Kind::Observe, args.into(), item.into()).into()
}

/// Like `ws_observe`, for WebSocket handlers, and accepts `alert = "critical" | "warning" |
/// "info"` to alert on error or panic.
#[proc_macro_attribute]
pub fn ws_handler(args: TokenStream, item: TokenStream) -> TokenStream {
    expand_or_error(Kind::Handler, args.into(), item.into()).into()
}

fn expand_or_error(
    kind: Kind,
    args: proc_macro2::TokenStream,
    item: proc_macro2::TokenStream,
) -> proc_macro2::TokenStream {
    let function: syn::ItemFn = match syn::parse2(item.clone()) {
        Ok(function) => function,
        Err(_) => {
            let error = syn::Error::new(
                Span::call_site(),
                format!(
                    "{} applies to functions and methods with a body",
                    kind.attribute()
                ),
            );
            return token_stream_with_error(item, error);
        }
    };
    let (args, mut errors) = args::parse(args);
    validate::check(kind, &args, &function, &mut errors);
    let mut errors = errors.into_iter();
    match errors.next() {
        None => expand::expand(&args, function),
        // The user's function is still emitted untouched: callers keep compiling and the user
        // sees these errors instead of a cascade.
        Some(mut first) => {
            errors.for_each(|e| first.combine(e));
            token_stream_with_error(item, first)
        }
    }
}

fn token_stream_with_error(
    item: proc_macro2::TokenStream,
    error: syn::Error,
) -> proc_macro2::TokenStream {
    let error = error.to_compile_error();
    quote!(#item #error)
}
