//! [`DelayProxy`]: a TCP proxy on a free loopback port that holds every
//! chunk it forwards for a set one-way delay, in both directions, keeping
//! the order: a simulated network link between one computer and Redis.
//!
//! This machine's kernel has no `netem` queueing discipline, so `tc` cannot
//! delay packets; this proxy stands in for it. Threads, not tokio: tokio's
//! timers have millisecond resolution, too coarse for a LAN's 0.25 ms one
//! way; `thread::sleep` (nanosleep) wakes within tens of microseconds.
//! Each direction of each connection has a reader thread (reads a chunk,
//! stamps it with the time it may leave) and a writer thread (waits until
//! then, writes it), joined through a channel, so a chunk never overtakes
//! an earlier one and reading never waits for the delay. Bandwidth is not
//! limited: only latency is simulated.

use anyhow::Context as _;
use std::io::{Read as _, Write as _};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Largest chunk read at once.
const CHUNK: usize = 64 * 1024;

/// A running proxy; dropping it closes every connection and joins every
/// thread it started.
pub struct DelayProxy {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

/// What the acceptor and the proxy share: the open sockets (to shut them
/// down on drop) and the threads (to join them).
#[derive(Default)]
struct Shared {
    sockets: Mutex<Vec<TcpStream>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl DelayProxy {
    /// Listens on a free loopback port and forwards every connection to
    /// `upstream`, each chunk held `one_way` in each direction (a round
    /// trip through it costs twice that).
    ///
    /// # Errors
    /// When the listener cannot be bound or its thread started.
    pub fn start(upstream: SocketAddr, one_way: Duration) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").context("bind the delay proxy")?;
        let addr = listener.local_addr().context("the delay proxy's address")?;
        let stop = Arc::new(AtomicBool::new(false));
        let shared = Arc::new(Shared::default());
        let acceptor = {
            let stop = Arc::clone(&stop);
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("delay-accept".into())
                .spawn(move || accept_loop(&listener, upstream, one_way, &stop, &shared))
                .context("start the delay proxy's acceptor")?
        };
        Ok(Self {
            addr,
            stop,
            shared,
            acceptor: Some(acceptor),
        })
    }

    /// `redis://` URL of the proxy, for a client that should reach Redis
    /// through it.
    pub fn redis_url(&self) -> String {
        format!("redis://{}", self.addr)
    }
}

impl Drop for DelayProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the acceptor, which then sees `stop`.
        let _ = TcpStream::connect(self.addr);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        for socket in lock(&self.shared.sockets).drain(..) {
            let _ = socket.shutdown(Shutdown::Both);
        }
        let threads: Vec<_> = lock(&self.shared.threads).drain(..).collect();
        for thread in threads {
            let _ = thread.join();
        }
    }
}

/// Locks `m`, also when a proxy thread panicked while holding it (the
/// lists stay usable).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn accept_loop(
    listener: &TcpListener,
    upstream: SocketAddr,
    one_way: Duration,
    stop: &AtomicBool,
    shared: &Shared,
) {
    for client in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let client = match client {
            Ok(c) => c,
            Err(e) => {
                eprintln!("bench: delay proxy: accept failed ({e}); going on");
                continue;
            }
        };
        if let Err(e) = link(client, upstream, one_way, shared) {
            eprintln!("bench: delay proxy: connection dropped: {e:#}");
        }
    }
}

/// Connects `client` to `upstream` through two delayed directions.
fn link(
    client: TcpStream,
    upstream: SocketAddr,
    one_way: Duration,
    shared: &Shared,
) -> anyhow::Result<()> {
    let server = TcpStream::connect(upstream).context("connect to upstream")?;
    for s in [&client, &server] {
        s.set_nodelay(true).context("TCP_NODELAY")?;
    }
    let mut sockets = lock(&shared.sockets);
    let mut threads = lock(&shared.threads);
    sockets.push(client.try_clone().context("clone a socket")?);
    sockets.push(server.try_clone().context("clone a socket")?);
    for (from, to) in [(client.try_clone()?, server.try_clone()?), (server, client)] {
        let (tx, rx) = mpsc::channel::<(Instant, Vec<u8>)>();
        threads.push(
            std::thread::Builder::new()
                .name("delay-read".into())
                .spawn(move || read_side(from, one_way, &tx))
                .context("start a reader thread")?,
        );
        threads.push(
            std::thread::Builder::new()
                .name("delay-write".into())
                .spawn(move || write_side(to, &rx))
                .context("start a writer thread")?,
        );
    }
    Ok(())
}

/// Reads chunks as they come and hands each on with the time it may
/// leave; an empty chunk says the sender closed.
fn read_side(mut from: TcpStream, one_way: Duration, tx: &mpsc::Sender<(Instant, Vec<u8>)>) {
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = from.read(&mut buf).unwrap_or(0);
        let due = Instant::now() + one_way;
        if tx.send((due, buf[..n].to_vec())).is_err() || n == 0 {
            return;
        }
    }
}

/// Writes each chunk once its time has come, in order; closes the write
/// side when the reader side closed.
fn write_side(mut to: TcpStream, rx: &mpsc::Receiver<(Instant, Vec<u8>)>) {
    while let Ok((due, chunk)) = rx.recv() {
        let wait = due.saturating_duration_since(Instant::now());
        if !wait.is_zero() {
            std::thread::sleep(wait);
        }
        if chunk.is_empty() || to.write_all(&chunk).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echoes_in_order_after_the_round_trip() {
        let echo = TcpListener::bind("127.0.0.1:0").unwrap();
        let echo_addr = echo.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut s, _) = echo.accept().unwrap();
            let mut buf = [0u8; 1024];
            loop {
                let n = s.read(&mut buf).unwrap();
                if n == 0 {
                    return;
                }
                s.write_all(&buf[..n]).unwrap();
            }
        });
        let one_way = Duration::from_millis(5);
        let proxy = DelayProxy::start(echo_addr, one_way).unwrap();
        let mut c = TcpStream::connect(proxy.addr).unwrap();
        let t0 = Instant::now();
        c.write_all(b"one ").unwrap();
        c.write_all(b"two").unwrap();
        let mut got = [0u8; 7];
        c.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"one two");
        assert!(t0.elapsed() >= 2 * one_way, "{:?}", t0.elapsed());
        drop(c);
        drop(proxy);
        server.join().unwrap();
    }
}
