//! Building a snapshot: what a new WebSocket subscription starts with
//! (`open` without `since`: the whole `snapshot` frame) and the data of a
//! snapshot (`snapshot_data`), for 1,000 and 10,000 sessions.

mod common;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use model::{ComputerFilter, Topic};
use std::hint::black_box;

fn snapshot(c: &mut Criterion) {
    let mut group = c.benchmark_group("snapshot");
    for n in [1_000, 10_000] {
        let cache = common::cache_with(n);
        group.bench_with_input(BenchmarkId::new("open sessions, all", n), &n, |b, _| {
            b.iter(|| black_box(cache.open(Topic::Sessions, &ComputerFilter::All, None)));
        });
        group.bench_with_input(
            BenchmarkId::new("snapshot_data sessions, all", n),
            &n,
            |b, _| {
                b.iter(|| black_box(cache.snapshot_data(Topic::Sessions, &ComputerFilter::All)));
            },
        );
        let one = ComputerFilter::Only(["c3".to_owned()].into());
        group.bench_with_input(
            BenchmarkId::new("open sessions, 1 computer", n),
            &n,
            |b, _| {
                b.iter(|| black_box(cache.open(Topic::Sessions, &one, None)));
            },
        );
    }
    group.finish();
}

criterion_group!(benches, snapshot);
criterion_main!(benches);
