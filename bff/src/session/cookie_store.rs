//! The stateless store: every token in its own sealed cookie.

use super::{
    Ended, IdTokenPayload, NewTokens, RefreshUpdate, SessionRegistry, SessionStore, SetCookies,
    StoreError,
};
use actix_web::HttpRequest;
use std::sync::Arc;
use std::time::Duration;
use th_cookies::{AccessTokenPayload, CookieKind, RequestCookies, Secret, SessionMark, Vault};
use th_http::app_origin::RequestContext;

/// Tokens in sealed cookies (the default store).
pub struct CookieStore {
    vault: Arc<Vault>,
    /// With `[redis]`: sessions ended on the server (logout, back-channel
    /// logout) are recorded there and refused on every request.
    registry: Option<SessionRegistry>,
    lifetime: Duration,
}

impl CookieStore {
    /// A store over the vault's keys and cookie policy; `registry` (from
    /// `[redis]`) lets the server end sessions whose cookies live on.
    pub fn new(vault: Arc<Vault>, registry: Option<SessionRegistry>, lifetime: Duration) -> Self {
        Self {
            vault,
            registry,
            lifetime,
        }
    }

    /// The ID cookie's session, if it is live: not expired, made on `app`'s
    /// host, not ended on the server.
    async fn live_id(
        &self,
        cookies: &RequestCookies,
        app: Option<&str>,
        now: i64,
    ) -> Result<Option<IdTokenPayload>, StoreError> {
        let id = self
            .vault
            .read_json::<IdTokenPayload>(cookies, CookieKind::Id)
            .ok()
            .filter(|id| id.session_expires_at > now)
            .filter(|id| id.belongs_to(app));
        match id {
            Some(id) if self.ended(&id).await? => Ok(None),
            other => Ok(other),
        }
    }

    /// Whether the server recorded this session as ended.
    async fn ended(&self, id: &IdTokenPayload) -> Result<bool, StoreError> {
        self.ended_mark(&SessionMark {
            sid: id.sid.clone(),
            sub: id.sub.clone(),
            since: id.since.unwrap_or(0),
        })
        .await
    }

    async fn ended_mark(&self, mark: &SessionMark) -> Result<bool, StoreError> {
        let Some(registry) = &self.registry else {
            return Ok(false);
        };
        let session = Ended {
            sid: mark.sid.as_deref(),
            sub: mark.sub.as_deref(),
        };
        registry.is_denied(session, mark.since).await
    }
}

pub use th_http::request_cookies::request_cookies;

#[async_trait::async_trait(?Send)]
impl SessionStore for CookieStore {
    async fn access_token(
        &self,
        req: &HttpRequest,
    ) -> Result<Option<AccessTokenPayload>, StoreError> {
        let app = RequestContext::of(req).app;
        let app = app.as_ref().map(|o| o.as_str());
        let cookies = request_cookies(req);
        let Some(access) = self
            .vault
            .read_json::<AccessTokenPayload>(&cookies, CookieKind::Access)
            .ok()
            .filter(|a| a.belongs_to(app))
        else {
            return Ok(None);
        };
        if self.registry.is_none() {
            return Ok(Some(access));
        }
        // Whether the session was ended: the access cookie names it (one
        // cookie opened per API call); older cookies through the ID cookie.
        let ended = match &access.session {
            Some(mark) => self.ended_mark(mark).await?,
            None => self
                .live_id(&cookies, app, crate::clock::now())
                .await?
                .is_none(),
        };
        Ok((!ended).then_some(access))
    }

    async fn id_token(
        &self,
        req: &HttpRequest,
        now: i64,
    ) -> Result<Option<IdTokenPayload>, StoreError> {
        let app = RequestContext::of(req).app;
        self.live_id(&request_cookies(req), app.as_ref().map(|o| o.as_str()), now)
            .await
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

    async fn end(&self, req: &HttpRequest) -> Result<(), StoreError> {
        // Without a registry nothing is held here: clearing the cookies is
        // all there is. With one, the session is recorded as ended, so a
        // copied cookie set stops working too.
        let Some(registry) = &self.registry else {
            return Ok(());
        };
        let Ok(id) = self
            .vault
            .read_json::<IdTokenPayload>(&request_cookies(req), CookieKind::Id)
        else {
            return Ok(());
        };
        // By its sid; without one, the user's sessions begun by now.
        let this_session = match &id.sid {
            Some(sid) => Ended {
                sid: Some(sid),
                sub: None,
            },
            None => Ended {
                sid: None,
                sub: id.sub.as_deref(),
            },
        };
        registry
            .deny(this_session, crate::clock::now(), self.lifetime)
            .await
    }

    async fn end_matching(&self, ended: Ended<'_>) -> Result<(), StoreError> {
        match &self.registry {
            Some(registry) => {
                registry
                    .deny(ended, crate::clock::now(), self.lifetime)
                    .await
            }
            None => Err(StoreError::Unavailable(
                "ending sessions from the server needs [redis]".into(),
            )),
        }
    }

    fn registry(&self) -> Option<&SessionRegistry> {
        self.registry.as_ref()
    }

    fn shares_state(&self) -> bool {
        // Each tab holds its own copy of the tokens: the SPA's Web Lock
        // keeps its tabs from refreshing at once.
        false
    }

    fn clearing_cookies(&self, req: &HttpRequest) -> SetCookies {
        super::clear_all(&self.vault, req)
    }

    async fn is_ready(&self) -> bool {
        true
    }
}
