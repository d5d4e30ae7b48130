//! The searches: chiron-kl and default at the seed SLOs, and the default
//! frontier of finra200 to 20 wraps, each from a cold model (no memo).

#![allow(missing_docs)] // criterion_group! generates undocumented items.

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use wrap_model::{Catalog, Slo};
use wrap_sched::{frontier, schedule, Model, ScheduleOptions, Scheduler, Strategy};

fn catalog() -> Catalog {
    Catalog::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../profiles/mpk-l"))
        .expect("profiles load")
}

const SEEDS: [(&str, f64); 3] = [("finra50", 348.0), ("finra100", 383.0), ("finra200", 532.0)];

fn bench_schedule(c: &mut Criterion) {
    let cat = catalog();
    let set = Arc::new(cat.profiles.clone());
    let mut g = c.benchmark_group("schedule_cold");
    g.sample_size(10);
    for strategy in [Strategy::ChironKl, Strategy::Default] {
        for (name, slo) in SEEDS {
            let w = &cat.workflows[name];
            let slo = Slo::new(slo).expect("valid SLO");
            g.bench_function(format!("{strategy}/{name}"), |b| {
                b.iter_batched(
                    || Model::new(Arc::clone(&set)),
                    |m| {
                        black_box(
                            schedule(&m, w, slo, &ScheduleOptions::new(strategy))
                                .expect("meets the seed SLO"),
                        )
                    },
                    BatchSize::PerIteration,
                );
            });
        }
    }
    g.finish();
}

fn bench_frontier(c: &mut Criterion) {
    let cat = catalog();
    let set = Arc::new(cat.profiles.clone());
    let w = &cat.workflows["finra200"];
    let mut g = c.benchmark_group("frontier");
    g.sample_size(10);
    g.bench_function("finra200_to_20_cold", |b| {
        b.iter_batched(
            || Model::new(Arc::clone(&set)),
            |m| black_box(frontier(&m, w, 20).expect("frontier")),
            BatchSize::PerIteration,
        );
    });
    let scheduler = Scheduler::new(Arc::new(Model::new(Arc::clone(&set))));
    let slo = Slo::new(532.0).expect("valid SLO");
    scheduler
        .schedule(w, slo, &ScheduleOptions::default())
        .expect("meets");
    g.bench_function("finra200_seed_from_cached_frontier", |b| {
        b.iter(|| {
            black_box(
                scheduler
                    .schedule(w, slo, &ScheduleOptions::default())
                    .expect("meets"),
            )
        });
    });
    g.finish();
}

criterion_group!(benches, bench_schedule, bench_frontier);
criterion_main!(benches);
