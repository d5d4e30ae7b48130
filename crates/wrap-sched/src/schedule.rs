//! Scheduling: the plan with the fewest wraps whose latency meets an SLO.

use std::fmt;
use std::str::FromStr;

use std::sync::Arc;

use crate::WorkBudget;
use serde::{Deserialize, Serialize};
use wrap_model::{Ms, Plan, Slo, Workflow};

use crate::model::{BoundWorkflow, Model, SimError, UnknownFunction};
use crate::predict::{predict_bound, PredictError};
use crate::search::chiron_kl::{self, StagePartition};

/// A search strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Strategy {
    /// Our own search; never needs more wraps than `chiron-kl`.
    #[default]
    Default,
    /// The published Chiron MPK-L search, made deterministic.
    ChironKl,
}

impl Strategy {
    /// Every strategy, in documentation order.
    pub const ALL: [Strategy; 2] = [Strategy::Default, Strategy::ChironKl];

    /// The strategy's name as the API spells it.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Strategy::Default => "default",
            Strategy::ChironKl => "chiron-kl",
        }
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An unknown strategy name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown strategy '{0}': use 'default' or 'chiron-kl'")]
pub struct UnknownStrategy(pub String);

impl FromStr for Strategy {
    type Err = UnknownStrategy;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Strategy::ALL
            .into_iter()
            .find(|st| st.name() == s)
            .ok_or_else(|| UnknownStrategy(s.to_owned()))
    }
}

/// What to search with.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ScheduleOptions {
    /// The strategy.
    pub strategy: Strategy,
    /// The most wraps to consider; `None`: up to the largest stage size.
    pub max_wraps: Option<usize>,
    /// The work the search may do; `None`: unbounded. Shared, so the
    /// caller can read what was used.
    pub budget: Option<Arc<WorkBudget>>,
}

impl ScheduleOptions {
    /// Options with `strategy`, no wrap cap and no budget.
    #[must_use]
    pub fn new(strategy: Strategy) -> Self {
        ScheduleOptions {
            strategy,
            max_wraps: None,
            budget: None,
        }
    }

    /// The same options with a wrap cap.
    #[must_use]
    pub fn with_max_wraps(mut self, max_wraps: Option<usize>) -> Self {
        self.max_wraps = max_wraps;
        self
    }

    /// The same options with a work budget.
    #[must_use]
    pub fn with_budget(mut self, budget: Arc<WorkBudget>) -> Self {
        self.budget = Some(budget);
        self
    }
}

/// A plan with its predicted latency and wrap count.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanChoice {
    /// The plan's predicted latency.
    pub latency_ms: Ms,
    /// The plan's wrap count.
    pub wrap_count: usize,
    /// The plan, each group in launch order.
    pub wraps: Plan,
}

/// A successful schedule: the schedule result of `spec/json.md`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Schedule {
    /// The workflow's name.
    pub workflow: String,
    /// The strategy that found it.
    pub strategy: Strategy,
    /// The SLO asked for.
    pub slo_ms: Ms,
    /// The plan's predicted latency, below the SLO.
    pub latency_ms: Ms,
    /// The plan's wrap count.
    pub wrap_count: usize,
    /// The plan, each group in launch order.
    pub wraps: Plan,
}

/// Why no schedule was returned.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ScheduleError {
    /// A function type the profile set does not know.
    #[error(transparent)]
    UnknownFunction(#[from] UnknownFunction),
    /// No plan within the search meets the SLO; `best` is the best found.
    #[error("no plan of workflow '{workflow}' meets the SLO of {slo_ms}: the best found predicts {} with {} wraps", best.latency_ms, best.wrap_count)]
    Unreachable {
        /// The workflow.
        workflow: String,
        /// The SLO asked for.
        slo_ms: Ms,
        /// The best plan found.
        best: Box<PlanChoice>,
    },
    /// The simulation did not finish.
    #[error(transparent)]
    Simulation(#[from] SimError),
}

impl From<PredictError> for ScheduleError {
    fn from(e: PredictError) -> Self {
        match e {
            PredictError::UnknownFunction(u) => ScheduleError::UnknownFunction(u),
            PredictError::Simulation(s) => ScheduleError::Simulation(s),
            // Plans built by the search always validate.
            PredictError::InvalidPlan(p) => {
                ScheduleError::Simulation(SimError::Internal(p.to_string()))
            }
        }
    }
}

/// Turns per-stage partitions (instance indices) into a plan with each
/// group in launch order, and predicts it (entry groups invoke remotely).
pub(crate) fn choice_from_partitions(
    model: &Model,
    bound: &BoundWorkflow,
    stages: &[StagePartition],
) -> Result<PlanChoice, ScheduleError> {
    let plan = Plan::new(
        stages
            .iter()
            .zip(&bound.stages)
            .map(|(p, inst)| {
                p.groups
                    .iter()
                    .map(|g| g.iter().map(|&i| inst[i].name.clone()).collect())
                    .collect()
            })
            .collect(),
    );
    let prediction = predict_bound(model, bound, &plan, true)?;
    Ok(PlanChoice {
        latency_ms: prediction.latency_ms,
        wrap_count: prediction.wrap_count,
        wraps: prediction.plan(),
    })
}

/// Finds the plan of `workflow` with the fewest wraps whose predicted
/// latency is strictly below `slo`.
///
/// ```
/// use std::sync::Arc;
/// # use std::collections::BTreeMap;
/// # use wrap_model::{ModelParams, Ms, Profile, ProfileSet};
/// use wrap_model::{Slo, Workflow};
/// use wrap_sched::{schedule, Model, ScheduleError, ScheduleOptions, Strategy};
///
/// # let mut profiles = BTreeMap::new();
/// # profiles.insert("work".to_string(), Profile::compute_only(Ms(30.0)));
/// # let set = ProfileSet::new("mpk-l", ModelParams::MPK_L, profiles)?;
/// let model = Model::new(Arc::new(set));
/// let workflow = Workflow::from_json_str("pair", r#"{"StartAt": "P", "States": {"P": {
///   "Type": "Parallel", "End": true, "Branches": [
///   {"StartAt": "a", "States": {"a": {"Type": "Task", "Resource": "work", "End": true}}},
///   {"StartAt": "b", "States": {"b": {"Type": "Task", "Resource": "work", "End": true}}}]}}}"#)?;
/// let s = schedule(&model, &workflow, Slo::new(500.0)?, &ScheduleOptions::default())?;
/// assert_eq!(s.wrap_count, 1);
/// match schedule(&model, &workflow, Slo::new(1.0)?, &ScheduleOptions::new(Strategy::ChironKl)) {
///     Err(ScheduleError::Unreachable { best, .. }) => assert!(best.latency_ms.get() > 1.0),
///     other => panic!("{other:?}"),
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`ScheduleError::Unreachable`] with the best plan found when no plan
/// meets the SLO; an unknown function type; a simulation that does not
/// finish.
pub fn schedule(
    model: &Model,
    workflow: &Workflow,
    slo: Slo,
    options: &ScheduleOptions,
) -> Result<Schedule, ScheduleError> {
    if options.strategy == Strategy::Default {
        return crate::frontier::schedule_default(workflow, slo, options.max_wraps, |n| {
            crate::frontier::frontier_within(model, workflow, n, options.budget.as_deref())
                .map(std::sync::Arc::new)
        });
    }
    let bound = model.bind(workflow)?;
    let max_wraps = options.max_wraps.unwrap_or(usize::MAX);
    let outcome = chiron_kl::search(
        model,
        &bound,
        slo.ms().get(),
        max_wraps,
        options.budget.as_deref(),
    )?;
    let choice = choice_from_partitions(model, &bound, &outcome.stages)?;
    if outcome.met && slo.is_met_by(choice.latency_ms) {
        Ok(Schedule {
            workflow: workflow.name.clone(),
            strategy: options.strategy,
            slo_ms: slo.ms(),
            latency_ms: choice.latency_ms,
            wrap_count: choice.wrap_count,
            wraps: choice.wraps,
        })
    } else {
        Err(ScheduleError::Unreachable {
            workflow: workflow.name.clone(),
            slo_ms: slo.ms(),
            best: Box::new(choice),
        })
    }
}
