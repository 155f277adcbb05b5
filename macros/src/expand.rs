//! Code generation: the few lines wrapped around the user's body. Everything with meaning
//! (metric cells, span fields, classification) lives in the runtime and is reached through
//! `<crate>::__private`, so this file only arranges calls.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{Block, ItemFn, LitStr, ReturnType, Type, parse_quote};

use crate::model::{Model, Shape};

pub(crate) fn expand(model: &Model) -> TokenStream {
    let krate = &model.krate;
    let private = quote!(#krate::__private);
    let name = &model.name;
    let level = &model.level;
    let severity = match &model.severity {
        Some(variant) => quote!(::core::option::Option::Some(#private::Severity::#variant)),
        None => quote!(::core::option::Option::None),
    };
    let fields = model.fields.filter(|f| !f.is_empty()).map(|f| quote!(, #f));
    // Each redacted argument becomes a field `<argument>.pseudonym` holding its keyed
    // pseudonym: a name that says what the value is, and a leaf under the argument's name, so
    // an argument named like an ECS object (`user`, `email`) or a log key (`message`) clashes
    // with nothing. The call carries the name's span, so an argument without `Display` is
    // reported there.
    let redacted = model.redact.iter().map(|name| {
        let redact = syn::Ident::new("__redacted", name.span());
        let field = LitStr::new(&format!("{}.pseudonym", name.unraw()), name.span());
        quote_spanned! {name.span()=> , #field = %#private::#redact(&#name) }
    });
    // A compile-time check per user field name, spanned at the name, so a clash with a field
    // the runtime records itself is reported on the user's token.
    let checked_names = model
        .fields
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
    let message = model.message.map(|arg| quote!(, message = #arg));
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

    let function = model.function;
    let new_body: Block = match &model.shape {
        Shape::Async => {
            let fake_return = fake_return_edge(&function.sig.output);
            let stmts = &function.block.stmts;
            parse_quote! {{
                #meta
                #start
                let (#result, #guard) = #private::instrument(#guard, async move {
                    #fake_return
                    #(#stmts)*
                }).await;
                #finish
            }}
        }
        Shape::BoxedAsync {
            leading,
            pin,
            future,
        } => parse_quote! {{
            #meta
            #(#leading)*
            #pin(async move {
                #start
                let (#result, #guard) = #private::instrument(#guard, #future).await;
                #finish
            })
        }},
        Shape::Sync => {
            let fake_return = fake_return_edge(&function.sig.output);
            let stmts = &function.block.stmts;
            parse_quote! {{
                #meta
                #start
                let #result = #guard.in_scope(move || {
                    #fake_return
                    #(#stmts)*
                });
                #finish
            }}
        }
    };
    // Cloned rather than rebuilt from its parts: the function's inner attributes (`#![...]`)
    // stay inside the new body.
    let mut function: ItemFn = function.clone();
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
