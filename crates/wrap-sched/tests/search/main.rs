//! The search strategies against the published answers and frontier.

#[path = "../common/mod.rs"]
mod common;

use common::{catalog, model, shared};
use wrap_model::Slo;
use wrap_sched::search::chiron_kl::search_at_k;
use wrap_sched::{schedule, ScheduleOptions, Strategy};

fn frontier(name: &str) -> Vec<(usize, usize, f64)> {
    let path = shared().join(format!("reference/frontier/mpk-l-{name}.jsonl"));
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["k"].as_u64().unwrap() as usize,
                v["wraps"].as_u64().unwrap() as usize,
                v["latency_ms"].as_f64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn chiron_kl_matches_the_published_frontier_within_2_percent() {
    let mut report = Vec::new();
    for name in ["finra50", "finra100", "finra200"] {
        let w = &catalog().workflows[name];
        for (k, wraps, published) in frontier(name) {
            if wraps != k {
                continue;
            }
            let ours = search_at_k(model(), w, k).unwrap().latency_ms.get();
            let excess = (ours - published) / published;
            report.push(format!(
                "{name} k={k}: ours {ours:.3} published {published:.3} ({:+.3}%)",
                excess * 100.0
            ));
            assert!(
                excess <= 0.02,
                "{name} at k={k}: ours {ours}, published {published}"
            );
        }
    }
    eprintln!("{}", report.join("\n"));
}

#[test]
fn chiron_kl_gives_the_published_wrap_counts_at_the_seed_slos() {
    for (name, slo, want) in [
        ("finra50", 348.0, 6),
        ("finra100", 383.0, 9),
        ("finra200", 532.0, 11),
    ] {
        let w = &catalog().workflows[name];
        let s = schedule(
            model(),
            w,
            Slo::new(slo).unwrap(),
            &ScheduleOptions::new(Strategy::ChironKl),
        )
        .unwrap();
        eprintln!(
            "{name} @ {slo}: {} wraps, {} ms",
            s.wrap_count,
            s.latency_ms.get()
        );
        assert_eq!(s.wrap_count, want, "{name}");
        assert!(s.latency_ms.get() < slo);
        s.wraps.validate(w).unwrap();
    }
}

#[test]
fn default_dominates_published_and_chiron_kl_at_every_k() {
    let mut report = Vec::new();
    for name in ["finra50", "finra100", "finra200"] {
        let w = &catalog().workflows[name];
        let f = wrap_sched::frontier(model(), w, 20).unwrap();
        for pair in f.frontier.windows(2) {
            assert!(
                pair[1].latency_ms <= pair[0].latency_ms,
                "{name}: frontier rises at {}",
                pair[1].max_wraps
            );
        }
        for e in &f.frontier {
            e.wraps.validate(w).unwrap();
            assert!(e.wrap_count <= e.max_wraps);
        }
        // Every k of the frontier, not only those the published data has:
        // chiron-kl's step at k, and the published search where it
        // reached exactly k wraps. With the frontier monotone, this also
        // bounds ours by chiron-kl's best over every k' <= k.
        let published = frontier(name);
        for e in &f.frontier {
            let k = e.max_wraps;
            let ours = e.latency_ms.get();
            let kl = search_at_k(model(), w, k).unwrap().latency_ms.get();
            assert!(ours <= kl, "{name} k={k}: default {ours} > chiron-kl {kl}");
            let line = published
                .iter()
                .find(|(pk, wraps, _)| *pk == k && *wraps == k);
            if let Some(&(_, _, published)) = line {
                report.push(format!(
                    "{name} k={k}: default {ours:.3} chiron-kl {kl:.3} published {published:.3}"
                ));
                assert!(
                    ours <= published,
                    "{name} k={k}: default {ours} > published {published}"
                );
            } else {
                report.push(format!("{name} k={k}: default {ours:.3} chiron-kl {kl:.3}"));
            }
        }
        assert_eq!(f.frontier.len(), 20);
    }
    eprintln!("{}", report.join("\n"));
}

#[test]
fn default_needs_fewer_wraps_than_chiron_kl_at_the_seed_slos() {
    for (name, slo, strictly_fewer) in [
        ("finra50", 348.0, true),
        ("finra100", 383.0, true),
        ("finra200", 532.0, false),
    ] {
        let w = &catalog().workflows[name];
        let slo = Slo::new(slo).unwrap();
        let kl = schedule(model(), w, slo, &ScheduleOptions::new(Strategy::ChironKl)).unwrap();
        let ours = schedule(model(), w, slo, &ScheduleOptions::default()).unwrap();
        eprintln!(
            "{name} @ {}: default {} wraps {:.3} ms; chiron-kl {} wraps {:.3} ms",
            slo.ms().get(),
            ours.wrap_count,
            ours.latency_ms.get(),
            kl.wrap_count,
            kl.latency_ms.get()
        );
        assert_eq!(ours.strategy, Strategy::Default);
        ours.wraps.validate(w).unwrap();
        assert!(slo.is_met_by(ours.latency_ms));
        if strictly_fewer {
            assert!(ours.wrap_count < kl.wrap_count, "{name}");
        } else {
            assert!(ours.wrap_count <= kl.wrap_count, "{name}");
        }
    }
}

#[test]
fn same_request_same_bytes() {
    for strategy in Strategy::ALL {
        let w = &catalog().workflows["finra100"];
        let slo = Slo::new(383.0).unwrap();
        let fresh = || {
            let m = wrap_sched::Model::new(std::sync::Arc::new(catalog().profiles.clone()));
            serde_json::to_string(&schedule(&m, w, slo, &ScheduleOptions::new(strategy)).unwrap())
                .unwrap()
        };
        let a = fresh();
        let b = fresh();
        let c = serde_json::to_string(
            &schedule(model(), w, slo, &ScheduleOptions::new(strategy)).unwrap(),
        )
        .unwrap();
        assert_eq!(a, b);
        assert_eq!(a, c);
    }
}

#[test]
fn unreachable_slo_carries_the_best_plan() {
    let w = &catalog().workflows["finra50"];
    for strategy in Strategy::ALL {
        let err = schedule(
            model(),
            w,
            Slo::new(10.0).unwrap(),
            &ScheduleOptions::new(strategy).with_max_wraps(Some(8)),
        )
        .unwrap_err();
        match err {
            wrap_sched::ScheduleError::Unreachable { best, slo_ms, .. } => {
                assert_eq!(slo_ms.get(), 10.0);
                best.wraps.validate(w).unwrap();
                assert!(best.wrap_count <= 8);
                let p = wrap_sched::predict(model(), w, &best.wraps, true).unwrap();
                assert_eq!(p.latency_ms, best.latency_ms);
            }
            other => panic!("{strategy}: {other:?}"),
        }
    }
}

#[test]
fn scheduler_answers_from_its_cached_frontier() {
    let m = std::sync::Arc::new(wrap_sched::Model::new(std::sync::Arc::new(
        catalog().profiles.clone(),
    )));
    let s = wrap_sched::Scheduler::new(std::sync::Arc::clone(&m));
    let w = &catalog().workflows["finra50"];
    let first = s
        .schedule(w, Slo::new(348.0).unwrap(), &ScheduleOptions::default())
        .unwrap();
    let sims = m.simulations();
    let again = s
        .schedule(w, Slo::new(348.0).unwrap(), &ScheduleOptions::default())
        .unwrap();
    let other = s
        .schedule(w, Slo::new(600.0).unwrap(), &ScheduleOptions::default())
        .unwrap();
    assert_eq!(first, again);
    assert!(other.wrap_count <= first.wrap_count);
    assert_eq!(
        m.simulations(),
        sims,
        "a cached frontier must not simulate again"
    );
    assert_eq!(s.cached_wraps(w), Some(20));
    // An SLO that 20 wraps cannot meet extends the search to the largest
    // stage, and the extension is cached too.
    let tight = s.schedule(w, Slo::new(100.0).unwrap(), &ScheduleOptions::default());
    assert!(matches!(
        tight,
        Err(wrap_sched::ScheduleError::Unreachable { .. })
    ));
    assert_eq!(s.cached_wraps(w), Some(50));
    let extended = m.simulations();
    assert_eq!(s.frontier(w, 50).unwrap().frontier.len(), 50);
    assert_eq!(m.simulations(), extended);
}

#[test]
fn the_default_work_budget_serves_every_built_in_search_with_room_to_spare() {
    // The server grants each request WorkBudget::DEFAULT; the largest
    // built-in search, the finra200 frontier to the server's wrap limit of
    // 64 from a cold model, must fit in well under half of it.
    let w = &catalog().workflows["finra200"];
    let cold = wrap_sched::Model::new(std::sync::Arc::new(catalog().profiles.clone()));
    let budget = wrap_sched::WorkBudget::new(wrap_sched::WorkBudget::DEFAULT);
    let f = wrap_sched::frontier_within(&cold, w, 64, Some(&budget)).unwrap();
    assert_eq!(f.frontier.len(), 64);
    assert!(budget.used() > 0);
    assert!(
        budget.used() <= wrap_sched::WorkBudget::DEFAULT / 2,
        "used {} of {}",
        budget.used(),
        wrap_sched::WorkBudget::DEFAULT
    );
    // The same search, budgeted or not, gives the same frontier.
    let unbounded = wrap_sched::frontier(&cold, w, 64).unwrap();
    assert_eq!(unbounded, f);
}
