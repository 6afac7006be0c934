//! The app's few pages and in-app navigation with the History API (a router
//! crate would cost more bytes than these lines).

use leptos::prelude::*;

/// A page of the signed-in app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Overview,
    Userinfo,
    Api,
    Sessions,
    NotFound,
}

impl Route {
    /// Every page that has a tab, in order.
    pub const TABS: [Route; 4] = [
        Route::Overview,
        Route::Userinfo,
        Route::Api,
        Route::Sessions,
    ];

    /// The page for a `pathname`.
    pub fn from_path(path: &str) -> Self {
        match path.trim_end_matches('/') {
            "" => Self::Overview,
            "/userinfo" => Self::Userinfo,
            "/call" => Self::Api,
            "/sessions" => Self::Sessions,
            _ => Self::NotFound,
        }
    }

    /// The page's path.
    pub fn path(self) -> &'static str {
        match self {
            Self::Overview | Self::NotFound => "/",
            Self::Userinfo => "/userinfo",
            // Not "/api": that prefix is the proxy's (see `RESERVED_PREFIXES`).
            Self::Api => "/call",
            Self::Sessions => "/sessions",
        }
    }

    /// The page's tab label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Overview => "Overview",
            Self::Userinfo => "Userinfo",
            Self::Api => "API",
            Self::Sessions => "Sessions",
            Self::NotFound => "Not found",
        }
    }
}

/// The current location, as the app sees it; provided as context.
#[derive(Clone, Copy)]
pub struct Location {
    pathname: RwSignal<String>,
}

impl Location {
    /// Reads the address bar and follows the back and forward buttons.
    pub fn install() -> Self {
        let pathname = RwSignal::new(current_pathname());
        let handle = window_event_listener(leptos::ev::popstate, move |_| {
            pathname.set(current_pathname());
        });
        on_cleanup(move || handle.remove());
        let location = Self { pathname };
        provide_context(location);
        location
    }

    /// The location provided by [`Location::install`].
    pub fn get() -> Self {
        expect_context()
    }

    /// The page to show.
    pub fn route(&self) -> Route {
        Route::from_path(&self.pathname.read())
    }

    /// Goes to `path` (a same-origin path) without reloading.
    pub fn push(&self, path: &str) {
        let _ = window()
            .history()
            .and_then(|h| h.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(path)));
        self.pathname.set(current_pathname());
        window().scroll_to_with_x_and_y(0.0, 0.0);
    }

    /// Replaces the current entry (no new history step), e.g. to drop `?code=`.
    pub fn replace(&self, path: &str) {
        let _ = window()
            .history()
            .and_then(|h| h.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(path)));
        self.pathname.set(current_pathname());
    }
}

fn current_pathname() -> String {
    window()
        .location()
        .pathname()
        .unwrap_or_else(|_| "/".into())
}

/// An in-app link: a real `<a href>` (open in new tab works) that navigates
/// without a reload on a plain click.
#[component]
pub fn Link(route: Route, children: Children) -> impl IntoView {
    let location = Location::get();
    let current = move || location.route() == route;
    view! {
        <a
            href=route.path()
            class="tab"
            aria-current=move || current().then_some("page")
            on:click=move |ev: leptos::ev::MouseEvent| {
                if ev.button() == 0 && !(ev.ctrl_key() || ev.meta_key() || ev.shift_key() || ev.alt_key()) {
                    ev.prevent_default();
                    location.push(route.path());
                }
            }
        >
            {children()}
        </a>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_to_pages() {
        assert_eq!(Route::from_path("/"), Route::Overview);
        assert_eq!(Route::from_path("/call"), Route::Api);
        assert_eq!(Route::from_path("/call/"), Route::Api);
        assert_eq!(Route::from_path("/api"), Route::NotFound);
        assert_eq!(Route::from_path("/userinfo"), Route::Userinfo);
        assert_eq!(Route::from_path("/sessions"), Route::Sessions);
        assert_eq!(Route::from_path("/nope"), Route::NotFound);
    }

    /// The path prefixes `trunk serve` sends to the BFF (Trunk.toml's
    /// `[[proxy]] backend`s), besides the contract's own list.
    fn proxied_prefixes() -> Vec<String> {
        include_str!("../../Trunk.toml")
            .lines()
            .filter_map(|l| l.trim().strip_prefix("backend = \""))
            .filter_map(|rest| rest.strip_suffix('"'))
            .filter_map(|url| url.split_once("://").map(|(_, r)| r))
            .filter_map(|r| r.find('/').map(|i| r[i..].to_owned()))
            .collect()
    }

    #[test]
    fn no_page_lives_under_a_prefix_the_bff_owns() {
        let proxied = proxied_prefixes();
        assert!(!proxied.is_empty(), "Trunk.toml's proxies were not found");
        let reserved = th_client::contract::paths::RESERVED_PREFIXES
            .iter()
            .map(|p| (*p).to_owned())
            .chain(proxied);
        for prefix in reserved {
            for tab in Route::TABS {
                let path = tab.path();
                // Trunk and CloudFront match by prefix, so "/api" and "/apis" too.
                assert!(
                    !path.starts_with(prefix.as_str()),
                    "the page {path} lives under {prefix}"
                );
            }
        }
    }

    #[test]
    fn every_tab_round_trips_through_its_path() {
        for tab in Route::TABS {
            assert_eq!(Route::from_path(tab.path()), tab);
        }
    }
}
