//! The tombstone map: what a closed session leaves behind so that a late,
//! older change cannot revive it. Measured with 10,000 live sessions and
//! 10,000 tombstones held (10 computers): closing a session and starting
//! it again (a tombstone written, then cleared), a late change refused by
//! its tombstone, an update of a live session (the tombstone map is asked
//! and cleared on every accepted change), and one computer's whole state
//! as change events (its 1,000 remembered closes among them).

mod common;

use cache_core::{Applied, DaemonCache};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use model::SessionStatus;
use std::hint::black_box;

const LIVE: usize = 10_000;
const CLOSED: usize = 10_000;

/// A cache holding sessions `0..LIVE` at revision 1 and tombstones of
/// sessions `LIVE..LIVE + CLOSED` at revision 2.
fn cache() -> DaemonCache {
    let cache = common::cache_with(LIVE + CLOSED);
    for i in LIVE..LIVE + CLOSED {
        let s = common::session(i, 1);
        let applied = cache.close_session(&s.computer, &s.session_id, 2);
        assert_eq!(applied, Applied::Closed);
    }
    cache
}

fn tombstones(c: &mut Criterion) {
    let cache = cache();
    let mut revs = vec![1u64; LIVE];
    let mut next = 0usize;
    c.bench_function("tombstone: close 1 of 10,000 and start it again", |b| {
        b.iter_batched(
            || {
                let i = next % LIVE;
                next += 1;
                revs[i] += 2;
                let mut closed = common::session(i, revs[i] - 1);
                closed.status = SessionStatus::Closed;
                (closed, common::session(i, revs[i]))
            },
            |(closed, again)| {
                let a = cache.put_session(closed);
                debug_assert_eq!(a, Applied::Closed);
                let b = cache.put_session(again);
                debug_assert_eq!(b, Applied::Started);
                black_box((a, b))
            },
            BatchSize::SmallInput,
        );
    });
    let mut next = 0usize;
    c.bench_function("tombstone: late change refused (10,000 held)", |b| {
        b.iter_batched(
            || {
                next += 1;
                common::session(LIVE + next % CLOSED, 1)
            },
            |s| {
                let applied = cache.put_session(s);
                debug_assert_eq!(applied, Applied::Outdated);
                black_box(applied)
            },
            BatchSize::SmallInput,
        );
    });
    let mut next = 0usize;
    c.bench_function(
        "tombstone: put_session update with 10,000 tombstones held",
        |b| {
            b.iter_batched(
                || {
                    let i = next % LIVE;
                    next += 1;
                    revs[i] += 1;
                    common::session(i, revs[i])
                },
                |s| {
                    let applied = cache.put_session(s);
                    debug_assert_eq!(applied, Applied::Updated);
                    black_box(applied)
                },
                BatchSize::SmallInput,
            );
        },
    );
    c.bench_function(
        "tombstone: state_events of 1 computer (1,000 live, 1,000 closes)",
        |b| b.iter(|| black_box(cache.state_events("c3").len())),
    );
}

criterion_group!(benches, tombstones);
criterion_main!(benches);
