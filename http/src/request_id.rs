//! The request id: `x-request-id` from the load balancer when it is sane,
//! a fresh one otherwise. Every log line of the request carries it (the
//! middleware runs the rest of the request inside a `request` span), the
//! response returns it, and the proxy sends it to the upstream.
//!
//! With traces on, the same span is the request's in the trace, continuing
//! the caller's `traceparent`.
//!
//! Sane: 1 to 128 characters of `A-Z a-z 0-9 - _ . : @ / + =`, so a client
//! cannot write a line break, a quote or a megabyte into the logs. Made:
//! 32 hex digits of 16 random bytes, as nginx's `$request_id`.

use actix_web::HttpMessage;
use actix_web::HttpRequest;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use th_contract::REQUEST_ID_HEADER;
use tracing::Instrument;

/// The longest request id taken from a client.
pub const MAX_LEN: usize = 128;

/// A request's id, in its extensions.
#[derive(Debug, Clone)]
pub struct RequestId(HeaderValue);

impl RequestId {
    /// The id of a request the middleware has seen.
    pub fn of(req: &HttpRequest) -> Option<RequestId> {
        req.extensions().get::<RequestId>().cloned()
    }

    /// The id as written in the headers.
    pub fn as_str(&self) -> &str {
        // Only sane ids, all ASCII, are ever made.
        self.0.to_str().unwrap_or_default()
    }

    /// The id as a header value (for the upstream's request).
    pub fn header_value(&self) -> http::HeaderValue {
        http::HeaderValue::from_bytes(self.0.as_bytes()).expect("a sane id is a header value")
    }

    /// The incoming id when it is sane, else a fresh one.
    fn for_request(incoming: Option<&HeaderValue>) -> Self {
        match incoming {
            Some(v) if is_sane(v.as_bytes()) => Self(v.clone()),
            _ => Self::fresh(),
        }
    }

    fn fresh() -> Self {
        let bytes = fresh_id_bytes();
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; 32];
        for (i, b) in bytes.iter().enumerate() {
            out[2 * i] = HEX[usize::from(b >> 4)];
            out[2 * i + 1] = HEX[usize::from(b & 0xf)];
        }
        Self(HeaderValue::from_bytes(&out).expect("hex is a header value"))
    }
}

thread_local! {
    /// This thread's id generator: a random prefix, and a counter from a
    /// random start.
    static GENERATOR: std::cell::Cell<Option<(u64, u64)>> = const { std::cell::Cell::new(None) };
}

/// 16 bytes that no other request of this process (nor, but by a 2^-64
/// chance, of another replica) gets: the thread's random prefix, then a
/// bijective scramble of its counter, so the ids of one thread differ
/// everywhere and still never repeat. An id only tells requests apart and a
/// client may send its own, so it need not be unpredictable; what this
/// saves is a `getrandom` system call per request. Without randomness at
/// all, the time, the thread and a counter still tell requests apart.
fn fresh_id_bytes() -> [u8; 16] {
    GENERATOR.with(|cell| {
        let (prefix, counter) = cell.get().unwrap_or_else(seed);
        cell.set(Some((prefix, counter.wrapping_add(1))));
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&prefix.to_be_bytes());
        bytes[8..].copy_from_slice(&scramble(counter).to_be_bytes());
        bytes
    })
}

/// The thread's prefix and first counter.
fn seed() -> (u64, u64) {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        static THREADS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let thread = THREADS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        bytes[..8].copy_from_slice(&(t ^ thread.rotate_left(48)).to_be_bytes());
    }
    let [prefix, counter] = [&bytes[..8], &bytes[8..]]
        .map(|half| u64::from_be_bytes(half.try_into().unwrap_or_default()));
    (prefix, counter)
}

/// SplitMix64's finalizer: a bijection on u64 (each step is invertible),
/// so distinct counters give distinct values.
fn scramble(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Whether a client's id may be used as it is.
pub fn is_sane(id: &[u8]) -> bool {
    (1..=MAX_LEN).contains(&id.len())
        && id.iter().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(b, b'-' | b'_' | b'.' | b':' | b'@' | b'/' | b'+' | b'=')
        })
}

/// The middleware: wrap it outermost, so that every other middleware's
/// log lines (the access log's too) carry the id.
pub async fn request_id(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = RequestId::for_request(req.headers().get(REQUEST_ID_HEADER));
    let span = tracing::info_span!("request", request_id = id.as_str());
    crate::telemetry::continue_trace(&span, req.headers());
    req.extensions_mut().insert(id.clone());
    let mut response = next.call(req).instrument(span).await?;
    response
        .headers_mut()
        .insert(HeaderName::from_static(REQUEST_ID_HEADER), id.0);
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sane_ids_are_kept_and_others_replaced() {
        for kept in [
            "abc",
            "Root=1-67891233-abcdef012345678912345678",
            "a.b:c@d/e+f=g_h",
        ] {
            let id = RequestId::for_request(Some(&HeaderValue::from_static(kept)));
            assert_eq!(id.as_str(), kept);
        }
        let long = "a".repeat(MAX_LEN + 1);
        for replaced in ["", "with space", "quote\"", "semi;colon", long.as_str()] {
            let value = HeaderValue::from_str(replaced).unwrap();
            let id = RequestId::for_request(Some(&value));
            assert_ne!(id.as_str(), replaced);
            assert_eq!(id.as_str().len(), 32, "{replaced:?}");
        }
        let fresh = RequestId::for_request(None);
        assert!(fresh.as_str().bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(fresh.as_str(), RequestId::for_request(None).as_str());
    }

    #[test]
    fn fresh_ids_never_repeat_within_or_across_threads() {
        let ids = || {
            (0..10_000)
                .map(|_| RequestId::fresh().as_str().to_owned())
                .collect::<Vec<_>>()
        };
        let here = ids();
        let there = std::thread::spawn(ids).join().unwrap();
        let all: std::collections::HashSet<_> = here.iter().chain(&there).collect();
        assert_eq!(all.len(), 20_000);
        // Consecutive ids of one thread differ beyond the last digits.
        assert_ne!(here[0][16..24], here[1][16..24]);
        // Each thread has its own prefix.
        assert_ne!(here[0][..16], there[0][..16]);
    }
}
