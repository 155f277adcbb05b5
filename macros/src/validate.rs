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
    if let syn::ReturnType::Type(_, ty) = &function.sig.output {
        if let syn::Type::Never(never) = &**ty {
            errors.push(syn::Error::new_spanned(
                never,
                format!(
                    "{} cannot measure a function that never returns: its calls would never finish",
                    kind.attribute()
                ),
            ));
        }
    }
}
