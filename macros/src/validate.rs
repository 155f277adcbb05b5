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
    check_field_names(model, errors);
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

/// Keys of every JSON log line: a span field of the same name would write the key twice.
/// The runtime holds the same list (`span_schema`) and checks it again at compile time; these
/// copies only give the error here, at the name, in ws-observe's own words.
const LOG_KEYS: [&str; 9] = [
    "message",
    "@timestamp",
    "log.level",
    "ecs.version",
    "log.logger",
    "service.name",
    "spans",
    "trace.id",
    "span.id",
];

/// Fields the handler span records itself.
const RECORDED: [&str; 6] = [
    "ws.handler",
    "code.namespace",
    "otel.kind",
    "otel.status_code",
    "error.type",
    "error.message",
];

/// A `fields(...)` name may not be a log line's key nor a field ws-observe records itself.
fn check_field_names(model: &Model, errors: &mut Vec<syn::Error>) {
    let listed = |names: &[&str]| {
        names
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    for field in model.fields.into_iter().flatten() {
        let name = field.name.as_str();
        if LOG_KEYS.contains(&name) {
            errors.push(syn::Error::new(
                field.name_span,
                format!(
                    "`{name}` is a key of every JSON log line ({}): a span field of that name \
                     would clash with it; choose another name",
                    listed(&LOG_KEYS)
                ),
            ));
        } else if RECORDED.contains(&name) {
            errors.push(syn::Error::new(
                field.name_span,
                format!(
                    "`{name}` is recorded by ws-observe itself ({}); choose another name",
                    listed(&RECORDED)
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    /// The copies above list exactly the runtime's names (the runtime's source is the truth).
    #[test]
    fn the_field_name_lists_match_the_runtime() {
        let runtime = include_str!("../../runtime/src/span_schema/mod.rs");
        for name in super::LOG_KEYS {
            assert!(
                runtime.contains(&format!("\"{name}\",")),
                "{name} not in the runtime's list"
            );
        }
        for name in super::RECORDED {
            assert!(
                runtime.contains(&format!("= \"{name}\";")),
                "{name} not a runtime field"
            );
        }
        let runtime_keys = runtime
            .split("const LOG_KEYS")
            .nth(1)
            .and_then(|rest| rest.split("];").next())
            .expect("the runtime's LOG_KEYS");
        assert_eq!(runtime_keys.matches("\",").count(), super::LOG_KEYS.len());
        let runtime_recorded = runtime
            .split("const RESERVED")
            .nth(1)
            .and_then(|rest| rest.split("];").next())
            .expect("the runtime's RESERVED");
        assert_eq!(
            runtime_recorded.matches("fields::").count(),
            super::RECORDED.len()
        );
    }
}
