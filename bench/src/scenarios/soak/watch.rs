//! The WebSocket side of the watcher daemons: per daemon one steady client
//! subscribed to `sessions` (it keeps the daemon interested, so the owners
//! push to it) and a few churning clients that subscribe, unsubscribe and
//! reconnect, resuming with `since` (the epoch and seq of the last frame
//! they saw). Every client drains its frames so that none is closed for
//! being slow. A "watcher churn" fault makes every churning client drop
//! its connection and resume at once.

use crate::ws::Ws;
use serde::Deserialize;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::rng::Rng;

/// What the WebSocket clients went through.
#[derive(Debug, Default)]
pub struct WsCounts {
    /// Connections opened (first ones included).
    pub connects: AtomicU64,
    /// Subscriptions with `since` answered by a replay (events, no snapshot).
    pub replays: AtomicU64,
    /// Subscriptions answered by a snapshot.
    pub snapshots: AtomicU64,
    /// Connections that failed or were closed by the daemon.
    pub failures: AtomicU64,
}

/// The position a client resumes from.
#[derive(Debug, Clone, Deserialize)]
struct Position {
    epoch: String,
    seq: u64,
}

#[derive(Deserialize)]
struct Head {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    epoch: Option<String>,
    #[serde(default)]
    seq: Option<u64>,
}

/// How a client behaves.
#[derive(Debug, Clone, Copy)]
pub enum Style {
    /// Subscribed all the time; reconnects only when it has to.
    Steady,
    /// Subscribes for a few seconds, unsubscribes, resubscribes; drops and
    /// resumes its connection now and then and on every churn fault.
    Churning,
}

/// Runs one client until `stop`.
pub async fn client(
    socket: PathBuf,
    style: Style,
    mut rng: Rng,
    counts: Arc<WsCounts>,
    churn: Arc<Notify>,
    stop: CancellationToken,
) {
    let mut position: Option<Position> = None;
    while !stop.is_cancelled() {
        let Ok(mut ws) = Ws::connect(&socket).await else {
            counts.failures.fetch_add(1, Ordering::Relaxed);
            pause(&stop, Duration::from_millis(500)).await;
            continue;
        };
        counts.connects.fetch_add(1, Ordering::Relaxed);
        let ended = session(
            &mut ws,
            style,
            &mut rng,
            &counts,
            &churn,
            &stop,
            &mut position,
        )
        .await;
        if !ended {
            counts.failures.fetch_add(1, Ordering::Relaxed);
            pause(&stop, Duration::from_millis(200)).await;
        }
        ws.close().await;
    }
}

/// One connection's life; `true` when it ended by choice (churn, stop),
/// `false` when it failed.
async fn session(
    ws: &mut Ws,
    style: Style,
    rng: &mut Rng,
    counts: &WsCounts,
    churn: &Notify,
    stop: &CancellationToken,
    position: &mut Option<Position>,
) -> bool {
    loop {
        let mut op = serde_json::json!({"op": "subscribe", "topic": "sessions"});
        if let Some(p) = position.as_ref() {
            op["since"] = serde_json::json!({"epoch": p.epoch, "seq": p.seq});
        }
        if ws.send_op(&op).await.is_err() {
            return false;
        }
        let mut first = true;
        let (lo, hi) = match style {
            Style::Steady => (u64::MAX / 4, u64::MAX / 4),
            Style::Churning => (2_000, 10_000),
        };
        let window = Duration::from_millis(rng.range(lo.min(3_600_000), hi.min(3_600_000)));
        let until = tokio::time::Instant::now() + window;
        loop {
            let left = until.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                break;
            }
            let frame = tokio::select! {
                () = stop.cancelled() => return true,
                () = churn.notified(), if matches!(style, Style::Churning) => return true,
                f = ws.next_text(left) => f,
            };
            match frame {
                Ok(Some(text)) => {
                    let Ok(head) = serde_json::from_str::<Head>(&text) else {
                        continue;
                    };
                    if first && (head.kind == "snapshot" || head.kind == "event") {
                        let counter = if head.kind == "snapshot" {
                            &counts.snapshots
                        } else {
                            &counts.replays
                        };
                        counter.fetch_add(1, Ordering::Relaxed);
                        first = false;
                    }
                    if let (Some(epoch), Some(seq)) = (head.epoch, head.seq) {
                        *position = Some(Position { epoch, seq });
                    }
                }
                Ok(None) => break,
                Err(_) => return false,
            }
        }
        // A churning client's window ended: unsubscribe, and either
        // resubscribe on the same connection or drop it and resume.
        if ws
            .send_op(&serde_json::json!({"op": "unsubscribe", "topic": "sessions"}))
            .await
            .is_err()
        {
            return false;
        }
        if rng.chance(50) {
            return true;
        }
    }
}

async fn pause(stop: &CancellationToken, d: Duration) {
    tokio::select! {
        () = stop.cancelled() => {}
        () = tokio::time::sleep(d) => {}
    }
}
