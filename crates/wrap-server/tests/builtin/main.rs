//! The built-in profile set: reproducible from the published data, embedded
//! unchanged, and complete for every built-in workflow.

use std::path::{Path, PathBuf};

use wrap_model::import::import_builtin_mpk_l;
use wrap_model::Catalog;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn chiron() -> PathBuf {
    repo().join("../shared/reference/chiron")
}

#[test]
fn profiles_dir_is_what_the_importer_makes_from_shared() {
    let fresh = import_builtin_mpk_l(&chiron()).expect("the published data imports");
    let dir = repo().join("profiles/mpk-l");
    for (rel, text) in fresh.to_files() {
        let on_disk = std::fs::read_to_string(dir.join(&rel)).unwrap_or_else(|e| {
            panic!("profiles/mpk-l/{rel}: {e}; regenerate with scripts/regenerate-profiles.sh")
        });
        assert!(on_disk == text, "profiles/mpk-l/{rel} differs from a fresh import; regenerate with scripts/regenerate-profiles.sh");
    }
    let loaded = Catalog::load_dir(&dir).unwrap();
    for (k, w) in &fresh.workflows {
        assert_eq!(Some(w), loaded.workflows.get(k), "workflow {k}");
    }
    for (k, p) in fresh.profiles.profiles() {
        assert_eq!(Some(p), loaded.profiles.get(k), "profile {k}");
    }
    assert_eq!(
        loaded, fresh,
        "profiles/mpk-l holds files the importer does not make"
    );
}

#[test]
fn embedded_set_equals_the_profiles_dir() {
    let loaded = Catalog::load_dir(&repo().join("profiles/mpk-l")).unwrap();
    assert_eq!(wrap_server::builtin::catalog(), &loaded);
}

#[test]
fn builtin_set_covers_every_builtin_workflow() {
    let c = wrap_server::builtin::catalog();
    let names: Vec<&str> = c.workflows.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        ["SLApp", "SLApp-V", "finra100", "finra200", "finra5", "finra50", "mr", "sn"]
    );
    for w in c.workflows.values() {
        for inst in w.stages.iter().flat_map(|s| &s.instances) {
            assert!(
                c.profiles.get(&inst.function).is_some(),
                "workflow {}: instance {} has unprofiled type {}",
                w.name,
                inst.name,
                inst.function
            );
        }
    }
    let traced = c
        .profiles
        .profiles()
        .values()
        .filter(|p| p.trace_latency_ms != p.exec_ms || !p.blocks.is_empty())
        .count();
    assert!(traced >= 20, "only {traced} traced profiles");
    let margin = c.profiles.get("margin-balance").unwrap();
    assert!(margin.blocks.is_empty());
    assert_eq!(margin.trace_latency_ms, margin.exec_ms);
    assert_eq!(c.workflows["finra50"].stage_sizes(), vec![50, 1]);
    assert_eq!(c.workflows["finra200"].stage_sizes(), vec![200, 1]);
    assert_eq!(
        c.workflows["finra50"].stages[1].instances[0].name,
        "CheckMarginBalance"
    );
}
