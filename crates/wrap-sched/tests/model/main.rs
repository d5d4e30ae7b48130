//! The latency model against the published vectors, plus properties.

#[path = "../common/mod.rs"]
mod common;

use common::{catalog, model, rel_err, vectors};
use proptest::prelude::*;
use std::sync::Arc;
use wrap_model::arbitrary::{profile_set, workflow_and_plan, TYPE_NAMES};
use wrap_model::{ModelParams, Ms, Plan, Profile, ProfileSet};
use wrap_sched::model::MAX_TURNS;
use wrap_sched::{predict, Model, SimError};

#[test]
fn every_thread_vector_matches() {
    let v = vectors();
    let cases = v["threads"].as_array().unwrap();
    assert!(cases.len() >= 200, "only {} thread vectors", cases.len());
    let m = model();
    let mut worst: f64 = 0.0;
    for (i, case) in cases.iter().enumerate() {
        let names: Vec<&str> = case["functions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap())
            .collect();
        let mut ids: Vec<_> = names
            .iter()
            .map(|n| m.type_id(n).unwrap_or_else(|| panic!("unknown {n}")))
            .collect();
        if case["order"] == "by_exec_time_desc" {
            let mut sorted = ids.clone();
            m.sort_types(&mut sorted);
            assert_eq!(
                sorted.iter().map(|&t| m.exec_ms(t)).collect::<Vec<_>>(),
                ids.iter().map(|&t| m.exec_ms(t)).collect::<Vec<_>>(),
                "case {i} is not in launch order"
            );
            ids = sorted;
        }
        let want = case["latency_ms"].as_f64().unwrap();
        let got = m.threads_latency(&ids).unwrap().get();
        let e = rel_err(got, want);
        worst = worst.max(e);
        assert!(
            e <= 1e-9,
            "threads case {i} {names:?}: got {got}, want {want}, rel err {e}"
        );
    }
    eprintln!(
        "{} thread vectors, worst relative error {worst:e}",
        cases.len()
    );
}

#[test]
fn every_plan_vector_matches() {
    let v = vectors();
    let cases = v["plans"].as_array().unwrap();
    assert!(cases.len() >= 100);
    let mut worst: f64 = 0.0;
    for (i, case) in cases.iter().enumerate() {
        let w = &catalog().workflows[case["workflow"].as_str().unwrap()];
        let plan: Plan = serde_json::from_value(case["wraps"].clone()).unwrap();
        let remote = case["first_wrap_invokes_remote"].as_bool().unwrap();
        let want = case["latency_ms"].as_f64().unwrap();
        let got = predict(model(), w, &plan, remote).unwrap();
        let e = rel_err(got.latency_ms.get(), want);
        worst = worst.max(e);
        assert!(
            e <= 1e-9,
            "plan case {i} ({}): got {}, want {want}",
            w.name,
            got.latency_ms.get()
        );
        let sum: f64 = got.stages.iter().map(|s| s.latency_ms.get()).sum();
        assert_eq!(sum, got.latency_ms.get());
    }
    eprintln!(
        "{} plan vectors, worst relative error {worst:e}",
        cases.len()
    );
}

#[test]
fn memo_counts_only_cold_simulations() {
    let m = Model::new(Arc::new(catalog().profiles.clone()));
    let ids: Vec<_> = ["marketdata", "side", "volume"]
        .iter()
        .map(|n| m.type_id(n).unwrap())
        .collect();
    let a = m.threads_latency(&ids).unwrap();
    assert_eq!(m.simulations(), 1);
    let b = m.threads_latency(&ids).unwrap();
    assert_eq!(a, b);
    assert_eq!(m.simulations(), 1);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| assert_eq!(m.threads_latency(&ids).unwrap(), a));
        }
    });
    assert_eq!(m.simulations(), 1);
}

#[test]
fn one_group_of_one_function_costs_its_exec_time() {
    let w = &catalog().workflows["finra5"];
    let plan = Plan::single_wrap(w);
    let p = predict(model(), w, &plan, true).unwrap();
    let margin = catalog().profiles.get("margin-balance").unwrap().exec_ms;
    assert_eq!(p.stages[1].latency_ms, margin);
    assert_eq!(p.wrap_count, 1);
}

#[test]
fn a_simulation_past_the_turn_bound_is_an_error_not_a_hang() {
    // Valid but hostile parameters: a slice of a nanosecond makes two
    // 10 ms functions take about 2e7 turns.
    let mut params = ModelParams::MPK_L;
    params.slice = Ms(1e-6);
    let spin = Profile::new(Ms(10.0), Ms(10.0), Vec::new());
    let set = ProfileSet::new(
        "hostile",
        params,
        [("spin".to_owned(), spin)].into_iter().collect(),
    )
    .unwrap();
    let m = Model::new(Arc::new(set));
    let spin = m.type_id("spin").unwrap();
    match m.threads_latency(&[spin, spin]) {
        Err(SimError::TurnLimit { threads, turns }) => {
            assert_eq!((threads, turns), (2, MAX_TURNS));
        }
        other => panic!("expected the turn limit, got {other:?}"),
    }
    // One function alone runs to its end in one step, whatever the slice:
    // its launch plus its own 10 ms, no turn limit.
    let alone = m.threads_latency(&[spin]).unwrap().get();
    let launch = ModelParams::MPK_L.thread_spawn.get();
    assert!((launch + 10.0..launch + 10.1).contains(&alone), "{alone}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn order_of_identical_functions_does_not_matter(set in profile_set(6), (w, plan) in workflow_and_plan(3, 10), seed in any::<u64>()) {
        let m = Model::new(Arc::new(set));
        let p = predict(&m, &w, &plan, true).unwrap();
        // Reverse every group and rotate the groups' members: launch order
        // is restored before prediction, so nothing may change.
        let mut shuffled = plan.clone();
        for stage in &mut shuffled.stages {
            for g in stage.iter_mut() {
                g.reverse();
                let n = g.len();
                g.rotate_left((seed as usize) % n);
            }
        }
        let q = predict(&m, &w, &shuffled, true).unwrap();
        prop_assert_eq!(p.latency_ms, q.latency_ms);
        let sum: f64 = p.stages.iter().map(|s| s.latency_ms.get()).sum();
        prop_assert_eq!(sum, p.latency_ms.get());
    }

    #[test]
    fn simulation_of_up_to_64_functions_ends_finite(set in profile_set(8), types in prop::collection::vec(0..TYPE_NAMES.len(), 1..=64)) {
        let m = Model::new(Arc::new(set));
        let ids: Vec<_> = types.iter().map(|&t| m.type_id(TYPE_NAMES[t]).unwrap()).collect();
        let l = m.threads_latency(&ids).unwrap();
        prop_assert!(l.get().is_finite());
    }
}
