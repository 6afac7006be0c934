//! Human wording for times: the session's expiry, when a device signed in.

/// This device's clock, in Unix seconds.
pub fn unix_now() -> i64 {
    (js_sys::Date::now() / 1000.0) as i64
}

/// A Unix time as this browser's local time of day.
pub fn local_time(at: i64) -> String {
    date(at).to_locale_time_string("default").into()
}

/// A Unix time as this browser's local date and time.
pub fn local_date_time(at: i64) -> String {
    date(at)
        .to_locale_string("default", &wasm_bindgen::JsValue::UNDEFINED)
        .into()
}

fn date(at: i64) -> js_sys::Date {
    js_sys::Date::new(&((at as f64) * 1000.0).into())
}

/// "in 4 min", "in 35 s", "35 s ago", "3 d ago", "just now", relative to
/// `now` (both Unix seconds).
pub fn relative(expires_at: i64, now: i64) -> String {
    let delta = expires_at - now;
    if delta == 0 {
        return "just now".into();
    }
    let span = delta.unsigned_abs();
    let amount = if span < 90 {
        format!("{span} s")
    } else if span < 90 * 60 {
        format!("{} min", (span + 30) / 60)
    } else if span < 36 * 3600 {
        format!("{} h", (span + 1800) / 3600)
    } else {
        format!("{} d", (span + 43_200) / 86_400)
    };
    if delta >= 0 {
        format!("in {amount}")
    } else {
        format!("{amount} ago")
    }
}

/// A past moment in words: "just now" within the last minute (and for a
/// moment slightly ahead of this device's clock), otherwise "5 min ago".
pub fn ago(at: i64, now: i64) -> String {
    if now - at < 60 {
        "just now".into()
    } else {
        relative(at, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn future_times_read_as_in() {
        assert_eq!(relative(130, 100), "in 30 s");
        assert_eq!(relative(100 + 299, 100), "in 5 min");
        assert_eq!(relative(100 + 3 * 3600, 100), "in 3 h");
    }

    #[test]
    fn past_times_read_as_ago() {
        assert_eq!(relative(90, 100), "10 s ago");
        assert_eq!(relative(100, 100), "just now");
        assert_eq!(relative(0, 3 * 86_400), "3 d ago");
        assert_eq!(relative(0, 35 * 3600), "35 h ago");
    }

    #[test]
    fn recent_and_slightly_future_moments_are_just_now() {
        assert_eq!(ago(1000, 1059), "just now");
        assert_eq!(ago(1005, 1000), "just now", "the server's clock is ahead");
        assert_eq!(ago(1000, 1060), "60 s ago");
        assert_eq!(ago(1000, 1000 + 2 * 3600), "2 h ago");
    }
}
