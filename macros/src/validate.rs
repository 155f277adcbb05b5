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

pub(crate) fn check(kind: Kind, args: &Args, function: &ItemFn) -> syn::Result<()> {
    let mut errors = Vec::new();
    if let (Kind::Observe, Some(span)) = (kind, args.alert.span()) {
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
    let mut errors = errors.into_iter();
    match errors.next() {
        None => Ok(()),
        Some(mut first) => {
            errors.for_each(|e| first.combine(e));
            Err(first)
        }
    }
}
