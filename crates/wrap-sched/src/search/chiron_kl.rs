//! The published Chiron MPK-L search (`chiron-kl`), made deterministic.
//!
//! Follows `mpk-l-scheduler.md` §2: the single-wrap plan first, then for
//! `k = first_wrap_count ..= P` a Kernighan–Lin style partition of every
//! large stage into `min(k, size)` groups, keeping per stage the best
//! partition seen, until the plan's latency is below the SLO.
//!
//! # Complexity
//! Per pair of groups a pass takes `O(|a| + |b|)` steps; each step evaluates
//! one candidate per distinct pair of types (not per pair of instances),
//! cached by count vector, so the cost is dominated by the number of
//! distinct count vectors simulated.

use crate::model::{BoundWorkflow, Model, SimError};
use crate::search::cost::{Counts, StageCost};

/// One stage's partition: groups of instance indices (into the stage), each
/// in slot order, with the stage's latency.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StagePartition {
    pub(crate) groups: Vec<Vec<usize>>,
    pub(crate) latency: f64,
}

/// The result of the whole search.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct KlOutcome {
    /// Per stage, the kept partition.
    pub(crate) stages: Vec<StagePartition>,
    /// Whether the plan meets the SLO.
    pub(crate) met: bool,
}

#[derive(Debug, Clone, Copy)]
enum Step {
    Swap { x: usize, y: usize },
    AToB { x: usize },
    BToA { y: usize },
}

struct Pair<'c, 'm> {
    cost: &'c mut StageCost<'m>,
    n: usize,
    a: usize,
    b: usize,
    others: f64,
}

impl Pair<'_, '_> {
    fn lat(&mut self, g: usize, counts: &[u16]) -> Result<f64, SimError> {
        self.cost.group(counts, self.n, g == 0, true)
    }
}

fn apply(
    groups: &mut [Vec<usize>],
    counts: &mut [Counts],
    cost: &StageCost<'_>,
    a: usize,
    b: usize,
    step: Step,
) {
    match step {
        Step::Swap { x, y } => {
            let ix = groups[a].iter().position(|&m| m == x).unwrap_or(0);
            let iy = groups[b].iter().position(|&m| m == y).unwrap_or(0);
            groups[a][ix] = y;
            groups[b][iy] = x;
            let (tx, ty) = (cost.local_type(x), cost.local_type(y));
            counts[a][tx] -= 1;
            counts[a][ty] += 1;
            counts[b][ty] -= 1;
            counts[b][tx] += 1;
        }
        Step::AToB { x } => {
            groups[a].retain(|&m| m != x);
            groups[b].push(x);
            let tx = cost.local_type(x);
            counts[a][tx] -= 1;
            counts[b][tx] += 1;
        }
        Step::BToA { y } => {
            groups[b].retain(|&m| m != y);
            groups[a].push(y);
            let ty = cost.local_type(y);
            counts[b][ty] -= 1;
            counts[a][ty] += 1;
        }
    }
}

/// The first unlocked member of each type, in slot order.
fn representatives(group: &[usize], locked: &[bool], cost: &StageCost<'_>) -> Vec<usize> {
    let mut seen = vec![false; cost.type_count()];
    let mut out = Vec::new();
    for &m in group {
        if locked[m] {
            continue;
        }
        let t = cost.local_type(m);
        if !seen[t] {
            seen[t] = true;
            out.push(m);
        }
    }
    out
}

/// Partitions a stage of `size` instances into `n` groups, Kernighan–Lin
/// style, with the stage latency (remote flag 1) as the cost.
pub(crate) fn partition(
    cost: &mut StageCost<'_>,
    size: usize,
    n: usize,
) -> Result<StagePartition, SimError> {
    let mut groups: Vec<Vec<usize>> = vec![Vec::new(); n];
    for i in 0..size {
        groups[i % n].push(i);
    }
    let mut counts: Vec<Counts> = groups.iter().map(|g| cost.counts_of(g)).collect();
    let mut lat: Vec<f64> = Vec::with_capacity(n);
    for (g, c) in counts.iter().enumerate() {
        lat.push(cost.group(c, n, g == 0, true)?);
    }
    let mut locked = vec![false; size];
    for a in 0..n {
        for b in a + 1..n {
            let others = lat
                .iter()
                .enumerate()
                .filter(|&(g, _)| g != a && g != b)
                .map(|(_, &l)| l)
                .fold(f64::NEG_INFINITY, f64::max);
            loop {
                let start = others.max(lat[a]).max(lat[b]);
                let snapshot = (
                    groups[a].clone(),
                    groups[b].clone(),
                    counts[a].clone(),
                    counts[b].clone(),
                    lat[a],
                    lat[b],
                );
                let mut steps: Vec<(Step, f64)> = Vec::new();
                for &m in groups[a].iter().chain(&groups[b]) {
                    locked[m] = false;
                }
                let mut pair = Pair {
                    cost,
                    n,
                    a,
                    b,
                    others,
                };
                loop {
                    let ra = representatives(&groups[a], &locked, pair.cost);
                    let rb = representatives(&groups[b], &locked, pair.cost);
                    let mut best: Option<(Step, f64, f64, f64)> = None;
                    let mut consider = |step: Step,
                                        ca: Counts,
                                        cb: Counts,
                                        pair: &mut Pair<'_, '_>|
                     -> Result<(), SimError> {
                        let la = pair.lat(pair.a, &ca)?;
                        let lb = pair.lat(pair.b, &cb)?;
                        let c = pair.others.max(la).max(lb);
                        if best.is_none_or(|(_, bc, _, _)| c < bc) {
                            best = Some((step, c, la, lb));
                        }
                        Ok(())
                    };
                    if !ra.is_empty() && !rb.is_empty() {
                        for &x in &ra {
                            for &y in &rb {
                                let (tx, ty) = (pair.cost.local_type(x), pair.cost.local_type(y));
                                let mut ca = counts[a].clone();
                                let mut cb = counts[b].clone();
                                ca[tx] -= 1;
                                ca[ty] += 1;
                                cb[ty] -= 1;
                                cb[tx] += 1;
                                consider(Step::Swap { x, y }, ca, cb, &mut pair)?;
                            }
                        }
                    } else if !ra.is_empty() {
                        for &x in &ra {
                            let tx = pair.cost.local_type(x);
                            let mut ca = counts[a].clone();
                            let mut cb = counts[b].clone();
                            ca[tx] -= 1;
                            cb[tx] += 1;
                            consider(Step::AToB { x }, ca, cb, &mut pair)?;
                        }
                    } else if !rb.is_empty() {
                        for &y in &rb {
                            let ty = pair.cost.local_type(y);
                            let mut ca = counts[a].clone();
                            let mut cb = counts[b].clone();
                            cb[ty] -= 1;
                            ca[ty] += 1;
                            consider(Step::BToA { y }, ca, cb, &mut pair)?;
                        }
                    }
                    let Some((step, c, la, lb)) = best else { break };
                    apply(&mut groups, &mut counts, pair.cost, a, b, step);
                    match step {
                        Step::Swap { x, y } => {
                            locked[x] = true;
                            locked[y] = true;
                        }
                        Step::AToB { x } => locked[x] = true,
                        Step::BToA { y } => locked[y] = true,
                    }
                    lat[a] = la;
                    lat[b] = lb;
                    steps.push((step, c));
                }
                let best_step =
                    steps
                        .iter()
                        .enumerate()
                        .fold(None::<(usize, f64)>, |acc, (i, &(_, c))| match acc {
                            Some((_, bc)) if bc <= c => acc,
                            _ => Some((i, c)),
                        });
                (groups[a], groups[b], counts[a], counts[b], lat[a], lat[b]) = snapshot;
                match best_step {
                    Some((i, c)) if c < start => {
                        for &(step, _) in &steps[..=i] {
                            apply(&mut groups, &mut counts, cost, a, b, step);
                        }
                        lat[a] = cost.group(&counts[a], n, a == 0, true)?;
                        lat[b] = cost.group(&counts[b], n, b == 0, true)?;
                    }
                    _ => break,
                }
            }
        }
    }
    let latency = lat.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Ok(StagePartition { groups, latency })
}

/// The single-group partition of a stage, with its latency (remote flag 0).
pub(crate) fn single(cost: &mut StageCost<'_>, size: usize) -> Result<StagePartition, SimError> {
    let members: Vec<usize> = (0..size).collect();
    let c = cost.counts_of(&members);
    let latency = cost.group(&c, 1, true, false)?;
    Ok(StagePartition {
        groups: vec![members],
        latency,
    })
}

/// The per-stage results of the search at wrap count `k` alone: every stage
/// of several instances partitioned into `min(k, size)` groups, single
/// instances left alone.
pub(crate) fn search_at(
    bound: &BoundWorkflow,
    costs: &mut [StageCost<'_>],
    k: usize,
) -> Result<Vec<StagePartition>, SimError> {
    bound
        .stages
        .iter()
        .zip(costs.iter_mut())
        .map(|(stage, cost)| {
            if stage.len() > 1 {
                partition(cost, stage.len(), k.min(stage.len()))
            } else {
                single(cost, stage.len())
            }
        })
        .collect()
}

/// Runs the whole published search against `slo_ms`, trying wrap counts up
/// to `max_wraps` (at most the largest stage size), within `budget`.
pub(crate) fn search(
    model: &Model,
    bound: &BoundWorkflow,
    slo_ms: f64,
    max_wraps: usize,
    budget: Option<&crate::WorkBudget>,
) -> Result<KlOutcome, SimError> {
    let mut costs: Vec<StageCost<'_>> = bound
        .stages
        .iter()
        .map(|s| StageCost::new(model, s, budget))
        .collect();
    let mut kept: Vec<StagePartition> = bound
        .stages
        .iter()
        .zip(costs.iter_mut())
        .map(|(s, c)| single(c, s.len()))
        .collect::<Result<_, _>>()?;
    let total = |kept: &[StagePartition]| kept.iter().map(|p| p.latency).sum::<f64>();
    if total(&kept) < slo_ms {
        return Ok(KlOutcome {
            stages: kept,
            met: true,
        });
    }
    let p = bound.max_stage_size();
    let last = p.min(max_wraps);
    for k in model.params().first_wrap_count.max(1)..=last {
        let found = search_at(bound, &mut costs, k)?;
        for (keep, new) in kept.iter_mut().zip(found) {
            if new.latency < keep.latency {
                *keep = new;
            }
        }
        if total(&kept) < slo_ms {
            return Ok(KlOutcome {
                stages: kept,
                met: true,
            });
        }
    }
    Ok(KlOutcome {
        stages: kept,
        met: false,
    })
}

/// What the published search reaches at one wrap count `k` on its own:
/// the sum of the new per-stage results (the figure the published frontier
/// lists), and the plan those results make.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchAtK {
    /// The wrap count searched.
    pub k: usize,
    /// The sum of the per-stage latencies the search reached at `k`.
    pub latency_ms: wrap_model::Ms,
    /// The plan of those partitions, each group in launch order.
    pub plan: crate::PlanChoice,
}

/// Runs only the step of the published search at wrap count `k` (every
/// stage of several instances partitioned into `min(k, size)` groups) and
/// reports what it reached, for comparison with the published frontier.
///
/// # Errors
/// An unknown function type or a simulation that does not finish.
pub fn search_at_k(
    model: &Model,
    workflow: &wrap_model::Workflow,
    k: usize,
) -> Result<SearchAtK, crate::ScheduleError> {
    let bound = model.bind(workflow)?;
    let mut costs: Vec<StageCost<'_>> = bound
        .stages
        .iter()
        .map(|s| StageCost::new(model, s, None))
        .collect();
    let found = search_at(&bound, &mut costs, k.max(1))?;
    let latency = found.iter().map(|p| p.latency).sum::<f64>();
    let plan = crate::schedule::choice_from_partitions(model, &bound, &found)?;
    Ok(SearchAtK {
        k,
        latency_ms: wrap_model::Ms(latency),
        plan,
    })
}
