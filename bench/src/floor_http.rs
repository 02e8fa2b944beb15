//! [`HttpFloorServer`]: the read floor. A bare hyper HTTP/1.1 server on a
//! Unix socket, on a runtime of its own threads in the bench process, that
//! answers every request with the same bytes: what moving a list answer
//! from one process to another costs on this machine, with no routing,
//! cache, metrics or locks in between. It can serve with the socket's
//! default send buffer or with it raised as `fleetd` raises it
//! ([`SendBuffer`]), so that both floors are measured in the same run.

use anyhow::Context as _;
use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::path::{Path, PathBuf};
use tempfile::TempDir;
use tokio::net::UnixListener;
use tokio::runtime::Runtime;
use tokio_util::task::TaskTracker;

/// The send buffer of the floor's connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendBuffer {
    /// The kernel's default (`net.core.wmem_default`).
    Default,
    /// Raised to this many bytes on every accepted connection, as
    /// `fleetd` does before a large answer (api-rest `send_buffer.rs`).
    Raised(usize),
}

/// What `fleetd` raises a Unix connection's send buffer to before a large
/// answer (api-rest's `RAISED_SEND_BUFFER`).
pub const FLEETD_SEND_BUFFER: usize = 1024 * 1024;

/// The floor server; dropping it stops its runtime and every connection.
pub struct HttpFloorServer {
    runtime: Option<Runtime>,
    socket: PathBuf,
    _dir: TempDir,
}

impl HttpFloorServer {
    /// Serves `body` (as `application/json`) to every request, on two
    /// threads of its own, with connections' send buffers as `send_buffer`
    /// says.
    ///
    /// # Errors
    /// When the runtime, the dir or the socket cannot be created.
    pub fn start(body: Bytes, send_buffer: SendBuffer) -> anyhow::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("http-floor")
            .enable_all()
            .build()
            .context("build the floor server's runtime")?;
        let dir = tempfile::Builder::new()
            .prefix("fch")
            .tempdir_in("/tmp")
            .context("create a temp dir in /tmp")?;
        let socket = dir.path().join("floor.sock");
        let listener = {
            let _enter = runtime.enter();
            UnixListener::bind(&socket).context("bind the floor socket")?
        };
        let tracker = TaskTracker::new();
        let conns = tracker.clone();
        tracker.spawn_on(
            async move {
                while let Ok((stream, _)) = listener.accept().await {
                    if let SendBuffer::Raised(bytes) = send_buffer
                        && let Err(e) =
                            rustix::net::sockopt::set_socket_send_buffer_size(&stream, bytes)
                    {
                        eprintln!("bench: floor: cannot raise SO_SNDBUF ({e}); measuring anyway");
                    }
                    let body = body.clone();
                    conns.spawn(async move {
                        let service = service_fn(move |_req: Request<hyper::body::Incoming>| {
                            let mut resp = Response::new(Full::new(body.clone()));
                            resp.headers_mut().insert(
                                hyper::header::CONTENT_TYPE,
                                hyper::header::HeaderValue::from_static("application/json"),
                            );
                            async move { Ok::<_, Infallible>(resp) }
                        });
                        // A client closing its connection ends it; nothing to report.
                        let _ = http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
            },
            runtime.handle(),
        );
        Ok(Self {
            runtime: Some(runtime),
            socket,
            _dir: dir,
        })
    }

    /// Where clients connect.
    pub fn socket(&self) -> &Path {
        &self.socket
    }
}

impl Drop for HttpFloorServer {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
