//! A per-client-address limit on `POST /bff/login/start`.
//!
//! Every start costs a call to the provider (PAR) and a fresh login cookie,
//! and needs no session, so it is the cheapest way to make the BFF hammer
//! the provider. GCRA from the `governor` crate, keyed by the client address
//! that the trusted proxies in front vouch for (`forwarded.trusted_hops`):
//! a client cannot pick a fresh key by sending its own `X-Forwarded-For`.

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

/// Above this many tracked addresses, the ones whose allowance has fully
/// recovered are forgotten, so the map cannot grow without bound.
const SHRINK_ABOVE: usize = 10_000;

/// The limiter for one endpoint.
pub struct LoginLimiter {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
}

impl LoginLimiter {
    /// Allows `per_minute` starts a minute per address, all of them at once
    /// at most (a user with a few tabs is never refused).
    pub fn per_minute(per_minute: NonZeroU32) -> Self {
        Self {
            limiter: DefaultKeyedRateLimiter::keyed(Quota::per_minute(per_minute)),
        }
    }

    /// `Ok` when `client` may start a login now; else how long to wait.
    pub fn check(&self, client: IpAddr) -> Result<(), Duration> {
        if self.limiter.len() > SHRINK_ABOVE {
            self.limiter.retain_recent();
        }
        self.limiter
            .check_key(&client)
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_over_its_allowance_waits_and_others_do_not() {
        let limiter = LoginLimiter::per_minute(NonZeroU32::new(3).unwrap());
        let a: IpAddr = "203.0.113.9".parse().unwrap();
        let b: IpAddr = "203.0.113.10".parse().unwrap();
        for _ in 0..3 {
            assert!(limiter.check(a).is_ok());
        }
        let wait = limiter.check(a).unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(20),
            "{wait:?}"
        );
        assert!(limiter.check(b).is_ok());
    }
}
