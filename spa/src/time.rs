//! Human wording for the session's expiry.

/// "in 4 min", "in 35 s", "35 s ago", "just now", relative to `now` (both
/// Unix seconds).
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
    } else {
        format!("{} h", (span + 1800) / 3600)
    };
    if delta >= 0 {
        format!("in {amount}")
    } else {
        format!("{amount} ago")
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
    }
}
