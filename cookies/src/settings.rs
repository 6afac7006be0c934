//! The `[cookies]` settings, shared by the BFF's and the proxy's configuration.

use crate::{CookieKey, CookiePolicy, KeyRing, KeyRingError, PolicyError, Secret, Vault};
use serde::Deserialize;

/// One configured key: `{ id = "2026-11", key = "<base64 of 32 bytes>" }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeySetting {
    pub id: String,
    pub key: Secret,
}

/// The `[cookies]` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CookieSettings {
    /// Name prefix: cookies are `__Host-<prefix>-at` and so on.
    pub prefix: String,
    /// `Secure` attribute. May be `false` only for a loopback development origin.
    pub secure: bool,
    /// A `Domain` attribute; unset (host-only, `__Host-` names) is safest.
    pub domain: Option<String>,
    /// How many cookies one value may be split across (each up to 3800 bytes).
    pub max_chunks: usize,
    /// The key ring; the first key seals, every key opens.
    pub keys: Vec<KeySetting>,
}

impl Default for CookieSettings {
    fn default() -> Self {
        Self {
            prefix: "th".into(),
            secure: true,
            domain: None,
            max_chunks: 4,
            keys: Vec::new(),
        }
    }
}

/// Why the `[cookies]` settings are not usable.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cookies.keys: {0}")]
    Keys(#[from] KeyRingError),
    #[error("cookies: {0}")]
    Policy(#[from] PolicyError),
    #[error("cookies.max_chunks must be between 1 and 10, not {0}")]
    MaxChunks(usize),
}

impl CookieSettings {
    /// Builds the vault, naming the bad setting on failure.
    pub fn vault(&self) -> Result<Vault, SettingsError> {
        if !(1..=10).contains(&self.max_chunks) {
            return Err(SettingsError::MaxChunks(self.max_chunks));
        }
        let keys = self
            .keys
            .iter()
            .map(|k| CookieKey::from_base64(&k.id, k.key.expose()))
            .collect::<Result<Vec<_>, _>>()?;
        let ring = KeyRing::new(keys)?;
        let policy = CookiePolicy::new(&self.prefix, self.secure, self.domain.as_deref())?;
        Ok(Vault::new(ring, policy, self.max_chunks))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_key_is_named_in_the_error() {
        let settings = CookieSettings {
            keys: vec![KeySetting {
                id: "k1".into(),
                key: Secret::new("AAAA"),
            }],
            ..Default::default()
        };
        let err = settings.vault().unwrap_err().to_string();
        assert!(err.starts_with("cookies.keys:"), "{err}");
        assert!(err.contains("exactly 32 bytes"), "{err}");
    }

    #[test]
    fn no_keys_is_an_error() {
        assert!(CookieSettings::default().vault().is_err());
    }
}
