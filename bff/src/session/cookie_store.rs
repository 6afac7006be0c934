//! The stateless store: every token in its own sealed cookie.

use super::{IdTokenPayload, NewTokens, SessionStore, SetCookies};
use actix_web::HttpRequest;
use std::sync::Arc;
use std::time::Duration;
use th_cookies::{AccessTokenPayload, CookieKind, Secret, Vault, WriteError};
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
    async fn access_token(&self, req: &HttpRequest) -> Option<AccessTokenPayload> {
        let app = RequestContext::of(req).app;
        self.vault
            .read_json::<AccessTokenPayload>(&request_cookies(req), CookieKind::Access)
            .ok()
            .filter(|a| a.belongs_to(app.as_ref().map(|o| o.as_str())))
    }

    async fn id_token(&self, req: &HttpRequest, now: i64) -> Option<IdTokenPayload> {
        let app = RequestContext::of(req).app;
        self.vault
            .read_json::<IdTokenPayload>(&request_cookies(req), CookieKind::Id)
            .ok()
            .filter(|id| id.session_expires_at > now)
            .filter(|id| id.belongs_to(app.as_ref().map(|o| o.as_str())))
    }

    async fn refresh_token(&self, req: &HttpRequest) -> Option<Secret> {
        let bytes = self
            .vault
            .read(&request_cookies(req), CookieKind::Refresh)
            .ok()?;
        String::from_utf8(bytes).ok().map(Secret::new)
    }

    async fn save(
        &self,
        req: &HttpRequest,
        tokens: NewTokens<'_>,
    ) -> Result<SetCookies, WriteError> {
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
        if let Some(refresh) = tokens.refresh {
            out.extend(self.vault.write(
                &cookies,
                CookieKind::Refresh,
                refresh.expose().as_bytes(),
                max_age,
            )?);
        }
        Ok(out)
    }

    async fn clear(&self, req: &HttpRequest) -> SetCookies {
        let cookies = request_cookies(req);
        [CookieKind::Access, CookieKind::Refresh, CookieKind::Id]
            .into_iter()
            .flat_map(|kind| self.vault.clear(&cookies, kind))
            .collect()
    }
}
