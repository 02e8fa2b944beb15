//! [`App`]: the whole state of `fleet watch`, as a pure state machine. It changes only
//! through [`App::apply`] (a WebSocket frame), [`App::on_key`] (a key press),
//! [`App::tick`] (time passing) and the connection callbacks ([`App::on_connecting`],
//! [`App::on_connected`], [`App::on_disconnected`]); it never reads the clock or does
//! I/O, so every state can be built and drawn in a test.

use crate::client::protocol::ServerFrame;
use crate::watch::fleet::Fleet;
use crate::watch::view::{self, Filter};
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use model::{Timestamp, Topic};

/// How long a notice stays in the status line.
pub const NOTICE_MS: i64 = 5_000;

/// The tabs of the view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tab {
    /// Sessions grouped by computer.
    #[default]
    Sessions,
    /// Projects and their todos.
    Preparation,
    /// The computers.
    Computers,
}

impl Tab {
    /// Every tab, in order.
    pub const ALL: [Tab; 3] = [Tab::Sessions, Tab::Preparation, Tab::Computers];

    /// Its position, from 0.
    pub fn index(self) -> usize {
        match self {
            Self::Sessions => 0,
            Self::Preparation => 1,
            Self::Computers => 2,
        }
    }

    /// Its name.
    pub fn title(self) -> &'static str {
        match self {
            Self::Sessions => "Sessions",
            Self::Preparation => "Preparation",
            Self::Computers => "Computers",
        }
    }

    /// The topic whose data it shows.
    pub fn topic(self) -> Topic {
        match self {
            Self::Sessions => Topic::Sessions,
            Self::Preparation => Topic::Preparation,
            Self::Computers => Topic::Computers,
        }
    }

    fn next(self) -> Self {
        Self::ALL[(self.index() + 1) % 3]
    }

    fn previous(self) -> Self {
        Self::ALL[(self.index() + 2) % 3]
    }
}

/// The state of the connection to the daemon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Connection {
    /// The first connection is being made.
    Connecting,
    /// Frames are flowing.
    Connected {
        /// Since when.
        since: Timestamp,
    },
    /// The connection was lost; the data shown is the last known.
    Disconnected {
        /// When it was lost.
        since: Timestamp,
        /// Why the last attempt failed.
        reason: String,
        /// When the next attempt starts; `None` while one is running.
        retry_at: Option<Timestamp>,
    },
}

/// What the I/O loop must do after a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Nothing.
    None,
    /// Leave the view.
    Quit,
    /// Send the WebSocket `refresh` op.
    Refresh,
}

/// The view's state.
#[derive(Debug, Clone)]
pub struct App {
    now: Timestamp,
    connection: Connection,
    tab: Tab,
    cursors: [usize; 3],
    filter: String,
    editing: bool,
    fleet: Fleet,
    notice: Option<(String, Timestamp)>,
    ignored: u64,
    /// The ids of the sessions waiting as of the last frame.
    waits: std::collections::BTreeSet<String>,
    /// A new wait to ring the terminal for (its text), until the I/O loop takes it.
    bell: Option<String>,
    /// Whether new waits ring the terminal (`m` toggles).
    muted: bool,
}

impl App {
    /// A view with no data yet, connecting, at `now`.
    pub fn new(now: Timestamp) -> Self {
        Self {
            now,
            connection: Connection::Connecting,
            tab: Tab::Sessions,
            cursors: [0; 3],
            filter: String::new(),
            editing: false,
            fleet: Fleet::default(),
            notice: None,
            ignored: 0,
            waits: std::collections::BTreeSet::new(),
            bell: None,
            muted: false,
        }
    }

    /// Applies one frame from the daemon. A frame that does not match the contract is
    /// ignored, counted, and said in the status line.
    pub fn apply(&mut self, frame: ServerFrame) {
        let had_sessions = self.fleet.is_loaded(Topic::Sessions);
        self.apply_frame(frame);
        self.note_waits(had_sessions);
    }

    /// Rings for waits that were not there before this frame (never for those of the
    /// first snapshot: they were there when the view started).
    fn note_waits(&mut self, had_sessions: bool) {
        let waiting = view::waiting(&self.fleet);
        let now: std::collections::BTreeSet<String> =
            waiting.iter().map(|s| s.session_id.clone()).collect();
        let new: Vec<&&model::Session> = waiting
            .iter()
            .filter(|s| !self.waits.contains(&s.session_id))
            .collect();
        if had_sessions
            && !self.muted
            && let Some(s) = new.last()
        {
            self.bell = Some(format!("{} on {} needs you", s.title, s.computer));
        }
        self.waits = now;
    }

    /// The text of a new wait to ring the terminal for, once.
    pub fn take_bell(&mut self) -> Option<String> {
        self.bell.take()
    }

    /// Whether new waits ring the terminal.
    pub fn is_muted(&self) -> bool {
        self.muted
    }

    fn apply_frame(&mut self, frame: ServerFrame) {
        let outcome = match frame {
            ServerFrame::Snapshot { topic, data, .. } => self.fleet.load(topic, data),
            ServerFrame::Event { event, data, .. } => self.fleet.change(event, data),
            ServerFrame::Error { code, message } => {
                self.notify(format!("the daemon refused a request: {message} ({code})"));
                Ok(())
            }
        };
        if let Err(reason) = outcome {
            self.ignore(&reason);
        }
    }

    /// Counts a frame that could not be used, and says so.
    pub fn ignore(&mut self, reason: &str) {
        self.ignored += 1;
        self.notify(format!("ignored a frame: {reason}"));
    }

    /// Time passed: ages, the notice and the retry countdown follow `now`.
    pub fn tick(&mut self, now: Timestamp) {
        self.now = now;
        if self
            .notice
            .as_ref()
            .is_some_and(|(_, at)| now.as_millis() - at.as_millis() >= NOTICE_MS)
        {
            self.notice = None;
        }
    }

    /// Shows `text` in the status line for a few seconds.
    pub fn notify(&mut self, text: String) {
        self.notice = Some((text, self.now));
    }

    /// A connection attempt started.
    pub fn on_connecting(&mut self) {
        if let Connection::Disconnected { retry_at, .. } = &mut self.connection {
            *retry_at = None;
        } else {
            self.connection = Connection::Connecting;
        }
    }

    /// The connection is up and subscribed.
    pub fn on_connected(&mut self) {
        self.connection = Connection::Connected { since: self.now };
    }

    /// The connection was lost (or an attempt failed); the next attempt is at `retry_at`.
    pub fn on_disconnected(&mut self, reason: String, retry_at: Timestamp) {
        let since = match &self.connection {
            Connection::Disconnected { since, .. } => *since,
            _ => self.now,
        };
        self.connection = Connection::Disconnected {
            since,
            reason,
            retry_at: Some(retry_at),
        };
    }

    /// Handles a key press and says what the I/O loop must do.
    pub fn on_key(&mut self, key: KeyEvent) -> Action {
        if key.kind == KeyEventKind::Release {
            return Action::None;
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl && matches!(key.code, KeyCode::Char('c' | 'd')) {
            return Action::Quit;
        }
        if self.editing {
            self.edit_filter(key.code, ctrl);
            return Action::None;
        }
        match key.code {
            KeyCode::Char('q') => return Action::Quit,
            KeyCode::Char('r') => {
                self.notify("refresh requested".into());
                return Action::Refresh;
            }
            KeyCode::Tab | KeyCode::Right | KeyCode::Char('l') => self.tab = self.tab.next(),
            KeyCode::BackTab | KeyCode::Left | KeyCode::Char('h') => {
                self.tab = self.tab.previous();
            }
            KeyCode::Char('1') => self.tab = Tab::Sessions,
            KeyCode::Char('2') => self.tab = Tab::Preparation,
            KeyCode::Char('3') => self.tab = Tab::Computers,
            KeyCode::Down | KeyCode::Char('j') => self.move_cursor(1),
            KeyCode::Up | KeyCode::Char('k') => self.move_cursor(-1),
            KeyCode::PageDown => self.move_cursor(10),
            KeyCode::PageUp => self.move_cursor(-10),
            KeyCode::Home | KeyCode::Char('g') => self.cursors[self.tab.index()] = 0,
            KeyCode::End | KeyCode::Char('G') => self.move_cursor(isize::MAX),
            KeyCode::Char('/') => self.editing = true,
            KeyCode::Char('m') => {
                self.muted = !self.muted;
                self.bell = None;
                let text = if self.muted {
                    "bell muted: new waits no longer ring (m to unmute)"
                } else {
                    "bell on: new waits ring the terminal"
                };
                self.notify(text.into());
            }
            KeyCode::Esc => self.set_filter(String::new()),
            _ => {}
        }
        Action::None
    }

    fn edit_filter(&mut self, code: KeyCode, ctrl: bool) {
        match code {
            KeyCode::Esc => {
                self.editing = false;
                self.set_filter(String::new());
            }
            KeyCode::Enter => self.editing = false,
            KeyCode::Backspace => {
                let mut text = self.filter.clone();
                text.pop();
                self.set_filter(text);
            }
            KeyCode::Char(c) if !ctrl => {
                let mut text = self.filter.clone();
                text.push(c);
                self.set_filter(text);
            }
            _ => {}
        }
    }

    fn set_filter(&mut self, text: String) {
        if text != self.filter {
            self.filter = text;
            self.cursors = [0; 3];
        }
    }

    fn move_cursor(&mut self, by: isize) {
        let count = self.selectable_count(self.tab);
        let cursor = &mut self.cursors[self.tab.index()];
        let moved = if by < 0 {
            cursor.saturating_sub(by.unsigned_abs())
        } else {
            cursor.saturating_add(by.unsigned_abs())
        };
        *cursor = moved.min(count.saturating_sub(1));
    }

    /// How many rows the cursor can rest on in `tab`, after the filter.
    pub fn selectable_count(&self, tab: Tab) -> usize {
        let filter = self.filter();
        match tab {
            Tab::Sessions => view::session_rows(&self.fleet, &filter)
                .iter()
                .filter(|r| r.selectable())
                .count(),
            Tab::Preparation => view::preparation_rows(&self.fleet, &filter)
                .iter()
                .filter(|r| r.selectable())
                .count(),
            Tab::Computers => view::computer_rows(&self.fleet, &filter).len(),
        }
    }

    /// The cursor of `tab`: the index among its selectable rows, kept within them.
    pub fn cursor(&self, tab: Tab) -> usize {
        self.cursors[tab.index()].min(self.selectable_count(tab).saturating_sub(1))
    }

    /// The current time, as last ticked.
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// The connection state.
    pub fn connection(&self) -> &Connection {
        &self.connection
    }

    /// The tab shown.
    pub fn tab(&self) -> Tab {
        self.tab
    }

    /// The filter as typed.
    pub fn filter_text(&self) -> &str {
        &self.filter
    }

    /// The filter, ready to match.
    pub fn filter(&self) -> Filter {
        Filter::new(&self.filter)
    }

    /// Whether the filter is being typed.
    pub fn is_editing(&self) -> bool {
        self.editing
    }

    /// The data.
    pub fn fleet(&self) -> &Fleet {
        &self.fleet
    }

    /// The notice shown in the status line, if any.
    pub fn notice(&self) -> Option<&str> {
        self.notice.as_ref().map(|(text, _)| text.as_str())
    }

    /// How many frames were ignored because they did not match the contract.
    pub fn ignored(&self) -> u64 {
        self.ignored
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn at(s: i64) -> Timestamp {
        Timestamp::from_millis(1_800_000_000_000 + s * 1000)
    }

    fn sessions_frame(n: usize) -> ServerFrame {
        let sessions: Vec<_> = (0..n)
            .map(|i| {
                json!({
                    "session_id": format!("s{i}"), "computer": "alpha", "title": format!("t{i}"),
                    "project_path": null, "agent": "a", "thinking_mode": null, "status": "idle",
                    "created_at": "2026-11-27T10:00:00.000Z", "last_activity": "2026-11-27T10:00:00.000Z",
                    "last_input": null, "last_output": null, "rev": 1, "stale": false
                })
            })
            .collect();
        ServerFrame::Snapshot {
            topic: Topic::Sessions,
            epoch: "e".into(),
            seq: 1,
            data: json!({ "sessions": sessions }),
        }
    }

    fn waiting_frame(ids: &[&str]) -> ServerFrame {
        let sessions: Vec<_> = ids
            .iter()
            .map(|id| {
                json!({
                    "session_id": id, "computer": "beta", "title": format!("t{id}"),
                    "project_path": null, "agent": "a", "thinking_mode": null, "status": "waiting",
                    "created_at": "2026-11-27T10:00:00.000Z", "last_activity": "2026-11-27T10:00:00.000Z",
                    "last_input": null, "last_output": "ok?", "rev": 1, "stale": false
                })
            })
            .collect();
        ServerFrame::Snapshot {
            topic: Topic::Sessions,
            epoch: "e".into(),
            seq: 1,
            data: json!({ "sessions": sessions }),
        }
    }

    #[test]
    fn a_new_wait_rings_once_unless_muted() {
        let mut app = App::new(at(0));
        app.apply(waiting_frame(&["w1"]));
        assert_eq!(app.take_bell(), None, "waits there at start do not ring");
        app.apply(waiting_frame(&["w1", "w2"]));
        assert_eq!(app.take_bell().as_deref(), Some("tw2 on beta needs you"));
        assert_eq!(app.take_bell(), None);
        app.apply(waiting_frame(&["w1", "w2"]));
        assert_eq!(app.take_bell(), None, "the same wait rings once");
        app.on_key(key(KeyCode::Char('m')));
        assert!(app.is_muted());
        app.apply(waiting_frame(&["w1", "w2", "w3"]));
        assert_eq!(app.take_bell(), None);
    }

    #[test]
    fn keys_switch_tabs_and_quit() {
        let mut app = App::new(at(0));
        assert_eq!(app.on_key(key(KeyCode::Tab)), Action::None);
        assert_eq!(app.tab(), Tab::Preparation);
        app.on_key(key(KeyCode::Char('3')));
        assert_eq!(app.tab(), Tab::Computers);
        app.on_key(key(KeyCode::Tab));
        assert_eq!(app.tab(), Tab::Sessions);
        app.on_key(key(KeyCode::BackTab));
        assert_eq!(app.tab(), Tab::Computers);
        assert_eq!(app.on_key(key(KeyCode::Char('r'))), Action::Refresh);
        assert_eq!(app.on_key(key(KeyCode::Char('q'))), Action::Quit);
        assert_eq!(
            app.on_key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Action::Quit
        );
    }

    #[test]
    fn the_cursor_stays_within_the_rows() {
        let mut app = App::new(at(0));
        app.apply(sessions_frame(3));
        app.on_key(key(KeyCode::Char('k')));
        assert_eq!(app.cursor(Tab::Sessions), 0);
        for _ in 0..5 {
            app.on_key(key(KeyCode::Char('j')));
        }
        assert_eq!(app.cursor(Tab::Sessions), 2);
        app.apply(sessions_frame(1));
        assert_eq!(app.cursor(Tab::Sessions), 0);
    }

    #[test]
    fn the_filter_is_typed_after_a_slash() {
        let mut app = App::new(at(0));
        app.apply(sessions_frame(12));
        app.on_key(key(KeyCode::Char('/')));
        assert!(app.is_editing());
        for c in "T1".chars() {
            assert_eq!(app.on_key(key(KeyCode::Char(c))), Action::None);
        }
        // `q` is text while typing.
        assert_eq!(app.on_key(key(KeyCode::Char('q'))), Action::None);
        app.on_key(key(KeyCode::Backspace));
        app.on_key(key(KeyCode::Enter));
        assert!(!app.is_editing());
        assert_eq!(app.filter_text(), "T1");
        // t1, t10, t11
        assert_eq!(app.selectable_count(Tab::Sessions), 3);
        app.on_key(key(KeyCode::Esc));
        assert_eq!(app.selectable_count(Tab::Sessions), 12);
    }

    #[test]
    fn connection_states_keep_when_it_was_lost() {
        let mut app = App::new(at(0));
        assert_eq!(app.connection(), &Connection::Connecting);
        app.on_connected();
        app.tick(at(10));
        app.on_disconnected("gone".into(), at(11));
        app.tick(at(11));
        app.on_connecting();
        app.tick(at(12));
        app.on_disconnected("refused".into(), at(14));
        assert_eq!(
            app.connection(),
            &Connection::Disconnected {
                since: at(10),
                reason: "refused".into(),
                retry_at: Some(at(14))
            }
        );
        app.on_connected();
        assert_eq!(app.connection(), &Connection::Connected { since: at(12) });
    }

    #[test]
    fn notices_expire_and_bad_frames_are_counted() {
        let mut app = App::new(at(0));
        app.apply(ServerFrame::Snapshot {
            topic: Topic::Computers,
            epoch: "e".into(),
            seq: 1,
            data: json!({"computers": 3}),
        });
        assert_eq!(app.ignored(), 1);
        assert!(
            app.notice()
                .is_some_and(|n| n.contains("computers snapshot"))
        );
        app.tick(at(6));
        assert_eq!(app.notice(), None);
    }
}
