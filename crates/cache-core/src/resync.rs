//! One computer's whole current state as change events: what a pusher
//! sends again when it lost track of its own change feed (a lagged
//! receiver), so that peers end equal on every topic (sessions, closes,
//! projects and todos) without a snapshot round trip.

use crate::cache::DaemonCache;
use crate::feed::FeedEvent;
use bytes::Bytes;
use model::EventName;
use std::sync::Arc;

impl DaemonCache {
    /// Every session of `computer` (`session_updated` at its `rev`), every
    /// close still remembered (`session_closed` at its last `rev`), its
    /// projects (`projects_updated`) and each project's todos
    /// (`todos_updated`). The events carry no sequence number and no frame:
    /// they are not published to local clients, only sent on to peers,
    /// which apply sessions by `rev` and replace lists whole, so receiving
    /// one twice changes nothing.
    pub fn state_events(&self, computer: &str) -> Vec<Arc<FeedEvent>> {
        let st = self.inner.state.read();
        let event = |event: EventName, data: Bytes, rev: Option<u64>| {
            Arc::new(FeedEvent {
                seq: 0,
                event,
                computer: Arc::from(computer),
                data,
                rev,
                frame: Bytes::new(),
            })
        };
        let mut out: Vec<Arc<FeedEvent>> = st
            .sessions
            .iter(Some(computer))
            .map(|r| event(EventName::SessionUpdated, r.json.clone(), Some(r.rev)))
            .collect();
        out.extend(
            st.sessions
                .closed_of(computer)
                .into_iter()
                .map(|(id, rev)| {
                    event(
                        EventName::SessionClosed,
                        model::protocol::SessionClosed::encode(&id, computer),
                        Some(rev),
                    )
                }),
        );
        if st.preparation.projects.contains_key(computer) {
            out.push(event(
                EventName::ProjectsUpdated,
                st.preparation.projects_event(computer),
                None,
            ));
        }
        if let Some(by_project) = st.preparation.todos.get(computer) {
            for path in by_project.keys() {
                out.push(event(
                    EventName::TodosUpdated,
                    st.preparation.todos_event(computer, path),
                    None,
                ));
            }
        }
        out
    }
}
