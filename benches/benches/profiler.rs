//! The profiler's extraction on the largest published strace fixture
//! (`p4_py.strace`, a Python program with two threads, about 1.2 MB):
//! parse, pair split calls, cut the window, merge and scale to a profile.

#![allow(missing_docs)] // criterion_group! generates undocumented items.

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use wrap_profiler::{BlockingSet, Trace, WindowSpec};

fn bench_extract(c: &mut Criterion) {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/strace/p4_py.strace");
    let log = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let set = BlockingSet::default();
    let mut g = c.benchmark_group("profiler");
    g.throughput(Throughput::Bytes(log.len() as u64));
    g.bench_function("p4_py_log_to_profile", |b| {
        b.iter(|| {
            let trace = Trace::from_log(log.as_slice(), WindowSpec::RootProcess, &set)
                .expect("the fixture parses");
            black_box(trace.to_profile(None).expect("a profile"))
        });
    });
    g.finish();
}

criterion_group!(benches, bench_extract);
criterion_main!(benches);
