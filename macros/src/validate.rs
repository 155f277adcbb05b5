//! Checks across arguments and against the annotated function's signature.

use crate::model::Model;

/// Adds the cross-argument and signature problems to `errors`.
pub(crate) fn check(model: &Model, errors: &mut Vec<syn::Error>) {
    let function = model.function;
    let kind = model.kind;
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
    check_redacted(model, errors);
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
fn check_redacted(model: &Model, errors: &mut Vec<syn::Error>) {
    for name in model.redact {
        if name == "self" {
            errors.push(syn::Error::new(
                name.span(),
                "`self` cannot be redacted: `redact` names arguments; record a pseudonym of a \
                 part of it with `fields(user = %ws_observe::runtime::privacy::pseudonymize_display(&self.user_id))`",
            ));
        } else if !model
            .arguments
            .iter()
            .any(|argument| argument.ident == name)
        {
            let listed: Vec<String> = model
                .arguments
                .iter()
                .map(|argument| format!("`{}`", argument.ident))
                .collect();
            let choices = if listed.is_empty() {
                "it has no argument bound to a plain name".to_owned()
            } else {
                format!("its arguments are {}", listed.join(", "))
            };
            let patterns = if model.has_pattern_arguments {
                "; an argument destructured by a pattern has no name to redact: bind it to a \
                 name and destructure it in the body"
            } else {
                ""
            };
            errors.push(syn::Error::new(
                name.span(),
                format!(
                    "`{name}` is not an argument of `{}`: `redact` lists argument names ({choices}){patterns}",
                    model.function.sig.ident
                ),
            ));
        } else if model
            .fields
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
