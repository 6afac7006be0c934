//! Settings, the same way in both binaries: one loader (a TOML file, then
//! `TH_`-prefixed environment variables over it), one error style
//! ([`SettingsError`]: the setting's path and what is wrong with it), and
//! the URL types both parse into.

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use serde::de::DeserializeOwned;
use std::path::Path;
use url::Url;

/// A setting that cannot be used, named as in the settings file (the
/// environment variable is the same path: `oidc.issuer` is `TH_OIDC__ISSUER`).
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("{setting}: {reason}")]
pub struct SettingsError {
    /// The setting's path, e.g. `proxy.routes[1].upstream`.
    pub setting: String,
    /// What is wrong with it; never the value of a secret.
    pub reason: String,
}

impl SettingsError {
    /// The setting `setting` is unusable because of `reason`.
    pub fn new(setting: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            setting: setting.into(),
            reason: reason.into(),
        }
    }
}

/// The file (if any), then the environment over it: `TH_` and the
/// setting's path with `__` between section and key
/// (`TH_PROXY__INTROSPECTION__CLIENT_SECRET`).
pub fn sources(file: Option<&Path>) -> Figment {
    let mut figment = Figment::new();
    if let Some(file) = file {
        // `file_exact`: a named file that is missing is an error, not an
        // empty file (the stricter of the two loaders this replaced).
        figment = figment.merge(Toml::file_exact(file));
    }
    // TH_CONFIG names the file (the command line reads it); it is no setting.
    figment.merge(Env::prefixed("TH_").split("__").ignore(&["config"]))
}

/// Why the settings could not be read: figment's error, which names the
/// key and where its value came from (the file, or the environment variable).
pub type LoadError = figment::Error;

/// Reads the settings from [`sources`].
pub fn load<T: DeserializeOwned>(file: Option<&Path>) -> Result<T, Box<LoadError>> {
    sources(file).extract().map_err(Box::new)
}

/// A provider's issuer: an `http(s)` URL with a host, `https` unless the
/// host is loopback (tokens and the client secret would otherwise cross
/// the network unencrypted). Kept exactly as configured: OpenID Connect
/// compares issuers as strings (Discovery §4.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerUrl {
    raw: String,
    url: Url,
}

impl IssuerUrl {
    /// Parses `raw`; `setting` names it in the error.
    pub fn parse(setting: &str, raw: &str) -> Result<Self, SettingsError> {
        Ok(Self {
            url: provider_url(setting, raw)?,
            raw: raw.to_owned(),
        })
    }

    /// The issuer exactly as configured.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The issuer, parsed.
    pub fn url(&self) -> &Url {
        &self.url
    }
}

impl std::fmt::Display for IssuerUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.raw)
    }
}

/// Parses a URL of the provider's (its issuer, an endpoint): `http(s)` with
/// a host, and `https` unless the host is loopback.
pub fn provider_url(setting: &str, raw: &str) -> Result<Url, SettingsError> {
    let url = http_url(setting, raw)?;
    if url.scheme() == "http" && !crate::origin::is_loopback_url(&url) {
        return Err(SettingsError::new(
            setting,
            format!(
                "{raw:?} is plain http on a host that is not loopback; tokens and the client secret would cross the network unencrypted (use https)"
            ),
        ));
    }
    Ok(url)
}

/// The cookie settings' errors in this style; `th-cookies` sits below this
/// crate, so the conversion lives here.
impl From<th_cookies::SettingsError> for SettingsError {
    fn from(e: th_cookies::SettingsError) -> Self {
        use th_cookies::{PolicyError, SettingsError as Cookies};
        match e {
            Cookies::Keys(e) => Self::new("cookies.keys", e.to_string()),
            Cookies::Policy(e @ PolicyError::BadPrefix(_)) => {
                Self::new("cookies.prefix", e.to_string())
            }
            Cookies::Policy(e @ PolicyError::BadDomain(_)) => {
                Self::new("cookies.domain", e.to_string())
            }
            Cookies::MaxChunks(n) => Self::new(
                "cookies.max_chunks",
                format!("must be between 1 and 10, not {n}"),
            ),
        }
    }
}

/// Parses an `http(s)` URL with a host; `setting` names it in the error.
pub fn http_url(setting: &str, raw: &str) -> Result<Url, SettingsError> {
    Url::parse(raw)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        .ok_or_else(|| SettingsError::new(setting, format!("{raw:?} is not an http(s) URL")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Sample {
        listen: String,
        #[serde(default)]
        section: Section,
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(deny_unknown_fields, default)]
    struct Section {
        secret: String,
        list: Vec<String>,
    }

    #[test]
    // The closure's error type is figment's, not ours.
    #[allow(clippy::result_large_err)]
    fn the_environment_overrides_the_file_section_by_section_and_the_config_variable_is_no_setting()
    {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "th.toml",
                "listen = \"127.0.0.1:1\"\n[section]\nsecret = \"file\"\n",
            )?;
            jail.set_env("TH_CONFIG", "th.toml");
            jail.set_env("TH_SECTION__SECRET", "env");
            jail.set_env("TH_SECTION__LIST", r#"["a","b"]"#);
            let s: Sample = load(Some(Path::new("th.toml"))).map_err(|e| e.to_string())?;
            assert_eq!(s.listen, "127.0.0.1:1");
            assert_eq!(s.section.secret, "env");
            assert_eq!(s.section.list, ["a", "b"]);
            jail.set_env("TH_LISTEN", "127.0.0.1:2");
            let s: Sample = load(None).map_err(|e| e.to_string())?;
            assert_eq!(s.listen, "127.0.0.1:2");
            Ok(())
        });
    }

    #[test]
    // The closure's error type is figment's, not ours.
    #[allow(clippy::result_large_err)]
    fn a_missing_file_and_an_unknown_setting_are_errors_that_name_them() {
        figment::Jail::expect_with(|jail| {
            let err = load::<Sample>(Some(Path::new("absent.toml"))).unwrap_err();
            assert!(err.to_string().contains("absent.toml"), "{err}");
            jail.create_file("th.toml", "listen = \"x\"\n[section]\nsecrte = \"typo\"\n")?;
            let err = load::<Sample>(Some(Path::new("th.toml"))).unwrap_err();
            assert!(err.to_string().contains("secrte"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn cookie_setting_errors_name_the_setting() {
        let settings = |toml: &str| -> th_cookies::CookieSettings {
            Figment::from(Toml::string(toml)).extract().unwrap()
        };
        let key = "keys = [{ id = \"k1\", key = \"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\" }]";
        for (toml, setting) in [
            ("keys = []".to_owned(), "cookies.keys"),
            (format!("{key}\nprefix = \"a b\""), "cookies.prefix"),
            (
                format!("{key}\ndomain = \"not a domain\""),
                "cookies.domain",
            ),
            (format!("{key}\nmax_chunks = 0"), "cookies.max_chunks"),
        ] {
            let err = SettingsError::from(settings(&toml).vault().unwrap_err());
            assert_eq!(err.setting, setting, "{toml}: {err}");
        }
    }

    #[test]
    fn an_issuer_is_https_unless_loopback_and_kept_as_written() {
        for bad in [
            "http://id.example.com",
            "http://10.0.0.5:8080",
            "HTTP://ID.EXAMPLE.COM",
        ] {
            let err = IssuerUrl::parse("oidc.issuer", bad).unwrap_err();
            assert_eq!(err.setting, "oidc.issuer");
            assert!(err.reason.contains("plain http"), "{bad}: {err}");
        }
        for bad in ["id.example.com", "ftp://id.example.com", "https://"] {
            let err = IssuerUrl::parse("oidc.issuer", bad).unwrap_err();
            assert!(err.reason.contains("not an http(s) URL"), "{bad}: {err}");
        }
        for good in [
            "http://127.0.0.1:9000",
            "http://localhost:9000",
            "http://[::1]:9000",
            "https://id.example.com/realms/x/",
        ] {
            let issuer = IssuerUrl::parse("oidc.issuer", good).unwrap();
            assert_eq!(issuer.as_str(), good);
        }
    }
}
