//! One client's outbound queue, bounded in bytes. The connection loop pushes;
//! a writer task drains into the socket. When the queue would pass its limit
//! the client is too far behind: what is queued is dropped and the next
//! thing it receives is close 4008, telling it to resume with `since`.

use crate::CLOSE_TOO_SLOW;
use bytes::Bytes;
use futures_util::{Sink, SinkExt};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message, Utf8Bytes};

#[derive(Default)]
struct Shared {
    queued: AtomicUsize,
    overflowed: AtomicBool,
}

/// The pushing side of a client's queue.
pub(crate) struct Outbound {
    tx: mpsc::UnboundedSender<Message>,
    shared: Arc<Shared>,
    limit: usize,
}

/// The queue passed its limit; the client is being closed with 4008.
#[derive(Debug)]
pub(crate) struct Overflow;

/// The draining side, run by the writer task.
pub(crate) struct Drain {
    rx: mpsc::UnboundedReceiver<Message>,
    shared: Arc<Shared>,
}

pub(crate) fn queue(limit: usize) -> (Outbound, Drain) {
    let (tx, rx) = mpsc::unbounded_channel();
    let shared = Arc::new(Shared::default());
    (
        Outbound {
            tx,
            shared: shared.clone(),
            limit,
        },
        Drain { rx, shared },
    )
}

pub(crate) fn close_message(code: u16, reason: &'static str) -> Message {
    Message::Close(Some(CloseFrame {
        code: CloseCode::from(code),
        reason: Utf8Bytes::from_static(reason),
    }))
}

impl Outbound {
    /// Queues a text frame whose bytes are known to be UTF-8 JSON.
    pub(crate) fn push_json(&self, json: Bytes) -> Result<(), Overflow> {
        match Utf8Bytes::try_from(json) {
            Ok(text) => self.push_text(text),
            Err(e) => {
                // Our own JSON is UTF-8 by construction; never send a broken frame.
                tracing::error!(error = %e, "dropped an outbound frame that is not UTF-8");
                Ok(())
            }
        }
    }

    /// Queues a text frame, or closes the client with 4008 if the queue would
    /// pass its limit.
    pub(crate) fn push_text(&self, text: Utf8Bytes) -> Result<(), Overflow> {
        if self.shared.overflowed.load(Ordering::Acquire) {
            return Err(Overflow);
        }
        let len = text.len();
        let queued = self.shared.queued.fetch_add(len, Ordering::AcqRel) + len;
        if queued > self.limit {
            self.shared.queued.fetch_sub(len, Ordering::AcqRel);
            self.shared.overflowed.store(true, Ordering::Release);
            let _ = self.tx.send(close_message(
                CLOSE_TOO_SLOW,
                "too far behind: reconnect and resume with since",
            ));
            return Err(Overflow);
        }
        if self.tx.send(Message::Text(text)).is_err() {
            // The writer is gone: the connection is ending anyway.
            self.shared.queued.fetch_sub(len, Ordering::AcqRel);
        }
        Ok(())
    }

    /// Queues a control frame (ping, close), which the limit does not count.
    pub(crate) fn push_control(&self, msg: Message) {
        let _ = self.tx.send(msg);
    }

    /// Bytes queued and not yet written.
    #[cfg(test)]
    pub(crate) fn queued(&self) -> usize {
        self.shared.queued.load(Ordering::Acquire)
    }
}

impl Drain {
    /// Writes queued frames until a close frame is written or every pusher is
    /// gone. After an overflow, queued data frames are skipped so the close
    /// frame goes out next.
    pub(crate) async fn run<S>(mut self, mut sink: S) -> Result<(), WsError>
    where
        S: Sink<Message, Error = WsError> + Unpin,
    {
        while let Some(msg) = self.rx.recv().await {
            let len = match &msg {
                Message::Text(t) => t.len(),
                _ => 0,
            };
            if len > 0 {
                self.shared.queued.fetch_sub(len, Ordering::AcqRel);
                if self.shared.overflowed.load(Ordering::Acquire) {
                    continue;
                }
            }
            let is_close = matches!(msg, Message::Close(_));
            sink.send(msg).await?;
            if is_close {
                break;
            }
        }
        sink.flush().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overflow_queues_a_close_and_refuses_more() {
        let (out, mut drain) = queue(10);
        out.push_text(Utf8Bytes::from_static("12345")).unwrap();
        out.push_text(Utf8Bytes::from_static("12345")).unwrap();
        assert_eq!(out.queued(), 10);
        assert!(out.push_text(Utf8Bytes::from_static("1")).is_err());
        assert!(out.push_text(Utf8Bytes::from_static("1")).is_err());
        let mut got = Vec::new();
        while let Ok(m) = drain.rx.try_recv() {
            got.push(m);
        }
        assert_eq!(got.len(), 3);
        assert!(matches!(&got[2], Message::Close(Some(f)) if u16::from(f.code) == CLOSE_TOO_SLOW));
    }
}
