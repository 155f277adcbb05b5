//! Parsing of the attribute arguments. Each value is checked on its own and kept with the span
//! of its token, so later checks can point at it; cross-argument checks live in validate.rs.

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, Ident, Lit, LitStr, Token, token};

/// Span levels, as written in `level = "..."`.
pub(crate) const LEVELS: [&str; 5] = ["trace", "debug", "info", "warn", "error"];
/// Alert severities, as written in `alert = "..."`.
pub(crate) const SEVERITIES: [&str; 3] = ["critical", "warning", "info"];

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

    /// The arguments this attribute takes, in the order error messages list them.
    fn arguments(self) -> &'static [&'static str] {
        match self {
            Kind::Observe => &["name", "level", "fields", "redact", "crate"],
            Kind::Handler => &["name", "level", "fields", "redact", "crate", "alert"],
        }
    }
}

/// The parsed arguments. Every value carries the span of its key, for later errors.
#[derive(Default)]
pub(crate) struct Args {
    pub name: Attr<LitStr>,
    pub level: Attr<Ident>,
    pub fields: Attr<Punctuated<Field, Token![,]>>,
    /// Arguments recorded as pseudonyms, never as values.
    pub redact: Attr<Vec<Ident>>,
    pub krate: Attr<syn::Path>,
    pub alert: Attr<Ident>,
}

/// A set-once argument: a second `set` is a "duplicate argument" error at the second key.
pub(crate) struct Attr<T> {
    pub value: Option<(T, Span)>,
}

impl<T> Default for Attr<T> {
    fn default() -> Self {
        Attr { value: None }
    }
}

impl<T> Attr<T> {
    fn set(&mut self, key: &Ident, value: T) -> syn::Result<()> {
        if self.value.is_some() {
            return Err(syn::Error::new(
                key.span(),
                format!("duplicate argument `{key}`"),
            ));
        }
        self.value = Some((value, key.span()));
        Ok(())
    }

    pub fn get(&self) -> Option<&T> {
        self.value.as_ref().map(|(v, _)| v)
    }
}

/// One argument as written: `key`, `key = value` or `key(...)`.
struct RawArg {
    key: Ident,
    value: RawValue,
}

enum RawValue {
    None,
    /// `key =` with nothing after the `=`.
    Missing(Token![=]),
    Expr(Expr),
    List(token::Paren),
    Fields(Punctuated<Field, Token![,]>),
    Redact(Punctuated<Expr, Token![,]>),
}

impl Parse for RawArg {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        // `parse_any` accepts keywords, so `crate = "..."` parses as a key.
        let key = Ident::parse_any(input)?;
        let value = if input.peek(Token![=]) {
            let eq = input.parse::<Token![=]>()?;
            if input.is_empty() || input.peek(Token![,]) {
                RawValue::Missing(eq)
            } else {
                RawValue::Expr(input.parse()?)
            }
        } else if input.peek(token::Paren) {
            let content;
            let paren = syn::parenthesized!(content in input);
            if key == "fields" {
                // Parsed in place (not re-parsed from detached tokens) so that an error at the
                // end of the list points at the list, not at the whole attribute.
                RawValue::Fields(Punctuated::parse_terminated(&content)?)
            } else if key == "redact" {
                RawValue::Redact(Punctuated::parse_terminated(&content)?)
            } else {
                let _: TokenStream = content.parse()?;
                RawValue::List(paren)
            }
        } else {
            RawValue::None
        };
        Ok(RawArg { key, value })
    }
}

/// Parses the whole argument list. Returns what could be understood and every problem found,
/// so one build reports all of them (validation runs on the partial result too).
pub(crate) fn parse(kind: Kind, tokens: TokenStream) -> (Args, Vec<syn::Error>) {
    let mut args = Args::default();
    let parser = Punctuated::<RawArg, Token![,]>::parse_terminated;
    let raw = match syn::parse::Parser::parse2(parser, tokens) {
        Ok(raw) => raw,
        Err(error) => return (args, vec![error]),
    };
    let mut errors = Vec::new();
    for arg in raw {
        if let Err(error) = apply(kind, &mut args, arg) {
            errors.push(error);
        }
    }
    (args, errors)
}

fn apply(kind: Kind, args: &mut Args, arg: RawArg) -> syn::Result<()> {
    let key = &arg.key;
    match key.to_string().as_str() {
        // Refused whatever its value: what is wrong is the attribute, not the severity.
        "alert" if kind == Kind::Observe => Err(syn::Error::new(
            key.span(),
            "`alert` is only accepted by `#[ws_handler]`: `#[ws_observe]` never alerts; \
             write `#[ws_handler(alert = \"...\")]` instead",
        )),
        "name" => {
            let name = string_value(&arg, "name = \"on_message\"")?;
            if name.value().trim().is_empty() {
                return Err(syn::Error::new(name.span(), "`name` must not be empty"));
            }
            args.name.set(key, name)
        }
        "level" => {
            let level = string_value(&arg, "level = \"debug\"")?;
            let ident = one_of(&level, &LEVELS, "level")?;
            args.level.set(key, ident)
        }
        "alert" => {
            let severity = string_value(&arg, "alert = \"critical\"")?;
            let ident = one_of(&severity, &SEVERITIES, "alert severity")?;
            args.alert.set(key, ident)
        }
        "crate" => {
            let path = string_value(&arg, "crate = \"my_reexports::ws_observe\"")?;
            let parsed = path.parse::<syn::Path>().map_err(|_| {
                syn::Error::new(
                    path.span(),
                    format!(
                        "`crate` must be a path such as `::ws_observe`, not `{}`",
                        path.value()
                    ),
                )
            })?;
            args.krate.set(key, parsed)
        }
        "fields" => match arg.value {
            RawValue::Fields(fields) => {
                check_unique_fields(&fields)?;
                args.fields.set(key, fields)
            }
            _ => Err(syn::Error::new(
                key.span(),
                "`fields` takes a list: `fields(user = %user.id, room = room_id)`",
            )),
        },
        "redact" => {
            let names = redacted_names(&arg)?;
            args.redact.set(key, names)
        }
        other => Err(syn::Error::new(
            key.span(),
            format!(
                "unknown argument `{other}`; expected one of {}",
                quoted(kind.arguments())
            ),
        )),
    }
}

/// The string literal of `key = "..."`, or an error that shows the expected form.
fn string_value(arg: &RawArg, example: &str) -> syn::Result<LitStr> {
    let key = &arg.key;
    match &arg.value {
        RawValue::Expr(Expr::Lit(syn::ExprLit {
            lit: Lit::Str(s), ..
        })) => Ok(s.clone()),
        RawValue::Expr(other) => Err(syn::Error::new(
            other.span(),
            format!("expected a string literal for `{key}`, as in `{example}`"),
        )),
        RawValue::None
        | RawValue::Missing(_)
        | RawValue::List(..)
        | RawValue::Fields(_)
        | RawValue::Redact(_) => {
            let span = match &arg.value {
                RawValue::List(paren) => paren.span.join(),
                RawValue::Missing(eq) => eq.span,
                _ => key.span(),
            };
            let listed = match key.to_string().as_str() {
                "alert" => format!("; expected one of {}", quoted(&SEVERITIES)),
                "level" => format!("; expected one of {}", quoted(&LEVELS)),
                _ => String::new(),
            };
            Err(syn::Error::new(
                span,
                format!("missing value for `{key}`: write `{example}`{listed}"),
            ))
        }
    }
}

const REDACT_EXAMPLE: &str = "redact(user_id, email)";

/// The argument names of `redact(a, b)`: plain identifiers, each once.
fn redacted_names(arg: &RawArg) -> syn::Result<Vec<Ident>> {
    let RawValue::Redact(list) = &arg.value else {
        return Err(syn::Error::new(
            arg.key.span(),
            format!("`redact` takes a list of argument names: `{REDACT_EXAMPLE}`"),
        ));
    };
    if list.is_empty() {
        return Err(syn::Error::new(
            arg.key.span(),
            format!("`redact` needs at least one argument name: `{REDACT_EXAMPLE}`"),
        ));
    }
    let mut names: Vec<Ident> = Vec::new();
    for expr in list {
        let name = match expr {
            Expr::Path(path) if path.qself.is_none() && path.attrs.is_empty() => {
                path.path.get_ident().cloned()
            }
            _ => None,
        };
        let Some(name) = name else {
            return Err(syn::Error::new(
                expr.span(),
                format!(
                    "`redact` lists the function's argument names, as in `{REDACT_EXAMPLE}`; \
                     to record a pseudonym of an expression, write \
                     `fields(name = %ws_observe::runtime::privacy::pseudonymize(&expr))`"
                ),
            ));
        };
        if names.contains(&name) {
            return Err(syn::Error::new(
                name.span(),
                format!("`{name}` is listed twice in `redact`"),
            ));
        }
        names.push(name);
    }
    Ok(names)
}

/// Checks that `lit` is one of `choices` and returns it as an identifier with the literal's span.
fn one_of(lit: &LitStr, choices: &[&str], what: &str) -> syn::Result<Ident> {
    let value = lit.value();
    if choices.contains(&value.as_str()) {
        Ok(Ident::new(&value, lit.span()))
    } else {
        Err(syn::Error::new(
            lit.span(),
            format!(
                "unknown {what} `{value}`; expected one of {}",
                quoted(choices)
            ),
        ))
    }
}

fn quoted(choices: &[&str]) -> String {
    let quoted: Vec<String> = choices.iter().map(|c| format!("`{c}`")).collect();
    quoted.join(", ")
}

/// One entry of `fields(...)`, in `tracing`'s span field syntax: `a.b = expr`, `a = %expr`,
/// `a = ?expr`, `"a.b" = expr`, or a bare `name` (records the variable of that name).
pub(crate) struct Field {
    tokens: TokenStream,
    /// The field's name as `tracing` will see it (`a.b`), and where it was written.
    pub name: String,
    pub name_span: Span,
}

impl Parse for Field {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut tokens = TokenStream::new();
        if input.peek(Token![%]) || input.peek(Token![?]) {
            // `%name` / `?name` shorthand.
            let sigil: proc_macro2::TokenTree = input.parse()?;
            tokens.extend([sigil]);
        }
        let (name, name_span) = if input.peek(LitStr) {
            let lit = input.parse::<LitStr>()?;
            lit.to_tokens(&mut tokens);
            (lit.value(), lit.span())
        } else {
            let key = Punctuated::<Ident, Token![.]>::parse_separated_nonempty_with(
                input,
                Ident::parse_any,
            )?;
            key.to_tokens(&mut tokens);
            let name = key
                .iter()
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(".");
            (name, key.span())
        };
        if input.peek(Token![=]) {
            let eq = input.parse::<Token![=]>()?;
            eq.to_tokens(&mut tokens);
            if input.is_empty() || input.peek(Token![,]) {
                return Err(syn::Error::new(
                    eq.span,
                    format!(
                        "missing value for field `{name}`: write `{name} = value`, \
                         `{name} = %value` or `{name} = ?value`"
                    ),
                ));
            }
            if input.peek(Token![%]) {
                input.parse::<Token![%]>()?.to_tokens(&mut tokens);
            } else if input.peek(Token![?]) {
                input.parse::<Token![?]>()?.to_tokens(&mut tokens);
            }
            input.parse::<Expr>()?.to_tokens(&mut tokens);
        }
        Ok(Field {
            tokens,
            name,
            name_span,
        })
    }
}

/// A field listed twice would be recorded twice with different values.
fn check_unique_fields(fields: &Punctuated<Field, Token![,]>) -> syn::Result<()> {
    for (i, field) in fields.iter().enumerate() {
        if fields
            .iter()
            .take(i)
            .any(|earlier| earlier.name == field.name)
        {
            return Err(syn::Error::new(
                field.name_span,
                format!("duplicate field `{}`", field.name),
            ));
        }
    }
    Ok(())
}

impl ToTokens for Field {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        self.tokens.to_tokens(tokens);
    }
}
