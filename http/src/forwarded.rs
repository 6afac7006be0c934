//! Who the client is, as far as the proxies in front of this server vouch.
//!
//! `X-Forwarded-For` is a list each proxy appends its peer to; everything
//! left of what the configured number of trusted proxies wrote is whatever
//! the client chose to send. So the chain taken is the connecting peer and
//! the last `trusted_hops` entries before it, nothing more.

use actix_web::HttpRequest;
use std::net::IpAddr;

/// The trusted part of the forwarding chain, client first, the connecting
/// peer last. Entries that are not IP addresses end the chain there.
pub fn trusted_chain(req: &HttpRequest, trusted_hops: usize) -> Vec<IpAddr> {
    let peer = req.peer_addr().map(|a| a.ip());
    let mut chain = Vec::with_capacity(trusted_hops + 1);
    if trusted_hops > 0 {
        let listed: Vec<&str> = req
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        for raw in listed.iter().rev().take(trusted_hops) {
            match raw.parse::<IpAddr>() {
                Ok(ip) => chain.push(ip),
                Err(_) => break,
            }
        }
        chain.reverse();
    }
    chain.extend(peer);
    chain
}

/// The client's address: the first entry of the trusted chain.
pub fn client_ip(req: &HttpRequest, trusted_hops: usize) -> Option<IpAddr> {
    if trusted_hops == 0 {
        return req.peer_addr().map(|a| a.ip());
    }
    trusted_chain(req, trusted_hops).first().copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn req(xff: &[&str]) -> HttpRequest {
        let mut r = TestRequest::get().peer_addr("10.0.0.7:5555".parse().unwrap());
        for v in xff {
            r = r.append_header(("x-forwarded-for", *v));
        }
        r.to_http_request()
    }

    fn ips(list: &[&str]) -> Vec<IpAddr> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn without_trusted_hops_only_the_peer_counts() {
        let r = req(&["203.0.113.9, 198.51.100.1"]);
        assert_eq!(trusted_chain(&r, 0), ips(&["10.0.0.7"]));
        assert_eq!(client_ip(&r, 0), Some("10.0.0.7".parse().unwrap()));
    }

    #[test]
    fn trusted_hops_take_the_last_entries_and_drop_what_the_client_wrote() {
        // The client forged "1.2.3.4"; CloudFront appended the client's real
        // address, the load balancer CloudFront's.
        let r = req(&["1.2.3.4, 203.0.113.9", "198.51.100.1"]);
        assert_eq!(
            trusted_chain(&r, 2),
            ips(&["203.0.113.9", "198.51.100.1", "10.0.0.7"])
        );
        assert_eq!(client_ip(&r, 2), Some("203.0.113.9".parse().unwrap()));
    }

    #[test]
    fn a_short_or_garbled_chain_ends_at_what_parses() {
        let r = req(&["not-an-ip, 203.0.113.9"]);
        assert_eq!(trusted_chain(&r, 3), ips(&["203.0.113.9", "10.0.0.7"]));
        let r = req(&[]);
        assert_eq!(client_ip(&r, 2), Some("10.0.0.7".parse().unwrap()));
    }
}
