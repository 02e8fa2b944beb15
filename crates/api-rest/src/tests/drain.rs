//! Shutdown of a listener: requests in flight finish, idle connections
//! close, and a connection that never finishes is cut at the deadline.

use super::*;
use crate::server::serve;
use std::time::Instant;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

#[tokio::test]
async fn a_hung_connection_is_cut_at_the_deadline() {
    let f = fixture();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let cancel = CancellationToken::new();
    let server = tokio::spawn(serve(
        f.api.clone(),
        listener,
        None,
        cancel.clone(),
        Duration::from_millis(200),
    ));
    // Half a request: hyper waits for the rest, even when asked to stop.
    let mut hung = TcpStream::connect(addr).await.unwrap();
    hung.write_all(b"POST /v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
        .await
        .unwrap();
    // An idle keep-alive connection that already had its answer.
    let mut idle = TcpStream::connect(addr).await.unwrap();
    idle.write_all(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = idle.read(&mut buf).await.unwrap();
    assert!(
        buf[..n].starts_with(b"HTTP/1.1 200"),
        "{:?}",
        String::from_utf8_lossy(&buf[..n])
    );

    let t0 = Instant::now();
    cancel.cancel();
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("serve returns after the drain deadline")
        .unwrap();
    assert!(
        t0.elapsed() >= Duration::from_millis(150),
        "{:?}",
        t0.elapsed()
    );
    // Both connections are closed by the server.
    for conn in [&mut hung, &mut idle] {
        let n = tokio::time::timeout(Duration::from_secs(2), conn.read(&mut buf))
            .await
            .expect("closed")
            .unwrap_or(0);
        assert_eq!(n, 0);
    }
    // And nothing listens any more.
    assert!(TcpStream::connect(addr).await.is_err());
}
