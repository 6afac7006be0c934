//! Idle timeouts on bodies, in both directions.
//!
//! A client that sends its body a byte every few seconds, or an upstream
//! that sends its headers and then stalls, would otherwise hold a
//! connection (and whatever it pins) for ever. [`IdleTimeout`] ends a body
//! stream with a `TimedOut` error when no chunk arrived for the configured
//! time; [`body_idle_timeout`] puts it around every request body, and the
//! proxy puts it around every upstream response body.

use actix_web::HttpMessage;
use actix_web::body::{BodySize, BoxBody, EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::middleware::Next;
use bytes::Bytes;
use futures_util::Stream;
use std::cell::RefCell;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::{Instant, Sleep};

/// A stream that fails with [`io::ErrorKind::TimedOut`] once no item has
/// arrived for `idle`.
pub struct IdleTimeout<S> {
    inner: S,
    idle: Duration,
    deadline: Pin<Box<Sleep>>,
    done: bool,
}

impl<S> IdleTimeout<S> {
    /// Wraps `inner`; the clock starts now.
    pub fn new(inner: S, idle: Duration) -> Self {
        Self {
            inner,
            idle,
            deadline: Box::pin(tokio::time::sleep(idle)),
            done: false,
        }
    }
}

/// Whether an error is an idle timeout of this module.
pub fn is_idle_timeout(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::TimedOut
}

fn timed_out(idle: Duration) -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        format!("no data for {} s", idle.as_secs_f32()),
    )
}

impl<S, T, E> Stream for IdleTimeout<S>
where
    S: Stream<Item = Result<T, E>> + Unpin,
    E: From<io::Error>,
{
    type Item = Result<T, E>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(item) => {
                let next = Instant::now() + this.idle;
                this.deadline.as_mut().reset(next);
                this.done = item.is_none();
                Poll::Ready(item)
            }
            Poll::Pending => match this.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    this.done = true;
                    Poll::Ready(Some(Err(timed_out(this.idle).into())))
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

/// Middleware: every request body gets the idle timeout. A handler that
/// reads a stalled body gets a payload error that [`payload_timed_out`] names.
///
/// The response keeps the request's payload until it is written: once a
/// handler answers early (a 401) without reading a chunked body, actix
/// would otherwise drain the rest with no timer, and a client trickling
/// chunks would hold the connection for ever. With the payload still held,
/// actix closes the connection instead.
pub async fn body_idle_timeout(
    idle: Duration,
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody, KeptPayload>>, actix_web::Error> {
    let payload = req.take_payload();
    if matches!(payload, Payload::None) {
        return Ok(next.call(req).await?.map_into_left_body());
    }
    let kept = SharedPayload(Rc::new(RefCell::new(payload)));
    let wrapped: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> =
        Box::pin(IdleTimeout::new(kept.clone(), idle));
    req.set_payload(Payload::from(wrapped));
    let res = next.call(req).await?;
    Ok(res
        .map_body(|_, body| KeptPayload {
            body: body.boxed(),
            _payload: kept,
        })
        .map_into_right_body())
}

/// The request's payload, shared by the handler's reader and the response.
#[derive(Clone)]
struct SharedPayload(Rc<RefCell<Payload>>);

impl Stream for SharedPayload {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut *self.0.borrow_mut()).poll_next(cx)
    }
}

/// A response body that holds the request's payload until it is written.
pub struct KeptPayload {
    body: BoxBody,
    _payload: SharedPayload,
}

impl MessageBody for KeptPayload {
    type Error = Box<dyn std::error::Error>;

    fn size(&self) -> BodySize {
        self.body.size()
    }

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_next(cx)
    }
}

/// Whether a payload error is the idle timeout (actix turns the stream's
/// `io::Error` into `Incomplete`).
pub fn payload_timed_out(e: &PayloadError) -> bool {
    match e {
        PayloadError::Io(io) | PayloadError::Incomplete(Some(io)) => is_idle_timeout(io),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;

    #[tokio::test(start_paused = true)]
    async fn a_stalled_stream_times_out_and_a_lively_one_does_not() {
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<u8, io::Error>>(4);
        let stream = tokio_stream_from(rx);
        let mut timed = IdleTimeout::new(stream, Duration::from_secs(2));
        for n in 0..3 {
            tokio::time::sleep(Duration::from_millis(1500)).await;
            tx.send(Ok(n)).await.unwrap();
            assert_eq!(timed.next().await.unwrap().unwrap(), n);
        }
        let err = timed.next().await.unwrap().unwrap_err();
        assert!(is_idle_timeout(&err), "{err}");
        assert!(timed.next().await.is_none());
    }

    fn tokio_stream_from<T>(
        mut rx: tokio::sync::mpsc::Receiver<T>,
    ) -> impl Stream<Item = T> + Unpin {
        Box::pin(futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx)))
    }
}
