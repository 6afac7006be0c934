//! A coarse, human label for a session's browser ("Chrome on Linux"), so a
//! user can tell their sessions apart without the server keeping the whole
//! `User-Agent` string.

/// The longest `User-Agent` read; longer ones are cut (the parser is
/// regex-based, and the header is the client's to make as long as it likes).
const MAX_AGENT: usize = 512;

/// "Browser on System", "Unknown browser" when nothing is recognised.
pub fn label(user_agent: Option<&str>) -> String {
    let agent = user_agent.unwrap_or_default();
    let agent = match agent.char_indices().nth(MAX_AGENT) {
        Some((cut, _)) => &agent[..cut],
        None => agent,
    };
    let parsed = woothee::parser::Parser::new().parse(agent);
    let known = |s: &str| !s.is_empty() && s != woothee::woothee::VALUE_UNKNOWN;
    match parsed {
        Some(p) if known(p.name) && known(p.os) => format!("{} on {}", p.name, p.os),
        Some(p) if known(p.name) => p.name.to_owned(),
        _ => "Unknown browser".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::label;

    #[test]
    fn names_browser_and_system() {
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36";
        assert_eq!(label(Some(chrome)), "Chrome on Linux");
        let firefox =
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:140.0) Gecko/20100101 Firefox/140.0";
        assert!(label(Some(firefox)).starts_with("Firefox on Windows"));
    }

    #[test]
    fn unknown_or_absent_agents_get_a_plain_label() {
        assert_eq!(label(None), "Unknown browser");
        assert_eq!(label(Some("SomeApp/1.0")), "Unknown browser");
        assert_eq!(label(Some("curl/8.5.0")), "HTTP Library");
        assert_eq!(label(Some(&"x".repeat(100_000))), "Unknown browser");
    }
}
