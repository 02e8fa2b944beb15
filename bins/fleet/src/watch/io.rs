//! The I/O loop of `fleet watch`: the only part of the view that does I/O.
//!
//! One task, one `select!` over three sources: input events (keys, resizes), a timer
//! that ticks every second (ages move without events arriving), and the link to the
//! daemon's WebSocket. The link is a small state machine: connecting, open (frames
//! flow into [`App::apply`]), or waiting before the next attempt ([`Backoff`]). A new
//! connection subscribes to every topic with `since` where each stopped ([`Resume`]),
//! so the daemon replays what was missed, or sends a snapshot when it cannot (a
//! restarted daemon). The data shown is kept while disconnected. After every step the
//! screen is drawn, and, when asked, its text is published (for tests).
//!
//! Nothing is spawned: the connection attempt is a future owned by the loop, and
//! dropping the loop drops it.

use crate::client::protocol::{Resume, ServerFrame, refresh_op};
use crate::client::ws::{self, Incoming, WsStream};
use crate::endpoint::Endpoint;
use crate::error::{ClientError, FleetError};
use crate::watch::app::{Action, App};
use crate::watch::backoff::Backoff;
use crate::watch::render::{render, screen_text};
use crossterm::event::Event;
use futures_util::{Stream, StreamExt as _};
use model::{Clock, SystemClock, Timestamp, Topic};
use ratatui::Terminal;
use ratatui::backend::Backend;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::{Instant, MissedTickBehavior};

/// How long quitting waits for the daemon to acknowledge the close.
const CLOSE_PATIENCE: Duration = Duration::from_millis(500);

/// Everything the loop needs besides the terminal and the input.
pub struct WatchConfig {
    /// Where the daemon is.
    pub endpoint: Endpoint,
    /// Where "now" comes from (ages, the disconnection time).
    pub clock: Arc<dyn Clock>,
    /// How often the screen is redrawn without events (1 s).
    pub tick: Duration,
    /// Delays between reconnection attempts.
    pub backoff: Backoff,
    /// When set, the text of every drawn screen is published here.
    pub screens: Option<watch::Sender<String>>,
}

impl WatchConfig {
    /// The defaults for a person at a terminal: the system clock, a one-second tick,
    /// 100 ms to 5 s between attempts, no screen publishing.
    pub fn new(endpoint: Endpoint) -> Self {
        Self {
            endpoint,
            clock: Arc::new(SystemClock),
            tick: Duration::from_secs(1),
            backoff: Backoff::default(),
            screens: None,
        }
    }
}

type Connecting = Pin<Box<dyn Future<Output = Result<Box<WsStream>, ClientError>> + Send>>;

/// The state of the connection to the daemon.
enum Link {
    Connecting(Connecting),
    Open { ws: Box<WsStream>, heard: bool },
    Waiting(Instant),
}

/// What happened on the link.
enum LinkEvent {
    Connected(Box<WsStream>),
    Failed(String),
    Frame(String),
    Lost(String),
    Retry,
}

impl Link {
    fn connect(endpoint: &Endpoint) -> Self {
        let endpoint = endpoint.clone();
        Self::Connecting(Box::pin(async move {
            ws::connect(&endpoint).await.map(Box::new)
        }))
    }

    /// The next thing that happens on the link. Cancel-safe: the connection attempt
    /// and the WebSocket are owned by `self`, so a dropped call loses nothing.
    async fn next(&mut self) -> LinkEvent {
        match self {
            Self::Connecting(attempt) => match attempt.as_mut().await {
                Ok(ws) => LinkEvent::Connected(ws),
                Err(e) => LinkEvent::Failed(e.to_string()),
            },
            Self::Open { ws, .. } => match ws::next_text(ws).await {
                Incoming::Text(text) => LinkEvent::Frame(text),
                Incoming::Closed(reason) => LinkEvent::Lost(reason),
            },
            Self::Waiting(at) => {
                tokio::time::sleep_until(*at).await;
                LinkEvent::Retry
            }
        }
    }
}

/// The most link events applied between two draws: a burst is drawn once,
/// and keys still get a turn within a long one.
const FRAMES_PER_DRAW: usize = 512;

/// One turn of the loop.
enum Step {
    Input(Option<io::Result<Event>>),
    Tick,
    Link(LinkEvent),
}

/// The loop's state besides the app.
struct Driver {
    endpoint: Endpoint,
    clock: Arc<dyn Clock>,
    backoff: Backoff,
    resume: Resume,
    link: Link,
}

/// Runs the view on `terminal` until `q` (or the input ends).
///
/// # Errors
/// [`FleetError::Terminal`] when the input fails or drawing fails. Losing the daemon is
/// not an error: the view says so and reconnects.
pub async fn run<B, K>(
    terminal: &mut Terminal<B>,
    mut input: K,
    config: WatchConfig,
) -> Result<(), FleetError>
where
    B: Backend,
    K: Stream<Item = io::Result<Event>> + Unpin,
{
    let WatchConfig {
        endpoint,
        clock,
        tick,
        backoff,
        screens,
    } = config;
    let mut app = App::new(clock.now());
    let mut driver = Driver {
        link: Link::connect(&endpoint),
        endpoint,
        clock,
        backoff,
        resume: Resume::default(),
    };
    app.on_connecting();
    let mut ticker = tokio::time::interval_at(Instant::now() + tick, tick);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    draw(terminal, &app, screens.as_ref())?;
    loop {
        let step = tokio::select! {
            event = input.next() => Step::Input(event),
            _ = ticker.tick() => Step::Tick,
            event = driver.link.next() => Step::Link(event),
        };
        app.tick(driver.clock.now());
        match step {
            Step::Input(None) => break,
            Step::Input(Some(Err(e))) => return Err(FleetError::Terminal(e)),
            Step::Input(Some(Ok(Event::Key(key)))) => match app.on_key(key) {
                Action::Quit => break,
                Action::Refresh => driver.refresh(&mut app).await,
                Action::None => {}
            },
            // A resize (or focus, mouse, paste) only needs the redraw below: drawing
            // adapts to the terminal's new size.
            Step::Input(Some(Ok(_))) | Step::Tick => {}
            Step::Link(event) => {
                driver.on_link_event(event, &mut app).await;
                driver.take_ready(&mut app).await;
            }
        }
        draw(terminal, &app, screens.as_ref())?;
    }
    if let Link::Open { ws, .. } = &mut driver.link {
        ws::close(ws, CLOSE_PATIENCE).await;
    }
    Ok(())
}

impl Driver {
    async fn on_link_event(&mut self, event: LinkEvent, app: &mut App) {
        match event {
            LinkEvent::Connected(mut ws) => {
                for op in self.resume.subscribe_ops(&Topic::ALL, &[]) {
                    if let Err(e) = ws::send_text(&mut ws, op).await {
                        return self.lost(e.to_string(), app);
                    }
                }
                app.on_connected();
                self.link = Link::Open { ws, heard: false };
            }
            LinkEvent::Frame(text) => {
                if let Link::Open { heard, .. } = &mut self.link
                    && !*heard
                {
                    // The daemon serves us: the next loss retries quickly again.
                    *heard = true;
                    self.backoff.reset();
                }
                match ServerFrame::decode(&text) {
                    Ok(frame) => {
                        self.resume.note(&frame);
                        app.apply(frame);
                        if let Some(text) = app.take_bell() {
                            ring(&text);
                        }
                    }
                    Err(e) => app.ignore(&format!("not a frame of the contract ({e})")),
                }
            }
            LinkEvent::Failed(reason) | LinkEvent::Lost(reason) => self.lost(reason, app),
            LinkEvent::Retry => {
                app.on_connecting();
                self.link = Link::connect(&self.endpoint);
            }
        }
    }

    /// Applies the link events that are already waiting (at most
    /// [`FRAMES_PER_DRAW`]) without drawing between them: a burst of frames
    /// (the ~900 `session_started` of a daemon that just pulled its peers'
    /// snapshots) costs one draw, not one each, which took 15 s or more.
    async fn take_ready(&mut self, app: &mut App) {
        for _ in 0..FRAMES_PER_DRAW {
            // `Link::next` is cancel-safe: when nothing is ready, dropping it loses nothing.
            let ready = tokio::select! {
                biased;
                event = self.link.next() => Some(event),
                () = std::future::ready(()) => None,
            };
            match ready {
                Some(event) => self.on_link_event(event, app).await,
                None => return,
            }
        }
    }

    fn lost(&mut self, reason: String, app: &mut App) {
        let delay = self.backoff.next_delay();
        let ms = i64::try_from(delay.as_millis()).unwrap_or(i64::MAX);
        let retry_at = Timestamp::from_millis(self.clock.now().as_millis().saturating_add(ms));
        app.on_disconnected(reason, retry_at);
        self.link = Link::Waiting(Instant::now() + delay);
    }

    async fn refresh(&mut self, app: &mut App) {
        let Link::Open { ws, .. } = &mut self.link else {
            app.notify("not connected: refresh skipped".into());
            return;
        };
        if let Err(e) = ws::send_text(ws, refresh_op(None, None)).await {
            self.lost(e.to_string(), app);
        }
    }
}

/// Rings the terminal for a new wait: BEL, and an OSC 9 desktop notification, which
/// terminals without it ignore.
fn ring(text: &str) {
    use std::io::Write as _;
    let clean: String = text.chars().filter(|c| !c.is_control()).collect();
    let mut out = io::stdout().lock();
    let _ = write!(out, "\x07\x1b]9;{clean}\x07");
    let _ = out.flush();
}

fn draw<B: Backend>(
    terminal: &mut Terminal<B>,
    app: &App,
    screens: Option<&watch::Sender<String>>,
) -> Result<(), FleetError> {
    let frame = terminal
        .draw(|f| render(app, f))
        .map_err(|e| FleetError::Terminal(io::Error::other(e.to_string())))?;
    if let Some(tx) = screens {
        tx.send_replace(screen_text(frame.buffer));
    }
    Ok(())
}
