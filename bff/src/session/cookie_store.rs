//! The stateless store: every token in its own sealed cookie.

use super::{IdTokenPayload, NewTokens, RefreshUpdate, SessionStore, SetCookies, StoreError};
use actix_web::HttpRequest;
use std::sync::Arc;
use std::time::Duration;
use th_cookies::{AccessTokenPayload, CookieKind, Secret, Vault};
use th_proxy::app_origin::RequestContext;

/// Tokens in sealed cookies (the default store).
pub struct CookieStore {
    vault: Arc<Vault>,
}

impl CookieStore {
    /// A store over the vault's keys and cookie policy.
    pub fn new(vault: Arc<Vault>) -> Self {
        Self { vault }
    }
}

pub use th_proxy::request_cookies;

#[async_trait::async_trait(?Send)]
impl SessionStore for CookieStore {
    async fn access_token(
        &self,
        req: &HttpRequest,
    ) -> Result<Option<AccessTokenPayload>, StoreError> {
        let app = RequestContext::of(req).app;
        Ok(self
            .vault
            .read_json::<AccessTokenPayload>(&request_cookies(req), CookieKind::Access)
            .ok()
            .filter(|a| a.belongs_to(app.as_ref().map(|o| o.as_str()))))
    }

    async fn id_token(
        &self,
        req: &HttpRequest,
        now: i64,
    ) -> Result<Option<IdTokenPayload>, StoreError> {
        let app = RequestContext::of(req).app;
        Ok(self
            .vault
            .read_json::<IdTokenPayload>(&request_cookies(req), CookieKind::Id)
            .ok()
            .filter(|id| id.session_expires_at > now)
            .filter(|id| id.belongs_to(app.as_ref().map(|o| o.as_str()))))
    }

    async fn refresh_token(&self, req: &HttpRequest) -> Result<Option<Secret>, StoreError> {
        let Ok(bytes) = self.vault.read(&request_cookies(req), CookieKind::Refresh) else {
            return Ok(None);
        };
        Ok(String::from_utf8(bytes).ok().map(Secret::new))
    }

    async fn save(
        &self,
        req: &HttpRequest,
        tokens: NewTokens<'_>,
    ) -> Result<SetCookies, StoreError> {
        let cookies = request_cookies(req);
        let now = crate::clock::now();
        // Every cookie lives exactly as long as the session.
        let max_age =
            Duration::from_secs(u64::try_from(tokens.id.session_expires_at - now).unwrap_or(0));
        let mut out =
            self.vault
                .write_json(&cookies, CookieKind::Access, &tokens.access, max_age)?;
        out.extend(
            self.vault
                .write_json(&cookies, CookieKind::Id, &tokens.id, max_age)?,
        );
        match tokens.refresh {
            RefreshUpdate::Replace(refresh) => out.extend(self.vault.write(
                &cookies,
                CookieKind::Refresh,
                refresh.expose().as_bytes(),
                max_age,
            )?),
            RefreshUpdate::Clear => out.extend(self.vault.clear(&cookies, CookieKind::Refresh)),
            RefreshUpdate::Keep => {}
        }
        Ok(out)
    }

    async fn end(&self, _req: &HttpRequest) -> Result<(), StoreError> {
        // Nothing is held here; clearing the cookies is all there is.
        Ok(())
    }

    fn clearing_cookies(&self, req: &HttpRequest) -> SetCookies {
        super::clear_all(&self.vault, req)
    }

    async fn is_ready(&self) -> bool {
        true
    }
}
