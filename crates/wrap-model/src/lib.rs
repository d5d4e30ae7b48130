//! Workflows, profiles and plans.
