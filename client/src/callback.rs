//! Recognising the provider's redirect back to the app, and cleaning the
//! address bar afterwards so no authorization code stays in the URL or history.

/// Query parameters of an authorization response (RFC 6749 §4.1.2, RFC 9207,
/// OpenID Connect session management).
const AUTH_PARAMS: &[&str] = &[
    "code",
    "state",
    "iss",
    "error",
    "error_description",
    "error_uri",
    "session_state",
];

/// Whether a query string (without `?`) carries an authorization response.
///
/// ```
/// use th_client::is_authorization_response;
///
/// assert!(is_authorization_response("code=abc&state=xyz"));
/// assert!(is_authorization_response("error=access_denied&state=xyz"));
/// assert!(!is_authorization_response("tab=2"));
/// ```
pub fn is_authorization_response(query: &str) -> bool {
    query_keys(query).any(|k| k == "code" || k == "error")
        && query_keys(query).any(|k| k == "state")
}

/// The same path with every authorization-response parameter removed.
///
/// `path` is `pathname`, `query` is `search` without its leading `?`, `hash`
/// includes its leading `#` when present.
///
/// ```
/// use th_client::without_auth_params;
///
/// assert_eq!(without_auth_params("/orders", "tab=2&code=abc&state=s", "#top"), "/orders?tab=2#top");
/// ```
pub fn without_auth_params(path: &str, query: &str, hash: &str) -> String {
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| !pair.is_empty() && !AUTH_PARAMS.contains(&key_of(pair)))
        .collect();
    let mut out = String::from(path);
    if !kept.is_empty() {
        out.push('?');
        out.push_str(&kept.join("&"));
    }
    out.push_str(hash);
    out
}

fn key_of(pair: &str) -> &str {
    pair.split_once('=').map_or(pair, |(k, _)| k)
}

fn query_keys(query: &str) -> impl Iterator<Item = &str> {
    query.split('&').filter(|p| !p.is_empty()).map(key_of)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_and_state_make_an_authorization_response() {
        assert!(is_authorization_response(
            "code=abc&state=xyz&iss=http%3A%2F%2Fx"
        ));
        assert!(is_authorization_response("error=access_denied&state=xyz"));
    }

    #[test]
    fn ordinary_queries_are_not_authorization_responses() {
        assert!(!is_authorization_response(""));
        assert!(!is_authorization_response("tab=2"));
        assert!(!is_authorization_response("code=1"));
        assert!(!is_authorization_response("statement=1&code=2"));
    }

    #[test]
    fn auth_params_are_removed_and_others_kept() {
        assert_eq!(
            without_auth_params("/", "code=abc&state=xyz&iss=http%3A%2F%2Fx", ""),
            "/"
        );
        assert_eq!(
            without_auth_params("/orders", "tab=2&code=abc&state=s", "#top"),
            "/orders?tab=2#top"
        );
        assert_eq!(without_auth_params("/a", "", ""), "/a");
    }
}
