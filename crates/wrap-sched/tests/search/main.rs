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
            if wraps != k || k == 1 {
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
        for (k, wraps, published) in frontier(name) {
            if wraps != k || k > 20 {
                continue;
            }
            let ours = f.frontier[k - 1].latency_ms.get();
            let kl = search_at_k(model(), w, k).unwrap().latency_ms.get();
            report.push(format!(
                "{name} k={k}: default {ours:.3} chiron-kl {kl:.3} published {published:.3}"
            ));
            assert!(
                ours <= published,
                "{name} k={k}: default {ours} > published {published}"
            );
            assert!(ours <= kl, "{name} k={k}: default {ours} > chiron-kl {kl}");
        }
    }
    eprintln!("{}", report.join("\n"));
}
