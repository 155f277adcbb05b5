//! Checks across arguments and against the annotated function's signature.

use syn::ItemFn;

use crate::args::Args;

/// Which attribute is being expanded.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `#[ws_observe]`: metrics and a span, never alerts.
    Observe,
    /// `#[ws_handler]`: the same, plus `alert = "..."`.
    Handler,
}

impl Kind {
    pub(crate) fn attribute(self) -> &'static str {
        match self {
            Kind::Observe => "#[ws_observe]",
            Kind::Handler => "#[ws_handler]",
        }
    }
}

/// Adds the cross-argument and signature problems to `errors`.
pub(crate) fn check(kind: Kind, args: &Args, function: &ItemFn, errors: &mut Vec<syn::Error>) {
    if let (Kind::Observe, Some(span)) = (kind, args.alert_key) {
        errors.push(syn::Error::new(
            span,
            "`alert` is only accepted by `#[ws_handler]`: `#[ws_observe]` never alerts; \
             write `#[ws_handler(alert = \"...\")]` instead",
        ));
    }
    if let Some(constness) = &function.sig.constness {
        errors.push(syn::Error::new(
            constness.span,
            format!(
                "{} cannot be applied to a `const fn`: metrics and spans cannot run at compile time",
                kind.attribute()
            ),
        ));
    }
    if let Some(variadic) = &function.sig.variadic {
        errors.push(syn::Error::new_spanned(
            variadic,
            format!("{} does not support variadic functions", kind.attribute()),
        ));
    }
    check_redacted(args, function, errors);
    if let syn::ReturnType::Type(_, ty) = &function.sig.output
        && let syn::Type::Never(never) = &**ty
    {
        errors.push(syn::Error::new_spanned(
            never,
            format!(
                "{} cannot measure a function that never returns: its calls would never finish",
                kind.attribute()
            ),
        ));
    }
}

/// Each name in `redact(...)` must be an argument bound to a plain name (so the generated code
/// can reach it), and not also a `fields(...)` name.
fn check_redacted(args: &Args, function: &ItemFn, errors: &mut Vec<syn::Error>) {
    let Some(names) = args.redact.get() else {
        return;
    };
    let arguments: Vec<&syn::Ident> = function
        .sig
        .inputs
        .iter()
        .filter_map(|input| match input {
            syn::FnArg::Typed(typed) => match &*typed.pat {
                syn::Pat::Ident(pat) if pat.subpat.is_none() => Some(&pat.ident),
                _ => None,
            },
            syn::FnArg::Receiver(_) => None,
        })
        .collect();
    let has_patterns = function.sig.inputs.iter().any(|input| {
        matches!(input, syn::FnArg::Typed(typed) if !matches!(&*typed.pat, syn::Pat::Ident(_)))
    });
    for name in names {
        if name == "self" {
            errors.push(syn::Error::new(
                name.span(),
                "`self` cannot be redacted: `redact` names arguments; record a pseudonym of a \
                 part of it with `fields(user = %ws_observe::runtime::privacy::pseudonymize_display(&self.user_id))`",
            ));
        } else if !arguments.contains(&name) {
            let listed: Vec<String> = arguments.iter().map(|a| format!("`{a}`")).collect();
            let choices = if listed.is_empty() {
                "it has no argument bound to a plain name".to_owned()
            } else {
                format!("its arguments are {}", listed.join(", "))
            };
            let patterns = if has_patterns {
                "; an argument destructured by a pattern has no name to redact: bind it to a \
                 name and destructure it in the body"
            } else {
                ""
            };
            errors.push(syn::Error::new(
                name.span(),
                format!(
                    "`{name}` is not an argument of `{}`: `redact` lists argument names ({choices}){patterns}",
                    function.sig.ident
                ),
            ));
        } else if args
            .fields
            .get()
            .into_iter()
            .flatten()
            .any(|field| *name == field.name)
        {
            errors.push(syn::Error::new(
                name.span(),
                format!(
                    "`{name}` is both in `fields(...)` and in `redact(...)`: a redacted argument \
                     is recorded as a pseudonym only; remove it from `fields`"
                ),
            ));
        }
    }
}
