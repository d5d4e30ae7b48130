//! Stage costs over type-count vectors, shared by the search strategies.
//!
//! A group's latency depends only on how many functions of each type it
//! holds, so a search works on count vectors: entry `i` counts the group's
//! instances of the stage's `i`-th type, the stage's types being listed in
//! launch order. Latencies are cached per count vector.

use std::collections::HashMap;

use crate::model::{BoundInstance, Model, SimError, TypeId};
use crate::WorkBudget;

/// Work units gathered before they are charged to the budget at once
/// (fewer atomic operations).
const CHARGE_BATCH: u64 = 1024;

/// A group as a count vector over a stage's types.
pub(crate) type Counts = Vec<u16>;

/// The cost of groups of one stage, cached by count vector.
pub(crate) struct StageCost<'m> {
    model: &'m Model,
    /// The stage's distinct types, in launch order (local index → type).
    types: Vec<TypeId>,
    /// Per instance of the stage, its local type index.
    local: Vec<usize>,
    cache: HashMap<Counts, f64>,
    scratch: Vec<TypeId>,
    budget: Option<&'m WorkBudget>,
    /// Units not yet charged to the budget.
    uncharged: u64,
}

impl<'m> StageCost<'m> {
    /// The cost model of `stage` (its instances in stage order), charging
    /// its work to `budget`: per evaluation one unit plus one per distinct
    /// type (the count vector it hashes), plus the model's charge for cold
    /// simulations.
    pub(crate) fn new(
        model: &'m Model,
        stage: &[BoundInstance],
        budget: Option<&'m WorkBudget>,
    ) -> Self {
        let mut types: Vec<TypeId> = stage.iter().map(|i| i.ty).collect();
        model.sort_types(&mut types);
        types.dedup();
        let local = stage
            .iter()
            .map(|i| types.iter().position(|&t| t == i.ty).unwrap_or(0))
            .collect();
        StageCost {
            model,
            types,
            local,
            cache: HashMap::new(),
            scratch: Vec::new(),
            budget,
            uncharged: 0,
        }
    }

    /// The number of distinct types in the stage.
    pub(crate) fn type_count(&self) -> usize {
        self.types.len()
    }

    /// The local type index of the stage's instance `i`.
    pub(crate) fn local_type(&self, instance: usize) -> usize {
        self.local[instance]
    }

    /// The exec time of local type `t`.
    pub(crate) fn exec_ms(&self, t: usize) -> f64 {
        self.model.exec_ms(self.types[t])
    }

    /// The count vector of a list of the stage's instances.
    pub(crate) fn counts_of(&self, members: &[usize]) -> Counts {
        let mut c = vec![0u16; self.types.len()];
        for &m in members {
            c[self.local[m]] += 1;
        }
        c
    }

    /// The process latency of a group (no remote invocation, never `E(f)`).
    pub(crate) fn process(&mut self, counts: &[u16]) -> Result<f64, SimError> {
        if let Some(b) = self.budget {
            // Looking a count vector up hashes all of it.
            self.uncharged += 1 + self.types.len() as u64;
            if self.uncharged >= CHARGE_BATCH {
                b.charge(std::mem::take(&mut self.uncharged))?;
            }
        }
        if let Some(&v) = self.cache.get(counts) {
            return Ok(v);
        }
        self.scratch.clear();
        for (t, &n) in counts.iter().enumerate() {
            for _ in 0..n {
                self.scratch.push(self.types[t]);
            }
        }
        let v = self
            .model
            .process_latency_within(&self.scratch, self.budget)?
            .get();
        self.cache.insert(counts.to_vec(), v);
        Ok(v)
    }

    /// A group's latency within a stage of `k` groups, the entry group
    /// paying `(k - 1) * remote_invoke` when `remote`: the model's group
    /// latency ([`Model::group_latency`]) over a count vector.
    pub(crate) fn group(
        &mut self,
        counts: &[u16],
        k: usize,
        is_entry: bool,
        remote: bool,
    ) -> Result<f64, SimError> {
        let size: u32 = counts.iter().map(|&c| u32::from(c)).sum();
        if k == 1 && size == 1 {
            let t = counts.iter().position(|&c| c == 1).unwrap_or(0);
            return Ok(self.exec_ms(t));
        }
        let mut l = self.process(counts)?;
        if is_entry && remote && k > 1 {
            l += self.model.params().remote_invoke.get() * (k - 1) as f64;
        }
        Ok(l)
    }
}
