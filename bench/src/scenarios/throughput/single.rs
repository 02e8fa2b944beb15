//! The other end of the `throughput` scenario: one change at a time, at a
//! low rate, before the load. Batching under load (group commit, one
//! round trip for many `XADD`s) must not make a lone change wait: this
//! measures a PATCH on `src` until its frame arrives on a WebSocket client
//! of a peer, with the whole fleet (10 watching peers) in place.

use crate::client::{self, Conn};
use crate::stats::Samples;
use crate::workload::{id_and_rev, patch_body};
use crate::ws::{Ws, session_event};
use anyhow::{Context as _, bail};
use hyper::{Method, StatusCode};
use std::path::Path;
use std::time::Duration;
use tokio::time::Instant;

/// Time between two changes: far below any batching's reach.
pub(super) const PAUSE: Duration = Duration::from_millis(5);

/// How long one frame may take before the run fails.
const FRAME_TIMEOUT: Duration = Duration::from_secs(5);

/// What the low-rate phase measured.
pub(super) struct Single {
    /// PATCH sent -> answered by `src`.
    pub(super) acked: Samples,
    /// PATCH sent -> its frame on the peer's WebSocket.
    pub(super) remote: Samples,
    /// How long the measured part took.
    pub(super) wall: Duration,
    /// The session's rev after the last change.
    pub(super) last_rev: u64,
}

/// PATCHes session `id` on `src` `warmup + iterations` times, one at a
/// time, `PAUSE` apart, each timed until `peer`'s WebSocket client (already
/// subscribed to `src`'s sessions) shows it.
pub(super) async fn measure(
    src: &Path,
    peer: &mut Ws,
    id: &str,
    warmup: usize,
    iterations: usize,
) -> anyhow::Result<Single> {
    let mut conn = Conn::connect(src).await?;
    let path = format!("/v1/sessions/{id}");
    let mut acked = Samples::with_capacity(iterations);
    let mut remote = Samples::with_capacity(iterations);
    let mut start = Instant::now();
    let mut last_rev = 0;
    for i in 0..warmup + iterations {
        if i == warmup {
            start = Instant::now();
        }
        let t0 = Instant::now();
        let (status, body) = conn
            .send(Method::PATCH, &path, Some(patch_body(i as u64)))
            .await?;
        let answered = Instant::now();
        client::expect(status, StatusCode::OK, "PATCH", &body)?;
        let (_, rev) = id_and_rev(&body)?;
        let arrived = wait_frame(peer, id, rev)
            .await
            .with_context(|| format!("change {i} of the low-rate phase"))?;
        if i >= warmup {
            acked.record(answered - t0);
            remote.record(arrived - t0);
        }
        last_rev = rev;
        tokio::time::sleep(PAUSE).await;
    }
    Ok(Single {
        acked,
        remote,
        wall: start.elapsed(),
        last_rev,
    })
}

/// Reads until the frame about session `id` at `rev` (or later) and
/// returns when it arrived.
async fn wait_frame(ws: &mut Ws, id: &str, rev: u64) -> anyhow::Result<Instant> {
    let deadline = Instant::now() + FRAME_TIMEOUT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let Some(text) = ws.next_text(left).await? else {
            bail!("no frame for session {id} rev {rev} within {FRAME_TIMEOUT:?}");
        };
        let arrived = Instant::now();
        if let Some(ev) = session_event(&text)
            && ev.session_id == id
            && ev.rev >= rev
        {
            return Ok(arrived);
        }
    }
}
