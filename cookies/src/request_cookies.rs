//! The cookies a request carried, by name.

/// The request's cookies, parsed once from its `Cookie` header(s).
#[derive(Debug, Default, Clone)]
pub struct RequestCookies {
    /// In the order sent. A list, not a map: a request carries a few
    /// cookies, and comparing names is cheaper than hashing every one (a
    /// request full of cookies is bounded by the server's header limit, and
    /// each lookup stays linear in it).
    values: Vec<(String, String)>,
}

impl RequestCookies {
    /// Parses `Cookie` header values; malformed pairs are skipped, and the
    /// first of two cookies with the same name wins.
    pub fn parse<'a>(headers: impl IntoIterator<Item = &'a str>) -> Self {
        let mut values = Vec::new();
        for header in headers {
            for cookie in cookie::Cookie::split_parse(header).flatten() {
                values.push((cookie.name().to_owned(), cookie.value().to_owned()));
            }
        }
        Self { values }
    }

    /// A cookie's value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether a cookie of that name was sent.
    pub fn contains(&self, name: &str) -> bool {
        self.values.iter().any(|(n, _)| n == name)
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
}
