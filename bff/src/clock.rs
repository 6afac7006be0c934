//! The wall clock, in one place: the same one the cookie payloads use.

pub use th_cookies::unix_now as now;
