//! `fleet watch` live, against a real standalone `fleetd`: the view's own I/O loop
//! (`fleet::watch::io::run`) runs on a ratatui `TestBackend`, fed by the daemon's
//! WebSocket and by keys sent through a channel, and publishes the text of every screen
//! it draws. Nothing presses a key to make data appear: a session created over REST
//! shows up by itself, and after the daemon restarts the view reconnects by itself.

use std::io;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use fleet::endpoint::Endpoint;
use fleet::watch::backoff::Backoff;
use fleet::watch::io::{WatchConfig, run};
use fleet_tests::{DaemonFixture, StatusCode, Value, assert_eventually, json};
use futures_util::stream;
use model::SystemClock;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

/// Patience for a reconnection: the backoff is at most 5 s between attempts.
const RECONNECT: Duration = Duration::from_secs(20);

/// A running view: its keys, the text of its last screen, every screen it drew (as
/// far as a watcher could see them), and its task.
struct View {
    keys: mpsc::UnboundedSender<io::Result<Event>>,
    screen: watch::Receiver<String>,
    history: Arc<Mutex<Vec<String>>>,
    task: JoinHandle<Result<(), fleet::FleetError>>,
    recorder: JoinHandle<()>,
}

impl View {
    fn start(d: &DaemonFixture, width: u16, height: u16) -> Self {
        let (keys, rx) = mpsc::unbounded_channel();
        let input = Box::pin(stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|event| (event, rx))
        }));
        let (screens, screen) = watch::channel(String::new());
        let config = WatchConfig {
            endpoint: Endpoint::Unix(d.socket_path().to_owned()),
            clock: Arc::new(SystemClock),
            tick: Duration::from_secs(1),
            backoff: Backoff::default(),
            screens: Some(screens),
        };
        let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test terminal");
        let task = tokio::spawn(async move { run(&mut terminal, input, config).await });
        let history = Arc::new(Mutex::new(Vec::new()));
        let recorder = {
            let history = history.clone();
            let mut screen = screen.clone();
            tokio::spawn(async move {
                while screen.changed().await.is_ok() {
                    let text = screen.borrow_and_update().clone();
                    history
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push(text);
                }
            })
        };
        Self {
            keys,
            screen,
            history,
            task,
            recorder,
        }
    }

    /// The screens drawn since the last call.
    fn take_history(&self) -> Vec<String> {
        std::mem::take(&mut *self.history.lock().unwrap_or_else(PoisonError::into_inner))
    }

    fn text(&self) -> String {
        self.screen.borrow().clone()
    }

    fn press(&self, code: KeyCode) {
        self.keys
            .send(Ok(Event::Key(KeyEvent::new(code, KeyModifiers::NONE))))
            .expect("the view is running");
    }

    async fn quit(self) {
        self.press(KeyCode::Char('q'));
        let ended = tokio::time::timeout(Duration::from_secs(5), self.task)
            .await
            .expect("the view ends on q")
            .expect("the view's task did not panic");
        assert!(ended.is_ok(), "the view failed: {ended:?}");
        self.recorder.abort();
    }
}

async fn create_session(d: &DaemonFixture, body: Value) -> Value {
    let (status, session) = d.http_post_json("/v1/sessions", &body).await;
    assert_eq!(status, StatusCode::CREATED, "{session}");
    session
}

#[tokio::test]
async fn sessions_appear_change_and_go_without_a_key_press() {
    let d = DaemonFixture::builder().computer("alpha").start().await;
    let view = View::start(&d, 100, 20);
    assert_eventually!(view.text(), |s| s.contains("● connected to alpha")
        && s.contains("no sessions"));

    let session = create_session(
        &d,
        json!({"title": "appears live", "agent": "claude", "project_path": "/src/fleetcache"}),
    )
    .await;
    let screen = assert_eventually!(view.text(), |s| s.contains("appears live"));
    assert!(
        screen.contains("fleetcache") && screen.contains("claude"),
        "{screen}"
    );
    assert!(
        screen.contains("alpha  ● online · this computer · 1 session"),
        "{screen}"
    );

    let id = session["session_id"].as_str().unwrap();
    let (status, _) = d
        .http_patch_json(
            &format!("/v1/sessions/{id}"),
            &json!({"status": "waiting", "last_output": "Which branch?"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eventually!(view.text(), |s| s.contains("waiting")
        && s.contains("out Which branch?"));

    let (status, _) = d.http_delete(&format!("/v1/sessions/{id}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eventually!(view.text(), |s| !s.contains("appears live")
        && s.contains("no sessions"));
    view.quit().await;
}

#[tokio::test]
async fn the_view_reconnects_after_the_daemon_restarts() {
    let mut d = DaemonFixture::builder().computer("alpha").start().await;
    let view = View::start(&d, 100, 16);
    create_session(&d, json!({"title": "survives the restart"})).await;
    assert_eventually!(view.text(), |s| s.contains("● connected")
        && s.contains("survives the restart"));

    // A crash: the view says so and keeps the last data.
    d.kill();
    let screen = assert_eventually!(view.text(), |s| s.contains("✕ disconnected"));
    assert!(screen.contains("survives the restart"), "{screen}");

    // Back: it reconnects on its own, with the data of the new daemon boot.
    d.restart().await;
    assert_eventually!(
        view.text(),
        |s| s.contains("● connected to alpha") && !s.contains("disconnected"),
        timeout = RECONNECT
    );
    create_session(&d, json!({"title": "after the restart"})).await;
    let screen = assert_eventually!(view.text(), |s| s.contains("after the restart"));
    assert!(screen.contains("survives the restart"), "{screen}");

    // A graceful stop (close frame 1001) is survived the same way.
    view.take_history();
    d.restart().await;
    assert_eventually!(
        view.text(),
        |s| s.contains("● connected to alpha") && s.contains("after the restart"),
        timeout = RECONNECT
    );
    let seen = view.take_history();
    assert!(
        seen.iter()
            .any(|s| s.contains("✕ disconnected") && s.contains("(1001)")),
        "the daemon's close frame was never shown; screens:\n{}",
        seen.join("\n")
    );
    view.quit().await;
}

#[tokio::test]
async fn keys_switch_tabs_filter_and_refresh() {
    let root = tempfile::tempdir().unwrap();
    let project = root.path().join("fleetproj");
    std::fs::create_dir_all(project.join("todos")).unwrap();
    std::fs::create_dir_all(project.join(".git")).unwrap();
    std::fs::write(
        project.join("todos/roadmap.md"),
        "- [>] watch-view\n- [ ] tls\n",
    )
    .unwrap();
    let d = DaemonFixture::builder()
        .computer("alpha")
        .project(&project)
        .start()
        .await;
    create_session(&d, json!({"title": "first one"})).await;
    create_session(&d, json!({"title": "second one"})).await;
    let view = View::start(&d, 100, 16);
    assert_eventually!(view.text(), |s| s.contains("first one")
        && s.contains("second one"));

    view.press(KeyCode::Char('2'));
    assert_eventually!(view.text(), |s| s.contains("fleetproj")
        && s.contains("[>] watch-view")
        && s.contains("[ ] tls"));
    view.press(KeyCode::Tab);
    assert_eventually!(view.text(), |s| s.contains("alpha (self)")
        && s.contains("● online"));

    view.press(KeyCode::Char('1'));
    view.press(KeyCode::Char('/'));
    for c in "second".chars() {
        view.press(KeyCode::Char(c));
    }
    view.press(KeyCode::Enter);
    assert_eventually!(view.text(), |s| s.contains("second one")
        && !s.contains("first one")
        && s.contains("filter: second"));

    view.press(KeyCode::Char('r'));
    assert_eventually!(view.text(), |s| s.contains("refresh requested"));
    view.quit().await;
}
