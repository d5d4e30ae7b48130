//! The built-in profile directory (`profiles/mpk-l` of the repository),
//! embedded at compile time so the binary needs no data directory.

use std::sync::OnceLock;

use wrap_model::Catalog;

include!(concat!(env!("OUT_DIR"), "/builtin_profiles.rs"));

/// The built-in catalog: the MPK-L profile set and its workflows.
///
/// # Panics
/// Never in a released build: the embedded files are checked by the tests;
/// a broken file would fail them before it ships.
#[must_use]
pub fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| {
        Catalog::from_files(BUILTIN_FILES.iter().copied())
            .unwrap_or_else(|e| panic!("the embedded profile set is invalid: {e}"))
    })
}
