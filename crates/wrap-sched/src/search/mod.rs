//! Search strategies: each a module of free functions over the model.
//!
//! * [`chiron_kl`]: the published Kernighan–Lin style search.

pub mod chiron_kl;
pub(crate) mod cost;
pub(crate) mod default;
