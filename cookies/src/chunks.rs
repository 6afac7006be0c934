//! Splitting a sealed value across numbered cookies.
//!
//! Browsers cap one cookie (name, value and attributes) near 4096 bytes. A
//! value longer than [`MAX_CHUNK_LEN`] goes into `name`, `name.1`, `name.2`…
//! The whole value is sealed before splitting, so a reordered, missing or
//! foreign chunk fails authentication like any tampering.

/// The most value bytes one cookie carries; leaves room for the name and the
/// attributes under the browsers' 4096-byte limit.
pub const MAX_CHUNK_LEN: usize = 3800;

/// The name of chunk `index` of the cookie `base`.
pub(crate) fn chunk_name(base: &str, index: usize) -> String {
    use std::fmt::Write as _;
    // One allocation, sized up front: every request that opens a cookie
    // asks for chunk 1.
    let mut name = String::with_capacity(base.len() + 4);
    name.push_str(base);
    if index > 0 {
        let _ = write!(name, ".{index}");
    }
    name
}

/// Splits an ASCII value (a sealed value is base64url) into chunks.
pub(crate) fn split(value: &str) -> Vec<&str> {
    if value.is_empty() {
        return vec![value];
    }
    value
        .as_bytes()
        .chunks(MAX_CHUNK_LEN)
        .map(|c| std::str::from_utf8(c).expect("sealed values are ASCII"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_values_stay_whole() {
        assert_eq!(split("abc"), vec!["abc"]);
        assert_eq!(chunk_name("n", 0), "n");
        assert_eq!(chunk_name("n", 2), "n.2");
        assert_eq!(chunk_name("n", 10), "n.10");
        assert_eq!(chunk_name("n", 307), "n.307");
    }

    #[test]
    fn long_values_split_at_the_limit_and_rejoin() {
        let long = "x".repeat(MAX_CHUNK_LEN * 2 + 5);
        let parts = split(&long);
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [MAX_CHUNK_LEN, MAX_CHUNK_LEN, 5]
        );
        assert_eq!(parts.concat(), long);
    }
}
