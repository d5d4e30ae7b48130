//! A bound on the work of one search, so that a service can answer every
//! request in bounded time and memory whatever workflow it is sent.
//!
//! ```
//! use std::sync::Arc;
//! use wrap_sched::{schedule, Model, ScheduleError, ScheduleOptions, SimError, Strategy, WorkBudget};
//!
//! let catalog = wrap_model::Catalog::load_dir(std::path::Path::new(concat!(
//!     env!("CARGO_MANIFEST_DIR"),
//!     "/../../profiles/mpk-l"
//! )))?;
//! let model = Model::new(Arc::new(catalog.profiles));
//! let finra50 = &catalog.workflows["finra50"];
//! let slo = wrap_model::Slo::new(348.0)?;
//! // A budget far too small for finra50: the search stops with an error.
//! let tiny = ScheduleOptions::new(Strategy::Default).with_budget(Arc::new(WorkBudget::new(1_000)));
//! assert!(matches!(
//!     schedule(&model, finra50, slo, &tiny),
//!     Err(ScheduleError::Simulation(SimError::WorkLimit { limit: 1_000 }))
//! ));
//! // A generous one answers as an unlimited search does.
//! let budget = Arc::new(WorkBudget::new(WorkBudget::DEFAULT));
//! let options = ScheduleOptions::new(Strategy::Default).with_budget(Arc::clone(&budget));
//! assert_eq!(schedule(&model, finra50, slo, &options)?.wrap_count, 5);
//! assert!(budget.used() > 0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::sync::atomic::{AtomicU64, Ordering};

use crate::SimError;

/// A budget of work units for one search, shared by its worker threads.
///
/// A unit is one step of the search's inner loop: one evaluation of a
/// candidate group (cached or not), plus, for every thread simulation the
/// model's memo does not hold, its turns times the threads it schedules
/// (each turn looks at every thread). Units track time closely enough to
/// bound a request. Simulations the model's memo already holds cost
/// nothing, so a search uses fewer units on a warm model. A search that
/// runs out stops with [`SimError::WorkLimit`].
#[derive(Debug)]
pub struct WorkBudget {
    limit: u64,
    used: AtomicU64,
}

impl WorkBudget {
    /// The budget the service grants a request by default: three times
    /// what the largest built-in search needs from a cold model (the
    /// finra200 frontier to 64 wraps: 6.6e8 units, about 0.5 s). Measured
    /// on the development VM, any search stops within about 3 s under it.
    pub const DEFAULT: u64 = 2_000_000_000;

    /// A budget of `limit` units.
    #[must_use]
    pub const fn new(limit: u64) -> Self {
        WorkBudget {
            limit,
            used: AtomicU64::new(0),
        }
    }

    /// The limit.
    #[must_use]
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// The units used so far.
    #[must_use]
    pub fn used(&self) -> u64 {
        self.used.load(Ordering::Relaxed)
    }

    /// Charges `units`.
    ///
    /// # Errors
    /// [`SimError::WorkLimit`] once the total is over the limit.
    pub fn charge(&self, units: u64) -> Result<(), SimError> {
        let before = self.used.fetch_add(units, Ordering::Relaxed);
        if before.saturating_add(units) > self.limit {
            Err(SimError::WorkLimit { limit: self.limit })
        } else {
            Ok(())
        }
    }
}
