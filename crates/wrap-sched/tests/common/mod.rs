//! Shared helpers of the wrap-sched tests: the built-in catalog and the
//! published vectors, read from the repository and `../shared`.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use wrap_model::Catalog;
use wrap_sched::Model;

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The shared folder beside the repository.
pub fn shared() -> PathBuf {
    repo().join("../shared")
}

/// The built-in catalog, loaded from `profiles/mpk-l`.
pub fn catalog() -> &'static Catalog {
    static C: OnceLock<Catalog> = OnceLock::new();
    C.get_or_init(|| {
        Catalog::load_dir(&repo().join("profiles/mpk-l")).expect("profiles/mpk-l loads")
    })
}

/// A model of the built-in profile set.
pub fn model() -> &'static Model {
    static M: OnceLock<Model> = OnceLock::new();
    M.get_or_init(|| Model::new(Arc::new(catalog().profiles.clone())))
}

/// The published MPK-L vectors.
pub fn vectors() -> serde_json::Value {
    let path = shared().join("reference/vectors/mpk-l.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("vectors parse")
}

/// Relative error of `got` against `want`.
pub fn rel_err(got: f64, want: f64) -> f64 {
    ((got - want) / want).abs()
}
