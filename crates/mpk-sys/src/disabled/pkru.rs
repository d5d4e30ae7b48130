//! Stand-in for the PKU instructions on targets other than Linux on x86-64:
//! detection always answers no, so no [`Pku`] token can exist and the
//! instruction wrappers can never be reached.
//!
//! # Safety
//!
//! Nothing here is unsafe.

/// Uninhabited: protection keys are never supported here.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Pku {}

/// Always `None`.
pub(crate) fn detect() -> Option<Pku> {
    None
}

/// Unreachable: there is no [`Pku`] value.
pub(crate) fn read(pku: Pku) -> u32 {
    match pku {}
}

/// Unreachable: there is no [`Pku`] value.
pub(crate) fn write(pku: Pku, _value: u32) {
    match pku {}
}
