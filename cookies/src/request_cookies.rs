//! The cookies a request carried, by name.

use std::ops::Range;

/// The request's cookies, read from its `Cookie` header(s).
///
/// The headers are kept as sent, in one string, with where each name and
/// value lies in it: one pass and two allocations, however many cookies,
/// instead of a copy of every name and value (the ID and refresh cookies
/// are kilobytes, and a request looks up two or three names). The rule is
/// the `cookie` crate's `split_parse`: pairs split at `;`, name and value
/// trimmed, a pair without `=` or with an empty name skipped, and the first
/// of two cookies with the same name wins. Nothing is percent-decoded. A
/// lookup is linear in the number of cookies, which the server's header
/// limit bounds.
#[derive(Default, Clone)]
pub struct RequestCookies {
    /// The headers, joined by `;` (a pair never spans two headers).
    text: String,
    /// Each well-formed pair's name and value, as ranges of `text`.
    pairs: Vec<(Range<usize>, Range<usize>)>,
}

impl RequestCookies {
    /// Reads the `Cookie` header values, in the order sent.
    pub fn parse<'a>(headers: impl IntoIterator<Item = &'a str>) -> Self {
        let mut text = String::new();
        for header in headers {
            if !text.is_empty() {
                text.push(';');
            }
            text.push_str(header);
        }
        let mut pairs = Vec::new();
        let mut at = 0;
        for pair in text.split(';') {
            if let Some(eq) = pair.find('=') {
                let name = trimmed(&pair[..eq], at);
                if !name.is_empty() {
                    pairs.push((name, trimmed(&pair[eq + 1..], at + eq + 1)));
                }
            }
            at += pair.len() + 1;
        }
        Self { text, pairs }
    }

    /// The well-formed `(name, value)` pairs, in the order sent.
    fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs
            .iter()
            .map(|(name, value)| (&self.text[name.clone()], &self.text[value.clone()]))
    }

    /// A cookie's value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// Whether a cookie of that name was sent.
    pub fn contains(&self, name: &str) -> bool {
        self.pairs().any(|(n, _)| n == name)
    }
}

/// Where `part`, found at `offset`, lies once trimmed.
fn trimmed(part: &str, offset: usize) -> Range<usize> {
    let rest = part.trim_start();
    let start = offset + part.len() - rest.len();
    start..start + rest.trim_end().len()
}

/// The names only: the values are sealed tokens, and whatever else the
/// browser sent is not ours to log.
impl std::fmt::Debug for RequestCookies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.pairs().map(|(n, _)| n)).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_several_headers_and_keeps_the_first_duplicate() {
        let jar = RequestCookies::parse(["a=1; b=2", "a=3; c=4"]);
        assert_eq!(jar.get("a"), Some("1"));
        assert_eq!(jar.get("b"), Some("2"));
        assert_eq!(jar.get("c"), Some("4"));
        assert_eq!(jar.get("d"), None);
    }

    #[test]
    fn names_match_exactly_and_the_first_of_many_still_wins() {
        // Another case, a prefix or a suffix of the name is another cookie.
        let jar =
            RequestCookies::parse(["__host-th-at=lower; __Host-th-at=real; __Host-th-at.1=c"]);
        assert_eq!(jar.get("__Host-th-at"), Some("real"));
        assert_eq!(jar.get("__Host-th"), None);
        assert!(!jar.contains("__HOST-TH-AT"));
        // A value may hold '='; spaces around a pair are not part of it.
        let jar = RequestCookies::parse(["  a=b=c ;b=2"]);
        assert_eq!(jar.get("a"), Some("b=c"));
        // A header of thousands of cookies: the first of a name still wins,
        // the last one is still found.
        let many: String = (0..5000).map(|i| format!("n{i}=v{i}; ")).collect();
        let jar = RequestCookies::parse([format!("{many}n0=forged").as_str()]);
        assert_eq!(jar.get("n0"), Some("v0"));
        assert_eq!(jar.get("n4999"), Some("v4999"));
    }

    /// The rule is the `cookie` crate's `split_parse` (what this replaced):
    /// every name either finds, with the same value, on odd spellings.
    #[test]
    fn reads_as_the_cookie_crate_parses() {
        let headers = [
            "a=1",
            "a",
            "=b; c=3",
            " a = b ; c=\"q\"",
            ";;a=1;;b=;",
            "a=1;\t b=2",
            "\u{a0}a=1; b=\u{a0}2\u{a0}",
            "a=b=c; a=d",
            "  ;  ; x=y",
            "name with space=1; =; ==; a==",
            "é=ü; a=1",
        ];
        for header in headers {
            let ours = RequestCookies::parse([header]);
            let mut theirs: Vec<(String, String)> = Vec::new();
            for cookie in cookie::Cookie::split_parse(header).flatten() {
                theirs.push((cookie.name().to_owned(), cookie.value().to_owned()));
            }
            for (name, _) in &theirs {
                let first = theirs
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v.as_str());
                assert_eq!(ours.get(name), first, "{name:?} in {header:?}");
            }
            let names: Vec<&str> = ours.pairs().map(|(n, _)| n).collect();
            let their_names: Vec<&str> = theirs.iter().map(|(n, _)| n.as_str()).collect();
            assert_eq!(names, their_names, "{header:?}");
        }
    }

    #[test]
    fn other_spellings_of_a_name_are_other_cookies() {
        // Nothing is decoded or folded: a percent-encoded, quoted or
        // look-alike name (Cyrillic "а") never stands in for ours, wherever
        // it comes, and a later header cannot override an earlier one.
        let jar = RequestCookies::parse([
            "%5F_Host-th-at=pct; \"__Host-th-at\"=quoted; __Host-th-\u{430}t=cyrillic",
            "__Host-th-at=real",
            "__Host-th-at=forged-in-a-second-header",
        ]);
        assert_eq!(jar.get("__Host-th-at"), Some("real"));
        assert_eq!(jar.get("%5F_Host-th-at"), Some("pct"));
        let jar = RequestCookies::parse(["%5F_Host-th-at=pct; __Host-th-at%3D=x"]);
        assert_eq!(jar.get("__Host-th-at"), None);
    }

    #[test]
    fn debug_shows_names_not_values() {
        let jar = RequestCookies::parse(["__Host-th-at=sealed-secret; theme=dark"]);
        let shown = format!("{jar:?}");
        assert!(
            shown.contains("__Host-th-at") && shown.contains("theme"),
            "{shown}"
        );
        assert!(
            !shown.contains("sealed-secret") && !shown.contains("dark"),
            "{shown}"
        );
    }
}
