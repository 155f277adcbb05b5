//! The pseudonym key and the consent journal, checked before anything starts and installed
//! only once set-up has succeeded (a failed `init()` leaves nothing behind).

use crate::config::Config;
use crate::consent::Journal;
use crate::error::InitError;

pub(super) struct Privacy {
    key: Option<Vec<u8>>,
    journal: Option<Journal>,
}

impl Privacy {
    /// Checks the key against pseudonyms already computed, then opens the journal (which
    /// needs a configured key).
    pub(super) fn prepare(config: &Config) -> Result<Privacy, InitError> {
        let key = config.pseudonym_key.clone();
        crate::privacy::check_installable(key.as_deref())?;
        let journal = config.consent.open(key.as_deref())?;
        Ok(Privacy { key, journal })
    }

    pub(super) fn install(self) {
        crate::privacy::install_key(self.key.as_deref());
        if let Some(journal) = self.journal {
            crate::consent::install(journal);
        }
    }
}
