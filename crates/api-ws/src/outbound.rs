//! One client's outbound queue, bounded in bytes. The connection loop pushes;
//! a writer task drains into the socket. When the queue would pass its limit
//! the client is too far behind: what is queued is dropped and the next
//! thing it receives is close 4008, telling it to resume with `since`.
//!
//! A snapshot is delivered whatever its size: it is not counted against the
//! limit, only what queues behind it is. At most one snapshot per topic is
//! exempt at a time (a re-subscribe while the last one is still unwritten is
//! counted), so a client holds at most three snapshots and the limit.
//! Large texts go out in fragments (`fragment.rs`).

use crate::close::CLOSE_TOO_SLOW;
use crate::fragment::{FRAGMENT_BYTES, fragments};
use bytes::Bytes;
use futures_util::{Sink, SinkExt};
use model::Topic;
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
    /// Per topic: a snapshot exempt from the limit is queued or being written.
    snapshot_pending: [AtomicBool; 3],
}

/// What the writer is asked to write.
enum Item {
    /// A text frame, counted against the limit.
    Text(Utf8Bytes),
    /// A snapshot, not counted; frees its topic's slot once written.
    Snapshot { slot: usize, text: Utf8Bytes },
    /// A ping or close frame, never counted.
    Control(Message),
}

fn slot(topic: Topic) -> usize {
    match topic {
        Topic::Sessions => 0,
        Topic::Preparation => 1,
        Topic::Computers => 2,
    }
}

/// The pushing side of a client's queue.
pub(crate) struct Outbound {
    tx: mpsc::UnboundedSender<Item>,
    shared: Arc<Shared>,
    limit: usize,
}

/// The queue passed its limit; the client is being closed with 4008.
#[derive(Debug)]
pub(crate) struct Overflow;

/// The draining side, run by the writer task.
pub(crate) struct Drain {
    rx: mpsc::UnboundedReceiver<Item>,
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

fn utf8(json: Bytes) -> Option<Utf8Bytes> {
    match Utf8Bytes::try_from(json) {
        Ok(text) => Some(text),
        Err(e) => {
            // Our own JSON is UTF-8 by construction; never send a broken frame.
            tracing::error!(
                error = %e,
                reason = "not UTF-8",
                "dropped an outbound frame"
            );
            None
        }
    }
}

impl Outbound {
    /// Queues a text frame whose bytes are known to be UTF-8 JSON.
    pub(crate) fn push_json(&self, json: Bytes) -> Result<(), Overflow> {
        match utf8(json) {
            Some(text) => self.push_text(text),
            None => Ok(()),
        }
    }

    /// Queues the snapshot of `topic`, exempt from the limit unless an
    /// earlier snapshot of the same topic is still unwritten.
    pub(crate) fn push_snapshot(&self, topic: Topic, json: Bytes) -> Result<(), Overflow> {
        let Some(text) = utf8(json) else {
            return Ok(());
        };
        if self.shared.overflowed.load(Ordering::Acquire) {
            return Err(Overflow);
        }
        let slot = slot(topic);
        let free = self.shared.snapshot_pending[slot]
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_ok();
        if !free {
            return self.push_text(text);
        }
        if self.tx.send(Item::Snapshot { slot, text }).is_err() {
            self.shared.snapshot_pending[slot].store(false, Ordering::Release);
        }
        Ok(())
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
            let _ = self.tx.send(Item::Control(close_message(
                CLOSE_TOO_SLOW,
                "too far behind: reconnect and resume with since",
            )));
            return Err(Overflow);
        }
        if self.tx.send(Item::Text(text)).is_err() {
            // The writer is gone: the connection is ending anyway.
            self.shared.queued.fetch_sub(len, Ordering::AcqRel);
        }
        Ok(())
    }

    /// Whether a snapshot exempt from the limit is queued or being written.
    pub(crate) fn snapshot_in_flight(&self) -> bool {
        self.shared
            .snapshot_pending
            .iter()
            .any(|p| p.load(Ordering::Acquire))
    }

    /// Queues a control frame (ping, close), which the limit does not count.
    pub(crate) fn push_control(&self, msg: Message) {
        let _ = self.tx.send(Item::Control(msg));
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
    /// frame goes out next. Event frames already waiting are handed to the
    /// socket together and flushed once (one write for a burst, not one per
    /// frame); a snapshot is flushed before its slot is freed, and a control
    /// frame goes out at once.
    ///
    /// # Errors
    /// The first write that fails; `WriteBufferFull` means the client has not
    /// read for long enough that tungstenite's bounded buffer filled up.
    pub(crate) async fn run<S>(mut self, mut sink: S) -> Result<(), WsError>
    where
        S: Sink<Message, Error = WsError> + Unpin,
    {
        'queue: while let Some(first) = self.rx.recv().await {
            let mut next = Some(first);
            while let Some(item) = next.take() {
                match item {
                    Item::Text(text) => {
                        self.shared.queued.fetch_sub(text.len(), Ordering::AcqRel);
                        if !self.shared.overflowed.load(Ordering::Acquire) {
                            feed_text(&mut sink, &text).await?;
                        }
                    }
                    Item::Snapshot { slot, text } => {
                        let sent = if self.shared.overflowed.load(Ordering::Acquire) {
                            Ok(())
                        } else {
                            match feed_text(&mut sink, &text).await {
                                Ok(()) => sink.flush().await,
                                Err(e) => Err(e),
                            }
                        };
                        self.shared.snapshot_pending[slot].store(false, Ordering::Release);
                        sent?;
                    }
                    Item::Control(msg) => {
                        let is_close = matches!(msg, Message::Close(_));
                        sink.send(msg).await?;
                        if is_close {
                            break 'queue;
                        }
                    }
                }
                next = self.rx.try_recv().ok();
            }
            sink.flush().await?;
        }
        sink.flush().await
    }
}

/// Hands one text message to the sink (in fragments when it is large),
/// without flushing: the caller flushes once what it handed over together.
async fn feed_text<S>(sink: &mut S, text: &Utf8Bytes) -> Result<(), WsError>
where
    S: Sink<Message, Error = WsError> + Unpin,
{
    if text.len() <= FRAGMENT_BYTES {
        return sink.feed(Message::Text(text.clone())).await;
    }
    for frame in fragments(text, FRAGMENT_BYTES) {
        sink.feed(Message::Frame(frame)).await?;
    }
    Ok(())
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
        assert!(matches!(
            &got[2],
            Item::Control(Message::Close(Some(f))) if u16::from(f.code) == CLOSE_TOO_SLOW
        ));
    }

    #[test]
    fn one_snapshot_per_topic_is_exempt_from_the_limit() {
        let (out, mut drain) = queue(10);
        let big = Bytes::from(vec![b'x'; 100]);
        out.push_snapshot(Topic::Sessions, big.clone()).unwrap();
        out.push_snapshot(Topic::Computers, big.clone()).unwrap();
        assert_eq!(out.queued(), 0, "snapshots are not counted");
        assert!(out.snapshot_in_flight());
        // What queues behind them is.
        out.push_text(Utf8Bytes::from_static("12345")).unwrap();
        assert_eq!(out.queued(), 5);
        // A second snapshot of a topic whose first is unwritten is counted.
        assert!(out.push_snapshot(Topic::Sessions, big.clone()).is_err());
        let mut kinds = Vec::new();
        while let Ok(item) = drain.rx.try_recv() {
            kinds.push(match item {
                Item::Text(_) => "text",
                Item::Snapshot { .. } => "snapshot",
                Item::Control(_) => "control",
            });
        }
        assert_eq!(kinds, ["snapshot", "snapshot", "text", "control"]);
    }

    #[tokio::test]
    async fn the_writer_fragments_large_texts_and_frees_the_snapshot_slot() {
        let (out, drain) = queue(10);
        let big = Bytes::from(vec![b'x'; FRAGMENT_BYTES * 2 + 1]);
        out.push_snapshot(Topic::Sessions, big).unwrap();
        out.push_text(Utf8Bytes::from_static("after")).unwrap();
        let shared = out.shared.clone();
        drop(out);
        let mut sent = Vec::new();
        let sink = futures_util::sink::unfold(&mut sent, |sent, msg: Message| async move {
            sent.push(msg);
            Ok::<_, WsError>(sent)
        });
        drain.run(Box::pin(sink)).await.unwrap();
        assert!(
            shared
                .snapshot_pending
                .iter()
                .all(|p| !p.load(Ordering::Acquire))
        );
        let shapes: Vec<(bool, usize)> = sent
            .iter()
            .map(|m| match m {
                Message::Frame(f) => (f.header().is_final, f.payload().len()),
                Message::Text(t) => (true, t.len()),
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(
            shapes,
            [
                (false, FRAGMENT_BYTES),
                (false, FRAGMENT_BYTES),
                (true, 1),
                (true, 5)
            ]
        );
    }

    /// A sink that records what it was given and how often it was flushed.
    #[derive(Default)]
    struct Recorder {
        items: Vec<Message>,
        flushes: usize,
    }

    impl Sink<Message> for Recorder {
        type Error = WsError;
        fn poll_ready(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Result<(), WsError>> {
            std::task::Poll::Ready(Ok(()))
        }
        fn start_send(self: std::pin::Pin<&mut Self>, item: Message) -> Result<(), WsError> {
            self.get_mut().items.push(item);
            Ok(())
        }
        fn poll_flush(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Result<(), WsError>> {
            self.get_mut().flushes += 1;
            std::task::Poll::Ready(Ok(()))
        }
        fn poll_close(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Result<(), WsError>> {
            std::task::Poll::Ready(Ok(()))
        }
    }

    #[tokio::test]
    async fn a_burst_of_waiting_events_is_flushed_once_in_order() {
        let (out, drain) = queue(1 << 20);
        for i in 0..100 {
            out.push_text(Utf8Bytes::from(format!("event {i}")))
                .unwrap();
        }
        drop(out);
        let mut sink = Recorder::default();
        drain.run(&mut sink).await.unwrap();
        let texts: Vec<String> = sink
            .items
            .iter()
            .map(|m| match m {
                Message::Text(t) => t.to_string(),
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        let want: Vec<String> = (0..100).map(|i| format!("event {i}")).collect();
        assert_eq!(texts, want);
        // One flush for the burst, one when the queue closes: not one per event.
        assert_eq!(sink.flushes, 2);
    }
}
