//! Proptest strategies for workflows, profiles and plans, shared with other
//! crates' tests (feature `proptest`).

use std::collections::BTreeMap;

use proptest::prelude::*;

use crate::{
    Block, Instance, ModelParams, Ms, Plan, Profile, ProfileSet, Stage, StageKind, Workflow,
};

/// Function type names the strategies draw from.
pub const TYPE_NAMES: [&str; 6] = ["alpha", "beta", "gamma", "delta", "eps", "zeta"];

/// A valid profile: up to `max_blocks` ordered, non-overlapping periods.
pub fn profile(max_blocks: usize) -> impl Strategy<Value = Profile> {
    (
        0.0f64..200.0,
        0.0f64..200.0,
        prop::collection::vec((0.0f64..20.0, 0.0f64..10.0), 0..=max_blocks),
    )
        .prop_map(|(exec, trace, gaps)| {
            let mut t = 0.0;
            let blocks = gaps
                .into_iter()
                .map(|(gap, dur)| {
                    let start = t + gap;
                    t = start + dur;
                    Block {
                        start_ms: Ms(start),
                        duration_ms: Ms(dur),
                        syscall: "read".into(),
                    }
                })
                .collect();
            Profile::new(Ms(exec), Ms(trace), blocks)
        })
}

/// Valid model parameters, around the MPK-L values.
pub fn params() -> impl Strategy<Value = ModelParams> {
    (
        0.5f64..20.0,
        0.0f64..30.0,
        0.1f64..20.0,
        0.0f64..0.1,
        0.0f64..40.0,
        0.0f64..5.0,
        0.0f64..10.0,
        1usize..8,
        prop::bool::ANY,
    )
        .prop_map(
            |(spawn, init, slice, switch, rpc, result, remote, first_k, huge)| {
                let mut p = ModelParams::MPK_L;
                p.thread_spawn = Ms(spawn);
                p.thread_init = Ms(init);
                p.slice = Ms(slice);
                p.switch_cost = Ms(switch);
                p.rpc_overhead = Ms(rpc);
                p.result_overhead = Ms(result);
                p.remote_invoke = Ms(remote);
                p.first_wrap_count = first_k;
                p.first_spawn_budget = if huge { Ms(9999.0) } else { Ms(spawn) };
                p
            },
        )
}

/// A valid profile set over [`TYPE_NAMES`].
pub fn profile_set(max_blocks: usize) -> impl Strategy<Value = ProfileSet> {
    (
        params(),
        prop::collection::vec(profile(max_blocks), TYPE_NAMES.len()),
    )
        .prop_map(|(params, ps)| {
            let profiles: BTreeMap<String, Profile> =
                TYPE_NAMES.iter().map(|s| (*s).to_owned()).zip(ps).collect();
            ProfileSet::new("test", params, profiles).expect("generated sets are valid")
        })
}

/// A workflow of 1 to `max_stages` stages of 1 to `max_size` instances of
/// [`TYPE_NAMES`], with unique instance names.
pub fn workflow(max_stages: usize, max_size: usize) -> impl Strategy<Value = Workflow> {
    prop::collection::vec(
        (
            prop::collection::vec(0..TYPE_NAMES.len(), 1..=max_size),
            prop::bool::ANY,
        ),
        1..=max_stages,
    )
    .prop_map(|stages| {
        let stages = stages
            .into_iter()
            .enumerate()
            .map(|(s, (types, parallel))| {
                let kind = if types.len() == 1 && !parallel {
                    StageKind::Task
                } else {
                    StageKind::Parallel
                };
                let instances: Vec<Instance> = types
                    .iter()
                    .enumerate()
                    .map(|(i, &t)| Instance {
                        name: if kind == StageKind::Task {
                            format!("S{s}")
                        } else {
                            format!("{}{s}_{i}", TYPE_NAMES[t])
                        },
                        function: TYPE_NAMES[t].to_owned(),
                    })
                    .collect();
                Stage {
                    state: format!("S{s}"),
                    kind,
                    instances,
                }
            })
            .collect();
        Workflow {
            name: "random".into(),
            comment: Some("generated".into()),
            title: None,
            stages,
        }
    })
}

/// A valid plan of `workflow`: each stage's instances shuffled and cut into
/// 1 or more non-empty groups.
pub fn plan_for(workflow: &Workflow) -> impl Strategy<Value = Plan> {
    let stages: Vec<Vec<String>> = workflow
        .stages
        .iter()
        .map(|s| s.instances.iter().map(|i| i.name.clone()).collect())
        .collect();
    let per_stage: Vec<_> = stages
        .into_iter()
        .map(|names| {
            let n = names.len();
            (
                Just(names).prop_shuffle(),
                prop::collection::vec(prop::bool::ANY, n),
            )
                .prop_map(|(names, cuts)| {
                    let mut groups: Vec<Vec<String>> = vec![Vec::new()];
                    for (i, name) in names.into_iter().enumerate() {
                        if i > 0 && cuts[i] {
                            groups.push(Vec::new());
                        }
                        groups.last_mut().expect("one group").push(name);
                    }
                    groups
                })
        })
        .collect();
    per_stage.prop_map(Plan::new)
}

/// A workflow with a valid plan of it.
pub fn workflow_and_plan(
    max_stages: usize,
    max_size: usize,
) -> impl Strategy<Value = (Workflow, Plan)> {
    workflow(max_stages, max_size).prop_flat_map(|w| {
        let p = plan_for(&w);
        (Just(w), p)
    })
}
