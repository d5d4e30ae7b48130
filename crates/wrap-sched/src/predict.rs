//! Predicting a given plan: its latency with a breakdown per stage and group.

use serde::Serialize;
use wrap_model::{Ms, Plan, PlanError, Workflow};

use crate::model::{BoundInstance, BoundWorkflow, Model, SimError, TypeId, UnknownFunction};

/// One group's predicted latency and its instances in launch order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupPrediction {
    /// The group's latency, including remote-invocation time for the entry group.
    pub latency_ms: Ms,
    /// Instance names in launch order.
    pub functions: Vec<String>,
}

/// One stage's predicted latency.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StagePrediction {
    /// The stage's latency: the largest of its groups'.
    pub latency_ms: Ms,
    /// Index of the group that sets it (the first on a tie).
    pub critical_group: usize,
    /// Every group, in the plan's order.
    pub groups: Vec<GroupPrediction>,
}

/// A plan's predicted latency with its breakdown: the predict result of
/// `spec/json.md`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Prediction {
    /// The workflow's name.
    pub workflow: String,
    /// The plan's latency: the sum of its stage latencies.
    pub latency_ms: Ms,
    /// The largest number of groups in any stage.
    pub wrap_count: usize,
    /// Per stage, in stage order.
    pub stages: Vec<StagePrediction>,
}

impl Prediction {
    /// The predicted plan, each group in launch order.
    #[must_use]
    pub fn plan(&self) -> Plan {
        Plan::new(
            self.stages
                .iter()
                .map(|s| s.groups.iter().map(|g| g.functions.clone()).collect())
                .collect(),
        )
    }
}

/// Why a plan cannot be predicted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PredictError {
    /// The plan does not fit the workflow.
    #[error("invalid plan: {0}")]
    InvalidPlan(#[from] PlanError),
    /// A function type the profile set does not know.
    #[error(transparent)]
    UnknownFunction(#[from] UnknownFunction),
    /// The simulation did not finish.
    #[error(transparent)]
    Simulation(#[from] SimError),
}

/// Puts instances into launch order and returns their types in that order.
pub(crate) fn launch_order(model: &Model, group: &mut [&BoundInstance]) -> Vec<TypeId> {
    group.sort_by(|a, b| model.launch_cmp(a, b));
    group.iter().map(|i| i.ty).collect()
}

/// Predicts `plan` for `workflow`. Groups may be listed in any order: each is
/// predicted (and reported) in launch order. With `entry_invokes_remote`
/// the first group of every stage of several groups pays `remote_invoke` for
/// each other group.
///
/// # Errors
/// An invalid plan, an unknown function type, or a simulation that does not
/// finish.
pub fn predict(
    model: &Model,
    workflow: &Workflow,
    plan: &Plan,
    entry_invokes_remote: bool,
) -> Result<Prediction, PredictError> {
    plan.validate(workflow)?;
    let bound = model.bind(workflow)?;
    predict_bound(model, &bound, plan, entry_invokes_remote)
}

/// [`predict`] for a workflow already bound to `model`, with a plan already
/// validated against it.
pub(crate) fn predict_bound(
    model: &Model,
    bound: &BoundWorkflow,
    plan: &Plan,
    entry_invokes_remote: bool,
) -> Result<Prediction, PredictError> {
    let mut stages = Vec::with_capacity(plan.stages.len());
    let mut total = Ms::ZERO;
    for (groups, instances) in plan.stages.iter().zip(&bound.stages) {
        let k = groups.len();
        let mut out = Vec::with_capacity(k);
        for (gi, names) in groups.iter().enumerate() {
            let mut members: Vec<&BoundInstance> = names
                .iter()
                .filter_map(|n| instances.iter().find(|i| &i.name == n))
                .collect();
            let types = launch_order(model, &mut members);
            let latency = model.group_latency(&types, k, gi == 0, entry_invokes_remote)?;
            out.push(GroupPrediction {
                latency_ms: latency,
                functions: members.iter().map(|i| i.name.clone()).collect(),
            });
        }
        let mut critical = 0;
        for (i, g) in out.iter().enumerate() {
            if g.latency_ms > out[critical].latency_ms {
                critical = i;
            }
        }
        let latency = out.get(critical).map_or(Ms::ZERO, |g| g.latency_ms);
        total += latency;
        stages.push(StagePrediction {
            latency_ms: latency,
            critical_group: critical,
            groups: out,
        });
    }
    Ok(Prediction {
        workflow: bound.name.clone(),
        latency_ms: total,
        wrap_count: plan.wrap_count(),
        stages,
    })
}
