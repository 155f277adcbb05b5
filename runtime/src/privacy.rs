//! Pseudonyms for personal data: what `redact(...)` records instead of an argument's value, and
//! what user code calls for its own fields.
//!
//! A pseudonym is the HMAC-SHA256 of the value's text under a secret key
//! (`WS_OBSERVE_PSEUDONYM_KEY`), truncated to 128 bits and written as 32 lowercase hex digits.
//! The same value gives the same pseudonym everywhere the key is the same (every replica, every
//! restart), so a user's log lines can still be grouped and followed; without the key nobody
//! can recover the value or test a guess (a plain hash of an e-mail address or a user id can be
//! reversed by hashing candidates; a keyed one cannot). Whoever holds the key can compute a
//! known person's pseudonym with a [`Pseudonymizer`], to answer an access or erasure request.
//!
//! Without a configured key, a random key is drawn for the process and a warning is logged on
//! first use: pseudonyms then differ between restarts and replicas, which protects the data but
//! breaks correlation. The consent journal needs stable pseudonyms, so `init()` refuses
//! `WS_OBSERVE_CONSENT_LOG` without a key.

use std::fmt::{self, Display, Write as _};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::error::InitError;
use crate::vars;

/// Bytes of HMAC output kept: 128 bits, collision-free for any realistic number of users.
const PSEUDONYM_BYTES: usize = 16;

/// Computes pseudonyms under one key.
///
/// ```
/// use ws_observe_runtime::privacy::Pseudonymizer;
/// let keyed = Pseudonymizer::new(b"a secret of at least 16 bytes").unwrap();
/// let pseudonym = keyed.pseudonym("alice@example.com");
/// assert_eq!(pseudonym.len(), 32);
/// assert_eq!(pseudonym, keyed.pseudonym("alice@example.com"));
/// assert_ne!(pseudonym, keyed.pseudonym("bob@example.com"));
/// ```
#[derive(Clone)]
pub struct Pseudonymizer {
    /// Keyed once; each pseudonym clones this state instead of re-deriving the key pads.
    keyed: Hmac<Sha256>,
}

/// The key given to [`Pseudonymizer::new`] is shorter than [`Pseudonymizer::MIN_KEY_BYTES`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "a pseudonym key needs at least {min} bytes, got {got}: use a random secret such as the \
     text printed by `openssl rand -hex 32`"
)]
pub struct KeyTooShort {
    /// The length given.
    pub got: usize,
    /// The minimum.
    pub min: usize,
}

impl Pseudonymizer {
    /// Shortest key accepted: a short key could be found by trying them all.
    pub const MIN_KEY_BYTES: usize = 16;

    /// A pseudonymizer keyed with `key` (any bytes, at least [`Self::MIN_KEY_BYTES`]).
    ///
    /// ```
    /// use ws_observe_runtime::privacy::Pseudonymizer;
    /// assert!(Pseudonymizer::new(b"short").is_err());
    /// ```
    pub fn new(key: &[u8]) -> Result<Self, KeyTooShort> {
        if key.len() < Self::MIN_KEY_BYTES {
            return Err(KeyTooShort {
                got: key.len(),
                min: Self::MIN_KEY_BYTES,
            });
        }
        // HMAC accepts keys of any length; the length check above is ours.
        let keyed = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key");
        Ok(Pseudonymizer { keyed })
    }

    /// The pseudonym of `value`: 32 lowercase hex digits.
    pub fn pseudonym(&self, value: &str) -> String {
        self.pseudonym_of(&value)
    }

    /// The pseudonym of a value's `Display` text, computed without allocating that text (so
    /// `pseudonym_of(&42)` equals `pseudonym("42")`).
    ///
    /// ```
    /// use ws_observe_runtime::privacy::Pseudonymizer;
    /// let keyed = Pseudonymizer::new(&[7; 32]).unwrap();
    /// assert_eq!(keyed.pseudonym_of(&42), keyed.pseudonym("42"));
    /// ```
    pub fn pseudonym_of(&self, value: &(impl Display + ?Sized)) -> String {
        self.hex_of(value).as_str().to_owned()
    }

    /// The pseudonym on the stack: what a span field records, without an allocation.
    fn hex_of(&self, value: &(impl Display + ?Sized)) -> HexPseudonym {
        let mut mac = self.keyed.clone();
        // Infallible: the adapter never fails, and a Display impl that errors only truncates.
        let _ = write!(MacWriter(&mut mac), "{value}");
        let digest = mac.finalize().into_bytes();
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut hex = [0u8; PSEUDONYM_BYTES * 2];
        for (pair, byte) in hex.chunks_exact_mut(2).zip(&digest[..PSEUDONYM_BYTES]) {
            pair[0] = HEX[usize::from(byte >> 4)];
            pair[1] = HEX[usize::from(byte & 0xf)];
        }
        HexPseudonym(hex)
    }
}

/// A pseudonym as 32 hex digits, displayed as text. Not a public API: what `redact(...)`
/// records.
#[doc(hidden)]
pub struct HexPseudonym([u8; PSEUDONYM_BYTES * 2]);

impl HexPseudonym {
    fn as_str(&self) -> &str {
        // Only ASCII hex digits are ever written.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl Display for HexPseudonym {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Pseudonymizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print key material.
        f.write_str("Pseudonymizer { key: <redacted> }")
    }
}

/// Feeds formatted text straight into the MAC.
struct MacWriter<'a>(&'a mut Hmac<Sha256>);

impl fmt::Write for MacWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.update(s.as_bytes());
        Ok(())
    }
}

/// The process's pseudonymizer and whether its key is a random stand-in.
struct Global {
    pseudonymizer: Pseudonymizer,
    random_key: bool,
}

static GLOBAL: OnceLock<Global> = OnceLock::new();

/// The pseudonym of `value` under the deployment's key: what `redact(...)` records.
///
/// The key is the one given to `init()` (`WS_OBSERVE_PSEUDONYM_KEY` or
/// [`Config::set_pseudonym_key`](crate::Config::set_pseudonym_key)); called before `init()`, the
/// environment's key is used. With no key configured, a random per-process key is used and a
/// warning is logged once.
///
/// ```
/// let pseudonym = ws_observe_runtime::privacy::pseudonymize("alice@example.com");
/// assert_eq!(pseudonym.len(), 32);
/// assert!(!pseudonym.contains("alice"));
/// ```
pub fn pseudonymize(value: &str) -> String {
    pseudonymize_display(&value)
}

/// [`pseudonymize`] for any `Display` value, without formatting it into a `String` first.
pub fn pseudonymize_display(value: &(impl Display + ?Sized)) -> String {
    global().pseudonym_of(value)
}

fn global() -> &'static Pseudonymizer {
    let global = GLOBAL.get_or_init(env_or_random_key);
    // Reads first: on the per-call path, a store to a shared flag on every call would bounce
    // its cache line between threads.
    if global.random_key && !USED.load(Ordering::Relaxed) {
        USED.store(true, Ordering::Relaxed);
        warn_random_key_once();
    }
    &global.pseudonymizer
}

fn random_key() -> Global {
    let mut key = [0u8; 32];
    // The OS generator failing is exceptional; a pseudonym must still never be the raw value,
    // so fall back to a key derived from std's randomly seeded hasher state.
    if getrandom::fill(&mut key).is_err() {
        use std::hash::{BuildHasher, Hasher};
        for chunk in key.chunks_mut(8) {
            let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
            hasher.write_u64(chunk.as_ptr() as u64);
            chunk.copy_from_slice(&hasher.finish().to_le_bytes()[..chunk.len()]);
        }
    }
    Global {
        pseudonymizer: Pseudonymizer::new(&key).expect("32 bytes"),
        random_key: true,
    }
}

/// Whether the random-key warning reached the logs.
static WARNED_IN_LOGS: AtomicBool = AtomicBool::new(false);

fn warn_random_key_once() {
    if WARNED_IN_LOGS.load(Ordering::Relaxed) {
        return;
    }
    if tracing::dispatcher::has_been_set() {
        if !WARNED_IN_LOGS.swap(true, Ordering::Relaxed) {
            tracing::warn!(target: "ws_observe", "{RANDOM_KEY_WARNING}");
        }
    } else {
        // Before init(): no subscriber would show it. Say it on stderr once, and again in the
        // logs when init() installs them.
        static ON_STDERR: std::sync::Once = std::sync::Once::new();
        ON_STDERR.call_once(|| eprintln!("ws-observe: {RANDOM_KEY_WARNING}"));
    }
}

const RANDOM_KEY_WARNING: &str = "WS_OBSERVE_PSEUDONYM_KEY is not set: pseudonyms use a random \
     key for this process and will not match across restarts or replicas";

/// Checks that `init()` can install `key`: pseudonyms computed before `init()` under another
/// key would not match the ones computed from now on.
pub(crate) fn check_key(key: Option<&[u8]>) -> Result<(), &'static str> {
    let (Some(key), Some(installed)) = (key, GLOBAL.get()) else {
        return Ok(());
    };
    let pseudonymizer = Pseudonymizer::new(key).map_err(|_| "a key of at least 16 bytes")?;
    let probe = "ws-observe key check";
    if installed.pseudonymizer.pseudonym(probe) == pseudonymizer.pseudonym(probe) {
        Ok(())
    } else {
        Err(
            "the key already used for pseudonyms computed before init() \
             (from the environment, or random): call init() before pseudonymizing",
        )
    }
}

/// Installs the key `init()` was given (checked by [`check_key`]); without one, a random key,
/// unless pseudonyms were already computed before `init()`. Warns, now that logs are set up,
/// when the key in use is random and pseudonyms were already computed.
pub(crate) fn install_key(key: Option<&[u8]>) {
    let installed = GLOBAL.get_or_init(|| match key.map(Pseudonymizer::new) {
        Some(Ok(pseudonymizer)) => Global {
            pseudonymizer,
            random_key: false,
        },
        _ => random_key(),
    });
    if installed.random_key && USED.load(Ordering::Relaxed) {
        warn_random_key_once();
    }
}

/// `key` as a configured pseudonym key: at least [`Pseudonymizer::MIN_KEY_BYTES`] bytes.
/// The error names the variable, never the key.
pub(crate) fn checked_key(key: &[u8]) -> Result<Vec<u8>, InitError> {
    Pseudonymizer::new(key).map_err(|error| InitError::InvalidValue {
        var: vars::PSEUDONYM_KEY,
        value: "<redacted>".into(),
        expected: error.to_string(),
    })?;
    Ok(key.to_vec())
}

/// `WS_OBSERVE_PSEUDONYM_KEY` from `lookup`, checked; `None` when unset.
pub(crate) fn key_from_vars(
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<Option<Vec<u8>>, InitError> {
    lookup(vars::PSEUDONYM_KEY)
        .map(|text| checked_key(key_from_text(&text)))
        .transpose()
}

/// [`check_key`] as an `InitError` naming the variable.
pub(crate) fn check_installable(key: Option<&[u8]>) -> Result<(), InitError> {
    check_key(key).map_err(|expected| InitError::InvalidValue {
        var: vars::PSEUDONYM_KEY,
        value: "<redacted>".into(),
        expected: expected.into(),
    })
}

/// Whether a pseudonym has been computed under the random key.
static USED: AtomicBool = AtomicBool::new(false);

/// The key in a variable's text: the text itself, without surrounding whitespace (a secret
/// file's trailing newline must not change every pseudonym).
fn key_from_text(text: &str) -> &[u8] {
    text.trim().as_bytes()
}

/// The environment's key when it is usable (`init()` reports it when it is not), else a
/// random one.
fn env_or_random_key() -> Global {
    match std::env::var(vars::PSEUDONYM_KEY)
        .ok()
        .and_then(|text| Pseudonymizer::new(key_from_text(&text)).ok())
    {
        Some(pseudonymizer) => Global {
            pseudonymizer,
            random_key: false,
        },
        None => random_key(),
    }
}

/// What `redact(arg)` expands to. Not a public API.
#[doc(hidden)]
pub fn __redacted(value: &(impl Redactable + ?Sized)) -> HexPseudonym {
    value.__pseudonym()
}

/// What `redact(...)` accepts: any argument whose `Display` text identifies the person (an id,
/// an e-mail address, an IP address...).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be redacted: `redact(...)` needs an argument that implements `Display`",
    label = "the pseudonym is computed from this argument's `Display` text",
    note = "redact a part of it instead with `fields(name = %ws_observe::runtime::privacy::pseudonymize_display(&arg.id))`"
)]
pub trait Redactable {
    #[doc(hidden)]
    fn __pseudonym(&self) -> HexPseudonym;
}

impl<T: Display + ?Sized> Redactable for T {
    fn __pseudonym(&self) -> HexPseudonym {
        global().hex_of(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_hmac_sha256_test_vector() {
        // RFC 4231, test case 1: key 0x0b * 20, data "Hi There".
        let keyed = Pseudonymizer::new(&[0x0b; 20]).unwrap();
        assert_eq!(
            keyed.pseudonym("Hi There"),
            "b0344c61d8db38535ca8afceaf0bf12b"
        );
    }

    #[test]
    fn short_keys_are_refused() {
        assert_eq!(
            Pseudonymizer::new(b"fifteen bytes!!").unwrap_err(),
            KeyTooShort { got: 15, min: 16 }
        );
    }

    #[test]
    fn different_keys_give_unrelated_pseudonyms() {
        let a = Pseudonymizer::new(&[1; 32]).unwrap();
        let b = Pseudonymizer::new(&[2; 32]).unwrap();
        assert_ne!(a.pseudonym("user-1"), b.pseudonym("user-1"));
        assert_eq!(a.pseudonym_of(&1234_u64), a.pseudonym("1234"));
    }
}
