//! [`PreparationWatcher`]: watches this computer's projects and reports
//! changed projects and todos.
//!
//! Shape: notify's callback runs on notify's own thread and only forwards
//! raw events into a bounded channel (when it is full, a flag asks for a
//! full rescan instead). One task owns everything else: it collects events
//! until they have been quiet for [`QUIET`] (or for at most [`MAX_DELAY`]
//! during a continuous burst), then, on tokio's blocking pool, works out
//! what they touched, rescans, and sends a [`PreparationUpdate`] only for
//! what really changed since it last reported.
//!
//! What is watched, to stay far from the kernel's watch limits on large
//! trees: each root and each of its immediate subdirectories (to see
//! projects, `.git` and `todos/` come and go), each project directory
//! itself (README, `.git`, `todos`), each project's `todos/` recursively,
//! and the parent of a configured path that does not exist yet (so that it
//! is found once created). Files deeper in a project (sources, build
//! output) are never watched.

mod engine;

use crate::projects::{self, ProjectsConfig};
use crate::{Error, todos};
use engine::Engine;
use notify::EventKind;
use notify::event::ModifyKind;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

/// How long events must stop before a burst is processed.
pub const QUIET: Duration = Duration::from_millis(150);

/// The longest a continuous burst of events delays processing.
pub const MAX_DELAY: Duration = Duration::from_millis(500);

/// Raw events buffered between notify's thread and the task.
const RAW_QUEUE: usize = 4096;

/// Distinct paths remembered in one burst; past that, rescan everything.
const MAX_BATCH_PATHS: usize = 10_000;

pub use model::{PreparationState, PreparationUpdate};

/// Reads every project of `cfg` and every project's todos, once, without
/// watching. Skips are logged as by [`projects::scan_projects`].
pub fn scan_all(computer: &str, cfg: &ProjectsConfig) -> PreparationState {
    let projects = projects::scan_projects(computer, cfg);
    let todos = projects
        .iter()
        .map(|p| {
            (
                p.path.clone(),
                todos::read_todos_counted(computer, Path::new(&p.path), &cfg.skips),
            )
        })
        .collect();
    (projects, todos)
}

/// Watches the projects of a [`ProjectsConfig`] and sends a
/// [`PreparationUpdate`] for every change.
///
/// Owns one task; it stops when the `cancel` token given to
/// [`start`](Self::start) is cancelled, when [`stop`](Self::stop) is
/// called, when the watcher is dropped, or when the receiver is dropped.
#[derive(Debug)]
pub struct PreparationWatcher {
    initial: PreparationState,
    stop: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl PreparationWatcher {
    /// Starts watching. Scans before returning (blocking, on the caller's
    /// thread), with the watches already in place, so that
    /// [`initial`](Self::initial) and the updates that follow leave no gap.
    /// A change is reported [`QUIET`] after its burst of file events ends,
    /// and never later than [`MAX_DELAY`] after the burst starts (plus the
    /// time to rescan).
    ///
    /// # Errors
    /// [`Error::NoRuntime`] outside a tokio runtime; [`Error::Watch`] when
    /// the operating system's watcher cannot be created. A path that cannot
    /// be watched is not an error: it is logged and skipped.
    pub fn start(
        computer: String,
        cfg: ProjectsConfig,
        tx: mpsc::Sender<PreparationUpdate>,
        cancel: CancellationToken,
    ) -> Result<PreparationWatcher, Error> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| Error::NoRuntime {
            what: "PreparationWatcher::start",
        })?;
        let (raw_tx, raw_rx) = mpsc::channel(RAW_QUEUE);
        let overflow = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&overflow);
        let watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
            let raw = match res {
                Ok(event) => Raw::Event(event),
                Err(e) => Raw::Error(e),
            };
            match raw_tx.try_send(raw) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(_)) => flag.store(true, Ordering::Relaxed),
                // The task has ended: nobody is left to tell.
                Err(mpsc::error::TrySendError::Closed(_)) => {}
            }
        })
        .map_err(|source| Error::Watch {
            path: PathBuf::new(),
            source,
        })?;

        let span = tracing::info_span!("preparation_watcher", computer = %computer);
        let mut engine = Engine::new(computer, cfg, watcher);
        let initial = span.in_scope(|| engine.initial_scan());
        let stop = cancel.child_token();
        let task = runtime.spawn(
            {
                let stop = stop.clone();
                async move {
                    if let Err(e) = run(engine, raw_rx, overflow, tx, stop).await {
                        tracing::error!(error = %e, "preparation watcher failed");
                    }
                }
            }
            .instrument(span),
        );
        Ok(Self {
            initial,
            stop,
            task: Some(task),
        })
    }

    /// The state found at start, for the daemon's first load: every project
    /// and every project's todos.
    pub fn initial(&self) -> PreparationState {
        self.initial.clone()
    }

    /// Stops the task and waits for it to end; a panic in it is logged.
    pub async fn stop(mut self) {
        self.stop.cancel();
        if let Some(task) = self.task.take()
            && let Err(e) = task.await
        {
            tracing::error!(error = %e, "preparation watcher task failed");
        }
    }
}

impl Drop for PreparationWatcher {
    fn drop(&mut self) {
        // Never leave the task running unowned.
        self.stop.cancel();
    }
}

/// What notify's thread hands over.
enum Raw {
    Event(notify::Event),
    Error(notify::Error),
}

/// The raw events of one burst.
#[derive(Debug, Default)]
struct Batch {
    /// Everything must be looked at again (events were lost).
    rescan: bool,
    /// Every path named by an event.
    paths: BTreeSet<PathBuf>,
    /// Paths created, removed or renamed: a watch on one of them is stale.
    moved: BTreeSet<PathBuf>,
}

impl Batch {
    fn add(&mut self, raw: Raw) {
        match raw {
            Raw::Event(event) => {
                if event.need_rescan() || event.paths.is_empty() {
                    self.rescan = true;
                }
                if matches!(
                    event.kind,
                    EventKind::Create(_)
                        | EventKind::Remove(_)
                        | EventKind::Modify(ModifyKind::Name(_))
                ) {
                    self.moved.extend(event.paths.iter().cloned());
                }
                self.paths.extend(event.paths);
            }
            Raw::Error(e) => {
                tracing::warn!(error = %e, paths = ?e.paths, reason = "watcher error", "rescanning projects");
                self.rescan = true;
            }
        }
        if self.paths.len() > MAX_BATCH_PATHS {
            self.rescan = true;
            self.paths.clear();
        }
    }
}

/// The task: debounce raw events, process each burst, send the updates.
async fn run(
    mut engine: Engine,
    mut raw_rx: mpsc::Receiver<Raw>,
    overflow: Arc<AtomicBool>,
    tx: mpsc::Sender<PreparationUpdate>,
    stop: CancellationToken,
) -> Result<(), Error> {
    loop {
        let first = tokio::select! {
            biased;
            () = stop.cancelled() => return Ok(()),
            raw = raw_rx.recv() => raw,
        };
        // The sender lives in the notify watcher, which `engine` owns: the
        // channel cannot close while this loop runs.
        let Some(first) = first else { return Ok(()) };
        let mut batch = Batch::default();
        batch.add(first);
        let hard_deadline = Instant::now() + MAX_DELAY;
        loop {
            let deadline = (Instant::now() + QUIET).min(hard_deadline);
            tokio::select! {
                biased;
                () = stop.cancelled() => return Ok(()),
                () = tokio::time::sleep_until(deadline) => break,
                raw = raw_rx.recv() => match raw {
                    Some(raw) => batch.add(raw),
                    None => break,
                },
            }
        }
        if overflow.swap(false, Ordering::Relaxed) {
            tracing::warn!(reason = "event queue full", "rescanning projects");
            batch.rescan = true;
        }
        let (back, updates) = tokio::task::spawn_blocking(move || {
            let updates = engine.apply(batch);
            (engine, updates)
        })
        .await
        .map_err(|e| Error::Task {
            task: "preparation rescan",
            reason: e.to_string(),
        })?;
        engine = back;
        for update in updates {
            tokio::select! {
                biased;
                () = stop.cancelled() => return Ok(()),
                sent = tx.send(update) => if sent.is_err() {
                    tracing::info!("preparation receiver gone; watcher stops");
                    return Ok(());
                },
            }
        }
    }
}

#[cfg(test)]
#[path = "tests/watch.rs"]
mod tests;
