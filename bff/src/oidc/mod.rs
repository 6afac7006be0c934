//! Everything the BFF says to the OpenID Connect provider.
//!
//! * [`provider`]: discovery (once, lazily retried) and the JWKS.
//! * [`flow`]: the authorization request (PKCE S256, state, nonce, PAR), the
//!   code exchange, refresh, revocation, userinfo and the logout URL.
//! * [`id_token`]: ID-token validation.
//! * [`error`]: what can go wrong, classified for the HTTP answer.

pub mod error;
pub mod flow;
pub mod id_token;
pub mod logout_token;
pub mod provider;

pub use error::OidcError;
pub use flow::{LoginRequest, Oidc, TokenHint, TokenSet};
