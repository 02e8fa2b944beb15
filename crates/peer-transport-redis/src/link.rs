//! The [`Link`] state: one [`LinkHub`] per transport folds the connection
//! state of every fred client it owns (the main one and each reader's) into
//! one `watch` value. The link is `connected` while every client is, and
//! `reconnects` counts every time any client came back after a loss (a
//! client's first connection is not a reconnect, and neither is a second
//! "connected" for a client already known to be up: fred reports one per
//! node of a cluster).
//!
//! The hub also keeps why the link last failed (a [`LinkFailure`], in a
//! second `watch`, cleared when the link is whole again) and does the
//! outage logging, once for the whole link rather than once per client or
//! per retry: a warning the first time each distinct cause is seen during
//! an outage, and one info line when the link is back.

use std::collections::HashMap;

use model::{Link, LinkCause, LinkFailure};
use parking_lot::Mutex;
use tokio::sync::watch;
use tracing::{info, warn};

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
    /// The last failure while the link is down; `None` once it is whole.
    failure: Option<LinkFailure>,
    /// The causes already logged during the current outage.
    warned: Vec<LinkCause>,
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
    failure_tx: watch::Sender<Option<LinkFailure>>,
}

/// What an update changed that deserves a log line (written after the
/// lock is released).
enum News {
    Nothing,
    /// A cause not yet logged in this outage.
    NewCause(LinkFailure),
    /// The link is whole again after an outage that was logged.
    Restored,
}

impl LinkHub {
    pub(crate) fn new() -> Self {
        Self {
            state: Mutex::new(HubState::default()),
            tx: watch::Sender::new(Link::default()),
            failure_tx: watch::Sender::new(None),
        }
    }

    /// A receiver of the last failure while the link is down (`None` while
    /// it is up, or before any failure).
    pub(crate) fn subscribe_failure(&self) -> watch::Receiver<Option<LinkFailure>> {
        self.failure_tx.subscribe()
    }

    /// The client failed to connect, or lost its connection, for `failure`.
    /// Returns whether the cause was new in this outage (and so logged at
    /// warn level here); callers log repeats at debug level.
    pub(crate) fn failed(&self, id: ClientId, failure: LinkFailure) -> bool {
        self.update_news(|s| {
            let Some(c) = s.clients.get_mut(&id) else {
                // A stopped client's late event concerns nobody.
                return (false, News::Nothing);
            };
            c.connected = false;
            s.failure = Some(failure.clone());
            if s.warned.contains(&failure.cause) {
                (false, News::Nothing)
            } else {
                s.warned.push(failure.cause);
                (true, News::NewCause(failure))
            }
        })
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

    /// How many times the link came back so far.
    pub(crate) fn reconnects(&self) -> u64 {
        self.tx.borrow().reconnects
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
        self.update_news(|s| (f(s), News::Nothing))
    }

    fn update_news<R>(&self, f: impl FnOnce(&mut HubState) -> (R, News)) -> R {
        let (value, news) = {
            let mut state = self.state.lock();
            let (value, mut news) = f(&mut state);
            let link = state.link();
            if link.connected {
                if !state.warned.is_empty() {
                    news = News::Restored;
                }
                state.warned.clear();
                state.failure = None;
            }
            // Published under the lock so that concurrent updates can't
            // publish out of order.
            self.tx.send_if_modified(|cur| {
                let changed = *cur != link;
                *cur = link;
                changed
            });
            let failure = state.failure.clone();
            self.failure_tx.send_if_modified(|cur| {
                let changed = *cur != failure;
                *cur = failure;
                changed
            });
            (value, news)
        };
        match news {
            News::Nothing => {}
            News::NewCause(f) => warn!(
                cause = %f.cause,
                operator_needed = f.cause.needs_operator(),
                error = %f.detail,
                "redis link failing; retrying (logged once per cause until it is back)"
            ),
            News::Restored => info!("redis link restored"),
        }
        value
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

    fn refused() -> LinkFailure {
        LinkFailure::new(LinkCause::Refused, "Connection refused")
    }

    #[test]
    fn the_last_failure_shows_while_down_and_clears_when_whole() {
        let hub = LinkHub::new();
        let failure = hub.subscribe_failure();
        let main = hub.register();
        let reader = hub.register();
        hub.up(main);
        hub.up(reader);
        assert!(failure.borrow().is_none());
        assert!(hub.failed(main, refused()), "a first cause is news");
        assert!(
            !hub.failed(main, refused()),
            "a retry with the same cause is not"
        );
        assert!(
            !hub.failed(reader, refused()),
            "nor the same cause on another client"
        );
        assert_eq!(
            failure.borrow().as_ref().map(|f| f.cause),
            Some(LinkCause::Refused)
        );
        let tls = LinkFailure::new(LinkCause::TlsCertificate, "UnknownIssuer");
        assert!(hub.failed(main, tls.clone()), "a change of cause is news");
        assert_eq!(failure.borrow().as_ref(), Some(&tls));
        assert!(!hub.failed(main, refused()), "each cause once per outage");
        hub.up(main);
        assert!(failure.borrow().is_some(), "the reader is still down");
        hub.up(reader);
        assert!(hub.current().connected);
        assert!(failure.borrow().is_none(), "cleared once whole");
        assert!(hub.failed(main, refused()), "a new outage warns again");
    }

    #[test]
    fn a_stopped_clients_failure_is_ignored() {
        let hub = LinkHub::new();
        let c = hub.register();
        hub.up(c);
        hub.remove(c);
        assert!(!hub.failed(c, refused()));
        assert!(hub.subscribe_failure().borrow().is_none());
    }
}
