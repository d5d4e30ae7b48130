//! The thread simulation on a group of 20 FINRA functions, cold and memoised.

#![allow(missing_docs)] // criterion_group! generates undocumented items.

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion};
use wrap_model::Catalog;
use wrap_sched::Model;

fn catalog() -> Catalog {
    Catalog::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../profiles/mpk-l"))
        .expect("profiles load")
}

fn finra_group(model: &Model, n: usize) -> Vec<u32> {
    let types = ["marketdata", "lastpx", "side", "trddate", "volume"];
    let mut ids: Vec<u32> = (0..n)
        .map(|i| model.type_id(types[i % types.len()]).expect("finra type"))
        .collect();
    model.sort_types(&mut ids);
    ids
}

fn bench_threads(c: &mut Criterion) {
    let set = Arc::new(catalog().profiles);
    let mut g = c.benchmark_group("threads_latency_finra20");
    g.bench_function("cold", |b| {
        b.iter_batched(
            || Model::new(Arc::clone(&set)),
            |m| {
                let ids = finra_group(&m, 20);
                black_box(m.threads_latency(&ids).expect("finishes"))
            },
            criterion::BatchSize::SmallInput,
        );
    });
    let m = Model::new(Arc::clone(&set));
    let ids = finra_group(&m, 20);
    m.threads_latency(&ids).expect("finishes");
    g.bench_function("memoised", |b| {
        b.iter(|| black_box(m.threads_latency(black_box(&ids)).expect("finishes")))
    });
    g.finish();
}

criterion_group!(benches, bench_threads);
criterion_main!(benches);
