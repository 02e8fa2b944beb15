//! Group commit: one thread applies every session write, and writes that
//! are waiting together share one transaction and one commit.
//!
//! Why: a write costs a `BEGIN IMMEDIATE`, a commit (a WAL append) and two
//! thread hops (runtime -> blocking pool -> runtime). Under load the
//! writes queue up anyway behind the one connection; taking all of them at
//! once pays for the transaction and the wake-up once per group. Nothing
//! waits for a group to fill: the thread takes what is already queued
//! (up to [`MAX_GROUP`]) and commits, so a lone write is committed at once.
//!
//! Guarantees kept: each write is answered only after the commit that holds
//! it, and after the commit hook saw it; the hook sees the writes in the
//! order they were applied. A write refused before it wrote anything (no
//! such session, a bad row) is answered with its error and the group goes
//! on. When a SQLite statement or the commit fails, the whole group is
//! rolled back and each of its writes is run again in a transaction of its
//! own, so a failure (a full disk, say) is answered exactly as it would
//! have been without grouping and never fails a neighbour's write.

use super::Inner;
use super::ops::{Applied, Op, apply, leaves_transaction_usable};
use crate::Error;
use model::Session;
use rusqlite::{Connection, TransactionBehavior};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::mpsc;
use tokio::sync::oneshot;

/// Writes committed in one transaction at most. Large enough that a burst
/// of clients is one commit, small enough that the first answer of a group
/// is not held back long.
pub(super) const MAX_GROUP: usize = 256;

/// A write and where its answer goes.
pub(super) struct Job {
    /// The write.
    pub(super) op: Op,
    /// Its answer, sent after the commit.
    pub(super) answer: oneshot::Sender<Result<Session, Error>>,
}

/// The writer thread and its queue. Dropping it closes the queue and waits
/// for the thread to finish the group it holds.
pub(super) struct Writer {
    queue: Option<mpsc::Sender<Job>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Writer {
    /// Starts the writer thread for the store `inner`.
    pub(super) fn start(inner: Arc<Inner>) -> Result<Self, Error> {
        let (queue, jobs) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("session-writer".into())
            .spawn(move || run(&inner, &jobs))
            .map_err(|source| Error::Io {
                path: std::path::PathBuf::from("<session writer thread>"),
                source,
            })?;
        Ok(Self {
            queue: Some(queue),
            thread: Some(thread),
        })
    }

    /// Queues `job`; fails (dropping it, so its caller's answer channel
    /// closes) when the writer has stopped.
    pub(super) fn submit(&self, job: Job) -> Result<(), WriterStopped> {
        match &self.queue {
            Some(queue) => queue.send(job).map_err(|_| WriterStopped),
            None => Err(WriterStopped),
        }
    }
}

/// The writer thread has stopped: no write can be queued any more.
#[derive(Debug, Clone, Copy)]
pub(super) struct WriterStopped;

impl Drop for Writer {
    fn drop(&mut self) {
        self.queue = None;
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("the session writer thread panicked");
        }
    }
}

/// The thread: waits for a write, takes whatever else is queued, commits
/// them together, answers; until the queue is closed.
fn run(inner: &Inner, jobs: &mpsc::Receiver<Job>) {
    while let Ok(first) = jobs.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let size = group.len();
        // A panic (in SQLite glue or the hook) drops the group's answer
        // senders, so its callers get an error; the thread goes on. The
        // connection is left usable (an open transaction rolls back when
        // dropped).
        let ran = catch_unwind(AssertUnwindSafe(|| {
            let mut conn = inner.lock();
            commit_group(inner, &mut conn, group);
        }));
        if ran.is_err() {
            tracing::error!(
                writes = size,
                reason = "panic while writing",
                "session writes failed: their callers get an error"
            );
        }
    }
}

/// Applies `group` in one transaction and commits, or falls back to one
/// transaction per write when a statement or the commit fails.
fn commit_group(inner: &Inner, conn: &mut Connection, group: Vec<Job>) {
    if group.len() == 1 {
        return alone(inner, conn, group);
    }
    let Ok(tx) = conn.transaction_with_behavior(TransactionBehavior::Immediate) else {
        return alone(inner, conn, group);
    };
    let mut results = Vec::with_capacity(group.len());
    for job in &group {
        match apply(inner, &tx, &job.op) {
            Ok(applied) => results.push(Ok(applied)),
            Err(e) if leaves_transaction_usable(&e) => results.push(Err(e)),
            Err(e) => {
                tracing::debug!(
                    writes = group.len(),
                    error = %e,
                    reason = "a statement of the group failed",
                    "rolled back a write group; writing each alone"
                );
                drop(tx);
                return alone(inner, conn, group);
            }
        }
    }
    if let Err(e) = tx.commit() {
        tracing::debug!(
            writes = group.len(),
            error = %e,
            reason = "its commit failed",
            "rolled back a write group; writing each alone"
        );
        return alone(inner, conn, group);
    }
    answer(inner, group, results);
}

/// Each write of `group` in a transaction of its own.
fn alone(inner: &Inner, conn: &mut Connection, group: Vec<Job>) {
    for job in group {
        let result = one(inner, conn, &job.op);
        answer(inner, vec![job], vec![result]);
    }
}

fn one(inner: &Inner, conn: &mut Connection, op: &Op) -> Result<Applied, Error> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| inner.write_failed(e))?;
    let applied = apply(inner, &tx, op)?;
    tx.commit().map_err(|e| inner.write_failed(e))?;
    Ok(applied)
}

/// After the commit: the hook sees every written state in order, then each
/// caller gets its answer.
fn answer(inner: &Inner, group: Vec<Job>, results: Vec<Result<Applied, Error>>) {
    for result in &results {
        if let Ok(Applied::Wrote(s)) = result {
            inner.committed(s);
        }
    }
    for (job, result) in group.into_iter().zip(results) {
        // The caller may have gone away (its request was dropped): the
        // write is committed all the same, nobody waits for the answer.
        let _ = job.answer.send(result.map(Applied::into_session));
    }
}
