//! Attribute macros of [ws-observe](https://docs.rs/ws-observe). Use them through the facade
//! crate: `use ws_observe::{ws_handler, ws_observe};` — the generated code calls
//! `::ws_observe::__private` (or the path given by `crate = "..."`).
//!
//! The crate is a pure function of its tokens: it reads no environment and no file, and holds
//! no metric or field name (the runtime owns that vocabulary). Its stages: `args` parses the
//! attribute, `model` describes the annotated function once, `validate` checks both, `expand`
//! writes the generated code.

#![forbid(unsafe_code)]

mod args;
mod expand;
mod model;
mod validate;

use proc_macro::TokenStream;
use quote::quote;

use args::Kind;

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
    match try_expand(kind, args, item.clone()) {
        Ok(expanded) => expanded,
        // The user's function is still emitted untouched: callers keep compiling and the user
        // sees these errors instead of a cascade.
        Err(error) => {
            let error = error.to_compile_error();
            quote!(#item #error)
        }
    }
}

fn try_expand(
    kind: Kind,
    args: proc_macro2::TokenStream,
    item: proc_macro2::TokenStream,
) -> syn::Result<proc_macro2::TokenStream> {
    let function = model::parse_function(kind, item)?;
    // Argument and signature problems are reported together, so one build shows them all.
    let (args, mut errors) = args::parse(kind, args);
    let model = model::Model::new(kind, &args, &function);
    validate::check(&model, &mut errors);
    let mut errors = errors.into_iter();
    match errors.next() {
        None => Ok(expand::expand(&model)),
        Some(mut first) => {
            errors.for_each(|e| first.combine(e));
            Err(first)
        }
    }
}
