//! Applying a change: `put_session` of a newer revision of one of the
//! 10,000 sessions a cache holds (serialize it once, re-index it by
//! activity, publish it on the feed with its WebSocket frame).

mod common;

use cache_core::Applied;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use std::hint::black_box;

const SESSIONS: usize = 10_000;

fn apply(c: &mut Criterion) {
    let cache = common::cache_with(SESSIONS);
    let mut revs = vec![1u64; SESSIONS];
    let mut next = 0usize;
    c.bench_function("put_session: update 1 of 10,000", |b| {
        b.iter_batched(
            || {
                let i = next % SESSIONS;
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
    });
    c.bench_function("put_session: same state again (unchanged) of 10,000", |b| {
        b.iter_batched(
            || common::session(7, revs[7]),
            |s| black_box(cache.put_session(s)),
            BatchSize::SmallInput,
        );
    });
}

criterion_group!(benches, apply);
criterion_main!(benches);
