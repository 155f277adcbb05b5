//! The annotated function, described once: its shape, its named arguments, its `Message`
//! argument, and the name, level and severity its calls are recorded with. Validation and
//! expansion both read this description instead of walking the signature themselves.

use proc_macro2::{Span, TokenStream};
use quote::format_ident;
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{
    Attribute, Block, Expr, FnArg, Ident, ItemFn, LitStr, Pat, Stmt, Token, TraitItemFn, Type,
    Visibility, parse_quote,
};

use crate::args::{Args, Field, Kind};

/// How the function's work runs, which decides where the call is measured.
pub(crate) enum Shape<'a> {
    /// `async fn`: measured inside the future it returns.
    Async,
    /// A body ending in `Box::pin(async move { .. })`, as `#[async_trait]` generates: measured
    /// inside the boxed future, not around the boxing.
    BoxedAsync {
        /// The statements before `Box::pin(..)`.
        leading: &'a [Stmt],
        /// The `Box::pin` path as written.
        pin: &'a Expr,
        /// The `async move { .. }` block.
        future: &'a Expr,
    },
    /// Anything else: measured around the body.
    Sync,
}

/// An argument bound to a plain name (`name: T`, `mut name: T`), the only kind the generated
/// code can refer to.
pub(crate) struct Argument<'a> {
    pub ident: &'a Ident,
    pub ty: &'a Type,
}

/// What validation and expansion know about one annotated function.
pub(crate) struct Model<'a> {
    pub kind: Kind,
    pub function: &'a ItemFn,
    pub shape: Shape<'a>,
    /// The arguments bound to a plain name, in order (`self` is not one of them).
    pub arguments: Vec<Argument<'a>>,
    /// Whether some argument is destructured by a pattern (and so has no name).
    pub has_pattern_arguments: bool,
    /// The first argument written as `name: Message` or `name: &Message`.
    pub message: Option<&'a Ident>,
    /// The handler's name: `name = "..."`, or the function's name without `r#`.
    pub name: LitStr,
    /// The span level's name in `tracing::Level` (`INFO`).
    pub level: Ident,
    /// The alert severity's variant in the runtime's `Severity` (`Critical`), if any.
    pub severity: Option<Ident>,
    /// The path the generated code reaches the runtime through.
    pub krate: syn::Path,
    /// `fields(...)` as written.
    pub fields: Option<&'a Punctuated<Field, Token![,]>>,
    /// The names in `redact(...)`, not yet checked against `arguments`.
    pub redact: &'a [Ident],
}

impl<'a> Model<'a> {
    pub(crate) fn new(kind: Kind, args: &'a Args, function: &'a ItemFn) -> Self {
        let mut arguments = Vec::new();
        let mut has_pattern_arguments = false;
        for input in &function.sig.inputs {
            let FnArg::Typed(typed) = input else {
                continue;
            };
            match &*typed.pat {
                Pat::Ident(pat) if pat.subpat.is_none() => arguments.push(Argument {
                    ident: &pat.ident,
                    ty: &typed.ty,
                }),
                // `name @ pattern` has a name, but is not a plain binding.
                Pat::Ident(_) => {}
                _ => has_pattern_arguments = true,
            }
        }
        let message = arguments
            .iter()
            .find(|argument| is_message(argument.ty))
            .map(|argument| argument.ident);
        let name = match args.name.get() {
            Some(name) => name.clone(),
            None => {
                // `r#type` is named `type` in metrics and spans.
                let ident = &function.sig.ident;
                LitStr::new(&ident.unraw().to_string(), ident.span())
            }
        };
        let level = match args.level.get() {
            Some(level) => {
                format_ident!("{}", level.to_string().to_uppercase(), span = level.span())
            }
            None => format_ident!("INFO"),
        };
        let severity = args.alert.get().map(|severity| {
            format_ident!(
                "{}",
                capitalize(&severity.to_string()),
                span = severity.span()
            )
        });
        let krate = args
            .krate
            .get()
            .cloned()
            .unwrap_or_else(|| parse_quote!(::ws_observe));
        let shape = if function.sig.asyncness.is_some() {
            Shape::Async
        } else if let Some((leading, pin, future)) = boxed_async_block(&function.block) {
            Shape::BoxedAsync {
                leading,
                pin,
                future,
            }
        } else {
            Shape::Sync
        };
        Model {
            kind,
            function,
            shape,
            arguments,
            has_pattern_arguments,
            message,
            name,
            level,
            severity,
            krate,
            fields: args.fields.get(),
            redact: args.redact.get().map_or(&[], Vec::as_slice),
        }
    }
}

/// The annotated item as a function with a body. A function syn cannot parse gets syn's own
/// error, at the token it stopped on. Any other item gets one error at the token that shows
/// the misuse: the `;` of a method without a body, or the item's keyword.
pub(crate) fn parse_function(kind: Kind, item: TokenStream) -> syn::Result<ItemFn> {
    let error = match syn::parse2::<ItemFn>(item.clone()) {
        Ok(function) => return Ok(function),
        Err(error) => error,
    };
    let span = match syn::parse2::<TraitItemFn>(item.clone()) {
        Ok(TraitItemFn {
            default: None,
            semi_token: Some(semi),
            ..
        }) => semi.span,
        _ => match introducer.parse2(item) {
            Ok(Introducer::Fn) => return Err(error),
            Ok(Introducer::Other(span)) => span,
            Err(_) => Span::call_site(),
        },
    };
    Err(syn::Error::new(
        span,
        format!(
            "{} applies to functions and methods with a body",
            kind.attribute()
        ),
    ))
}

/// What introduces an item, after its attributes and visibility.
enum Introducer {
    /// `fn`, possibly after `const`, `async`, `unsafe` and `extern "abi"`.
    Fn,
    /// Anything else, and where it starts.
    Other(Span),
}

fn introducer(input: ParseStream) -> syn::Result<Introducer> {
    input.call(Attribute::parse_outer)?;
    input.parse::<Visibility>()?;
    let start = input.span();
    input.parse::<Option<Token![const]>>()?;
    input.parse::<Option<Token![async]>>()?;
    input.parse::<Option<Token![unsafe]>>()?;
    if input.parse::<Option<Token![extern]>>()?.is_some() {
        input.parse::<Option<LitStr>>()?;
    }
    let introducer = if input.peek(Token![fn]) {
        Introducer::Fn
    } else {
        Introducer::Other(start)
    };
    input.parse::<TokenStream>()?;
    Ok(introducer)
}

/// Recognises a body whose last expression is `Box::pin(async move { .. })` (what
/// `#[async_trait]` generates). Returns the statements before it, the `Box::pin` path and the
/// async block.
fn boxed_async_block(body: &Block) -> Option<(&[Stmt], &Expr, &Expr)> {
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
        future @ Expr::Async(_) => Some((leading, &*call.func, future)),
        _ => None,
    }
}

/// `Message` or `&Message` (any path ending in `Message`). The runtime records the kind and
/// size of tungstenite's `Message`, and nothing for an application type of the same name.
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

fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::*;

    fn model_of(function: &ItemFn, test: impl FnOnce(&Model)) {
        let args = Args::default();
        test(&Model::new(Kind::Handler, &args, function));
    }

    fn shape_of(function: ItemFn) -> &'static str {
        let mut shape = "";
        model_of(&function, |model| {
            shape = match model.shape {
                Shape::Async => "async",
                Shape::BoxedAsync { leading, .. } => {
                    assert_eq!(leading.len(), 1);
                    "boxed"
                }
                Shape::Sync => "sync",
            };
        });
        shape
    }

    #[test]
    fn shapes() {
        assert_eq!(shape_of(parse_quote! { async fn f() {} }), "async");
        assert_eq!(shape_of(parse_quote! { fn f() -> u32 { 1 } }), "sync");
        let boxed = parse_quote! {
            fn f(&self) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
                let x = 1;
                Box::pin(async move { let _ = x; })
            }
        };
        assert_eq!(shape_of(boxed), "boxed");
        // A boxed future that is not an async block is measured around the boxing.
        let boxed_call = parse_quote! { fn f() -> Pin<Box<F>> { Box::pin(make()) } };
        assert_eq!(shape_of(boxed_call), "sync");
    }

    #[test]
    fn arguments_message_and_patterns() {
        let function: ItemFn = parse_quote! {
            fn f(&self, mut room: u32, (a, b): (u8, u8), all @ _: u8, text: &ws::Message, m: Message) {}
        };
        model_of(&function, |model| {
            let names: Vec<String> = model
                .arguments
                .iter()
                .map(|a| a.ident.to_string())
                .collect();
            assert_eq!(names, ["room", "text", "m"]);
            assert!(model.has_pattern_arguments);
            assert_eq!(model.message.unwrap(), "text");
        });
        let function: ItemFn = parse_quote! { fn f(m: Message<u8>, n: app::Messages) {} };
        model_of(&function, |model| {
            assert!(!model.has_pattern_arguments);
            assert!(model.message.is_none());
        });
    }

    #[test]
    fn defaults() {
        let function: ItemFn = parse_quote! { fn r#type() {} };
        model_of(&function, |model| {
            assert_eq!(model.name.value(), "type");
            assert_eq!(model.level, "INFO");
            assert!(model.severity.is_none());
            let krate = &model.krate;
            assert_eq!(quote!(#krate).to_string(), ":: ws_observe");
        });
    }

    #[test]
    fn items_that_are_not_functions_with_a_body() {
        let message = |item: TokenStream| {
            let error = parse_function(Kind::Observe, item).err().unwrap();
            error.to_string()
        };
        let not_a_function = "#[ws_observe] applies to functions and methods with a body";
        assert_eq!(message(quote! { struct Handler; }), not_a_function);
        assert_eq!(message(quote! { const X: fn() = f; }), not_a_function);
        assert_eq!(
            message(quote! { fn broadcast(&self) -> usize; }),
            not_a_function
        );
        // A function syn cannot parse gets syn's error, in the body or in the signature.
        let bad_body = quote! { fn f() { let x = 1 +; } };
        let bad_signature = quote! { pub async fn f(x: ) {} };
        for function in [bad_body, bad_signature] {
            let syn_error = syn::parse2::<ItemFn>(function.clone()).err().unwrap();
            assert_eq!(message(function), syn_error.to_string());
            assert_ne!(syn_error.to_string(), not_a_function);
        }
        assert!(parse_function(Kind::Observe, quote! { fn f() {} }).is_ok());
    }
}
