//! Free loopback ports for the processes a test starts.
//!
//! A port is found by binding `127.0.0.1:0` and releasing it, so another process can take it
//! in between: fixtures that start servers retry with a new port when that happens. Within
//! one test process no port is handed out twice.

use std::collections::HashSet;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::sync::{Mutex, PoisonError};

static HANDED_OUT: Mutex<Option<HashSet<u16>>> = Mutex::new(None);

/// A TCP port on 127.0.0.1 that was free a moment ago and that this process has not handed
/// out before.
///
/// # Panics
///
/// When the OS refuses to bind loopback ports, or keeps returning ports already handed out.
pub fn free_port() -> u16 {
    let mut handed = HANDED_OUT.lock().unwrap_or_else(PoisonError::into_inner);
    let handed = handed.get_or_insert_with(HashSet::new);
    for _ in 0..100 {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .unwrap_or_else(|e| panic!("cannot bind a free port on 127.0.0.1: {e}"));
        let port = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("cannot read the bound port: {e}"))
            .port();
        if handed.insert(port) {
            return port;
        }
    }
    panic!("the OS kept returning loopback ports this test process already used")
}

/// `127.0.0.1:<free_port()>`, e.g. for `DaemonBuilder::http`.
///
/// # Panics
///
/// As [`free_port`].
pub fn free_addr() -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, free_port()))
}
