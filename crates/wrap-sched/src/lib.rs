//! The MPK-L latency model and the SLO-driven partition search of the wrap
//! scheduler. No I/O: callers bring a [`wrap_model::ProfileSet`] and a
//! [`wrap_model::Workflow`].
//!
//! ```
//! use std::collections::BTreeMap;
//! use std::sync::Arc;
//! use wrap_model::{ModelParams, Ms, Plan, Profile, ProfileSet, Workflow};
//! use wrap_sched::{predict, Model};
//!
//! let mut profiles = BTreeMap::new();
//! profiles.insert("work".to_string(), Profile::compute_only(Ms(30.0)));
//! let set = ProfileSet::new("mpk-l", ModelParams::MPK_L, profiles)?;
//! let model = Model::new(Arc::new(set));
//!
//! let workflow = Workflow::from_json_str("pair", r#"{"StartAt": "P", "States": {"P": {
//!   "Type": "Parallel", "End": true, "Branches": [
//!   {"StartAt": "a", "States": {"a": {"Type": "Task", "Resource": "work", "End": true}}},
//!   {"StartAt": "b", "States": {"b": {"Type": "Task", "Resource": "work", "End": true}}}]}}}"#)?;
//! let together: Plan = serde_json::from_str(r#"[[["a", "b"]]]"#)?;
//! let apart: Plan = serde_json::from_str(r#"[[["a"], ["b"]]]"#)?;
//! let one_cpu = predict(&model, &workflow, &together, true)?;
//! let two_cpus = predict(&model, &workflow, &apart, true)?;
//! assert!(two_cpus.latency_ms < one_cpu.latency_ms);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Layout
//! * [`model`]: effective profiles, the one-CPU thread simulation, process
//!   and group latency, memoised ([`Model`]).
//! * [`predict`](mod@predict): a plan's latency with a per-stage breakdown.
//! * [`schedule`](mod@schedule): the SLO-driven search entry point and its result types.
//! * [`search`]: the search strategies.
//! * [`frontier`](mod@frontier): the best plan per wrap cap, and the caching [`Scheduler`].
//! * [`budget`]: the [`WorkBudget`] that bounds one search.

pub mod budget;
pub mod frontier;
pub mod model;
pub mod predict;
pub mod schedule;
pub mod search;

pub use budget::WorkBudget;
pub use frontier::{
    frontier, frontier_within, Frontier, FrontierEntry, Scheduler, DEFAULT_FRONTIER_WRAPS,
};
pub use model::{BoundWorkflow, Model, SimError, TypeId, UnknownFunction};
pub use predict::{predict, GroupPrediction, PredictError, Prediction, StagePrediction};
pub use schedule::{
    schedule, PlanChoice, Schedule, ScheduleError, ScheduleOptions, Strategy, UnknownStrategy,
};
