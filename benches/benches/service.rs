//! The service's own cost around the search: the seed request answered
//! through `http::handle` (routing, JSON in and out) from a warm cache, and
//! the same request on a fresh state (the cold first answer). Together with
//! the model's simulation counter (tested in wrap-server's HTTP tests), this
//! shows what the cache saves a repeated request.

#![allow(missing_docs)] // criterion_group! generates undocumented items.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use hyper::body::Bytes;
use wrap_server::http::{handle, Config, State};

const SEED: &str = r#"{"workflow": "finra50", "SLO": 348}"#;

fn request() -> hyper::Request<Bytes> {
    hyper::Request::post("/")
        .body(Bytes::from_static(SEED.as_bytes()))
        .expect("request")
}

fn bench_seed(c: &mut Criterion) {
    let catalog = wrap_server::builtin::catalog();
    let mut g = c.benchmark_group("seed_finra50_348");
    g.sample_size(10);
    g.bench_function("cold_state", |b| {
        b.iter_batched(
            || State::new(catalog.clone(), Config::default()),
            |state| black_box(handle(request(), &state)),
            BatchSize::PerIteration,
        );
    });
    let warm = State::new(catalog.clone(), Config::default());
    assert_eq!(handle(request(), &warm).status(), 200);
    g.sample_size(100);
    g.bench_function("warm_state", |b| {
        b.iter(|| black_box(handle(request(), &warm)));
    });
    g.finish();
}

criterion_group!(benches, bench_seed);
criterion_main!(benches);
