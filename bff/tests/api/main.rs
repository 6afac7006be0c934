//! Integration tests of the BFF: the real server on a free loopback port,
//! against the real OpenID Connect provider (`dev/provider.mjs`), or a stub
//! issuer where a real provider will not misbehave (forged ID tokens, faults).

mod helpers;
mod stub_issuer;

mod api_proxy;
mod backchannel_logout;
mod config_errors;
mod cookies;
mod csrf_and_origin;
mod deny_in_memory;
mod id_token;
mod limits;
mod login_errors;
mod login_flow;
mod par_and_chunking;
mod path_spellings;
mod provider_faults;
mod redis_store;
mod return_to;
mod sessions;
mod several_apps;
mod shutdown;
mod storm;
mod token_lifecycle;
mod upstream_faults;
