//! The token cookies, in one place for the BFF and the proxy.
//!
//! * [`KeyRing`] seals and opens values with AES-256-GCM: a fresh 96-bit nonce
//!   per value, the cookie name bound in as associated data, a version and a
//!   key id in the encoding. The first key seals; every key opens.
//! * [`CookiePolicy`] names the cookies and sets their attributes
//!   (`__Host-` prefix, `HttpOnly; Secure; SameSite=Strict; Path=/`).
//! * [`Vault`] puts the two together and splits values too large for one
//!   cookie across numbered chunks.

mod chunks;
mod key_ring;
pub mod metrics;
mod payload;
mod policy;
mod request_cookies;
mod secret;
mod settings;
mod vault;

pub use chunks::MAX_CHUNK_LEN;
pub use key_ring::{CookieKey, KeyRing, KeyRingError, OpenError, generate_key_base64};
pub use payload::{AccessTokenPayload, SessionMark, unix_now};
pub use policy::{CookieKind, CookiePolicy, PolicyError};
pub use request_cookies::RequestCookies;
pub use secret::Secret;
pub use settings::{CookieSettings, KeySetting, SettingsError};
pub use vault::{ReadError, Vault, WriteError};
/// A cookie as the vault writes it (the `cookie` crate's type).
pub type CookieOut = cookie::Cookie<'static>;
