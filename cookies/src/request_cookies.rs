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
}
