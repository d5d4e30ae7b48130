//! The built-in profile set: reproducible from the published data, embedded
//! unchanged, and complete for every built-in workflow.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use wrap_model::import::import_builtin_mpk_l;
use wrap_model::Catalog;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn chiron() -> PathBuf {
    repo().join("../shared/reference/chiron")
}

/// One published timeline, read here without the importer: the traced
/// latency and every `(start_ms, syscall, duration_ms)` row in file order.
struct PublishedTimeline {
    latency: f64,
    rows: Vec<(f64, String, f64)>,
}

fn read_published_timeline(path: &Path) -> PublishedTimeline {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text
        .lines()
        .map(|l| l.trim_end_matches('\r').trim())
        .filter(|l| !l.is_empty());
    let num = |s: &str| -> f64 {
        s.trim()
            .parse()
            .unwrap_or_else(|e| panic!("{}: '{s}': {e}", path.display()))
    };
    let latency = num(lines.next().expect("a latency line"));
    let rows = lines
        .map(|l| {
            let cols: Vec<&str> = l.split(',').collect();
            assert_eq!(cols.len(), 4, "{}: {l}", path.display());
            (num(cols[1]), cols[2].trim().to_owned(), num(cols[3]))
        })
        .collect();
    PublishedTimeline { latency, rows }
}

/// The published MPK-L data: every `timelines/<type>.csv` by type, and the
/// types and times of `exec_times.json`.
fn published_mpk_l() -> (BTreeMap<String, PublishedTimeline>, BTreeMap<String, f64>) {
    let dir = chiron().join("mpk-l");
    let mut timelines = BTreeMap::new();
    for entry in std::fs::read_dir(dir.join("timelines")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|x| x == "csv") {
            let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
            timelines.insert(name, read_published_timeline(&path));
        }
    }
    let exec: BTreeMap<String, f64> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("exec_times.json")).unwrap())
            .unwrap();
    (timelines, exec)
}

#[test]
fn builtin_set_has_exactly_the_published_function_types() {
    let (timelines, exec) = published_mpk_l();
    // The expected counts come from ../shared (26 timelines and 31 exec
    // times when this was written); guard only against an empty or
    // unreadable folder making the comparisons below vacuous.
    assert!(!timelines.is_empty(), "no published timelines found");
    assert!(
        exec.len() > timelines.len(),
        "the published set has untraced types too"
    );
    let traced: BTreeSet<&str> = timelines.keys().map(String::as_str).collect();
    let all: BTreeSet<&str> = exec.keys().map(String::as_str).collect();
    assert!(
        traced.is_subset(&all),
        "timelines without an exec time: {:?}",
        traced.difference(&all).collect::<Vec<_>>()
    );

    let c = wrap_server::builtin::catalog();
    let embedded: BTreeSet<&str> = c.profiles.profiles().keys().map(String::as_str).collect();
    assert_eq!(embedded, all, "embedded types vs exec_times.json keys");
    assert_eq!(c.profiles.profiles().len(), exec.len());

    let mut traced_embedded = 0;
    for (name, p) in c.profiles.profiles() {
        assert_eq!(p.exec_ms.get(), exec[name], "{name}: exec_ms");
        match timelines.get(name) {
            Some(t) => {
                traced_embedded += 1;
                assert_eq!(p.trace_latency_ms.get(), t.latency, "{name}: trace latency");
                let blocks: Vec<(f64, String, f64)> = p
                    .blocks
                    .iter()
                    .map(|b| (b.start_ms.get(), b.syscall.clone(), b.duration_ms.get()))
                    .collect();
                assert_eq!(blocks, t.rows, "{name}: blocking periods");
            }
            None => {
                assert_eq!(p.trace_latency_ms, p.exec_ms, "{name}: untraced");
                assert!(p.blocks.is_empty(), "{name}: untraced but has blocks");
            }
        }
    }
    assert_eq!(traced_embedded, timelines.len());
    assert_eq!(
        c.profiles.profiles().len() - traced_embedded,
        all.len() - traced.len()
    );
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
