//! Shared helpers of the wrap-sched tests: the built-in catalog and the
//! published vectors, read from the repository and `../shared`.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use wrap_model::Catalog;
use wrap_sched::Model;

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn shared() -> PathBuf {
    repo().join("../shared")
}

pub fn catalog() -> &'static Catalog {
    static C: OnceLock<Catalog> = OnceLock::new();
    C.get_or_init(|| {
        Catalog::load_dir(&repo().join("profiles/mpk-l")).expect("profiles/mpk-l loads")
    })
}

pub fn model() -> &'static Model {
    static M: OnceLock<Model> = OnceLock::new();
    M.get_or_init(|| Model::new(Arc::new(catalog().profiles.clone())))
}

pub fn vectors() -> serde_json::Value {
    let path = shared().join("reference/vectors/mpk-l.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("vectors parse")
}

pub fn rel_err(got: f64, want: f64) -> f64 {
    ((got - want) / want).abs()
}
