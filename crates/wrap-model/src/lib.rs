//! Workflows, function profiles and plans of the wrap scheduler: loading
//! and validation. No scheduling happens here; see `wrap-sched`.
//!
//! ```
//! use wrap_model::{Plan, Workflow};
//!
//! let workflow = Workflow::from_json_str("demo", r#"{
//!   "StartAt": "Fetch",
//!   "States": {
//!     "Fetch": {"Type": "Parallel", "Next": "Check", "Branches": [
//!       {"StartAt": "a", "States": {"a": {"Type": "Task", "Resource": "side", "End": true}}},
//!       {"StartAt": "b", "States": {"b": {"Type": "Task", "Resource": "volume", "End": true}}}]},
//!     "Check": {"Type": "Task", "Resource": "margin-balance", "End": true}}}"#)?;
//! assert_eq!(workflow.stage_sizes(), vec![2, 1]);
//!
//! let plan: Plan = serde_json::from_str(r#"[[["a"], ["b"]], [["Check"]]]"#)?;
//! plan.validate(&workflow)?;
//! assert_eq!(plan.wrap_count(), 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Layout
//! * [`ms`]: typed milliseconds ([`Ms`]) and latency objectives ([`Slo`]).
//! * [`workflow`]: [`Workflow`], parsed from and written to the States Language subset.
//! * [`profile`]: [`Profile`], [`ModelParams`] and [`ProfileSet`].
//! * [`plan`]: [`Plan`] and its validation.
//! * [`catalog`]: our on-disk profile directory format ([`Catalog`]).
//! * [`import`]: the importer of the published Chiron data.
//! * `arbitrary` (feature `proptest`): proptest strategies for other crates' tests.

pub mod catalog;
mod error;
pub mod import;
pub mod ms;
pub mod plan;
pub mod profile;
pub mod workflow;

#[cfg(feature = "proptest")]
pub mod arbitrary;

pub use catalog::Catalog;
pub use error::LoadError;
pub use ms::{InvalidSlo, Ms, Slo};
pub use plan::{Group, Plan, PlanError};
pub use profile::{
    validate_type_name, Block, ModelParams, Profile, ProfileError, ProfileSet, Provenance,
};
pub use workflow::{Instance, Stage, StageKind, Workflow, WorkflowError};
