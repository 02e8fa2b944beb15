//! `fleet hook claude|codex|gemini`: records one agent event on the local daemon,
//! without ever holding the agent up and without losing the event.
//!
//! - [`claude`], [`codex`], [`gemini`]: one adapter per agent, each mapping the agent's
//!   own event format to [`op::Op`]s (pure: no I/O but reading a transcript).
//! - [`deliver`]: one op to the daemon's REST API.
//! - [`spool`]: the events not delivered yet, one file each, in order.
//! - [`run`] (this file): read, map, deliver the spool's backlog then the new event
//!   within [`BUDGET`], spool what did not make it, and start a background
//!   [`drain`] that delivers the spool as soon as the daemon answers.
//!
//! The hook always exits 0, prints nothing on stdout (Claude Code would show it to
//! the model) except `{}` for Gemini CLI (which parses stdout as JSON), and says on one
//! stderr line what it dropped or spooled and why.

pub mod claude;
pub mod codex;
pub mod deliver;
pub mod drain;
pub mod gemini;
pub mod op;
pub mod spool;
pub mod transcript;

use crate::cli::ConnectionArgs;
use crate::client::http::HttpClient;
use crate::endpoint::Endpoint;
use deliver::Outcome;
use model::{Clock as _, SystemClock};
use op::{Mapped, Op};
use spool::Spool;
use std::io::Read as _;
use std::time::{Duration, Instant};

/// How long a hook may spend talking to the daemon (the backlog and the new event).
/// A daemon that answers at all answers in a few milliseconds; the rest of the
/// 200 ms the agents are promised is left for process start-up, reading the
/// input and spooling on a loaded machine (120 ms was measured to overrun
/// 200 ms in total with both cores busy).
pub const BUDGET: Duration = Duration::from_millis(60);

/// How long the hook waits for the agent to finish writing stdin.
pub const STDIN_PATIENCE: Duration = Duration::from_millis(40);

/// The largest input read; the rest is ignored (a tool's huge output, say).
pub const MAX_INPUT_BYTES: u64 = 4 * 1024 * 1024;

/// The agents fleet has a hook for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Agent {
    /// Claude Code (hooks in ~/.claude/settings.json, event on stdin).
    Claude,
    /// Codex CLI (`notify` in ~/.codex/config.toml, event as the last argument).
    Codex,
    /// Gemini CLI (hooks in ~/.gemini/settings.json, event on stdin).
    Gemini,
}

impl Agent {
    /// Its name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Claude => "claude",
            Self::Codex => "codex",
            Self::Gemini => "gemini",
        }
    }
}

/// Reads stdin for at most [`STDIN_PATIENCE`] (on a thread of its own, left behind if
/// the agent never closes it) and at most [`MAX_INPUT_BYTES`].
pub fn read_stdin() -> Result<Vec<u8>, String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let result = std::io::stdin()
            .lock()
            .take(MAX_INPUT_BYTES)
            .read_to_end(&mut buf)
            .map(|_| buf);
        let _ = tx.send(result);
    });
    match rx.recv_timeout(STDIN_PATIENCE) {
        Ok(Ok(buf)) => Ok(buf),
        Ok(Err(e)) => Err(format!("cannot read stdin: {e}")),
        Err(_) => Err(format!(
            "stdin was not closed within {} ms",
            STDIN_PATIENCE.as_millis()
        )),
    }
}

/// Records one event of `agent` (its raw `input`) on the daemon `conn` names.
/// Never fails: what goes wrong is said on stderr.
pub async fn run(agent: Agent, input: Result<Vec<u8>, String>, conn: &ConnectionArgs) {
    let endpoint = Endpoint::from_env(conn);
    let started = Instant::now();
    let deadline = started + BUDGET;
    let who = agent.name();
    let at = SystemClock.now();
    let mapped = match input {
        Ok(bytes) => match agent {
            Agent::Claude => claude::map(&bytes, at),
            Agent::Codex => codex::map(&bytes, at),
            Agent::Gemini => gemini::map(&bytes, at),
        },
        Err(reason) => Mapped::Ignored(reason),
    };
    let ops = match mapped {
        Mapped::Ops(ops) => ops,
        Mapped::Ignored(reason) => {
            eprintln!("fleet hook {who}: nothing recorded: {reason}");
            return;
        }
    };
    let spool = Spool::locate(&|k| std::env::var(k).ok());
    let client = match endpoint {
        Ok(e) => Some(HttpClient::new(e)),
        Err(e) => {
            eprintln!("fleet hook {who}: cannot reach the daemon: {e}");
            None
        }
    };
    let Some(spool) = spool else {
        // No place to keep it: deliver directly or lose it, and say so.
        if let Some(client) = &client {
            for op in &ops {
                match within(deadline, deliver::deliver(client, op)).await {
                    Outcome::Done => {}
                    Outcome::Dropped(r) | Outcome::Retry(r) => eprintln!(
                        "fleet hook {who}: event {} of session {} lost: {r}, and no spool directory (HOME is not set)",
                        op.kind(),
                        op.session_id
                    ),
                }
            }
        }
        return;
    };
    let pending = match &client {
        Some(client) => deliver_in_order(client, &spool, ops, deadline, who).await,
        None => ops,
    };
    if pending.is_empty() {
        return;
    }
    for op in &pending {
        if let Err(e) = spool.put(op) {
            eprintln!(
                "fleet hook {who}: event {} of session {} lost: {e}",
                op.kind(),
                op.session_id
            );
        }
    }
    eprintln!(
        "fleet hook {who}: {} event(s) spooled in {}: the daemon did not take them within {} ms; they are delivered in order when it answers",
        pending.len(),
        spool.dir.display(),
        BUDGET.as_millis()
    );
    drain::start_background(&spool, conn);
}

/// Delivers the spool's backlog, then `ops`, in order, until `deadline`; returns the
/// ops still to spool. Holds the delivery lock throughout; without it (another hook or
/// the drain is delivering), the new ops are spooled behind the backlog.
async fn deliver_in_order(
    client: &HttpClient,
    spool: &Spool,
    ops: Vec<Op>,
    deadline: Instant,
    who: &str,
) -> Vec<Op> {
    let Some(_lock) = lock_until(spool, deadline).await else {
        return ops;
    };
    for entry in spool.entries() {
        let op = match entry.op {
            Ok(op) => op,
            Err(reason) => {
                eprintln!(
                    "fleet hook {who}: dropped spooled file {}: {reason}",
                    entry.path.display()
                );
                spool::remove(&entry.path);
                continue;
            }
        };
        match within(deadline, deliver::deliver(client, &op)).await {
            Outcome::Done => spool::remove(&entry.path),
            Outcome::Dropped(reason) => {
                eprintln!("fleet hook {who}: dropped a spooled event: {reason}");
                spool::remove(&entry.path);
            }
            Outcome::Retry(_) => return ops,
        }
    }
    let mut rest = ops.into_iter();
    while let Some(op) = rest.next() {
        match within(deadline, deliver::deliver(client, &op)).await {
            Outcome::Done => {}
            Outcome::Dropped(reason) => eprintln!("fleet hook {who}: dropped: {reason}"),
            Outcome::Retry(_) => return std::iter::once(op).chain(rest).collect(),
        }
    }
    Vec::new()
}

/// The delivery lock, polled until `deadline`.
async fn lock_until(spool: &Spool, deadline: Instant) -> Option<std::fs::File> {
    loop {
        if let Some(lock) = spool.try_lock(drain::DELIVER_LOCK) {
            return Some(lock);
        }
        if Instant::now() + Duration::from_millis(5) >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// `delivery`, or a retry when `deadline` passes first.
async fn within(deadline: Instant, delivery: impl Future<Output = Outcome>) -> Outcome {
    match tokio::time::timeout_at(deadline.into(), delivery).await {
        Ok(outcome) => outcome,
        Err(_) => Outcome::Retry("the daemon did not answer in time".into()),
    }
}
