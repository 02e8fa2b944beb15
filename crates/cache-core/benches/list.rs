//! `GET /v1/sessions`' body: `sessions_json` of 10,000 sessions when the
//! list is cached, right after a change (the list is rebuilt by
//! concatenating the records' JSON), and filtered to one computer (never
//! cached).

mod common;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use std::hint::black_box;

const SESSIONS: usize = 10_000;

fn list(c: &mut Criterion) {
    let cache = common::cache_with(SESSIONS);
    let mut group = c.benchmark_group("sessions_json 10,000");
    group.bench_function("cached", |b| {
        b.iter(|| black_box(cache.sessions_json(None)));
    });
    let mut rev = 1u64;
    group.bench_function("after a change", |b| {
        b.iter_batched(
            || {
                rev += 1;
                cache.put_session(common::session(11, rev));
            },
            |()| black_box(cache.sessions_json(None)),
            // One change per measured call: a batch of changes made up
            // front would leave all but the first call a cache hit.
            BatchSize::PerIteration,
        );
    });
    group.bench_function("one computer (1,000)", |b| {
        b.iter(|| black_box(cache.sessions_json(Some("c3"))));
    });
    group.finish();
}

criterion_group!(benches, list);
criterion_main!(benches);
