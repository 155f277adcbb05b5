//! How a call ended, and how the value a handler returned is classified.
//!
//! Classification uses autoref specialisation: the macro writes
//! `(&&&Classify(&value)).__ws_classify()` and method resolution picks the most specific impl
//! that applies to the concrete return type, at compile time, with no trait bound on the
//! user's function. `Err(e)` of any `Result` (aliases such as `io::Result<T>` included) is an
//! error; every other value, `Option::None` included, is a success.

use std::error::Error;
use std::fmt;

/// The `outcome` label of `ws_handler_calls_total`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OutcomeKind {
    /// The handler returned a value that is not an `Err`.
    Ok,
    /// The handler returned `Err(_)`.
    Error,
    /// The handler panicked; the panic went on unwinding unchanged.
    Panic,
    /// The handler's future was dropped before it completed (the client went away, a timeout
    /// or a `select!` dropped it).
    Cancelled,
}

impl OutcomeKind {
    /// Every outcome, in the order the metrics list them.
    pub const ALL: [OutcomeKind; 4] = [
        OutcomeKind::Ok,
        OutcomeKind::Error,
        OutcomeKind::Panic,
        OutcomeKind::Cancelled,
    ];

    /// The label value.
    pub const fn as_str(self) -> &'static str {
        match self {
            OutcomeKind::Ok => "ok",
            OutcomeKind::Error => "error",
            OutcomeKind::Panic => "panic",
            OutcomeKind::Cancelled => "cancelled",
        }
    }

    pub(crate) const fn index(self) -> usize {
        self as usize
    }
}

/// What a finished call returned, as far as telemetry cares.
#[derive(Clone, Copy)]
pub enum Outcome<'a> {
    /// Not an error.
    Ok,
    /// An `Err(_)`, with what could be learnt about the error.
    Error(ErrorInfo<'a>),
}

/// What is known about a returned error: its type always, its `Display` and source chain when
/// the type offers them.
#[derive(Clone, Copy)]
pub struct ErrorInfo<'a> {
    type_name: &'static str,
    message: Option<&'a dyn fmt::Display>,
    error: Option<&'a (dyn Error + 'a)>,
}

impl<'a> ErrorInfo<'a> {
    /// The error's type, as `std::any::type_name` spells it.
    pub fn type_name(&self) -> &'static str {
        self.type_name
    }

    /// The error's `Display`, when it has one.
    pub fn message(&self) -> Option<&'a dyn fmt::Display> {
        self.message
    }

    /// The error as `std::error::Error`, when it is one (gives the `source()` chain).
    pub fn as_error(&self) -> Option<&'a (dyn Error + 'a)> {
        self.error
    }
}

impl fmt::Debug for ErrorInfo<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let message = self.message.map(|m| m.to_string());
        f.debug_struct("ErrorInfo")
            .field("type_name", &self.type_name)
            .field("message", &message)
            .finish()
    }
}

impl fmt::Debug for Outcome<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Ok => f.write_str("Ok"),
            Outcome::Error(info) => f.debug_tuple("Error").field(info).finish(),
        }
    }
}

/// Wraps a reference to a handler's return value for classification; see the module docs.
#[doc(hidden)]
pub struct Classify<'a, T: ?Sized>(pub &'a T);

impl<T: ?Sized> Clone for Classify<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T: ?Sized> Copy for Classify<'_, T> {}

/// Most specific: `Result<T, E>` where `E: Error` (message and source chain).
#[doc(hidden)]
pub trait ClassifyStdError<'a> {
    fn __ws_classify(self) -> Outcome<'a>;
}
impl<'a, T, E: Error + 'a> ClassifyStdError<'a> for &&&Classify<'a, Result<T, E>> {
    #[inline]
    fn __ws_classify(self) -> Outcome<'a> {
        match self.0 {
            Ok(_) => Outcome::Ok,
            Err(e) => Outcome::Error(ErrorInfo {
                type_name: std::any::type_name::<E>(),
                message: Some(e),
                error: Some(e),
            }),
        }
    }
}

/// `Result<T, E>` where `E: Display` only (`anyhow::Error`, `Box<dyn Error>`, `String`).
#[doc(hidden)]
pub trait ClassifyDisplay<'a> {
    fn __ws_classify(self) -> Outcome<'a>;
}
impl<'a, T, E: fmt::Display + 'a> ClassifyDisplay<'a> for &&Classify<'a, Result<T, E>> {
    #[inline]
    fn __ws_classify(self) -> Outcome<'a> {
        match self.0 {
            Ok(_) => Outcome::Ok,
            Err(e) => Outcome::Error(ErrorInfo {
                type_name: std::any::type_name::<E>(),
                message: Some(e),
                error: None,
            }),
        }
    }
}

/// Any other `Result<T, E>`: an error, known by its type only.
#[doc(hidden)]
pub trait ClassifyResult<'a> {
    fn __ws_classify(self) -> Outcome<'a>;
}
impl<'a, T, E> ClassifyResult<'a> for &Classify<'a, Result<T, E>> {
    #[inline]
    fn __ws_classify(self) -> Outcome<'a> {
        match self.0 {
            Ok(_) => Outcome::Ok,
            Err(_) => Outcome::Error(ErrorInfo {
                type_name: std::any::type_name::<E>(),
                message: None,
                error: None,
            }),
        }
    }
}

/// Anything that is not a `Result` is a success.
#[doc(hidden)]
pub trait ClassifyAny<'a> {
    fn __ws_classify(self) -> Outcome<'a>;
}
impl<'a, T: ?Sized> ClassifyAny<'a> for Classify<'a, T> {
    #[inline]
    fn __ws_classify(self) -> Outcome<'a> {
        Outcome::Ok
    }
}

/// Classifies a value the way the macros do, for code that calls the runtime directly.
///
/// ```
/// use ws_observe_runtime::handler::{classify, Outcome};
/// let failed: Result<(), std::io::Error> = Err(std::io::Error::other("disk full"));
/// assert!(matches!(classify!(&failed), Outcome::Error(_)));
/// assert!(matches!(classify!(&Some(3)), Outcome::Ok));
/// ```
#[macro_export]
macro_rules! classify {
    ($value:expr) => {{
        #[allow(unused_imports)]
        use $crate::handler::{
            ClassifyAny as _, ClassifyDisplay as _, ClassifyResult as _, ClassifyStdError as _,
        };
        (&&&$crate::handler::Classify($value)).__ws_classify()
    }};
}
