//! Workflows: chains of stages of function instances, read from and written
//! to the Amazon States Language subset of the published data.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::{json, Map, Value};

/// One function instance of a stage: a name unique in its workflow and the
/// function type (the States Language `Resource`) it runs.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Instance {
    /// The instance's name, e.g. `marketdata7`.
    pub name: String,
    /// Its function type, e.g. `marketdata`.
    pub function: String,
}

/// How a stage is written in the States Language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StageKind {
    /// A `Task` state: one instance, named after the state.
    Task,
    /// A `Parallel` state: one instance per branch.
    Parallel,
}

/// One stage: the instances that run in parallel, in branch order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stage {
    /// The States Language state this stage comes from.
    pub state: String,
    /// `Task` or `Parallel`.
    pub kind: StageKind,
    /// The instances, in branch order.
    pub instances: Vec<Instance>,
}

/// A workflow: a name and its stages in chain order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Workflow {
    /// The name the workflow is registered under (for files, the file stem).
    pub name: String,
    /// The States Language `Comment`, descriptive only.
    pub comment: Option<String>,
    /// The States Language `Name`, descriptive only.
    pub title: Option<String>,
    /// The stages, in chain order.
    pub stages: Vec<Stage>,
}

/// What is wrong with a workflow definition. Every variant names the state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WorkflowError {
    /// The text is not JSON.
    #[error("workflow is not valid JSON: {0}")]
    Json(String),
    /// The top level is not a JSON object.
    #[error("workflow must be a JSON object")]
    NotAnObject,
    /// No `StartAt` string.
    #[error("workflow has no 'StartAt' string")]
    NoStartAt,
    /// No `States` object.
    #[error("workflow has no 'States' object")]
    NoStates,
    /// `StartAt` or `Next` names no state.
    #[error("state '{from}' names '{target}' as its next state, but no such state exists")]
    UnknownNext {
        /// The state whose `Next` (or `StartAt` for the workflow) is wrong.
        from: String,
        /// The missing target.
        target: String,
    },
    /// The chain comes back to a state it already passed.
    #[error("state '{state}' is reached twice: the workflow has a cycle")]
    Cycle {
        /// The state reached again.
        state: String,
    },
    /// A state with neither `Next` nor `End: true`.
    #[error("state '{state}' has neither 'Next' nor 'End': true; it needs exactly one")]
    NoTransition {
        /// The state.
        state: String,
    },
    /// A state with both a `Next` and `End: true`: the chain would both
    /// go on and stop there (the States Language allows only one).
    #[error("state '{state}' has both 'Next' and 'End': true; it needs exactly one")]
    NextAndEnd {
        /// The state.
        state: String,
    },
    /// A state type outside the supported subset (`Choice`, `Map`, ...).
    #[error(
        "state '{state}' has type '{kind}', which is not supported (only Task and Parallel are)"
    )]
    UnsupportedType {
        /// The state.
        state: String,
        /// Its `Type`.
        kind: String,
    },
    /// A field is missing or has the wrong JSON type.
    #[error("state '{state}': field '{field}' {problem}")]
    BadField {
        /// The state.
        state: String,
        /// The field.
        field: String,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// A `Task` (or a branch's task) without a `Resource` string.
    #[error("state '{state}' has no 'Resource' string naming its function type")]
    MissingResource {
        /// The state.
        state: String,
    },
    /// A `Parallel` with no branches.
    #[error("parallel state '{state}' has no branches")]
    EmptyParallel {
        /// The state.
        state: String,
    },
    /// A branch that is not exactly one `Task` ending the branch.
    #[error("parallel state '{state}', branch {branch}: {problem}")]
    BadBranch {
        /// The parallel state.
        state: String,
        /// The branch's index.
        branch: usize,
        /// What is wrong with it.
        problem: String,
    },
    /// Two instances with the same name.
    #[error("instance name '{name}' (state '{state}') is used twice")]
    DuplicateInstance {
        /// The instance name.
        name: String,
        /// The state where it appears the second time.
        state: String,
    },
    /// A state that the chain from `StartAt` never reaches.
    #[error("state '{state}' is not reachable from StartAt")]
    Unreachable {
        /// The state.
        state: String,
    },
}

fn field<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    obj.get(key)
}

fn string_field(
    obj: &Map<String, Value>,
    state: &str,
    key: &str,
) -> Result<Option<String>, WorkflowError> {
    match field(obj, key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(WorkflowError::BadField {
            state: state.to_owned(),
            field: key.to_owned(),
            problem: "must be a string",
        }),
    }
}

fn is_end(obj: &Map<String, Value>, state: &str) -> Result<bool, WorkflowError> {
    match field(obj, "End") {
        None | Some(Value::Bool(false)) => Ok(false),
        Some(Value::Bool(true)) => Ok(true),
        Some(_) => Err(WorkflowError::BadField {
            state: state.to_owned(),
            field: "End".to_owned(),
            problem: "must be a boolean",
        }),
    }
}

fn as_object<'a>(
    v: &'a Value,
    state: &str,
    key: &str,
) -> Result<&'a Map<String, Value>, WorkflowError> {
    v.as_object().ok_or_else(|| WorkflowError::BadField {
        state: state.to_owned(),
        field: key.to_owned(),
        problem: "must be an object",
    })
}

fn state_type<'a>(obj: &'a Map<String, Value>, state: &str) -> Result<&'a str, WorkflowError> {
    match field(obj, "Type") {
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(WorkflowError::BadField {
            state: state.to_owned(),
            field: "Type".to_owned(),
            problem: "must be a string",
        }),
        None => Err(WorkflowError::BadField {
            state: state.to_owned(),
            field: "Type".to_owned(),
            problem: "is missing",
        }),
    }
}

fn resource(obj: &Map<String, Value>, state: &str) -> Result<String, WorkflowError> {
    match field(obj, "Resource") {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        _ => Err(WorkflowError::MissingResource {
            state: state.to_owned(),
        }),
    }
}

fn parse_branch(state: &str, index: usize, branch: &Value) -> Result<Instance, WorkflowError> {
    let bad = |problem: String| WorkflowError::BadBranch {
        state: state.to_owned(),
        branch: index,
        problem,
    };
    let obj = branch
        .as_object()
        .ok_or_else(|| bad("must be an object".into()))?;
    let start = match obj.get("StartAt") {
        Some(Value::String(s)) => s.clone(),
        _ => return Err(bad("has no 'StartAt' string".into())),
    };
    let states = match obj.get("States") {
        Some(Value::Object(m)) => m,
        _ => return Err(bad("has no 'States' object".into())),
    };
    if states.len() != 1 {
        return Err(bad(format!(
            "has {} states; only branches of exactly one Task are supported",
            states.len()
        )));
    }
    let inner = states.get(&start).ok_or_else(|| {
        bad(format!(
            "StartAt names '{start}', but its only state is '{}'",
            states.keys().next().map_or("", String::as_str)
        ))
    })?;
    let inner_obj = as_object(inner, &start, "States")?;
    let kind = state_type(inner_obj, &start)?;
    if kind != "Task" {
        return Err(WorkflowError::UnsupportedType {
            state: start,
            kind: kind.to_owned(),
        });
    }
    let function = resource(inner_obj, &start)?;
    if inner_obj.contains_key("Next") || !is_end(inner_obj, &start)? {
        return Err(bad(format!(
            "its task '{start}' must end the branch with 'End': true"
        )));
    }
    Ok(Instance {
        name: start,
        function,
    })
}

impl Workflow {
    /// Parses a States Language workflow from JSON text, registering it
    /// under `name`.
    ///
    /// # Errors
    /// A [`WorkflowError`] naming the state at fault.
    pub fn from_json_str(name: &str, text: &str) -> Result<Self, WorkflowError> {
        let v: Value =
            serde_json::from_str(text).map_err(|e| WorkflowError::Json(e.to_string()))?;
        Self::from_json(name, &v)
    }

    /// Parses a States Language workflow, registering it under `name`.
    ///
    /// # Errors
    /// A [`WorkflowError`] naming the state at fault.
    pub fn from_json(name: &str, v: &Value) -> Result<Self, WorkflowError> {
        let top = v.as_object().ok_or(WorkflowError::NotAnObject)?;
        let start = match top.get("StartAt") {
            Some(Value::String(s)) => s.clone(),
            _ => return Err(WorkflowError::NoStartAt),
        };
        let states = match top.get("States") {
            Some(Value::Object(m)) => m,
            _ => return Err(WorkflowError::NoStates),
        };
        let descriptive = |key: &str| match top.get(key) {
            Some(Value::String(s)) => Ok(Some(s.clone())),
            None | Some(Value::Null) => Ok(None),
            Some(_) => Err(WorkflowError::BadField {
                state: "(workflow)".to_owned(),
                field: key.to_owned(),
                problem: "must be a string",
            }),
        };
        let comment = descriptive("Comment")?;
        let title = descriptive("Name")?;

        let mut stages = Vec::new();
        let mut visited = BTreeSet::new();
        let mut names = BTreeSet::new();
        let mut from = "StartAt".to_owned();
        let mut current = start;
        loop {
            let Some(state_value) = states.get(&current) else {
                return Err(WorkflowError::UnknownNext {
                    from,
                    target: current,
                });
            };
            if !visited.insert(current.clone()) {
                return Err(WorkflowError::Cycle { state: current });
            }
            let obj = as_object(state_value, &current, "States")?;
            let stage = match state_type(obj, &current)? {
                "Task" => Stage {
                    state: current.clone(),
                    kind: StageKind::Task,
                    instances: vec![Instance {
                        name: current.clone(),
                        function: resource(obj, &current)?,
                    }],
                },
                "Parallel" => {
                    let branches = match obj.get("Branches") {
                        Some(Value::Array(b)) => b,
                        Some(_) => {
                            return Err(WorkflowError::BadField {
                                state: current,
                                field: "Branches".into(),
                                problem: "must be an array",
                            })
                        }
                        None => return Err(WorkflowError::EmptyParallel { state: current }),
                    };
                    if branches.is_empty() {
                        return Err(WorkflowError::EmptyParallel { state: current });
                    }
                    let instances = branches
                        .iter()
                        .enumerate()
                        .map(|(i, b)| parse_branch(&current, i, b))
                        .collect::<Result<Vec<_>, _>>()?;
                    Stage {
                        state: current.clone(),
                        kind: StageKind::Parallel,
                        instances,
                    }
                }
                other => {
                    return Err(WorkflowError::UnsupportedType {
                        state: current,
                        kind: other.to_owned(),
                    })
                }
            };
            for inst in &stage.instances {
                if !names.insert(inst.name.clone()) {
                    return Err(WorkflowError::DuplicateInstance {
                        name: inst.name.clone(),
                        state: current.clone(),
                    });
                }
            }
            stages.push(stage);
            let next = string_field(obj, &current, "Next")?;
            let end = is_end(obj, &current)?;
            match (next, end) {
                (None, true) => break,
                (Some(next), false) => {
                    from = current;
                    current = next;
                }
                (None, false) => return Err(WorkflowError::NoTransition { state: current }),
                (Some(_), true) => return Err(WorkflowError::NextAndEnd { state: current }),
            }
        }
        if let Some(unreached) = states.keys().find(|k| !visited.contains(*k)) {
            return Err(WorkflowError::Unreachable {
                state: unreached.clone(),
            });
        }
        Ok(Workflow {
            name: name.to_owned(),
            comment,
            title,
            stages,
        })
    }

    /// Writes the workflow back to the States Language.
    ///
    /// `Comment` and `Name` are written when present; keys come out sorted,
    /// so the output is deterministic.
    #[must_use]
    pub fn to_json(&self) -> Value {
        let mut top = Map::new();
        if let Some(c) = &self.comment {
            top.insert("Comment".into(), Value::String(c.clone()));
        }
        if let Some(n) = &self.title {
            top.insert("Name".into(), Value::String(n.clone()));
        }
        if let Some(first) = self.stages.first() {
            top.insert("StartAt".into(), Value::String(first.state.clone()));
        }
        let mut states = Map::new();
        for (i, stage) in self.stages.iter().enumerate() {
            let mut obj = match stage.kind {
                StageKind::Task => {
                    let inst = &stage.instances[0];
                    let mut m = Map::new();
                    m.insert("Type".into(), json!("Task"));
                    m.insert("Resource".into(), json!(inst.function));
                    m
                }
                StageKind::Parallel => {
                    let branches: Vec<Value> = stage
                        .instances
                        .iter()
                        .map(|inst| {
                            json!({
                                "StartAt": inst.name,
                                "States": {
                                    inst.name.clone(): {
                                        "Type": "Task",
                                        "Resource": inst.function,
                                        "End": true
                                    }
                                }
                            })
                        })
                        .collect();
                    let mut m = Map::new();
                    m.insert("Type".into(), json!("Parallel"));
                    m.insert("Branches".into(), Value::Array(branches));
                    m
                }
            };
            match self.stages.get(i + 1) {
                Some(next) => obj.insert("Next".into(), json!(next.state)),
                None => obj.insert("End".into(), json!(true)),
            };
            states.insert(stage.state.clone(), Value::Object(obj));
        }
        top.insert("States".into(), Value::Object(states));
        Value::Object(top)
    }

    /// The number of instances of every stage, in stage order.
    #[must_use]
    pub fn stage_sizes(&self) -> Vec<usize> {
        self.stages.iter().map(|s| s.instances.len()).collect()
    }

    /// The largest stage size `P`.
    #[must_use]
    pub fn max_stage_size(&self) -> usize {
        self.stages
            .iter()
            .map(|s| s.instances.len())
            .max()
            .unwrap_or(0)
    }

    /// The number of instances in all stages.
    #[must_use]
    pub fn instance_count(&self) -> usize {
        self.stages.iter().map(|s| s.instances.len()).sum()
    }

    /// Every instance name, mapped to its stage index and function type.
    #[must_use]
    pub fn instance_index(&self) -> BTreeMap<&str, (usize, &str)> {
        let mut idx = BTreeMap::new();
        for (s, stage) in self.stages.iter().enumerate() {
            for inst in &stage.instances {
                idx.insert(inst.name.as_str(), (s, inst.function.as_str()));
            }
        }
        idx
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: Value) -> Result<Workflow, WorkflowError> {
        Workflow::from_json("w", &v)
    }

    fn task(resource: &str, next: Option<&str>) -> Value {
        match next {
            Some(n) => json!({"Type": "Task", "Resource": resource, "Next": n}),
            None => json!({"Type": "Task", "Resource": resource, "End": true}),
        }
    }

    fn branch(name: &str, resource: &str) -> Value {
        json!({"StartAt": name, "States": {name: {"Type": "Task", "Resource": resource, "End": true}}})
    }

    #[test]
    fn parses_a_chain() {
        let w = parse(json!({
            "Comment": "c", "Name": "N", "StartAt": "P",
            "States": {
                "P": {"Type": "Parallel", "Branches": [branch("a", "fa"), branch("b", "fb")], "Next": "T"},
                "T": task("ft", None),
            }
        }))
        .unwrap();
        assert_eq!(w.stage_sizes(), vec![2, 1]);
        assert_eq!(
            w.stages[0].instances[1],
            Instance {
                name: "b".into(),
                function: "fb".into()
            }
        );
        assert_eq!(w.stages[1].instances[0].name, "T");
        assert_eq!(w.comment.as_deref(), Some("c"));
        assert_eq!(w.title.as_deref(), Some("N"));
        let again = Workflow::from_json("w", &w.to_json()).unwrap();
        assert_eq!(again, w);
    }

    #[test]
    fn every_broken_construct_names_its_state() {
        use WorkflowError as E;
        let cases: Vec<(Value, E)> = vec![
            (json!({"States": {}}), E::NoStartAt),
            (json!({"StartAt": "A"}), E::NoStates),
            (
                json!({"StartAt": "A", "States": {}}),
                E::UnknownNext {
                    from: "StartAt".into(),
                    target: "A".into(),
                },
            ),
            (
                json!({"StartAt": "A", "States": {"A": task("f", Some("B"))}}),
                E::UnknownNext {
                    from: "A".into(),
                    target: "B".into(),
                },
            ),
            (
                json!({"StartAt": "A", "States": {"A": task("f", Some("B")), "B": task("g", Some("A"))}}),
                E::Cycle { state: "A".into() },
            ),
            (
                json!({"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "f"}}}),
                E::NoTransition { state: "A".into() },
            ),
            (
                json!({"StartAt": "A", "States": {"A": {"Type": "Task", "End": true}}}),
                E::MissingResource { state: "A".into() },
            ),
            (
                json!({"StartAt": "A", "States": {"A": {"Type": "Parallel", "Branches": [], "End": true}}}),
                E::EmptyParallel { state: "A".into() },
            ),
            (
                json!({"StartAt": "A", "States": {"A": {"Type": "Parallel", "Branches": [branch("x", "f"), branch("x", "g")], "End": true}}}),
                E::DuplicateInstance {
                    name: "x".into(),
                    state: "A".into(),
                },
            ),
            (
                json!({"StartAt": "A", "States": {"A": {"Type": "Parallel", "Branches": [branch("A2", "f")], "Next": "A2"}, "A2": task("g", None)}}),
                E::DuplicateInstance {
                    name: "A2".into(),
                    state: "A2".into(),
                },
            ),
            (
                json!({"StartAt": "A", "States": {"A": task("f", None), "Z": task("g", None)}}),
                E::Unreachable { state: "Z".into() },
            ),
        ];
        for (input, want) in cases {
            assert_eq!(parse(input.clone()).unwrap_err(), want, "input {input}");
        }
        for kind in ["Choice", "Map", "Wait", "Pass"] {
            let err = parse(json!({"StartAt": "A", "States": {"A": {"Type": kind, "End": true}}}))
                .unwrap_err();
            assert_eq!(
                err,
                E::UnsupportedType {
                    state: "A".into(),
                    kind: kind.into()
                }
            );
            assert!(err.to_string().contains("'A'"));
        }
        let two = json!({"StartAt": "x", "States": {
            "x": {"Type": "Task", "Resource": "f", "Next": "y"},
            "y": {"Type": "Task", "Resource": "g", "End": true}}});
        let err = parse(json!({"StartAt": "A", "States": {"A": {"Type": "Parallel", "Branches": [two], "End": true}}})).unwrap_err();
        assert!(
            matches!(err, E::BadBranch { ref state, branch: 0, .. } if state == "A"),
            "{err}"
        );
        assert!(err.to_string().contains("2 states"));
        let err = Workflow::from_json_str("w", "{").unwrap_err();
        assert!(matches!(err, E::Json(_)));
    }
    /// Parses `state` as the only state of a workflow, expecting an error.
    fn lone_state_error(state: Value) -> WorkflowError {
        parse(json!({"StartAt": "A", "States": {"A": state}})).unwrap_err()
    }

    /// Asserts that `err`'s message quotes `state` and (when given) `field`.
    fn assert_names(err: &WorkflowError, state: &str, field: Option<&str>) {
        let text = err.to_string();
        assert!(text.contains(&format!("'{state}'")), "{text}");
        if let Some(f) = field {
            assert!(text.contains(&format!("'{f}'")), "{text}");
        }
    }

    #[test]
    fn top_level_must_be_an_object() {
        for v in [json!([]), json!("A"), json!(null), json!(3)] {
            let err = parse(v.clone()).unwrap_err();
            assert_eq!(err, WorkflowError::NotAnObject, "input {v}");
            assert!(err.to_string().contains("JSON object"), "{err}");
        }
        let err = Workflow::from_json_str("w", "[1, 2]").unwrap_err();
        assert_eq!(err, WorkflowError::NotAnObject);
    }

    #[test]
    fn missing_type_is_a_bad_field() {
        let err = lone_state_error(json!({"Resource": "f", "End": true}));
        assert_eq!(
            err,
            WorkflowError::BadField {
                state: "A".into(),
                field: "Type".into(),
                problem: "is missing"
            }
        );
        assert_names(&err, "A", Some("Type"));
    }

    #[test]
    fn non_string_type_is_a_bad_field() {
        let err = lone_state_error(json!({"Type": 7, "Resource": "f", "End": true}));
        assert_eq!(
            err,
            WorkflowError::BadField {
                state: "A".into(),
                field: "Type".into(),
                problem: "must be a string"
            }
        );
        assert_names(&err, "A", Some("Type"));
        assert!(err.to_string().contains("must be a string"), "{err}");
    }

    #[test]
    fn non_bool_end_is_a_bad_field() {
        let err = lone_state_error(json!({"Type": "Task", "Resource": "f", "End": "true"}));
        assert_eq!(
            err,
            WorkflowError::BadField {
                state: "A".into(),
                field: "End".into(),
                problem: "must be a boolean"
            }
        );
        assert_names(&err, "A", Some("End"));
    }

    #[test]
    fn non_string_next_is_a_bad_field() {
        let err = lone_state_error(json!({"Type": "Task", "Resource": "f", "Next": ["B"]}));
        assert_eq!(
            err,
            WorkflowError::BadField {
                state: "A".into(),
                field: "Next".into(),
                problem: "must be a string"
            }
        );
        assert_names(&err, "A", Some("Next"));
    }

    #[test]
    fn non_array_branches_is_a_bad_field() {
        let err = lone_state_error(
            json!({"Type": "Parallel", "Branches": {"x": branch("x", "f")}, "End": true}),
        );
        assert_eq!(
            err,
            WorkflowError::BadField {
                state: "A".into(),
                field: "Branches".into(),
                problem: "must be an array"
            }
        );
        assert_names(&err, "A", Some("Branches"));
    }

    #[test]
    fn parallel_without_branches_key_is_empty() {
        let err = lone_state_error(json!({"Type": "Parallel", "End": true}));
        assert_eq!(err, WorkflowError::EmptyParallel { state: "A".into() });
        assert_names(&err, "A", None);
        assert!(err.to_string().contains("no branches"), "{err}");
    }

    #[test]
    fn branch_task_without_resource_names_the_branch_state() {
        let no_resource = json!({"StartAt": "x", "States": {"x": {"Type": "Task", "End": true}}});
        let empty_resource =
            json!({"StartAt": "x", "States": {"x": {"Type": "Task", "Resource": "", "End": true}}});
        for bad in [no_resource, empty_resource] {
            let err = lone_state_error(json!({
                "Type": "Parallel", "Branches": [branch("ok", "f"), bad], "End": true
            }));
            assert_eq!(err, WorkflowError::MissingResource { state: "x".into() });
            assert_names(&err, "x", Some("Resource"));
        }
    }

    #[test]
    fn state_with_both_next_and_end_is_refused() {
        let err = parse(json!({"StartAt": "A", "States": {
            "A": {"Type": "Task", "Resource": "f", "Next": "B", "End": true},
            "B": task("g", None),
        }}))
        .unwrap_err();
        assert_eq!(err, WorkflowError::NextAndEnd { state: "A".into() });
        assert_names(&err, "A", Some("Next"));
        assert!(err.to_string().contains("both"), "{err}");
        // `End: false` is the same as no `End`: the chain goes on.
        let w = parse(json!({"StartAt": "A", "States": {
            "A": {"Type": "Task", "Resource": "f", "Next": "B", "End": false},
            "B": task("g", None),
        }}))
        .unwrap();
        assert_eq!(w.stage_sizes(), vec![1, 1]);
    }

    #[test]
    fn state_with_neither_next_nor_end_is_refused() {
        let err = lone_state_error(json!({"Type": "Task", "Resource": "f", "End": false}));
        assert_eq!(err, WorkflowError::NoTransition { state: "A".into() });
        assert_names(&err, "A", Some("Next"));
        assert!(err.to_string().contains("neither"), "{err}");
    }
}
