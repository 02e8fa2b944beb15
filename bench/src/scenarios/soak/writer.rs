//! The writers: one task per writer daemon doing a mixed load of session
//! creates, updates and ends over the daemon's socket, recording every
//! acknowledged write in the shared [`Ledger`].

use super::ledger::Ledger;
use super::rng::Rng;
use crate::client;
use crate::workload::{id_and_rev, new_session_body, patch_body};
use bytes::Bytes;
use hyper::{Method, StatusCode};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Pause between two writes of one writer.
const PACE: Duration = Duration::from_millis(200);

/// Sessions a writer keeps open at most; beyond it, it ends one.
const MAX_LIVE: usize = 40;

/// Writes until `stop`, in the rhythm of [`PACE`].
pub async fn run(
    computer: String,
    socket: PathBuf,
    ledger: Arc<Mutex<Ledger>>,
    mut rng: Rng,
    stop: CancellationToken,
) {
    let mut live: Vec<String> = Vec::new();
    let mut n: u64 = 0;
    while !stop.is_cancelled() {
        n += 1;
        let roll = rng.next_u64() % 100;
        let op = if live.len() < 5 || (roll < 25 && live.len() < MAX_LIVE) {
            Op::Create
        } else if live.len() >= MAX_LIVE || roll >= 88 {
            Op::End(live.swap_remove(rng.index(live.len())))
        } else {
            Op::Update(live[rng.index(live.len())].clone())
        };
        let index = usize::try_from(n).unwrap_or(usize::MAX);
        let (method, path, body, id) = match &op {
            Op::Create => (
                Method::POST,
                "/v1/sessions".to_owned(),
                Some(new_session_body(&computer, index)),
                None,
            ),
            Op::Update(id) => (
                Method::PATCH,
                format!("/v1/sessions/{id}"),
                Some(patch_body(n)),
                Some(id.clone()),
            ),
            Op::End(id) => (
                Method::DELETE,
                format!("/v1/sessions/{id}"),
                None,
                Some(id.clone()),
            ),
        };
        let answer = client::once(&socket, method, &path, body).await;
        record(&ledger, &computer, &op, id.as_deref(), answer, &mut live);
        tokio::select! {
            () = stop.cancelled() => break,
            () = tokio::time::sleep(PACE) => {}
        }
    }
}

/// Writes the answer of one write into the ledger.
fn record(
    ledger: &Mutex<Ledger>,
    computer: &str,
    op: &Op,
    id: Option<&str>,
    answer: anyhow::Result<client::Answer>,
    live: &mut Vec<String>,
) {
    let mut l = ledger.lock().unwrap_or_else(PoisonError::into_inner);
    match (op, answer) {
        (Op::Create, Ok((StatusCode::CREATED, b))) => {
            if let Some((id, rev)) = parsed(&b) {
                l.written(computer, &id, rev, true);
                live.push(id);
            } else {
                l.failed(None, false);
            }
        }
        (Op::Update(id), Ok((StatusCode::OK, b))) => match parsed(&b) {
            Some((_, rev)) => l.written(computer, id, rev, false),
            None => l.failed(Some(id), false),
        },
        (Op::End(id), Ok((StatusCode::NO_CONTENT, _))) => l.ended(id),
        (op, _) => {
            // Not acknowledged: not expected anywhere. An unanswered
            // end leaves its session uncertain (and out of the checks).
            let delete = matches!(op, Op::End(_));
            l.failed(id, delete);
        }
    }
}

enum Op {
    Create,
    Update(String),
    End(String),
}

fn parsed(body: &Bytes) -> Option<(String, u64)> {
    id_and_rev(body).ok()
}
