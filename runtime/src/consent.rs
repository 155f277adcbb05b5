//! The GDPR consent journal: an append-only file of JSON lines, one per decision, each durable
//! on disk before [`record`] returns.
//!
//! A line holds the subject's pseudonym (never the subject itself), the purpose, the decision,
//! the time and the version of the policy the user saw:
//!
//! ```text
//! {"@timestamp":"2026-11-25T14:03:07.120331Z","subject":"4f0c…","purpose":"chat_history","decision":"granted","policy_version":"2026-01"}
//! ```
//!
//! This is the one place where durability beats latency: `record` writes the line and calls
//! `fsync` (`File::sync_data`) before returning, so a crash right after it returns loses
//! nothing. It blocks for a disk flush (milliseconds): call it from `spawn_blocking` in async
//! code. Lines are never rewritten; the current decision is the last line for the subject and
//! purpose, which [`latest`] finds by reading the journal (a linear scan: consent changes are
//! rare, and the journal is the record of proof, not a cache).
//!
//! `runtime::init()` opens the journal named by `WS_OBSERVE_CONSENT_LOG`, with the policy
//! version of `WS_OBSERVE_CONSENT_POLICY_VERSION` (default `unspecified`). The subject's
//! pseudonym uses the deployment's key (see [`privacy`](crate::privacy)), so `init()` refuses a
//! journal without `WS_OBSERVE_PSEUDONYM_KEY`: a random key would make every earlier decision
//! unreadable after a restart.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::SystemTime;

use crate::env_value::non_empty;
use crate::error::InitError;
use crate::privacy::Pseudonymizer;
use crate::vars;

/// A consent decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The subject agreed to the purpose.
    Granted,
    /// The subject withdrew (or refused) consent for the purpose.
    Withdrawn,
}

impl Decision {
    fn as_str(self) -> &'static str {
        match self {
            Decision::Granted => "granted",
            Decision::Withdrawn => "withdrawn",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text {
            "granted" => Some(Decision::Granted),
            "withdrawn" => Some(Decision::Withdrawn),
            _ => None,
        }
    }
}

/// Why a consent decision could not be recorded or read. When `record` fails, the decision was
/// not made durable: the caller must not act on it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConsentError {
    /// No journal: `WS_OBSERVE_CONSENT_LOG` was not set when `init()` ran (or `init()` was not
    /// called).
    #[error(
        "no consent journal is configured: set WS_OBSERVE_CONSENT_LOG (and WS_OBSERVE_PSEUDONYM_KEY) before runtime::init()"
    )]
    NotConfigured,
    /// The subject is empty or blank.
    #[error("the consent subject is empty: pass the user's id")]
    EmptySubject,
    /// The purpose is empty or holds a control character.
    #[error("invalid consent purpose `{0}`: use a short label such as `chat_history`")]
    InvalidPurpose(String),
    /// Reading, writing or syncing the journal failed.
    #[error("consent journal {path}: {source}")]
    Io {
        /// The journal's path.
        path: PathBuf,
        /// What failed.
        #[source]
        source: std::io::Error,
    },
}

/// An open consent journal. Most code uses the process's journal through [`record`] and
/// [`latest`]; a `Journal` of your own serves tools and tests.
///
/// ```
/// use ws_observe_runtime::consent::{Decision, Journal};
/// use ws_observe_runtime::privacy::Pseudonymizer;
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let path = std::env::temp_dir().join(format!("consent-doc-{}.jsonl", std::process::id()));
/// let journal = Journal::open(&path, Pseudonymizer::new(&[9; 32])?, "2026-01")?;
/// journal.record("alice@example.com", "newsletter", Decision::Granted)?;
/// journal.record("alice@example.com", "newsletter", Decision::Withdrawn)?;
/// assert_eq!(journal.latest("alice@example.com", "newsletter")?, Some(Decision::Withdrawn));
/// assert_eq!(journal.latest("bob@example.com", "newsletter")?, None);
/// assert!(!std::fs::read_to_string(&path)?.contains("alice"));
/// # std::fs::remove_file(&path)?;
/// # Ok(()) }
/// ```
pub struct Journal {
    path: PathBuf,
    /// One writer at a time, so lines never interleave within the process.
    file: Mutex<File>,
    pseudonymizer: Pseudonymizer,
    policy_version: String,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal")
            .field("path", &self.path)
            .field("policy_version", &self.policy_version)
            .finish_non_exhaustive()
    }
}

impl Journal {
    /// Opens (creating it if needed) the journal at `path` for appending. A new file's directory
    /// entry is synced too, so the file itself survives a crash.
    pub fn open(
        path: impl AsRef<Path>,
        pseudonymizer: Pseudonymizer,
        policy_version: &str,
    ) -> Result<Self, ConsentError> {
        let path = path.as_ref().to_path_buf();
        let io = |source| ConsentError::Io {
            path: path.clone(),
            source,
        };
        let existed = path.exists();
        let file = OpenOptions::new()
            .append(true)
            .create(true)
            .open(&path)
            .map_err(io)?;
        if !existed {
            file.sync_all().map_err(io)?;
            sync_parent_dir(&path).map_err(io)?;
        }
        Ok(Journal {
            path,
            file: Mutex::new(file),
            pseudonymizer,
            policy_version: policy_version.to_owned(),
        })
    }

    /// Appends the decision and returns once it is on disk.
    pub fn record(
        &self,
        subject: &str,
        purpose: &str,
        decision: Decision,
    ) -> Result<(), ConsentError> {
        check_subject(subject)?;
        let purpose = check_purpose(purpose)?;
        let line = serde_json::json!({
            "@timestamp": crate::timestamp::rfc3339(SystemTime::now()),
            "subject": self.pseudonymizer.pseudonym(subject),
            "purpose": purpose,
            "decision": decision.as_str(),
            "policy_version": self.policy_version,
        });
        let mut text = line.to_string();
        text.push('\n');
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        // One write of the whole line: with O_APPEND, other processes' lines cannot land inside
        // it. A process that crashed mid-write (its `record` never returned) may have left a
        // torn fragment that this line then continues: `latest` reads the line after it.
        file.write_all(text.as_bytes())
            .and_then(|()| file.sync_data())
            .map_err(|source| ConsentError::Io {
                path: self.path.clone(),
                source,
            })
    }

    /// The subject's current decision for the purpose: the last one recorded, or `None`.
    pub fn latest(&self, subject: &str, purpose: &str) -> Result<Option<Decision>, ConsentError> {
        check_subject(subject)?;
        let purpose = check_purpose(purpose)?;
        let pseudonym = self.pseudonymizer.pseudonym(subject);
        let io = |source| ConsentError::Io {
            path: self.path.clone(),
            source,
        };
        let reader = BufReader::new(File::open(&self.path).map_err(io)?);
        let mut current = None;
        for line in reader.split(b'\n') {
            let line = line.map_err(io)?;
            let Some(entry) = parse_entry(&line) else {
                continue;
            };
            if entry["subject"] == pseudonym.as_str()
                && entry["purpose"] == purpose
                && let Some(decision) = entry["decision"].as_str().and_then(Decision::parse)
            {
                current = Some(decision);
            }
        }
        Ok(current)
    }

    /// Where the journal is.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// A journal line as JSON. A line that starts with a torn fragment (a writer crashed before
/// finishing it, so its `record` never returned) is followed, on the same physical line, by the
/// next complete entry: that entry is read from its own start.
fn parse_entry(line: &[u8]) -> Option<serde_json::Value> {
    if let Ok(entry) = serde_json::from_slice(line) {
        return Some(entry);
    }
    const START: &[u8] = b"{\"@timestamp\":";
    let at = line.windows(START.len()).rposition(|w| w == START)?;
    serde_json::from_slice(&line[at..]).ok()
}

/// A purpose is a short label; surrounding spaces are not part of it.
fn check_purpose(purpose: &str) -> Result<&str, ConsentError> {
    let purpose = purpose.trim();
    if purpose.is_empty() || purpose.chars().any(char::is_control) {
        return Err(ConsentError::InvalidPurpose(
            purpose.escape_debug().to_string(),
        ));
    }
    Ok(purpose)
}

/// Every subject must be someone: an empty one would pool everybody's decisions.
fn check_subject(subject: &str) -> Result<(), ConsentError> {
    if subject.trim().is_empty() {
        return Err(ConsentError::EmptySubject);
    }
    Ok(())
}

#[cfg(unix)]
fn sync_parent_dir(path: &Path) -> std::io::Result<()> {
    let parent = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    File::open(parent)?.sync_all()
}

#[cfg(not(unix))]
fn sync_parent_dir(_: &Path) -> std::io::Result<()> {
    Ok(())
}

static JOURNAL: OnceLock<Journal> = OnceLock::new();

/// Installs the journal `init()` opened.
/// Where the consent journal is and the policy version written on its lines, from
/// `WS_OBSERVE_CONSENT_LOG` and `WS_OBSERVE_CONSENT_POLICY_VERSION`.
///
/// ```
/// use ws_observe_runtime::consent::ConsentSettings;
/// let err = ConsentSettings::from_vars(|name| {
///     (name == "WS_OBSERVE_CONSENT_POLICY_VERSION").then(|| "2026-01".to_owned())
/// })
/// .unwrap_err();
/// assert!(err.to_string().contains("WS_OBSERVE_CONSENT_LOG set as well"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsentSettings {
    pub(crate) log: Option<PathBuf>,
    pub(crate) policy_version: String,
}

impl Default for ConsentSettings {
    fn default() -> Self {
        ConsentSettings {
            log: None,
            policy_version: "unspecified".to_owned(),
        }
    }
}

impl ConsentSettings {
    /// The defaults (no journal) overridden by the variables from `lookup`.
    pub fn from_vars(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, InitError> {
        let mut settings = ConsentSettings::default();
        if let Some(path) = non_empty(&lookup, vars::CONSENT_LOG) {
            settings.set_log(path.trim());
        }
        if let Some(version) = lookup(vars::CONSENT_POLICY_VERSION) {
            if settings.log.is_none() {
                return Err(InitError::InvalidValue {
                    var: vars::CONSENT_POLICY_VERSION,
                    value: version,
                    expected: format!(
                        "{} set as well: the version is written on consent lines",
                        vars::CONSENT_LOG
                    ),
                });
            }
            settings.set_policy_version(&version)?;
        }
        Ok(settings)
    }

    /// Keeps the journal at `path`.
    pub fn set_log(&mut self, path: impl Into<PathBuf>) {
        self.log = Some(path.into());
    }

    /// The privacy policy version written on each line (e.g. `2026-01`).
    pub fn set_policy_version(&mut self, version: &str) -> Result<(), InitError> {
        if version.trim().is_empty() || version.chars().any(char::is_control) {
            return Err(InitError::InvalidValue {
                var: vars::CONSENT_POLICY_VERSION,
                value: version.escape_debug().to_string(),
                expected: "a non-empty version label such as `2026-01`".into(),
            });
        }
        self.policy_version = version.trim().to_owned();
        Ok(())
    }

    /// Opens the journal, if one is configured, keyed by `key`. The journal needs a configured
    /// key: with a random one, decisions recorded before a restart could never be read back.
    pub(crate) fn open(&self, key: Option<&[u8]>) -> Result<Option<Journal>, InitError> {
        let Some(path) = &self.log else {
            return Ok(None);
        };
        let Some(key) = key else {
            return Err(InitError::InvalidValue {
                var: vars::CONSENT_LOG,
                value: path.display().to_string(),
                expected: format!(
                    "{} set as well: the journal stores pseudonyms, which must stay the same across restarts",
                    vars::PSEUDONYM_KEY
                ),
            });
        };
        let journal_error = |source| InitError::ConsentJournal {
            var: vars::CONSENT_LOG,
            path: path.clone(),
            source,
        };
        // Resolved once: a later change of the working directory must not move the journal.
        let path = std::path::absolute(path).map_err(journal_error)?;
        let pseudonymizer =
            Pseudonymizer::new(key).map_err(|e| journal_error(std::io::Error::other(e)))?;
        Journal::open(&path, pseudonymizer, &self.policy_version)
            .map(Some)
            .map_err(|error| match error {
                ConsentError::Io { source, .. } => journal_error(source),
                other => journal_error(std::io::Error::other(other.to_string())),
            })
    }
}

pub(crate) fn install(journal: Journal) {
    // init() runs once per process, so this is the only set.
    let _ = JOURNAL.set(journal);
}

/// Records `decision` of `subject` (a user id, an e-mail address...: only its pseudonym is
/// written) for `purpose` in the process's journal, and returns once it is durable.
///
/// ```no_run
/// use ws_observe_runtime::consent::{self, Decision};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // WS_OBSERVE_CONSENT_LOG=/var/lib/my-app/consent.jsonl WS_OBSERVE_PSEUDONYM_KEY=...
/// let _telemetry = ws_observe_runtime::init()?;
/// consent::record("user-1234", "chat_history", Decision::Granted)?;
/// assert_eq!(consent::latest("user-1234", "chat_history")?, Some(Decision::Granted));
/// # Ok(()) }
/// ```
pub fn record(subject: &str, purpose: &str, decision: Decision) -> Result<(), ConsentError> {
    JOURNAL
        .get()
        .ok_or(ConsentError::NotConfigured)?
        .record(subject, purpose, decision)
}

/// The current decision of `subject` for `purpose` in the process's journal (`None`: never
/// asked). See [`record`].
pub fn latest(subject: &str, purpose: &str) -> Result<Option<Decision>, ConsentError> {
    JOURNAL
        .get()
        .ok_or(ConsentError::NotConfigured)?
        .latest(subject, purpose)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_journal(name: &str) -> (Journal, PathBuf) {
        let path = std::env::temp_dir().join(format!(
            "ws-observe-consent-{name}-{}.jsonl",
            std::process::id()
        ));
        let _ = std::fs::remove_file(&path);
        let journal = Journal::open(&path, Pseudonymizer::new(&[3; 32]).unwrap(), "v7").unwrap();
        (journal, path)
    }

    #[test]
    fn the_last_decision_wins_per_subject_and_purpose() {
        let (journal, path) = temp_journal("last");
        journal.record("u1", "a", Decision::Granted).unwrap();
        journal.record("u1", "b", Decision::Granted).unwrap();
        journal.record("u2", "a", Decision::Withdrawn).unwrap();
        journal.record("u1", "a", Decision::Withdrawn).unwrap();
        assert_eq!(
            journal.latest("u1", "a").unwrap(),
            Some(Decision::Withdrawn)
        );
        assert_eq!(journal.latest("u1", "b").unwrap(), Some(Decision::Granted));
        assert_eq!(
            journal.latest("u2", "a").unwrap(),
            Some(Decision::Withdrawn)
        );
        assert_eq!(journal.latest("u3", "a").unwrap(), None);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 4);
        let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(first["policy_version"], "v7");
        assert_eq!(first["decision"], "granted");
        assert_eq!(first["subject"].as_str().unwrap().len(), 32);
        std::fs::remove_file(path).unwrap();
    }

    #[test]
    fn a_torn_last_line_is_skipped_and_appending_resumes() {
        let (journal, path) = temp_journal("torn");
        journal.record("u1", "a", Decision::Granted).unwrap();
        // A crash in the middle of a write that never returned.
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"{\"@timestamp\":\"2026-")
            .unwrap();
        assert_eq!(journal.latest("u1", "a").unwrap(), Some(Decision::Granted));
        journal.record("u1", "a", Decision::Withdrawn).unwrap();
        let reopened = Journal::open(&path, Pseudonymizer::new(&[3; 32]).unwrap(), "v7").unwrap();
        assert_eq!(
            reopened.latest("u1", "a").unwrap(),
            Some(Decision::Withdrawn)
        );
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 2, "no empty line added: {text}");
        std::fs::remove_file(path).unwrap();
    }

    #[test]
    fn bad_purposes_and_subjects_are_refused_and_purposes_trimmed() {
        let (journal, path) = temp_journal("purpose");
        assert!(matches!(
            journal.record(" ", "a", Decision::Granted),
            Err(ConsentError::EmptySubject)
        ));
        journal.record("u1", " chat ", Decision::Granted).unwrap();
        assert_eq!(
            journal.latest("u1", "chat").unwrap(),
            Some(Decision::Granted)
        );
        assert!(matches!(
            journal.record("u1", " ", Decision::Granted),
            Err(ConsentError::InvalidPurpose(_))
        ));
        assert!(matches!(
            journal.record("u1", "a\nb", Decision::Granted),
            Err(ConsentError::InvalidPurpose(_))
        ));
        std::fs::remove_file(path).unwrap();
    }
}
