//! Convergence: does every watcher's cache (`GET /v1/sessions`) hold every
//! acknowledged write, at its rev or newer (and no acknowledged-ended
//! session)? And does each owner still hold its own (durability across its
//! SIGKILLs)? Polled until true or until the bound passes.

use super::ledger::{Acked, Ledger};
use crate::client;
use anyhow::Context as _;
use hyper::{Method, StatusCode};
use serde::Deserialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;
use tokio::time::Instant;

/// Time between two polls of the caches.
const POLL: Duration = Duration::from_millis(250);

#[derive(Deserialize)]
struct SessionRow {
    session_id: String,
    rev: u64,
    #[serde(default)]
    status: String,
}

/// `session_id -> (rev, closed)` of every session `GET path` lists.
///
/// # Errors
/// When the request fails or the answer is not a session list.
pub async fn sessions(socket: &Path, path: &str) -> anyhow::Result<HashMap<String, (u64, bool)>> {
    let (status, body) = client::once(socket, Method::GET, path, None).await?;
    client::expect(status, StatusCode::OK, path, &body)?;
    let rows: Vec<SessionRow> =
        serde_json::from_slice(&body).with_context(|| format!("{path} is not a session list"))?;
    Ok(rows
        .into_iter()
        .map(|r| (r.session_id, (r.rev, r.status == "closed")))
        .collect())
}

/// Acknowledged changes `cache` has not caught up with.
pub fn missing(expected: &HashMap<String, Acked>, cache: &HashMap<String, (u64, bool)>) -> u64 {
    expected
        .iter()
        .map(|(id, acked)| acked.missing(cache.get(id).copied()))
        .sum()
}

/// `want` with the ends and uncertainties the ledger learned since it was
/// taken (the revisions stay those acknowledged before the fault ended).
fn ended_since(want: &HashMap<String, Acked>, ledger: &Mutex<Ledger>) -> HashMap<String, Acked> {
    let now = ledger.lock().unwrap_or_else(PoisonError::into_inner);
    want.iter()
        .filter(|(id, _)| now.sessions.get(*id).is_none_or(|a| !a.uncertain))
        .map(|(id, a)| {
            let mut a = a.clone();
            a.ended |= now.sessions.get(id).is_some_and(|n| n.ended);
            (id.clone(), a)
        })
        .collect()
}

/// A daemon whose cache is checked, and which sessions it must hold.
pub struct Target {
    /// Its name, for the report.
    pub name: String,
    /// Its socket.
    pub socket: PathBuf,
    /// Only sessions of this owner (an owner checks its own), or all.
    pub owner: Option<String>,
}

/// The outcome of one bounded wait.
#[derive(Debug, Clone, Default)]
pub struct Convergence {
    /// How long it took, when it happened within the bound.
    pub took: Option<Duration>,
    /// Acknowledged changes still missing at the bound, per daemon name
    /// (summed over daemons; empty when it converged).
    pub missing: Vec<(String, u64)>,
    /// Polls that failed (a daemon not answering), not counted as missing.
    pub failed_polls: u64,
}

impl Convergence {
    /// Missing changes over every daemon.
    pub fn total_missing(&self) -> u64 {
        self.missing.iter().map(|(_, n)| n).sum()
    }
}

/// Polls every target until each holds `expected` (restricted to its
/// owner) or `bound` passes from `since`. The writers go on meanwhile: a
/// session `expected` alive that `ledger` now knows ended (or no longer
/// knows for sure) counts as seen once it is gone.
pub async fn converge(
    targets: &[Target],
    expected: &HashMap<String, Acked>,
    ledger: &Mutex<Ledger>,
    since: Instant,
    bound: Duration,
) -> Convergence {
    let per_target: Vec<HashMap<String, Acked>> = targets
        .iter()
        .map(|t| {
            expected
                .iter()
                .filter(|(_, a)| t.owner.as_ref().is_none_or(|o| *o == a.owner))
                .map(|(id, a)| (id.clone(), a.clone()))
                .collect()
        })
        .collect();
    let mut out = Convergence::default();
    loop {
        let per_target: Vec<HashMap<String, Acked>> =
            per_target.iter().map(|w| ended_since(w, ledger)).collect();
        let mut last = Vec::with_capacity(targets.len());
        for (t, want) in targets.iter().zip(&per_target) {
            let path = match &t.owner {
                Some(o) => format!("/v1/sessions?computer={o}"),
                None => "/v1/sessions".to_owned(),
            };
            let n = match sessions(&t.socket, &path).await {
                Ok(cache) => missing(want, &cache),
                Err(_) => {
                    out.failed_polls += 1;
                    // Unknown: count it as not converged yet, not as missing.
                    u64::MAX
                }
            };
            last.push((t.name.clone(), n));
        }
        if last.iter().all(|(_, n)| *n == 0) {
            out.took = Some(since.elapsed());
            return out;
        }
        if since.elapsed() >= bound {
            out.missing = last
                .into_iter()
                .filter(|(_, n)| *n > 0 && *n != u64::MAX)
                .collect();
            // A few examples, so that a miss can be looked into.
            for (t, want) in targets.iter().zip(&per_target) {
                let path = match &t.owner {
                    Some(o) => format!("/v1/sessions?computer={o}"),
                    None => "/v1/sessions".to_owned(),
                };
                if let Ok(cache) = sessions(&t.socket, &path).await {
                    let examples: Vec<String> = want
                        .iter()
                        .filter(|(id, a)| a.missing(cache.get(*id).copied()) > 0)
                        .take(3)
                        .map(|(id, a)| format!("{id}: acked {a:?}, held {:?}", cache.get(id)))
                        .collect();
                    if !examples.is_empty() {
                        eprintln!(
                            "soak:          {} misses e.g. {}",
                            t.name,
                            examples.join("; ")
                        );
                    }
                }
            }
            return out;
        }
        tokio::time::sleep(POLL).await;
    }
}
