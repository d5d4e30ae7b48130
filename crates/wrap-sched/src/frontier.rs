//! The frontier: for every wrap cap `1..=N`, the best plan within it, and a
//! thread-safe [`Scheduler`] that caches frontiers per workflow.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use wrap_model::{Ms, Plan, Slo, Workflow};

use crate::model::Model;
use crate::schedule::{schedule, PlanChoice, Schedule, ScheduleError, ScheduleOptions, Strategy};
use crate::search::default as default_search;
use crate::WorkBudget;

/// The default number of wrap caps a frontier lists.
pub const DEFAULT_FRONTIER_WRAPS: usize = 20;

/// One entry of a frontier.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FrontierEntry {
    /// The wrap cap of this entry.
    pub max_wraps: usize,
    /// The plan's wrap count (at most `max_wraps`).
    pub wrap_count: usize,
    /// The plan's predicted latency; never rises down the frontier.
    pub latency_ms: Ms,
    /// The plan, each group in launch order.
    pub wraps: Plan,
}

/// The frontier result of `spec/json.md`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Frontier {
    /// The workflow's name.
    pub workflow: String,
    /// One entry per wrap cap, from 1.
    pub frontier: Vec<FrontierEntry>,
}

impl Frontier {
    /// The first entry whose latency meets `slo`: the fewest wraps.
    #[must_use]
    pub fn first_meeting(&self, slo: Slo) -> Option<&FrontierEntry> {
        self.frontier.iter().find(|e| slo.is_met_by(e.latency_ms))
    }
}

/// The default strategy's frontier of `workflow` for wrap caps
/// `1..=max_wraps` (capped by the largest stage size; at least 1).
///
/// # Errors
/// An unknown function type or a simulation that does not finish.
pub fn frontier(
    model: &Model,
    workflow: &Workflow,
    max_wraps: usize,
) -> Result<Frontier, ScheduleError> {
    frontier_within(model, workflow, max_wraps, None)
}

/// [`frontier`] within a [`WorkBudget`] (none: unbounded).
///
/// # Errors
/// As [`frontier`], and [`SimError::WorkLimit`](crate::SimError::WorkLimit)
/// (as [`ScheduleError::Simulation`]) when the budget runs out.
pub fn frontier_within(
    model: &Model,
    workflow: &Workflow,
    max_wraps: usize,
    budget: Option<&WorkBudget>,
) -> Result<Frontier, ScheduleError> {
    let bound = model.bind(workflow)?;
    let cap = max_wraps.clamp(1, bound.max_stage_size().max(1));
    let entries = default_search::frontier(model, &bound, cap, budget)?;
    Ok(Frontier {
        workflow: workflow.name.clone(),
        frontier: entries
            .into_iter()
            .enumerate()
            .map(|(i, c)| FrontierEntry {
                max_wraps: i + 1,
                wrap_count: c.wrap_count,
                latency_ms: c.latency_ms,
                wraps: c.wraps,
            })
            .collect(),
    })
}

/// A model plus a cache of default-strategy frontiers, one per workflow
/// (keyed by the workflow's full definition). Thread-safe; share it in an
/// [`Arc`].
///
/// An SLO request with the default strategy is answered from the cached
/// frontier when it covers the SLO; a request that needs more wraps than
/// the cached frontier holds extends it.
#[derive(Debug)]
pub struct Scheduler {
    model: Arc<Model>,
    frontiers: Mutex<HashMap<String, Arc<Frontier>>>,
}

impl Scheduler {
    /// A scheduler over `model` with an empty cache.
    #[must_use]
    pub fn new(model: Arc<Model>) -> Self {
        Scheduler {
            model,
            frontiers: Mutex::new(HashMap::new()),
        }
    }

    /// The model.
    #[must_use]
    pub fn model(&self) -> &Arc<Model> {
        &self.model
    }

    fn key(workflow: &Workflow) -> String {
        format!("{}\u{0}{}", workflow.name, workflow.to_json())
    }

    fn cached(&self, key: &str) -> Option<Arc<Frontier>> {
        self.frontiers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(key)
            .cloned()
    }

    /// How many wrap caps the cached frontier of `workflow` covers, if any.
    #[must_use]
    pub fn cached_wraps(&self, workflow: &Workflow) -> Option<usize> {
        self.cached(&Self::key(workflow)).map(|f| f.frontier.len())
    }

    /// The default strategy's frontier for caps `1..=max_wraps` (capped by
    /// the largest stage), from the cache when it is long enough.
    ///
    /// # Errors
    /// As [`frontier`].
    pub fn frontier(
        &self,
        workflow: &Workflow,
        max_wraps: usize,
    ) -> Result<Arc<Frontier>, ScheduleError> {
        self.frontier_within(workflow, max_wraps, None)
    }

    /// [`Scheduler::frontier`] within a [`WorkBudget`] for the part not
    /// already cached (none: unbounded). A search that runs out of budget
    /// caches nothing.
    ///
    /// # Errors
    /// As [`Scheduler::frontier`], and
    /// [`SimError::WorkLimit`](crate::SimError::WorkLimit) when the budget
    /// runs out.
    pub fn frontier_within(
        &self,
        workflow: &Workflow,
        max_wraps: usize,
        budget: Option<&WorkBudget>,
    ) -> Result<Arc<Frontier>, ScheduleError> {
        let key = Self::key(workflow);
        let want = max_wraps.clamp(1, workflow.max_stage_size().max(1));
        if let Some(f) = self.cached(&key) {
            if f.frontier.len() >= want {
                if f.frontier.len() == want {
                    return Ok(f);
                }
                return Ok(Arc::new(Frontier {
                    workflow: f.workflow.clone(),
                    frontier: f.frontier[..want].to_vec(),
                }));
            }
        }
        let f = Arc::new(frontier_within(&self.model, workflow, want, budget)?);
        let mut cache = self
            .frontiers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let longer = cache
            .get(&key)
            .is_some_and(|c| c.frontier.len() >= f.frontier.len());
        if !longer {
            cache.insert(key, Arc::clone(&f));
        }
        Ok(f)
    }

    /// Schedules `workflow` under `slo`. The default strategy answers from
    /// the frontier (cached, extended as needed: first to
    /// [`DEFAULT_FRONTIER_WRAPS`], then to the cap or the largest stage);
    /// `chiron-kl` runs the published search.
    ///
    /// # Errors
    /// As [`schedule`].
    pub fn schedule(
        &self,
        workflow: &Workflow,
        slo: Slo,
        options: &ScheduleOptions,
    ) -> Result<Schedule, ScheduleError> {
        if options.strategy != Strategy::Default {
            return schedule(&self.model, workflow, slo, options);
        }
        schedule_default(workflow, slo, options.max_wraps, |n| {
            self.frontier_within(workflow, n, options.budget.as_deref())
        })
    }
}

/// The default strategy's answer from a frontier source: the frontier to
/// [`DEFAULT_FRONTIER_WRAPS`] first (or the cap, if lower), extended to the
/// cap (or the largest stage) when no entry meets the SLO.
pub(crate) fn schedule_default(
    workflow: &Workflow,
    slo: Slo,
    max_wraps: Option<usize>,
    mut frontier_to: impl FnMut(usize) -> Result<Arc<Frontier>, ScheduleError>,
) -> Result<Schedule, ScheduleError> {
    let p = workflow.max_stage_size().max(1);
    let cap = max_wraps.unwrap_or(p).clamp(1, p);
    let mut f = frontier_to(cap.min(DEFAULT_FRONTIER_WRAPS))?;
    if f.first_meeting(slo).is_none() && f.frontier.len() < cap {
        f = frontier_to(cap)?;
    }
    if let Some(e) = f.first_meeting(slo) {
        return Ok(Schedule {
            workflow: workflow.name.clone(),
            strategy: Strategy::Default,
            slo_ms: slo.ms(),
            latency_ms: e.latency_ms,
            wrap_count: e.wrap_count,
            wraps: e.wraps.clone(),
        });
    }
    let best = f.frontier.last().map(|e| PlanChoice {
        latency_ms: e.latency_ms,
        wrap_count: e.wrap_count,
        wraps: e.wraps.clone(),
    });
    match best {
        Some(best) => Err(ScheduleError::Unreachable {
            workflow: workflow.name.clone(),
            slo_ms: slo.ms(),
            best: Box::new(best),
        }),
        None => Err(ScheduleError::Simulation(crate::SimError::Internal(
            "empty frontier".into(),
        ))),
    }
}
