//! Signs in through the provider's own login and consent forms, as a browser
//! would: following redirects by hand, keeping the provider's cookies.

use reqwest::header::LOCATION;
use reqwest::redirect::Policy;
use url::Url;

/// A cookie-keeping HTTP client that stops at every redirect.
pub struct Browser {
    client: reqwest::Client,
}

/// What went wrong while signing in.
#[derive(Debug)]
pub enum LoginError {
    Http(reqwest::Error),
    Unexpected(String),
}

impl From<reqwest::Error> for LoginError {
    fn from(e: reqwest::Error) -> Self {
        Self::Http(e)
    }
}

impl Default for Browser {
    fn default() -> Self {
        Self::new()
    }
}

impl Browser {
    /// A fresh browser with no cookies.
    pub fn new() -> Self {
        Self {
            client: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(Policy::none())
                .build()
                .expect("client"),
        }
    }

    /// Follows `authorization_url` through the login (as `user`) and consent
    /// forms until the provider redirects to `redirect_prefix`; returns that
    /// URL (with `code`, `state`, `iss`).
    pub async fn sign_in(
        &self,
        authorization_url: &str,
        user: &str,
        redirect_prefix: &str,
    ) -> Result<String, LoginError> {
        let mut url =
            Url::parse(authorization_url).map_err(|e| LoginError::Unexpected(e.to_string()))?;
        let mut form: Option<Vec<(String, String)>> = None;
        for _ in 0..20 {
            let request = match form.take() {
                Some(fields) => self.client.post(url.clone()).form(&fields),
                None => self.client.get(url.clone()),
            };
            let response = request.send().await?;
            if let Some(location) = response.headers().get(LOCATION) {
                let next = url
                    .join(location.to_str().unwrap_or_default())
                    .map_err(|e| LoginError::Unexpected(e.to_string()))?;
                if next.as_str().starts_with(redirect_prefix) {
                    return Ok(next.to_string());
                }
                url = next;
                continue;
            }
            let status = response.status();
            let html = response.text().await?;
            let (action, fields) = parse_form(&html, user).ok_or_else(|| {
                LoginError::Unexpected(format!(
                    "no form on a {status} page: {}",
                    &html[..html.len().min(300)]
                ))
            })?;
            url = url
                .join(&action)
                .map_err(|e| LoginError::Unexpected(e.to_string()))?;
            form = Some(fields);
        }
        Err(LoginError::Unexpected("too many steps".into()))
    }

    /// Confirms the provider's logout page at `logout_url`, following it to
    /// the post-logout redirect; returns the final URL.
    pub async fn confirm_logout(&self, logout_url: &str) -> Result<String, LoginError> {
        let response = self.client.get(logout_url).send().await?;
        let base = Url::parse(logout_url).map_err(|e| LoginError::Unexpected(e.to_string()))?;
        let html = response.text().await?;
        let (action, mut fields) =
            parse_form(&html, "").ok_or_else(|| LoginError::Unexpected("no logout form".into()))?;
        // "Yes, sign me out" (some versions put it in the form already).
        if !fields.iter().any(|(name, _)| name == "logout") {
            fields.push(("logout".into(), "yes".into()));
        }
        let mut url = base
            .join(&action)
            .map_err(|e| LoginError::Unexpected(e.to_string()))?;
        let mut response = self.client.post(url.clone()).form(&fields).send().await?;
        if !response.status().is_redirection() {
            return Err(LoginError::Unexpected(format!(
                "the logout confirmation answered {}: {}",
                response.status(),
                response.text().await.unwrap_or_default()
            )));
        }
        for _ in 0..10 {
            let Some(location) = response.headers().get(LOCATION) else {
                break;
            };
            url = url
                .join(location.to_str().unwrap_or_default())
                .map_err(|e| LoginError::Unexpected(e.to_string()))?;
            if url.host_str() != base.host_str() || url.port() != base.port() {
                break;
            }
            response = self.client.get(url.clone()).send().await?;
        }
        Ok(url.to_string())
    }
}

/// Finds the first form's action and its inputs, filling `login`/`password`.
fn parse_form(html: &str, user: &str) -> Option<(String, Vec<(String, String)>)> {
    let form_start = html.find("<form")?;
    let form = &html[form_start..];
    let form_end = form.find("</form>").unwrap_or(form.len());
    let form = &form[..form_end];
    let action = attribute(&form[..form.find('>')?], "action")?;
    let mut fields = Vec::new();
    let mut rest = form;
    while let Some(i) = rest.find("<input") {
        rest = &rest[i..];
        let end = rest.find('>')?;
        let tag = &rest[..end];
        if let Some(name) = attribute(tag, "name") {
            let value = match name.as_str() {
                "login" => user.to_owned(),
                "password" => "any-password".to_owned(),
                _ => attribute(tag, "value").unwrap_or_default(),
            };
            fields.push((name, value));
        }
        rest = &rest[end..];
    }
    Some((html_unescape(&action), fields))
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let needle = format!("{name}=\"");
    let start = tag.find(&needle)? + needle.len();
    let len = tag[start..].find('"')?;
    Some(tag[start..start + len].to_owned())
}

fn html_unescape(s: &str) -> String {
    s.replace("&amp;", "&")
        .replace("&#x2F;", "/")
        .replace("&#47;", "/")
        .replace("&quot;", "\"")
}
