//! [`TimedBody`]: a request body that fails with [`BodyTimedOut`] when it
//! is not complete by a deadline, so that a client announcing more than it
//! sends cannot hold a request (and its connection) forever. `body.rs`
//! turns the error into 408 `request_timeout`.

use hyper::body::{Body, Frame, SizeHint};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::{Instant, Sleep};

/// The body did not arrive within its time.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within {} ms", .timeout.as_millis())]
pub(crate) struct BodyTimedOut {
    /// The time it had.
    pub(crate) timeout: Duration,
}

/// `B`, cut off at a deadline set when it is wrapped (when the request
/// head has arrived).
pub(crate) struct TimedBody<B> {
    inner: B,
    timeout: Duration,
    deadline: Pin<Box<Sleep>>,
}

impl<B> TimedBody<B> {
    /// `inner`, which must be complete within `timeout` from now.
    pub(crate) fn new(inner: B, timeout: Duration) -> Self {
        Self {
            inner,
            timeout,
            deadline: Box::pin(tokio::time::sleep_until(Instant::now() + timeout)),
        }
    }
}

impl<B> Body for TimedBody<B>
where
    B: Body + Unpin,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Data = B::Data;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => Poll::Ready(frame.map(|r| r.map_err(Into::into))),
            Poll::Pending => match this.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(BodyTimedOut {
                    timeout: this.timeout,
                })))),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use http_body_util::{BodyExt, Full};

    /// A body whose client never sends anything.
    struct Silent;

    impl Body for Silent {
        type Data = Bytes;
        type Error = std::io::Error;

        fn poll_frame(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
            Poll::Pending
        }
    }

    #[tokio::test]
    async fn a_body_that_never_ends_times_out() {
        let body = TimedBody::new(Silent, Duration::from_millis(20));
        let err = body.collect().await.expect_err("times out");
        let timed = err.downcast_ref::<BodyTimedOut>().expect("a BodyTimedOut");
        assert_eq!(timed.timeout, Duration::from_millis(20));
    }

    #[tokio::test]
    async fn a_complete_body_passes() {
        let body = TimedBody::new(Full::new(Bytes::from_static(b"{}")), Duration::from_secs(1));
        assert_eq!(body.collect().await.unwrap().to_bytes(), "{}");
    }
}
