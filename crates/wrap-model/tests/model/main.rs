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

mod catalog {
    use wrap_model::{Catalog, LoadError};

    const SET: &str = r#"{"format": "wrap-profile-set/1", "mode": "mpk-l", "params": {"thread_spawn": 7.0, "thread_init": 13.0, "slice": 5.0, "switch_cost": 0.005, "rpc_overhead": 20.0, "result_overhead": 2.0, "remote_invoke": 4.0, "first_wrap_count": 6, "first_spawn_budget": 9999.0}}"#;
    const WORKFLOW: &str =
        r#"{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "f", "End": true}}}"#;

    #[test]
    fn a_good_directory_loads_and_writes_back_the_same_bytes() {
        let files = [
            ("set.json", SET),
            (
                "functions/f.json",
                r#"{"exec_ms": 3.5, "trace_latency_ms": 3.0, "blocks": [{"start_ms": 1.0, "duration_ms": 0.5, "syscall": "read"}]}"#,
            ),
            ("workflows/w.json", WORKFLOW),
            ("README.md", "ignored"),
        ];
        let c = Catalog::from_files(files).unwrap();
        assert_eq!(c.profiles.get("f").unwrap().blocks.len(), 1);
        assert_eq!(c.workflows["w"].name, "w");
        let written = c.to_files();
        let again =
            Catalog::from_files(written.iter().map(|(p, t)| (p.as_str(), t.as_str()))).unwrap();
        assert_eq!(again, c);
        assert_eq!(again.to_files(), written);

        let dir = std::env::temp_dir().join(format!("wrap-model-catalog-{}", std::process::id()));
        c.write_dir(&dir).unwrap();
        assert_eq!(Catalog::load_dir(&dir).unwrap(), c);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn errors_name_the_file_line_function_and_field() {
        let err = Catalog::from_files([
            ("set.json", SET),
            ("functions/f.json", "{\n  \"exec_ms\": ,\n}"),
        ])
        .unwrap_err();
        assert!(matches!(err, LoadError::Syntax { line: 2, .. }), "{err}");
        assert!(err.to_string().starts_with("functions/f.json:2:"), "{err}");

        let err = Catalog::from_files([
            ("set.json", SET),
            (
                "functions/f.json",
                r#"{"exec_ms": -1, "trace_latency_ms": 1}"#,
            ),
        ])
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "functions/f.json: function 'f': field 'exec_ms' must be a finite, non-negative number of milliseconds, got -1"
        );

        let bad_set = SET.replace("\"slice\": 5.0", "\"slice\": 0.0");
        let err = Catalog::from_files([("set.json", bad_set.as_str())]).unwrap_err();
        assert!(
            err.to_string()
                .contains("model parameter 'slice' must be positive"),
            "{err}"
        );

        let err = Catalog::from_files([
            ("set.json", SET),
            (
                "workflows/w.json",
                r#"{"StartAt": "A", "States": {"A": {"Type": "Map", "End": true}}}"#,
            ),
        ])
        .unwrap_err();
        assert_eq!(err.to_string(), "workflows/w.json: state 'A' has type 'Map', which is not supported (only Task and Parallel are)");

        let err = Catalog::from_files([("workflows/w.json", WORKFLOW)]).unwrap_err();
        assert!(err.to_string().contains("set.json"), "{err}");

        let err = Catalog::load_dir(std::path::Path::new("/nonexistent/profiles")).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("/nonexistent/profiles/set.json:"),
            "{err}"
        );
    }
    #[test]
    fn set_json_with_a_wrong_format_is_refused() {
        let old = SET.replace("wrap-profile-set/1", "wrap-profile-set/0");
        let err = Catalog::from_files([("set.json", old.as_str()), ("workflows/w.json", WORKFLOW)])
            .unwrap_err();
        assert!(
            matches!(&err, LoadError::Format { file, .. } if file == "set.json"),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "set.json: format is 'wrap-profile-set/0', expected 'wrap-profile-set/1'"
        );
    }

    #[test]
    fn workflow_json_syntax_error_gives_file_line_and_column() {
        let err = Catalog::from_files([
            ("set.json", SET),
            (
                "workflows/w.json",
                "{\"StartAt\": \"A\",\n \"States\": {\"A\": }}",
            ),
        ])
        .unwrap_err();
        assert!(
            matches!(&err, LoadError::Syntax { file, line: 2, column: Some(18), .. } if file == "workflows/w.json"),
            "{err:?}"
        );
        assert_eq!(err.to_string(), "workflows/w.json:2:18: expected value");
    }
}
