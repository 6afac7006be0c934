//! One rule for the path an upstream receives: decode once, refuse what
//! another server could read differently, forward the canonical form.
//!
//! Servers disagree on paths: some decode twice (`%252e` → `%2e` → `.`),
//! some treat `\` as `/`, some drop `;params` from a segment before
//! resolving dots (`..;/` is `../` to Tomcat), some decode `%2f` into a
//! separator. So the raw path is percent-decoded exactly once and refused
//! (400, never forwarded) when it holds an encoded `/`, `\`, `.` or `;` (the
//! canonical form would turn `%3B` into a path parameter), a literal
//! `\`, a dot segment (with or without `;` parameters), an escape left after
//! the one decode (double encoding), a control byte, or a malformed escape.
//! What passes is re-encoded with one encode set, so the upstream sees
//! exactly the path that was checked.

use percent_encoding::{AsciiSet, CONTROLS, percent_encode};

/// Why a path is not forwarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("a `%` that is not followed by two hex digits")]
    MalformedEscape,
    #[error("an encoded `/`, `\\`, `.` or `;`")]
    EncodedSeparatorOrDot,
    #[error("a backslash")]
    Backslash,
    #[error("an escape left after decoding once (double encoding)")]
    DoubleEncoded,
    #[error("a control character")]
    Control,
    #[error("a `.` or `..` segment")]
    DotSegment,
    #[error("the path is outside the route")]
    OutsideRoute,
}

/// Bytes a path segment carries as they are (RFC 3986 `pchar` less `%`):
/// everything else is percent-encoded.
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// The raw (still encoded) request path, decoded once and checked.
pub fn decode_checked(raw: &str) -> Result<Vec<u8>, PathError> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let (Some(hi), Some(lo)) = (
                bytes.get(i + 1).and_then(|c| hex(*c)),
                bytes.get(i + 2).and_then(|c| hex(*c)),
            ) else {
                return Err(PathError::MalformedEscape);
            };
            let decoded = hi << 4 | lo;
            if matches!(decoded, b'/' | b'\\' | b'.' | b';') {
                return Err(PathError::EncodedSeparatorOrDot);
            }
            out.push(decoded);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    if out.contains(&b'\\') {
        return Err(PathError::Backslash);
    }
    if out.iter().any(|b| b.is_ascii_control()) {
        return Err(PathError::Control);
    }
    let escape_left = out
        .windows(3)
        .any(|w| w[0] == b'%' && hex(w[1]).is_some() && hex(w[2]).is_some());
    if escape_left {
        return Err(PathError::DoubleEncoded);
    }
    let dot_segment = out.split(|b| *b == b'/').any(|segment| {
        let name = segment.split(|b| *b == b';').next().unwrap_or_default();
        name == b"." || name == b".."
    });
    if dot_segment {
        return Err(PathError::DotSegment);
    }
    Ok(out)
}

/// The canonical, encoded form of a decoded path: segments joined by one
/// `/` each. Runs of `/` are merged, as nginx does by default: a path that
/// starts `//` is a host to a URL parser (`new URL("//evil/x", base)` in an
/// upstream is `https://evil/x`), and no upstream should have to know that.
pub fn encode(decoded: &[u8]) -> String {
    let mut out = String::with_capacity(decoded.len() + 8);
    let last = decoded.split(|b| *b == b'/').count() - 1;
    for (i, segment) in decoded.split(|b| *b == b'/').enumerate() {
        // An empty segment is a doubled `/`, unless it is the first (the
        // leading `/`) or the last (a trailing `/`, which means something).
        if segment.is_empty() && i > 0 && i < last {
            continue;
        }
        if i > 0 {
            out.push('/');
        }
        out.extend(percent_encode(segment, SEGMENT));
    }
    out
}

/// The part of a checked, decoded path after `prefix` (whole segments),
/// encoded; `None` when the path is not under the prefix.
pub fn rest_after(decoded: &[u8], prefix: &str) -> Option<String> {
    let rest = decoded.strip_prefix(prefix.as_bytes())?;
    if !(rest.is_empty() || rest.starts_with(b"/")) {
        return None;
    }
    Some(encode(rest))
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_an_upstream_may_read_as_traversal_is_refused() {
        for (raw, why) in [
            ("/api/x/../admin", PathError::DotSegment),
            ("/api/x/./admin", PathError::DotSegment),
            ("/api/x/..", PathError::DotSegment),
            ("/api/x/..;/admin", PathError::DotSegment),
            ("/api/x/..;jsessionid=1/admin", PathError::DotSegment),
            ("/api/x/.;/admin", PathError::DotSegment),
            ("/api/x/%2e%2e/admin", PathError::EncodedSeparatorOrDot),
            ("/api/x/%2E./admin", PathError::EncodedSeparatorOrDot),
            ("/api/x/.%2e/admin", PathError::EncodedSeparatorOrDot),
            ("/api/x/..%2fadmin", PathError::EncodedSeparatorOrDot),
            ("/api/x/..%2Fadmin", PathError::EncodedSeparatorOrDot),
            ("/api/x/..%5cadmin", PathError::EncodedSeparatorOrDot),
            ("/api/x/..\\admin", PathError::Backslash),
            ("/api/x/%252e%252e/admin", PathError::DoubleEncoded),
            ("/api/x/%252f", PathError::DoubleEncoded),
            ("/api/x/%2525", PathError::DoubleEncoded),
            ("/api/x/%00", PathError::Control),
            ("/api/x/%0d%0aX-Injected:1", PathError::Control),
            ("/api/x/%zz", PathError::MalformedEscape),
            ("/api/x/%4", PathError::MalformedEscape),
        ] {
            assert_eq!(decode_checked(raw), Err(why), "{raw}");
        }
    }

    #[test]
    fn ordinary_paths_are_forwarded_in_one_canonical_spelling() {
        for (raw, canonical) in [
            ("/api/x/users/1", "/api/x/users/1"),
            ("/api/x/a..b/c.d", "/api/x/a..b/c.d"),
            ("/api/x/with%20space", "/api/x/with%20space"),
            ("/api/x/with space", "/api/x/with%20space"),
            ("/api/x/100%25", "/api/x/100%25"),
            ("/api/x/caf%C3%A9", "/api/x/caf%C3%A9"),
            ("/api/x/%61bc", "/api/x/abc"),
            ("/api/x/matrix;v=1", "/api/x/matrix;v=1"),
            ("/api/x/a:b@c!$&'()*+,=", "/api/x/a:b@c!$&'()*+,="),
            ("/api/x/%7Bid%7D", "/api/x/%7Bid%7D"),
        ] {
            let decoded = decode_checked(raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
            assert_eq!(encode(&decoded), canonical, "{raw}");
            // Canonical is a fixed point: checking it again changes nothing.
            assert_eq!(encode(&decode_checked(canonical).unwrap()), canonical);
        }
    }

    #[test]
    fn the_rest_is_taken_after_whole_segments_of_the_prefix() {
        let decoded = decode_checked("/%61pi/example/users").unwrap();
        assert_eq!(
            rest_after(&decoded, "/api/example").as_deref(),
            Some("/users")
        );
        assert_eq!(
            rest_after(b"/api/example", "/api/example").as_deref(),
            Some("")
        );
        assert!(rest_after(b"/api/examples/x", "/api/example").is_none());
    }
}

/// What the one rule promises for any raw path: no panic; what passes is
/// forwarded in a canonical form that decodes back to what was checked,
/// and that a URL parser resolves to itself (no dot segment, no separator
/// the checks did not see).
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Raw paths built from the spellings that trip servers up.
    fn tricky() -> impl Strategy<Value = String> {
        let piece = prop::sample::select(vec![
            "/", "//", ".", "..", "%2e", "%2E", "%2f", "%2F", "%5c", "\\", ";", ";x=1", "%3b",
            "%3B", "%25", "%252e", "%", "%g1", "a", "api", "%41", "%00", "%7f", "?", "#", " ", "é",
            "%c3%a9",
        ]);
        prop::collection::vec(piece, 0..12).prop_map(|p| format!("/{}", p.concat()))
    }

    proptest! {
        #[test]
        fn what_passes_is_forwarded_in_a_form_that_means_the_same(raw in tricky()) {
            let Ok(decoded) = decode_checked(&raw) else { return Ok(()); };
            let canonical = encode(&decoded);
            prop_assert!(!canonical.contains("//"), "{}", canonical);
            let again = decode_checked(&canonical).unwrap();
            prop_assert_eq!(encode(&again), canonical.clone(), "canonical is a fixed point");
            // The same segments, only the empty ones (doubled `/`) gone.
            let segments = |p: &[u8]| -> Vec<Vec<u8>> {
                p.split(|b| *b == b'/').filter(|s| !s.is_empty()).map(<[u8]>::to_vec).collect()
            };
            prop_assert_eq!(segments(&again), segments(&decoded));
            let resolved = url::Url::parse("http://upstream.test")
                .unwrap()
                .join(&canonical)
                .unwrap();
            prop_assert_eq!(resolved.path(), canonical.as_str(), "from {:?}", raw);
        }

        #[test]
        fn no_raw_path_makes_the_rule_panic(raw in ".{0,200}") {
            if let Ok(decoded) = decode_checked(&raw) {
                let _ = rest_after(&decoded, "/api");
            }
        }
    }
}
