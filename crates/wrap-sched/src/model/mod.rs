//! The MPK-L latency model: what a plan costs (`docs/model.md`).
//!
//! [`Model`] holds one profile set's effective profiles and a memo of thread
//! simulations shared safely between threads.

mod effective;
mod sim;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use wrap_model::{ModelParams, Ms, ProfileSet, Workflow};

pub use effective::EffectiveProfile;
pub use sim::{threads_latency, SimError, MAX_TURNS};

/// A function type known to a [`Model`], as a dense index. Ids follow the
/// byte order of the type names.
pub type TypeId = u32;

/// An unknown function type met by the model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "instance '{instance}' has function type '{function}', which the profile set does not know"
)]
pub struct UnknownFunction {
    /// The instance.
    pub instance: String,
    /// Its type.
    pub function: String,
}

/// One instance of a workflow bound to the model.
#[derive(Debug, Clone, PartialEq)]
pub struct BoundInstance {
    /// The instance name.
    pub name: String,
    /// Its function type.
    pub ty: TypeId,
    /// Its position in its stage.
    pub position: usize,
}

/// A workflow whose function types are all known to a model.
#[derive(Debug, Clone, PartialEq)]
pub struct BoundWorkflow {
    /// The workflow's name.
    pub name: String,
    /// Per stage, the instances in stage order.
    pub stages: Vec<Vec<BoundInstance>>,
}

impl BoundWorkflow {
    /// The largest stage size.
    #[must_use]
    pub fn max_stage_size(&self) -> usize {
        self.stages.iter().map(Vec::len).max().unwrap_or(0)
    }
}

/// The latency model of one profile set: effective profiles, launch order,
/// memoised thread simulations, process, stage and plan latency.
///
/// Cheap to share: wrap it in an [`Arc`]; every method takes `&self`.
pub struct Model {
    set: Arc<ProfileSet>,
    names: Vec<String>,
    ids: HashMap<String, TypeId>,
    effective: Vec<EffectiveProfile>,
    exec: Vec<f64>,
    memo: RwLock<HashMap<Box<[TypeId]>, f64>>,
    simulations: AtomicU64,
    memo_types: AtomicU64,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("mode", &self.set.mode())
            .field("types", &self.names.len())
            .finish_non_exhaustive()
    }
}

impl Model {
    /// The model of `set`: derives and caches every effective profile.
    #[must_use]
    pub fn new(set: Arc<ProfileSet>) -> Self {
        let params = set.params().clone();
        let names: Vec<String> = set.profiles().keys().cloned().collect();
        let ids = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), to_id(i)))
            .collect();
        let effective = set
            .profiles()
            .values()
            .map(|p| EffectiveProfile::derive(p, &params))
            .collect();
        let exec = set.profiles().values().map(|p| p.exec_ms.get()).collect();
        Model {
            set,
            names,
            ids,
            effective,
            exec,
            memo: RwLock::new(HashMap::new()),
            simulations: AtomicU64::new(0),
            memo_types: AtomicU64::new(0),
        }
    }

    /// The profile set.
    #[must_use]
    pub fn profile_set(&self) -> &ProfileSet {
        &self.set
    }

    /// The model parameters.
    #[must_use]
    pub fn params(&self) -> &ModelParams {
        self.set.params()
    }

    /// The id of function type `name`.
    #[must_use]
    pub fn type_id(&self, name: &str) -> Option<TypeId> {
        self.ids.get(name).copied()
    }

    /// The name of type `id`.
    ///
    /// # Panics
    /// If `id` is not an id of this model.
    #[must_use]
    pub fn type_name(&self, id: TypeId) -> &str {
        &self.names[id as usize]
    }

    /// The number of function types.
    #[must_use]
    pub fn type_count(&self) -> usize {
        self.names.len()
    }

    /// The exec time `E(f)` of type `id`.
    #[must_use]
    pub fn exec_ms(&self, id: TypeId) -> f64 {
        self.exec[id as usize]
    }

    /// The effective profile of type `id`.
    #[must_use]
    pub fn effective(&self, id: TypeId) -> &EffectiveProfile {
        &self.effective[id as usize]
    }

    /// How many thread simulations have run (memo misses) since creation.
    #[must_use]
    pub fn simulations(&self) -> u64 {
        self.simulations.load(Ordering::Relaxed)
    }

    /// The memo's size in type ids: the summed length of the simulated
    /// lists it holds, the measure of its memory (four bytes each plus a
    /// small constant per entry).
    #[must_use]
    pub fn memo_types(&self) -> u64 {
        self.memo_types.load(Ordering::Relaxed)
    }

    /// Binds `workflow` to this model.
    ///
    /// # Errors
    /// [`UnknownFunction`] for the first instance whose type has no profile.
    pub fn bind(&self, workflow: &Workflow) -> Result<BoundWorkflow, UnknownFunction> {
        let stages = workflow
            .stages
            .iter()
            .map(|stage| {
                stage
                    .instances
                    .iter()
                    .enumerate()
                    .map(|(position, inst)| {
                        let ty = self
                            .type_id(&inst.function)
                            .ok_or_else(|| UnknownFunction {
                                instance: inst.name.clone(),
                                function: inst.function.clone(),
                            })?;
                        Ok(BoundInstance {
                            name: inst.name.clone(),
                            ty,
                            position,
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(BoundWorkflow {
            name: workflow.name.clone(),
            stages,
        })
    }

    /// Compares two instances for launch order: exec time descending, then
    /// type name (byte order; ids follow it), then position in the stage.
    #[must_use]
    pub fn launch_cmp(&self, a: &BoundInstance, b: &BoundInstance) -> std::cmp::Ordering {
        self.exec_ms(b.ty)
            .total_cmp(&self.exec_ms(a.ty))
            .then(a.ty.cmp(&b.ty))
            .then(a.position.cmp(&b.position))
    }

    /// Sorts type ids into launch order (exec time descending, then name).
    pub fn sort_types(&self, types: &mut [TypeId]) {
        types.sort_by(|&a, &b| self.exec_ms(b).total_cmp(&self.exec_ms(a)).then(a.cmp(&b)));
    }

    /// `threads_latency` of `types`, simulated exactly in the order given,
    /// memoised by that list.
    ///
    /// # Errors
    /// [`SimError`] when the simulation does not finish.
    ///
    /// # Panics
    /// If an id is not one of this model's.
    pub fn threads_latency(&self, types: &[TypeId]) -> Result<Ms, SimError> {
        self.threads_latency_within(types, None)
    }

    /// [`Model::threads_latency`], charging a cold simulation's work (its
    /// turns times the threads it schedules) to `budget`.
    ///
    /// # Errors
    /// [`SimError`] when the simulation does not finish, or
    /// [`SimError::WorkLimit`] when the budget is exhausted.
    pub fn threads_latency_within(
        &self,
        types: &[TypeId],
        budget: Option<&crate::WorkBudget>,
    ) -> Result<Ms, SimError> {
        if let Some(&v) = self.read_memo().get(types) {
            return Ok(Ms(v));
        }
        let group: Vec<&EffectiveProfile> = types.iter().map(|&t| self.effective(t)).collect();
        let (v, turns) = sim::simulate(&group, self.params())?;
        // Keep and count the result before charging: it is valid even when
        // it exhausts the budget, and a later search may use it.
        self.memo_types
            .fetch_add(types.len() as u64, Ordering::Relaxed);
        self.simulations.fetch_add(1, Ordering::Relaxed);
        self.memo
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(types.into(), v);
        if let Some(b) = budget {
            b.charge(turns.saturating_mul(types.len() as u64 + 1))?;
        }
        Ok(Ms(v))
    }

    fn read_memo(&self) -> std::sync::RwLockReadGuard<'_, HashMap<Box<[TypeId]>, f64>> {
        self.memo
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The latency of a group run as one process:
    /// `rpc_overhead + threads_latency(types) + result_overhead`, with
    /// `types` already in launch order.
    ///
    /// # Errors
    /// [`SimError`] when the simulation does not finish.
    pub fn process_latency(&self, types_in_launch_order: &[TypeId]) -> Result<Ms, SimError> {
        self.process_latency_within(types_in_launch_order, None)
    }

    /// [`Model::process_latency`], charging a cold simulation to `budget`
    /// as [`Model::threads_latency_within`] does.
    ///
    /// # Errors
    /// As [`Model::threads_latency_within`].
    pub fn process_latency_within(
        &self,
        types_in_launch_order: &[TypeId],
        budget: Option<&crate::WorkBudget>,
    ) -> Result<Ms, SimError> {
        let p = self.params();
        Ok(p.rpc_overhead
            + self.threads_latency_within(types_in_launch_order, budget)?
            + p.result_overhead)
    }

    /// The latency of one group within a stage of `group_count` groups:
    /// `E(f)` for a lone group of one function, else the process latency,
    /// plus `(group_count - 1) * remote_invoke` for the entry group when
    /// `entry_invokes_remote`.
    ///
    /// # Errors
    /// [`SimError`] when the simulation does not finish.
    pub fn group_latency(
        &self,
        types_in_launch_order: &[TypeId],
        group_count: usize,
        is_entry: bool,
        entry_invokes_remote: bool,
    ) -> Result<Ms, SimError> {
        if group_count == 1 && types_in_launch_order.len() == 1 {
            return Ok(Ms(self.exec_ms(types_in_launch_order[0])));
        }
        let mut l = self.process_latency(types_in_launch_order)?;
        if is_entry && entry_invokes_remote && group_count > 1 {
            l += self.params().remote_invoke * (group_count - 1) as f64;
        }
        Ok(l)
    }
}

fn to_id(i: usize) -> TypeId {
    TypeId::try_from(i).unwrap_or(TypeId::MAX)
}
