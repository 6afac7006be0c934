//! The crate's shape, checked on its own sources (issue 14): the BFF
//! imports the proxy only to mount it, and no route module imports another
//! route. Read as text, so a new import that breaks either rule fails here
//! rather than in a reviewer's eye.

use std::path::{Path, PathBuf};

/// What the BFF may take from `th_proxy`: the proxy to mount, its settings
/// and errors, and the seam through which the proxy reads the session's
/// access token (which the BFF's session stores implement).
const PROXY_ITEMS_ALLOWED: [&str; 5] = [
    "Proxy",
    "ProxyConfig",
    "ProxyError",
    "AccessTokenSource",
    "TokenSourceError",
];

/// The modules under `routes/` that hold what routes share, not a route.
const SHARED_ROUTE_MODULES: [&str; 3] = ["mod", "token_set", "json_body"];

/// The crate's Rust files under `dir`, but this one (its examples are no
/// imports).
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with(file!()) {
            out.push(path);
        }
    }
    out
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The names a `th_proxy::` path brings in: `th_proxy::A`, or each of
/// `th_proxy::{A, B}`.
fn proxy_items(text: &str) -> Vec<String> {
    let mut items = Vec::new();
    for (at, _) in text.match_indices("th_proxy::") {
        let rest = &text[at + "th_proxy::".len()..];
        let list = match rest.strip_prefix('{') {
            Some(inner) => &inner[..inner.find('}').unwrap_or(inner.len())],
            None => {
                let end = rest
                    .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                    .unwrap_or(rest.len());
                &rest[..end]
            }
        };
        items.extend(
            list.split(',')
                .map(|i| i.trim().to_owned())
                .filter(|i| !i.is_empty()),
        );
    }
    items
}

#[test]
fn the_bff_takes_from_the_proxy_only_what_mounting_it_needs() {
    let mut found = Vec::new();
    for file in sources(&src()) {
        let text = std::fs::read_to_string(&file).unwrap();
        for item in proxy_items(&text) {
            if !PROXY_ITEMS_ALLOWED.contains(&item.as_str()) {
                found.push(format!("{}: th_proxy::{item}", file.display()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "imports from th_proxy beyond mounting it: {found:#?}"
    );
}

#[test]
fn no_route_imports_another_route() {
    let dir = src().join("routes");
    let routes: Vec<String> = sources(&dir)
        .iter()
        .filter_map(|p| p.file_stem()?.to_str().map(str::to_owned))
        .filter(|stem| !SHARED_ROUTE_MODULES.contains(&stem.as_str()))
        .collect();
    let mut found = Vec::new();
    for file in sources(&src()) {
        let text = std::fs::read_to_string(&file).unwrap();
        let own = file
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        if !file.starts_with(&dir) || !routes.iter().any(|r| r == own) {
            continue;
        }
        for other in routes.iter().filter(|r| *r != own) {
            for path in [format!("super::{other}::"), format!("routes::{other}::")] {
                if text.contains(&path) {
                    found.push(format!("{}: {path}", file.display()));
                }
            }
        }
    }
    assert!(found.is_empty(), "a route imports another: {found:#?}");
}

#[test]
fn the_scanner_sees_both_import_spellings() {
    let text = "use th_proxy::{Proxy, ProxyConfig};\nuse th_proxy::guard::csrf;\n";
    assert_eq!(proxy_items(text), ["Proxy", "ProxyConfig", "guard::csrf"]);
}
