//! The default strategy (work in progress: currently chiron-kl per k,
//! made monotone).

use crate::model::{BoundWorkflow, Model};
use crate::schedule::{choice_from_partitions, PlanChoice, ScheduleError};
use crate::search::chiron_kl;
use crate::search::cost::StageCost;

/// For every wrap cap `1..=cap`, the best plan found within it.
pub(crate) fn frontier(
    model: &Model,
    bound: &BoundWorkflow,
    cap: usize,
) -> Result<Vec<PlanChoice>, ScheduleError> {
    let mut costs: Vec<StageCost<'_>> = bound
        .stages
        .iter()
        .map(|s| StageCost::new(model, s))
        .collect();
    let mut out: Vec<PlanChoice> = Vec::with_capacity(cap);
    for k in 1..=cap {
        let found = chiron_kl::search_at(model, bound, &mut costs, k)?;
        let c = choice_from_partitions(model, bound, &found)?;
        match out.last() {
            Some(prev) if prev.latency_ms <= c.latency_ms => out.push(prev.clone()),
            _ => out.push(c),
        }
    }
    Ok(out)
}
