//! Code generation: the few lines wrapped around the user's body. Everything with meaning
//! (metric cells, span fields, classification) lives in the runtime and is reached through
//! `<crate>::__private`, so this file only arranges calls.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{Block, Expr, ItemFn, LitStr, ReturnType, Stmt, Type, parse_quote};

use crate::args::Args;

pub(crate) fn expand(args: &Args, mut function: ItemFn) -> TokenStream {
    let krate: syn::Path = args
        .krate
        .get()
        .cloned()
        .unwrap_or_else(|| parse_quote!(::ws_observe));
    let private = quote!(#krate::__private);
    let name = match args.name.get() {
        Some(name) => name.clone(),
        None => LitStr::new(
            &function.sig.ident.unraw_string(),
            function.sig.ident.span(),
        ),
    };
    let level = match args.level.get() {
        Some(level) => format_ident!("{}", level.to_string().to_uppercase(), span = level.span()),
        None => format_ident!("INFO"),
    };
    let severity = match args.alert.get() {
        Some(severity) => {
            let variant = format_ident!(
                "{}",
                capitalize(&severity.to_string()),
                span = severity.span()
            );
            quote!(::core::option::Option::Some(#private::Severity::#variant))
        }
        None => quote!(::core::option::Option::None),
    };
    let fields = args
        .fields
        .get()
        .filter(|f| !f.is_empty())
        .map(|f| quote!(, #f));
    // Each redacted argument becomes a field `<argument>.pseudonym` holding its keyed
    // pseudonym: a name that says what the value is, and a leaf under the argument's name, so
    // an argument named like an ECS object (`user`, `email`) or a log key (`message`) clashes
    // with nothing. The call carries the name's span, so an argument without `Display` is
    // reported there.
    let redacted = args.redact.get().into_iter().flatten().map(|name| {
        let redact = syn::Ident::new("__redacted", name.span());
        let field = LitStr::new(&format!("{}.pseudonym", name.unraw_string()), name.span());
        quote_spanned! {name.span()=> , #field = %#private::#redact(&#name) }
    });
    // A compile-time check per user field name, spanned at the name, so a clash with a field
    // the runtime records itself is reported on the user's token.
    let checked_names = args
        .fields
        .get()
        .into_iter()
        .flatten()
        .map(|field| (field.name.clone(), field.name_span));
    let field_checks = checked_names.map(|(field_name, span)| {
        let name = LitStr::new(&field_name, span);
        // Every token of the call carries the name's span: const evaluation errors point at the
        // call expression.
        let check = syn::Ident::new("__ws_check_user_field", span);
        quote_spanned! {span=>
            const _: () = {
                use #private::check_user_field as #check;
                #check(#name)
            };
        }
    });

    // Locals get mixed-site hygiene: the user's body can neither see nor shadow them.
    let guard = syn::Ident::new("__ws_guard", Span::mixed_site());
    let result = syn::Ident::new("__ws_result", Span::mixed_site());

    let meta = quote! {
        #(#field_checks)*
        static __WS_META: #private::HandlerMeta =
            #private::HandlerMeta::new(#name, ::core::module_path!(), #severity);
    };
    let message = message_argument(&function.sig).map(|arg| quote!(, message = #arg));
    let start = quote! {
        let #guard = __WS_META.start(
            #private::handler_span!(#private::Level::#level, #name #message #fields #(#redacted)*)
        );
    };
    let finish = quote! {
        #guard.finish({
            #[allow(unused_imports)]
            use #private::{ClassifyAny as _, ClassifyDisplay as _, ClassifyResult as _, ClassifyStdError as _};
            (&&&#private::Classify(&#result)).__ws_classify()
        });
        #result
    };

    let body = &function.block;
    let new_body: Block = if function.sig.asyncness.is_some() {
        let fake_return = fake_return_edge(&function.sig.output);
        let stmts = &body.stmts;
        parse_quote! {{
            #meta
            #start
            let (#result, #guard) = #private::instrument(#guard, async move {
                #fake_return
                #(#stmts)*
            }).await;
            #finish
        }}
    } else if let Some((leading, boxed_future)) = boxed_async_block(body) {
        // `#[async_trait]` (and hand-written `Box::pin(async move { .. })` bodies): the work
        // happens when the boxed future runs, so the call is measured inside it, not around
        // the boxing.
        let (pin_fn, inner) = boxed_future;
        parse_quote! {{
            #meta
            #(#leading)*
            #pin_fn(async move {
                #start
                let (#result, #guard) = #private::instrument(#guard, #inner).await;
                #finish
            })
        }}
    } else {
        let fake_return = fake_return_edge(&function.sig.output);
        let stmts = &body.stmts;
        parse_quote! {{
            #meta
            #start
            let #result = #guard.in_scope(move || {
                #fake_return
                #(#stmts)*
            });
            #finish
        }}
    };
    *function.block = new_body;
    quote!(#function)
}

/// A never-taken `return` of the declared type, first in the closure or async block that holds
/// the body: it fixes the block's return type before the body is checked, so `?` and
/// `.into()` infer exactly as in the original function (the trick tracing-attributes calls
/// the "fake return edge"). `impl Trait` cannot be named in a `let`, so it becomes `_`.
fn fake_return_edge(output: &ReturnType) -> TokenStream {
    let mut ty: Type = match output {
        ReturnType::Default => parse_quote!(()),
        ReturnType::Type(_, ty) => (**ty).clone(),
    };
    ImplTraitToInfer.visit_type_mut(&mut ty);
    let span = ty.span();
    quote_spanned! {span=>
        #[allow(
            unknown_lints,
            unreachable_code,
            clippy::diverging_sub_expression,
            clippy::empty_loop,
            clippy::let_unit_value,
            clippy::let_with_type_underscore,
            clippy::needless_return,
            clippy::unreachable
        )]
        if false {
            let __ws_fake_return: #ty = loop {};
            return __ws_fake_return;
        }
    }
}

struct ImplTraitToInfer;

impl VisitMut for ImplTraitToInfer {
    fn visit_type_mut(&mut self, ty: &mut Type) {
        if let Type::ImplTrait(impl_trait) = ty {
            *ty = Type::Infer(syn::TypeInfer {
                underscore_token: syn::Token![_](impl_trait.span()),
            });
        } else {
            syn::visit_mut::visit_type_mut(self, ty);
        }
    }
}

/// Recognises a body whose last expression is `Box::pin(async move { .. })` (what
/// `#[async_trait]` generates). Returns the statements before it, and the `Box::pin` path with
/// the async block.
fn boxed_async_block(body: &Block) -> Option<(&[Stmt], (&Expr, &Expr))> {
    let (last, leading) = body.stmts.split_last()?;
    let Stmt::Expr(Expr::Call(call), None) = last else {
        return None;
    };
    let Expr::Path(path) = &*call.func else {
        return None;
    };
    let segments: Vec<String> = path
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    let is_box_pin = segments.len() >= 2
        && segments[segments.len() - 2] == "Box"
        && segments[segments.len() - 1] == "pin";
    if !is_box_pin || call.args.len() != 1 {
        return None;
    }
    match call.args.first()? {
        inner @ Expr::Async(_) => Some((leading, (&*call.func, inner))),
        _ => None,
    }
}

/// The first argument written as `name: Message` or `name: &Message` (any path ending in
/// `Message`). The runtime records its kind and size on the span when it is tungstenite's
/// `Message`, and nothing for an application type of the same name.
fn message_argument(sig: &syn::Signature) -> Option<&syn::Ident> {
    fn is_message(ty: &Type) -> bool {
        match ty {
            Type::Reference(reference) => is_message(&reference.elem),
            Type::Paren(paren) => is_message(&paren.elem),
            Type::Path(path) => {
                path.qself.is_none()
                    && path
                        .path
                        .segments
                        .last()
                        .is_some_and(|last| last.ident == "Message" && last.arguments.is_none())
            }
            _ => false,
        }
    }
    sig.inputs.iter().find_map(|input| match input {
        syn::FnArg::Typed(typed) if is_message(&typed.ty) => match &*typed.pat {
            syn::Pat::Ident(pat) if pat.subpat.is_none() => Some(&pat.ident),
            _ => None,
        },
        _ => None,
    })
}

fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

trait UnrawString {
    fn unraw_string(&self) -> String;
}

impl UnrawString for syn::Ident {
    /// `r#type` is named `type` in metrics and spans.
    fn unraw_string(&self) -> String {
        let s = self.to_string();
        s.strip_prefix("r#").map(str::to_owned).unwrap_or(s)
    }
}
