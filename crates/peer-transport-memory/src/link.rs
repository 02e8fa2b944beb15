//! [`ClientShared`]: one client's link to the hub, shared by the client's
//! clones, its readers, and the hub's registry of clients by name (for
//! faults addressed by name): connected or cut, how often it reconnected,
//! and how many transport calls it made.

use model::{Link, TransportError};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::watch;

/// The state one client shares with its clones and its readers: its name
/// and its link, which is also where "connected" lives.
#[derive(Debug)]
pub(crate) struct ClientShared {
    pub(crate) name: String,
    link: watch::Sender<Link>,
    /// Transport calls made (see `MemoryHub::calls`).
    calls: AtomicU64,
    /// The simulated round trip of every call, in microseconds (0: none).
    round_trip_us: AtomicU64,
}

impl ClientShared {
    /// A connected client that has never reconnected.
    pub(crate) fn new(name: &str) -> Self {
        let (link, _) = watch::channel(Link {
            connected: true,
            reconnects: 0,
        });
        Self {
            name: name.to_owned(),
            link,
            calls: AtomicU64::new(0),
            round_trip_us: AtomicU64::new(0),
        }
    }

    /// Sets the simulated round trip of every call from now on.
    pub(crate) fn set_round_trip(&self, rtt: Duration) {
        let us = u64::try_from(rtt.as_micros()).unwrap_or(u64::MAX);
        self.round_trip_us.store(us, Ordering::Relaxed);
    }

    /// One transport call: counts it, waits the simulated round trip and
    /// fails when the link is cut (also when it was cut meanwhile).
    pub(crate) async fn call(&self) -> Result<(), TransportError> {
        self.count_call();
        self.travel().await;
        self.check()
    }

    /// Waits the simulated round trip, if one is set (tokio time, so paused
    /// time makes it exact).
    pub(crate) async fn travel(&self) {
        let us = self.round_trip_us.load(Ordering::Relaxed);
        if us > 0 {
            tokio::time::sleep(Duration::from_micros(us)).await;
        }
    }

    /// Counts one transport call.
    pub(crate) fn count_call(&self) {
        self.calls.fetch_add(1, Ordering::Relaxed);
    }

    /// Transport calls made so far.
    pub(crate) fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// Whether the link is up.
    pub(crate) fn is_connected(&self) -> bool {
        self.link.borrow().connected
    }

    /// `Ok` when connected, otherwise the error every call returns.
    pub(crate) fn check(&self) -> Result<(), TransportError> {
        if self.is_connected() {
            Ok(())
        } else {
            Err(TransportError::Disconnected {
                reason: format!("memory client {} is cut from the hub", self.name),
            })
        }
    }

    /// Marks the link down; returns whether it was up. The caller wakes
    /// blocked readers afterwards, so they see the change.
    pub(crate) fn cut(&self) -> bool {
        let mut was_up = false;
        self.link.send_modify(|l| {
            was_up = l.connected;
            l.connected = false;
        });
        if was_up {
            tracing::debug!(client = %self.name, "memory client cut");
        }
        was_up
    }

    /// Marks the link up and counts one more reconnect.
    pub(crate) fn reconnect(&self) {
        self.link.send_modify(|l| {
            l.connected = true;
            l.reconnects += 1;
        });
        tracing::debug!(client = %self.name, "memory client reconnected");
    }

    /// A receiver of link changes.
    pub(crate) fn subscribe(&self) -> watch::Receiver<Link> {
        self.link.subscribe()
    }
}
