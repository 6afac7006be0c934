//! The app's screens.

pub mod api_call;
pub mod common;
pub mod overview;
pub mod sessions;
pub mod signed_in;
pub mod signed_out;
pub mod userinfo;
