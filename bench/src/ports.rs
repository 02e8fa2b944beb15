//! Free loopback ports for the servers the bench starts.

use anyhow::Context as _;
use std::net::{Ipv4Addr, TcpListener};

/// A TCP port on 127.0.0.1 that was free a moment ago (bound, then released;
/// another process may take it in between, so starters retry).
///
/// # Errors
/// When the OS refuses to bind a loopback port.
pub fn free_port() -> anyhow::Result<u16> {
    let listener =
        TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).context("bind a free port on 127.0.0.1")?;
    Ok(listener.local_addr().context("read the bound port")?.port())
}
