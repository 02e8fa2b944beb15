//! A TCP proxy in front of a server (Redis) that a test can turn into a
//! blackhole: while cut, it forwards nothing in either direction and
//! accepts new connections without connecting them, and it never resets a
//! connection, as a dropped link or a partition looks to both ends. What
//! was in flight is held, not lost, and flows on when the link is restored.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

/// A running proxy; stopped (every connection closed) on drop.
pub struct TcpProxy {
    addr: SocketAddr,
    cut: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

impl TcpProxy {
    /// Listens on a free loopback port and forwards to `upstream`.
    ///
    /// # Panics
    ///
    /// When no loopback port can be bound.
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("proxy cannot bind a loopback port: {e}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("proxy has no address: {e}"));
        let (cut, cut_rx) = watch::channel(false);
        let mut tasks = JoinSet::new();
        tasks.spawn(accept_loop(listener, upstream, cut_rx));
        Self { addr, cut, tasks }
    }

    /// Where clients connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A `redis://` URL for this proxy.
    pub fn redis_url(&self) -> String {
        format!("redis://{}", self.addr)
    }

    /// Stops forwarding (a blackhole: no reset, nothing answered).
    pub fn cut(&self) {
        self.cut.send_replace(true);
    }

    /// Forwards again, held bytes first.
    pub fn restore(&self) {
        self.cut.send_replace(false);
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.tasks.abort_all();
    }
}

async fn accept_loop(listener: TcpListener, upstream: SocketAddr, cut: watch::Receiver<bool>) {
    // Connections live as long as the accept loop: aborting it drops them.
    let mut conns = JoinSet::new();
    loop {
        let Ok((client, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        conns.spawn(connection(client, upstream, cut.clone()));
        while conns.try_join_next().is_some() {}
    }
}

async fn connection(client: TcpStream, upstream: SocketAddr, mut cut: watch::Receiver<bool>) {
    // A connection made while cut is held, unconnected, until restored.
    if cut.wait_for(|c| !*c).await.is_err() {
        return;
    }
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (cr, cw) = client.into_split();
    let (sr, sw) = server.into_split();
    let up = pump(cr, sw, cut.clone());
    let down = pump(sr, cw, cut);
    tokio::select! {
        () = up => {}
        () = down => {}
    }
}

/// Copies one direction, holding what it read while the link is cut.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut cut: watch::Receiver<bool>,
) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        if cut.wait_for(|c| !*c).await.is_err() {
            return;
        }
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if cut.wait_for(|c| !*c).await.is_err() {
            return;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
