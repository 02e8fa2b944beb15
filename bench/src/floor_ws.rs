//! [`WsFloorServer`]: the fan-out floor. A minimal WebSocket server
//! (tokio-tungstenite over a Unix socket, nothing else) on a runtime of its
//! own threads in the bench process, that writes every frame it is given
//! to every connected client. What a fan-out costs on this machine with no
//! cache, no subscriptions and no queues in between. It reads client frames
//! with the small read buffer of [`crate::ws::config`]: with tungstenite's
//! default it would pay the 128 KiB zero-fill that `fleetd` pays on every
//! wake (see `docs/performance.md`), and stop being a floor.

use anyhow::Context as _;
use futures_util::{SinkExt as _, StreamExt as _};
use std::path::{Path, PathBuf};
use tempfile::TempDir;
use tokio::net::UnixListener;
use tokio::runtime::Runtime;
use tokio::sync::broadcast;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};
use tokio_util::task::TaskTracker;

/// The floor server; dropping it stops its runtime and every connection.
pub struct WsFloorServer {
    runtime: Option<Runtime>,
    tx: broadcast::Sender<Utf8Bytes>,
    socket: PathBuf,
    _dir: TempDir,
}

impl WsFloorServer {
    /// Binds a socket in a temp dir and serves on two threads of its own.
    ///
    /// # Errors
    /// When the runtime, the dir or the socket cannot be created.
    pub fn start() -> anyhow::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("ws-floor")
            .enable_all()
            .build()
            .context("build the floor server's runtime")?;
        let dir = tempfile::Builder::new()
            .prefix("fcf")
            .tempdir_in("/tmp")
            .context("create a temp dir in /tmp")?;
        let socket = dir.path().join("floor.sock");
        let listener = {
            let _enter = runtime.enter();
            UnixListener::bind(&socket).context("bind the floor socket")?
        };
        let (tx, _) = broadcast::channel(1024);
        let tracker = TaskTracker::new();
        let accept_tx = tx.clone();
        let conns = tracker.clone();
        tracker.spawn_on(
            async move {
                while let Ok((stream, _)) = listener.accept().await {
                    let mut rx = accept_tx.subscribe();
                    conns.spawn(async move {
                        let Ok(ws) = tokio_tungstenite::accept_async_with_config(
                            stream,
                            Some(crate::ws::config()),
                        )
                        .await
                        else {
                            return;
                        };
                        let (mut sink, mut frames) = ws.split();
                        loop {
                            tokio::select! {
                                msg = rx.recv() => match msg {
                                    Ok(text) => {
                                        if sink.send(Message::Text(text)).await.is_err() {
                                            return;
                                        }
                                    }
                                    Err(broadcast::error::RecvError::Lagged(_)) => {}
                                    Err(broadcast::error::RecvError::Closed) => return,
                                },
                                frame = frames.next() => {
                                    if !matches!(frame, Some(Ok(_))) {
                                        return;
                                    }
                                }
                            }
                        }
                    });
                }
            },
            runtime.handle(),
        );
        Ok(Self {
            runtime: Some(runtime),
            tx,
            socket,
            _dir: dir,
        })
    }

    /// Where clients connect.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// Writes `text` to every connected client.
    pub fn send(&self, text: Utf8Bytes) {
        // No client connected is not an error here.
        let _ = self.tx.send(text);
    }
}

impl Drop for WsFloorServer {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            // Stops every task of the tracker without blocking the caller.
            runtime.shutdown_background();
        }
    }
}
