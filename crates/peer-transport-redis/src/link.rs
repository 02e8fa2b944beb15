//! The [`Link`] state: one [`LinkHub`] per transport folds the connection
//! state of every fred client it owns (the main one and each reader's) into
//! one `watch` value. The link is `connected` while every client is, and
//! `reconnects` counts every time any client came back after a loss (a
//! client's first connection is not a reconnect, and neither is a second
//! "connected" for a client already known to be up: fred reports one per
//! node of a cluster).

use std::collections::HashMap;

use model::Link;
use parking_lot::Mutex;
use tokio::sync::watch;

/// Identifies one client inside a [`LinkHub`].
pub(crate) type ClientId = u64;

/// Per-client connection state.
#[derive(Debug, Clone, Copy, Default)]
struct ClientLink {
    connected: bool,
    ever_connected: bool,
}

#[derive(Debug, Default)]
struct HubState {
    next_id: ClientId,
    clients: HashMap<ClientId, ClientLink>,
    reconnects: u64,
}

impl HubState {
    fn link(&self) -> Link {
        Link {
            connected: !self.clients.is_empty() && self.clients.values().all(|c| c.connected),
            reconnects: self.reconnects,
        }
    }
}

/// Folds the state of several clients into one [`Link`].
#[derive(Debug)]
pub(crate) struct LinkHub {
    state: Mutex<HubState>,
    tx: watch::Sender<Link>,
}

impl LinkHub {
    pub(crate) fn new() -> Self {
        Self {
            state: Mutex::new(HubState::default()),
            tx: watch::Sender::new(Link::default()),
        }
    }

    /// A receiver of the folded state.
    pub(crate) fn subscribe(&self) -> watch::Receiver<Link> {
        self.tx.subscribe()
    }

    /// The folded state now.
    #[cfg(test)]
    pub(crate) fn current(&self) -> Link {
        *self.tx.borrow()
    }

    /// Adds a client, not yet connected.
    pub(crate) fn register(&self) -> ClientId {
        self.update(|s| {
            let id = s.next_id;
            s.next_id += 1;
            s.clients.insert(id, ClientLink::default());
            id
        })
    }

    /// The client is connected. Returns whether this was a reconnect: it
    /// was up before and has been down since.
    pub(crate) fn up(&self, id: ClientId) -> bool {
        self.update(|s| {
            let Some(c) = s.clients.get_mut(&id) else {
                return false;
            };
            let reconnect = c.ever_connected && !c.connected;
            c.connected = true;
            c.ever_connected = true;
            if reconnect {
                s.reconnects += 1;
            }
            reconnect
        })
    }

    /// The client lost its connection (or failed to make one).
    pub(crate) fn down(&self, id: ClientId) {
        self.update(|s| {
            if let Some(c) = s.clients.get_mut(&id) {
                c.connected = false;
            }
        });
    }

    /// Whether the hub believes the client is connected.
    pub(crate) fn is_up(&self, id: ClientId) -> bool {
        self.state
            .lock()
            .clients
            .get(&id)
            .is_some_and(|c| c.connected)
    }

    /// Forgets a client that was stopped.
    pub(crate) fn remove(&self, id: ClientId) {
        self.update(|s| {
            s.clients.remove(&id);
        });
    }

    fn update<R>(&self, f: impl FnOnce(&mut HubState) -> R) -> R {
        let mut state = self.state.lock();
        let r = f(&mut state);
        let link = state.link();
        // Published under the lock so that concurrent updates can't publish
        // out of order.
        self.tx.send_if_modified(|cur| {
            let changed = *cur != link;
            *cur = link;
            changed
        });
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connected_only_while_every_client_is() {
        let hub = LinkHub::new();
        assert_eq!(hub.current(), Link::default());
        let main = hub.register();
        assert!(!hub.up(main), "a first connection is not a reconnect");
        assert!(hub.current().connected);
        let reader = hub.register();
        assert!(!hub.current().connected, "the new reader is not up yet");
        hub.up(reader);
        assert_eq!(
            hub.current(),
            Link {
                connected: true,
                reconnects: 0
            }
        );
        hub.down(main);
        hub.down(reader);
        assert!(!hub.current().connected);
        assert!(hub.up(main));
        assert!(!hub.current().connected);
        assert!(hub.up(reader));
        assert_eq!(
            hub.current(),
            Link {
                connected: true,
                reconnects: 2
            }
        );
        hub.down(reader);
        hub.remove(reader);
        assert!(hub.current().connected, "a dropped reader no longer counts");
        hub.remove(main);
        assert!(!hub.current().connected);
    }

    #[test]
    fn only_a_down_then_up_counts() {
        let hub = LinkHub::new();
        let c = hub.register();
        assert!(!hub.up(c));
        assert!(!hub.up(c), "a second connected event is not a reconnect");
        assert_eq!(hub.current().reconnects, 0);
        hub.down(c);
        hub.down(c);
        assert!(!hub.is_up(c));
        assert!(hub.up(c));
        assert!(hub.is_up(c));
        assert_eq!(hub.current().reconnects, 1);
    }
}
