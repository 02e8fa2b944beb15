//! Routing a change to subscribers: one `put_session` published on the
//! feed while 100 receivers (one per WebSocket client) are subscribed, and
//! every receiver taking it.

mod common;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use std::hint::black_box;

const SESSIONS: usize = 1_000;
const RECEIVERS: usize = 100;

fn route(c: &mut Criterion) {
    let cache = common::cache_with(SESSIONS);
    let mut receivers: Vec<_> = (0..RECEIVERS).map(|_| cache.subscribe()).collect();
    let mut rev = 1u64;
    c.bench_function("publish 1 change, 100 receivers take it", |b| {
        b.iter_batched(
            || {
                rev += 1;
                common::session(3, rev)
            },
            |s| {
                cache.put_session(s);
                for rx in &mut receivers {
                    black_box(rx.try_recv().ok());
                }
            },
            BatchSize::SmallInput,
        );
    });
}

criterion_group!(benches, route);
criterion_main!(benches);
