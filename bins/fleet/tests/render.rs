//! The view's rendering in its main states, drawn on ratatui's `TestBackend` and compared
//! with the stored snapshots in `tests/snapshots/` (insta). Every state is built through
//! the app's own inputs (frames, keys, ticks) with a fixed "now", so the screens are
//! deterministic.
//!
//! After a deliberate change of the view: `INSTA_UPDATE=always cargo test -p fleet --test
//! render`, then review the `.snap` files' diff.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use fleet::client::protocol::ServerFrame;
use fleet::watch::app::App;
use fleet::watch::render::render;
use model::{Timestamp, Topic};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Modifier;
use serde_json::{Value, json};

/// The view's "now": 2026-11-27T12:00:00Z.
fn now() -> Timestamp {
    Timestamp::parse("2026-11-27T12:00:00.000Z").unwrap()
}

/// `s` seconds before now, as the contract writes it.
fn ago(s: i64) -> String {
    Timestamp::from_millis(now().as_millis() - s * 1000).to_string()
}

fn computer(name: &str, is_self: bool, online: bool, seen_s: i64) -> Value {
    // One computer reports its load and accepts remote writes; the others
    // have not reported any (older daemons).
    let stats = (name == "alpha").then(|| {
        json!({"load1": 0.52, "cpus": 8, "mem_used": 4u64 << 30, "mem_total": 16u64 << 30,
               "disk_free": 120u64 << 30})
    });
    json!({
        "remote_writes": name == "alpha", "stats": stats,
        "name": name, "online": online, "self": is_self, "host": format!("{name}.lan"),
        "user": "ana", "version": "0.1.0", "boot_id": format!("boot-{name}"),
        "started_at": ago(3 * 3600), "last_seen": ago(seen_s),
        "interest": {"sessions": ["*"]}
    })
}

struct S<'a> {
    id: &'a str,
    computer: &'a str,
    title: &'a str,
    status: &'a str,
    project: Option<&'a str>,
    agent: &'a str,
    activity_s: i64,
    input: Option<&'a str>,
    output: Option<&'a str>,
    stale: bool,
}

fn session(s: &S<'_>) -> Value {
    json!({
        "session_id": s.id, "computer": s.computer, "title": s.title,
        "project_path": s.project, "agent": s.agent, "thinking_mode": null,
        "status": s.status, "created_at": ago(8 * 3600), "last_activity": ago(s.activity_s),
        "last_input": s.input, "last_output": s.output, "rev": 3, "stale": s.stale
    })
}

fn snapshot(topic: Topic, data: Value) -> ServerFrame {
    ServerFrame::Snapshot {
        topic,
        epoch: "boot-alpha".into(),
        seq: 1,
        data,
    }
}

/// An app connected to alpha, with these computers and sessions and no projects.
fn app_with(computers: Vec<Value>, sessions: Vec<Value>) -> App {
    let mut app = App::new(now());
    app.on_connected();
    app.apply(snapshot(
        Topic::Computers,
        json!({ "computers": computers }),
    ));
    app.apply(snapshot(Topic::Sessions, json!({ "sessions": sessions })));
    app.apply(snapshot(
        Topic::Preparation,
        json!({"projects": [], "todos": []}),
    ));
    app
}

/// Two online computers (alpha, beta) and one offline (gamma, with stale sessions).
fn fleet_app() -> App {
    let mut app = app_with(
        vec![
            computer("alpha", true, true, 0),
            computer("beta", false, true, 2),
            computer("gamma", false, false, 420),
        ],
        vec![
            session(&S {
                id: "a1",
                computer: "alpha",
                title: "Fix the flaky reconnect test",
                status: "active",
                project: Some("/home/ana/src/fleetcache"),
                agent: "claude",
                activity_s: 12,
                input: Some("the reconnect test fails one run in ten"),
                output: Some(
                    "Found it: the backoff timer is reset before the socket closes.\nFixing.",
                ),
                stale: false,
            }),
            session(&S {
                id: "a2",
                computer: "alpha",
                title: "Write the README of fleet watch",
                status: "waiting",
                project: Some("/home/ana/src/fleetcache"),
                agent: "claude",
                activity_s: 180,
                input: None,
                output: Some("Which screenshots do you want?"),
                stale: false,
            }),
            session(&S {
                id: "b1",
                computer: "beta",
                title: "Benchmark the Redis transport",
                status: "idle",
                project: Some("/srv/bench"),
                agent: "codex",
                activity_s: 3 * 3600,
                input: Some("run the 10k sessions case"),
                output: None,
                stale: false,
            }),
            session(&S {
                id: "g1",
                computer: "gamma",
                title: "Nightly data migration",
                status: "active",
                project: None,
                agent: "claude",
                activity_s: 600,
                input: None,
                output: Some("step 4 of 9"),
                stale: true,
            }),
        ],
    );
    app.apply(snapshot(
        Topic::Preparation,
        json!({
            "projects": [
                {"computer": "alpha", "name": "fleetcache", "path": "/home/ana/src/fleetcache",
                 "description": "Shares agent sessions across computers."},
                {"computer": "beta", "name": "bench", "path": "/srv/bench", "description": null}
            ],
            "todos": [
                {"computer": "alpha", "project_path": "/home/ana/src/fleetcache", "slug": "watch-view",
                 "status": "in_progress", "description": "The live terminal view.",
                 "has_requirements": true, "has_impl_plan": true},
                {"computer": "alpha", "project_path": "/home/ana/src/fleetcache", "slug": "redis-sentinel",
                 "status": "ready", "description": null, "has_requirements": true, "has_impl_plan": false},
                {"computer": "alpha", "project_path": "/home/ana/src/fleetcache", "slug": "metrics",
                 "status": "done", "description": null, "has_requirements": false, "has_impl_plan": false},
                {"computer": "alpha", "project_path": "/home/ana/src/fleetcache", "slug": "tls",
                 "status": "pending", "description": "rediss:// with a custom CA",
                 "has_requirements": false, "has_impl_plan": false}
            ]
        }),
    ));
    app
}

fn key(app: &mut App, code: KeyCode) {
    app.on_key(KeyEvent::new(code, KeyModifiers::NONE));
}

fn draw(app: &App, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|f| render(app, f)).unwrap();
    terminal
}

fn screen(app: &App, width: u16, height: u16) -> TestBackend {
    draw(app, width, height).backend().clone()
}

#[test]
fn waiting_for_the_first_snapshot() {
    let app = App::new(now());
    insta::assert_snapshot!(screen(&app, 80, 6));
}

#[test]
fn empty_fleet() {
    let app = app_with(vec![computer("alpha", true, true, 0)], vec![]);
    insta::assert_snapshot!(screen(&app, 100, 8));
}

#[test]
fn several_computers_with_sessions() {
    insta::assert_snapshot!(screen(&fleet_app(), 110, 20));
}

#[test]
fn an_offline_computer_with_stale_sessions() {
    let mut app = fleet_app();
    key(&mut app, KeyCode::Char('j'));
    key(&mut app, KeyCode::Char('j'));
    key(&mut app, KeyCode::Char('j'));
    let terminal = draw(&app, 100, 20);
    insta::assert_snapshot!(terminal.backend());
    // The stale session is dimmed, and marked in words.
    let buffer = terminal.backend().buffer();
    let row = (0..20)
        .find(|&y| {
            (0..100)
                .map(|x| buffer[(x, y)].symbol())
                .collect::<String>()
                .contains("Nightly data migration")
        })
        .expect("the stale session is shown");
    let title_x = (0..100)
        .find(|&x| buffer[(x, row)].symbol() == "N")
        .unwrap();
    assert!(
        buffer[(title_x, row)].modifier.contains(Modifier::DIM),
        "the stale session's title is not dimmed"
    );
}

#[test]
fn disconnected_keeps_the_last_data() {
    let mut app = fleet_app();
    app.tick(Timestamp::from_millis(now().as_millis() + 1000));
    app.on_disconnected(
        "closed by the daemon: daemon shutting down (1001)".into(),
        Timestamp::from_millis(now().as_millis() + 4000),
    );
    app.tick(Timestamp::from_millis(now().as_millis() + 2000));
    insta::assert_snapshot!(screen(&app, 110, 14));
}

#[test]
fn filtered() {
    let mut app = fleet_app();
    key(&mut app, KeyCode::Char('/'));
    for c in "CLAUDE".chars() {
        key(&mut app, KeyCode::Char(c));
    }
    insta::assert_snapshot!("filtered_while_typing", screen(&app, 100, 14));
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Char('j'));
    insta::assert_snapshot!("filtered", screen(&app, 100, 14));
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Char('/'));
    for c in "nothing like this".chars() {
        key(&mut app, KeyCode::Char(c));
    }
    key(&mut app, KeyCode::Enter);
    insta::assert_snapshot!("filtered_to_nothing", screen(&app, 100, 6));
}

#[test]
fn narrow_terminal() {
    let mut app = fleet_app();
    insta::assert_snapshot!("narrow_sessions", screen(&app, 40, 20));
    key(&mut app, KeyCode::Char('2'));
    insta::assert_snapshot!("narrow_preparation", screen(&app, 40, 12));
    key(&mut app, KeyCode::Char('3'));
    insta::assert_snapshot!("narrow_computers", screen(&app, 40, 8));
}

#[test]
fn preparation_tab() {
    let mut app = fleet_app();
    key(&mut app, KeyCode::Tab);
    key(&mut app, KeyCode::Down);
    insta::assert_snapshot!(screen(&app, 100, 14));
}

#[test]
fn computers_tab() {
    let mut app = fleet_app();
    key(&mut app, KeyCode::Char('3'));
    key(&mut app, KeyCode::End);
    insta::assert_snapshot!(screen(&app, 100, 8));
}

#[test]
fn a_resize_redraws_cleanly() {
    let app = fleet_app();
    let mut terminal = draw(&app, 110, 20);
    terminal.backend_mut().resize(50, 10);
    terminal.draw(|f| render(&app, f)).unwrap();
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn ages_tick_without_events() {
    let mut app = app_with(
        vec![computer("alpha", true, true, 0)],
        vec![session(&S {
            id: "a1",
            computer: "alpha",
            title: "t",
            status: "idle",
            project: None,
            agent: "claude",
            activity_s: 58,
            input: None,
            output: None,
            stale: false,
        })],
    );
    let text = |app: &App| fleet::watch::render::screen_text(draw(app, 80, 5).backend().buffer());
    assert!(text(&app).contains("58s ago"), "{}", text(&app));
    app.tick(Timestamp::from_millis(now().as_millis() + 3000));
    assert!(text(&app).contains("1m ago"), "{}", text(&app));
}

/// Waits on two computers: the band lists them oldest first, with computer, wait and
/// question, above the sessions; its count shows in the status line on every tab.
#[test]
fn needs_you_band() {
    let mut app = fleet_app();
    app.apply(ServerFrame::Event {
        topic: Topic::Sessions,
        epoch: "boot-alpha".into(),
        seq: 2,
        event: model::EventName::SessionUpdated,
        data: session(&S {
            id: "b9",
            computer: "beta",
            title: "Migrate the billing tables",
            status: "waiting",
            project: Some("/srv/billing"),
            agent: "claude",
            activity_s: 600,
            input: Some("run the migration on staging"),
            output: Some("Allow Bash: psql -f migrate.sql staging"),
            stale: false,
        }),
    });
    assert_eq!(
        app.take_bell().as_deref(),
        Some("Migrate the billing tables on beta needs you")
    );
    insta::assert_snapshot!(screen(&app, 110, 24));
    key(&mut app, KeyCode::Char('3'));
    insta::assert_snapshot!("needs_you_count_on_the_computers_tab", screen(&app, 110, 8));
}
