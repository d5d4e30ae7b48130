//! Property and fixture tests of wrap-model.

use proptest::prelude::*;
use wrap_model::arbitrary::{workflow, workflow_and_plan};
use wrap_model::{Plan, PlanError, Workflow};

proptest! {
    #[test]
    fn workflow_round_trips_through_the_states_language(w in workflow(5, 8)) {
        let json = w.to_json();
        let text = serde_json::to_string_pretty(&json).unwrap();
        let back = Workflow::from_json_str(&w.name, &text).unwrap();
        prop_assert_eq!(back, w);
    }

    #[test]
    fn plan_round_trips_through_json((_, p) in workflow_and_plan(4, 8)) {
        let text = serde_json::to_string(&p).unwrap();
        let back: Plan = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(back, p);
    }

    #[test]
    fn random_valid_plan_validates((w, p) in workflow_and_plan(4, 8)) {
        prop_assert_eq!(p.validate(&w), Ok(()));
    }

    #[test]
    fn every_single_corruption_is_refused((w, p) in workflow_and_plan(4, 8), pick in any::<prop::sample::Index>()) {
        let all: Vec<(usize, usize, usize)> = p.stages.iter().enumerate()
            .flat_map(|(s, gs)| gs.iter().enumerate().flat_map(move |(g, names)| (0..names.len()).map(move |i| (s, g, i))))
            .collect();
        let (s, g, i) = all[pick.index(all.len())];
        let name = p.stages[s][g][i].clone();

        // Drop: the instance goes missing (or its group empties).
        let mut q = p.clone();
        q.stages[s][g].remove(i);
        let want = if q.stages[s][g].is_empty() {
            PlanError::EmptyGroup { stage: s, group: g }
        } else {
            PlanError::Missing { stage: s, name: name.clone() }
        };
        prop_assert_eq!(q.validate(&w), Err(want));

        // Duplicate.
        let mut q = p.clone();
        q.stages[s][g].push(name.clone());
        prop_assert_eq!(q.validate(&w), Err(PlanError::Duplicate { stage: s, name: name.clone() }));

        // Rename to an unknown instance.
        let mut q = p.clone();
        q.stages[s][g][i] = format!("{name}-unknown");
        prop_assert_eq!(
            q.validate(&w),
            Err(PlanError::UnknownInstance { stage: s, name: format!("{name}-unknown"), workflow: w.name.clone() })
        );

        // Empty a group (the one holding the instance).
        let mut q = p.clone();
        q.stages[s][g].clear();
        prop_assert_eq!(q.validate(&w), Err(PlanError::EmptyGroup { stage: s, group: g }));

        // Move across stages, when there is another stage.
        if w.stages.len() > 1 {
            let other = (s + 1) % w.stages.len();
            let mut q = p.clone();
            q.stages[s][g].remove(i);
            q.stages[other][0].push(name.clone());
            let want = if q.stages[s][g].is_empty() {
                PlanError::EmptyGroup { stage: s, group: g }
            } else {
                PlanError::WrongStage { stage: other, name: name.clone(), home: s }
            };
            prop_assert_eq!(q.validate(&w), Err(want));
        }
    }
}

#[test]
fn stage_count_is_checked_first() {
    let w = Workflow::from_json_str(
        "w",
        r#"{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "f", "Next": "B"}, "B": {"Type": "Task", "Resource": "g", "End": true}}}"#,
    )
    .unwrap();
    let p: Plan = serde_json::from_str(r#"[[["nope"]]]"#).unwrap();
    assert_eq!(
        p.validate(&w),
        Err(PlanError::StageCount {
            workflow: "w".into(),
            got: 1,
            want: 2
        })
    );
    let p: Plan = serde_json::from_str(r#"[[["A"]], []]"#).unwrap();
    assert_eq!(
        p.validate(&w),
        Err(PlanError::EmptyGroup { stage: 1, group: 0 })
    );
    assert!(PlanError::EmptyGroup { stage: 1, group: 0 }
        .to_string()
        .contains("stage 1"));
}
