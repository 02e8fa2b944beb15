//! Seeding a daemon's own sessions fast: straight into its SQLite store through
//! `local-store`'s API, before the daemon starts (it loads them at boot). Creating
//! 100,000 sessions over REST, one request each, takes minutes in a debug build; here
//! they are written by the store the daemon itself uses, concurrently.

use std::path::Path;
use std::sync::Arc;

use local_store::SessionStore;
use model::{NewSession, SystemClock};

/// The store file the daemon opens in `--data-dir` (`bins/daemon`, `sessions.db`).
pub const SESSIONS_DB: &str = "sessions.db";

/// Writes `count` ordinary sessions of `computer` (each about 450 bytes of JSON, with a
/// 100-character title starting `seeded {n:06}`) into the store under `data_dir`.
/// Start the daemon with the same data dir and computer afterwards.
///
/// # Panics
///
/// When the store cannot be opened or a write fails.
pub async fn seed_sessions(data_dir: &Path, computer: &str, count: usize) {
    let store = SessionStore::open(&data_dir.join(SESSIONS_DB), computer, Arc::new(SystemClock))
        .unwrap_or_else(|e| {
            panic!(
                "cannot open the session store in {}: {e}",
                data_dir.display()
            )
        });
    // A few writers at a time: the store serializes them, the rest is overlap.
    const WRITERS: usize = 8;
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..WRITERS {
        let store = store.clone();
        tasks.spawn(async move {
            for n in (w..count).step_by(WRITERS) {
                let title = format!("seeded {n:06} {}", "t".repeat(86));
                let req = NewSession {
                    title,
                    project_path: Some(format!("/home/dev/src/project-{:03}", n % 500)),
                    agent: Some("claude".to_owned()),
                    thinking_mode: Some("high".to_owned()),
                    status: None,
                    session_id: None,
                    as_of: None,
                    computer: None,
                };
                if let Err(e) = store.create(req).await {
                    panic!("seeding session {n} failed: {e}");
                }
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap_or_else(|e| panic!("a seeding task failed: {e}"));
    }
    store
        .flush()
        .await
        .unwrap_or_else(|e| panic!("flushing the seeded store failed: {e}"));
}
