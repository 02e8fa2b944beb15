//! [`ConnectionCap`]: at most `max_connections` open connections per
//! listener. A connection over the cap is answered 503
//! `too_many_connections` straight on its socket and closed, rather than
//! left in the backlog or served. A full listener logs when it starts
//! refusing and when it takes connections again (with how many it
//! refused), at most once per 10 s ([`crate::episodes`]): a listener at its cap
//! that frees and refuses by turns would otherwise log a pair of lines per
//! connection. Each refusal counts in `dropped_inputs{source="rest",
//! reason="too_many_connections"}`.

use crate::episodes::{EpisodeLine, Episodes};
use crate::error::ApiError;
use crate::wire;
use model::Metrics;
use std::os::fd::AsFd;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// How long a refusal may take to write its answer and see the client
/// close, before the socket is dropped anyway.
const REFUSAL_TIMEOUT: Duration = Duration::from_millis(500);

/// At most this many refusals linger at a time (answer written, waiting
/// for the client to close); past it an over-cap connection gets its
/// answer in one non-blocking write and is closed at once.
const MAX_REFUSALS_IN_FLIGHT: usize = 32;

/// How much of the refused client's request is read (and dropped) so that
/// closing does not reset the connection before it reads the answer.
const REFUSAL_DRAIN_BYTES: usize = 64 * 1024;

/// The open connections of one listener.
pub(crate) struct ConnectionCap {
    open: Arc<Semaphore>,
    refusing: Arc<Semaphore>,
    limit: usize,
    episodes: Episodes,
}

/// What to do with an accepted connection.
pub(crate) enum Admission {
    /// Serve it, holding this permit for as long as it is open.
    Serve(OwnedSemaphorePermit),
    /// Write the 503 and close (a task runs the returned refusal).
    Refuse(Refusal),
    /// Write the 503 at once ([`answer_now`]) and close: lingering
    /// refusals are at their limit.
    AnswerNow(Vec<u8>),
}

/// The right to write one refusal.
pub(crate) struct Refusal {
    _permit: OwnedSemaphorePermit,
    answer: Vec<u8>,
}

impl ConnectionCap {
    /// A cap of `limit` connections (at least 1).
    pub(crate) fn new(limit: usize) -> Self {
        let limit = limit.max(1);
        Self {
            open: Arc::new(Semaphore::new(limit)),
            refusing: Arc::new(Semaphore::new(MAX_REFUSALS_IN_FLIGHT)),
            limit,
            episodes: Episodes::default(),
        }
    }

    /// Decides about one accepted connection of `listener`.
    pub(crate) fn admit(&mut self, listener: &str, metrics: &Metrics) -> Admission {
        if let Ok(permit) = Arc::clone(&self.open).try_acquire_owned() {
            if let EpisodeLine::Ended { count: refused } = self.episodes.ended() {
                tracing::info!(
                    listener,
                    limit = self.limit,
                    refused,
                    "connection cap no longer reached: serving new connections again"
                );
            }
            return Admission::Serve(permit);
        }
        metrics.dropped("rest", "too_many_connections");
        if let EpisodeLine::Started { earlier } = self.episodes.hit(Instant::now()) {
            tracing::warn!(
                listener,
                limit = self.limit,
                earlier_refused = earlier,
                reason = "the listener's connection cap is reached",
                "refusing new connections with 503 too_many_connections (logged at most once per 10 s; earlier_refused counts refusals since the last line)"
            );
        }
        let answer = wire::error_answer(&ApiError::TooManyConnections { limit: self.limit }, &[]);
        match Arc::clone(&self.refusing).try_acquire_owned() {
            Ok(permit) => Admission::Refuse(Refusal {
                _permit: permit,
                answer,
            }),
            Err(_) => Admission::AnswerNow(answer),
        }
    }
}

/// Writes `answer` to a fresh connection without waiting (its send buffer
/// is empty, so all of it normally fits), takes what the client already
/// sent, then closes it by dropping it. Closing a socket whose received
/// bytes were never read resets it, and the client may then lose the 503
/// it was sent; what arrives later is the client's own doing.
///
/// The write and the reads go straight to the (non-blocking) descriptor,
/// not through tokio: the accept loop calls this inside its own task, and
/// a tokio socket operation answers `Pending` once that task's cooperative
/// budget is spent. Accepting a backlog of connections in one poll spends
/// it, so under load some refused connections were closed with nothing
/// written (the client read an empty answer).
pub(crate) fn answer_now<I: AsFd>(io: I, answer: &[u8]) {
    match rustix::io::write(&io, answer) {
        Ok(n) if n == answer.len() => {}
        other => tracing::debug!(
            written = ?other,
            "refused connection: answer not delivered whole"
        ),
    }
    let mut sink = [0u8; 4096];
    let mut drained = 0;
    while drained < REFUSAL_DRAIN_BYTES {
        match rustix::io::read(&io, &mut sink) {
            Ok(n) if n > 0 => drained += n,
            _ => break,
        }
    }
}

impl Refusal {
    /// Writes the 503, closes the writing side, and reads what the client
    /// sends until it closes, all bounded by [`REFUSAL_TIMEOUT`].
    pub(crate) async fn run<I: AsyncRead + AsyncWrite + Unpin>(self, mut io: I) {
        let exchange = async {
            io.write_all(&self.answer).await?;
            io.shutdown().await?;
            let mut sink = [0u8; 4096];
            let mut read = 0;
            while read < REFUSAL_DRAIN_BYTES {
                match io.read(&mut sink).await? {
                    0 => break,
                    n => read += n,
                }
            }
            Ok::<_, std::io::Error>(())
        };
        match tokio::time::timeout(REFUSAL_TIMEOUT, exchange).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::debug!(error = %e, "refused connection: answer not delivered"),
            Err(_) => tracing::debug!("refused connection: client did not close in time"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_listener_refuses_until_a_connection_closes() {
        let metrics = Metrics::new();
        let mut cap = ConnectionCap::new(2);
        let Admission::Serve(a) = cap.admit("l", &metrics) else {
            panic!("first is served")
        };
        let Admission::Serve(_b) = cap.admit("l", &metrics) else {
            panic!("second is served")
        };
        let Admission::Refuse(refusal) = cap.admit("l", &metrics) else {
            panic!("third is refused")
        };
        let (ours, mut client) = tokio::io::duplex(4096);
        let mut got = String::new();
        let reading = async {
            client.read_to_string(&mut got).await.unwrap();
            drop(client);
        };
        tokio::join!(refusal.run(ours), reading);
        assert!(got.starts_with("HTTP/1.1 503 "), "{got}");
        assert!(got.contains("\"too_many_connections\""), "{got}");
        assert!(metrics.render().contains("too_many_connections"));
        drop(a);
        assert!(matches!(cap.admit("l", &metrics), Admission::Serve(_)));
    }

    #[tokio::test]
    async fn refusals_in_flight_are_bounded() {
        let metrics = Metrics::new();
        let mut cap = ConnectionCap::new(1);
        let _served = cap.admit("l", &metrics);
        let held: Vec<Admission> = (0..MAX_REFUSALS_IN_FLIGHT)
            .map(|_| cap.admit("l", &metrics))
            .collect();
        assert!(held.iter().all(|a| matches!(a, Admission::Refuse(_))));
        let Admission::AnswerNow(answer) = cap.admit("l", &metrics) else {
            panic!("answered at once past the lingering limit")
        };
        let (ours, mut client) = tokio::net::UnixStream::pair().unwrap();
        client.write_all(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
        // As in an accept loop that took many connections in one poll:
        // the task's cooperative budget is spent when the answer is due.
        let (spent, _other) = tokio::net::UnixStream::pair().unwrap();
        std::future::poll_fn(|cx| {
            while tokio::task::coop::has_budget_remaining() {
                let _ = spent.poll_write_ready(cx);
            }
            answer_now(&ours, &answer);
            std::task::Poll::Ready(())
        })
        .await;
        drop(ours);
        let mut got = String::new();
        client.read_to_string(&mut got).await.unwrap();
        assert!(got.starts_with("HTTP/1.1 503 "), "{got}");
    }
}
