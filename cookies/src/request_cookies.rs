//! The cookies a request carried, by name.

use std::collections::HashMap;

/// The request's cookies, parsed once from its `Cookie` header(s).
#[derive(Debug, Default, Clone)]
pub struct RequestCookies {
    values: HashMap<String, String>,
}

impl RequestCookies {
    /// Parses `Cookie` header values; malformed pairs are skipped, and the
    /// first of two cookies with the same name wins.
    pub fn parse<'a>(headers: impl IntoIterator<Item = &'a str>) -> Self {
        let mut values = HashMap::new();
        for header in headers {
            for cookie in cookie::Cookie::split_parse(header).flatten() {
                values
                    .entry(cookie.name().to_owned())
                    .or_insert_with(|| cookie.value().to_owned());
            }
        }
        Self { values }
    }

    /// A cookie's value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// Whether a cookie of that name was sent.
    pub fn contains(&self, name: &str) -> bool {
        self.values.contains_key(name)
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
