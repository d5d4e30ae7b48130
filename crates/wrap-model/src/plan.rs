//! Plans: per stage, the groups (wraps) and the instances in each.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::Workflow;

/// One group of a stage: the instances that run as processes in one wrap.
pub type Group = Vec<String>;

/// A plan: one entry per stage, in stage order; each entry is that stage's
/// list of groups, each a list of instance names.
///
/// Serialises exactly in the seed's `wraps` shape:
/// `[[["marketdata", "side"], ["lastpx"]], [["CheckMarginBalance"]]]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Plan {
    /// Stages → groups → instance names.
    pub stages: Vec<Vec<Group>>,
}

/// Why a plan does not fit its workflow. Checks run in the order of the
/// variants; the first failure is reported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    /// The plan has another number of stages than the workflow.
    #[error("plan has {got} stages, workflow '{workflow}' has {want}")]
    StageCount {
        /// The workflow.
        workflow: String,
        /// Stages in the plan.
        got: usize,
        /// Stages in the workflow.
        want: usize,
    },
    /// A stage has no group, or a group has no instance.
    #[error("stage {stage}: group {group} is empty")]
    EmptyGroup {
        /// Stage index.
        stage: usize,
        /// Group index (0 when the stage itself has no group).
        group: usize,
    },
    /// An instance name the workflow does not have.
    #[error("stage {stage}: instance '{name}' is not in workflow '{workflow}'")]
    UnknownInstance {
        /// Stage index.
        stage: usize,
        /// The unknown name.
        name: String,
        /// The workflow.
        workflow: String,
    },
    /// An instance listed in a stage it does not belong to.
    #[error("stage {stage}: instance '{name}' belongs to stage {home}")]
    WrongStage {
        /// Stage index where it is listed.
        stage: usize,
        /// The instance.
        name: String,
        /// The stage it belongs to.
        home: usize,
    },
    /// An instance listed twice.
    #[error("stage {stage}: instance '{name}' is listed more than once")]
    Duplicate {
        /// Stage index.
        stage: usize,
        /// The instance.
        name: String,
    },
    /// An instance of the workflow that the plan leaves out.
    #[error("stage {stage}: instance '{name}' is missing from the plan")]
    Missing {
        /// Stage index.
        stage: usize,
        /// The instance.
        name: String,
    },
}

impl Plan {
    /// A plan from its stages.
    #[must_use]
    pub fn new(stages: Vec<Vec<Group>>) -> Self {
        Plan { stages }
    }

    /// The plan with every stage in one group, in branch order.
    #[must_use]
    pub fn single_wrap(workflow: &Workflow) -> Self {
        Plan::new(
            workflow
                .stages
                .iter()
                .map(|s| vec![s.instances.iter().map(|i| i.name.clone()).collect()])
                .collect(),
        )
    }

    /// The largest number of groups in any stage: the CPUs the plan occupies
    /// at once.
    #[must_use]
    pub fn wrap_count(&self) -> usize {
        self.stages.iter().map(Vec::len).max().unwrap_or(0)
    }

    /// Checks that the plan places every instance of `workflow` exactly once,
    /// in its own stage, in non-empty groups.
    ///
    /// # Errors
    /// The first failure, checking in this order over the whole plan: stage
    /// count, empty group, unknown instance, instance in another stage,
    /// duplicate, missing instance.
    pub fn validate(&self, workflow: &Workflow) -> Result<(), PlanError> {
        if self.stages.len() != workflow.stages.len() {
            return Err(PlanError::StageCount {
                workflow: workflow.name.clone(),
                got: self.stages.len(),
                want: workflow.stages.len(),
            });
        }
        for (s, groups) in self.stages.iter().enumerate() {
            if groups.is_empty() {
                return Err(PlanError::EmptyGroup { stage: s, group: 0 });
            }
            if let Some(g) = groups.iter().position(Vec::is_empty) {
                return Err(PlanError::EmptyGroup { stage: s, group: g });
            }
        }
        let index = workflow.instance_index();
        let names = || {
            self.stages
                .iter()
                .enumerate()
                .flat_map(|(s, groups)| groups.iter().flatten().map(move |n| (s, n)))
        };
        for (s, name) in names() {
            if !index.contains_key(name.as_str()) {
                return Err(PlanError::UnknownInstance {
                    stage: s,
                    name: name.clone(),
                    workflow: workflow.name.clone(),
                });
            }
        }
        for (s, name) in names() {
            let home = index[name.as_str()].0;
            if home != s {
                return Err(PlanError::WrongStage {
                    stage: s,
                    name: name.clone(),
                    home,
                });
            }
        }
        let mut seen = BTreeSet::new();
        for (s, name) in names() {
            if !seen.insert(name.as_str()) {
                return Err(PlanError::Duplicate {
                    stage: s,
                    name: name.clone(),
                });
            }
        }
        for (s, stage) in workflow.stages.iter().enumerate() {
            if let Some(inst) = stage
                .instances
                .iter()
                .find(|i| !seen.contains(i.name.as_str()))
            {
                return Err(PlanError::Missing {
                    stage: s,
                    name: inst.name.clone(),
                });
            }
        }
        Ok(())
    }

    /// Per stage, the number of groups: a compact summary for logs.
    #[must_use]
    pub fn groups_per_stage(&self) -> Vec<usize> {
        self.stages.iter().map(Vec::len).collect()
    }

    /// Per stage and group, the function types of the instances, resolved
    /// through `workflow` (names not in it are skipped; validate first).
    #[must_use]
    pub fn function_types<'w>(&self, workflow: &'w Workflow) -> Vec<Vec<Vec<&'w str>>> {
        let index: BTreeMap<&str, (usize, &str)> = workflow.instance_index();
        self.stages
            .iter()
            .map(|groups| {
                groups
                    .iter()
                    .map(|g| {
                        g.iter()
                            .filter_map(|n| index.get(n.as_str()).map(|e| e.1))
                            .collect()
                    })
                    .collect()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_in_the_seed_shape() {
        let p = Plan::new(vec![
            vec![vec!["a".into(), "b".into()], vec!["c".into()]],
            vec![vec!["d".into()]],
        ]);
        let s = serde_json::to_string(&p).unwrap();
        assert_eq!(s, r#"[[["a","b"],["c"]],[["d"]]]"#);
        assert_eq!(p.wrap_count(), 2);
        assert_eq!(serde_json::from_str::<Plan>(&s).unwrap(), p);
    }
}
