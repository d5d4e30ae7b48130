//! Importer for the published Chiron data: timelines CSV, `exec_times.json`
//! and States Language workflows.
//!
//! A mode folder (`reference/chiron/mpk-l/`) holds `exec_times.json` (the
//! stand-alone latency of every function type), `timelines/<type>.csv` (one
//! per traced type) and `workflows/<name>.json`. Function types with an exec
//! time but no timeline are pure computation.

use std::collections::BTreeMap;
use std::path::Path;

use crate::catalog::{json_files, parse_workflow, read};
use crate::{Block, Catalog, LoadError, ModelParams, Ms, Profile, ProfileSet, Provenance};

/// Parses a timelines CSV: the first line is the traced latency `T(f)`, then
/// one `pid,start_ms,syscall,duration_ms` line per blocking call.
///
/// Tolerates CRLF line ends and blank lines; `file` names the source in
/// errors, which carry the 1-based line number.
///
/// # Errors
/// [`LoadError::Syntax`] at the first malformed line.
pub fn parse_timeline(file: &str, text: &str) -> Result<(Ms, Vec<Block>), LoadError> {
    let syntax = |line: usize, message: String| LoadError::Syntax {
        file: file.to_owned(),
        line,
        column: None,
        message,
    };
    let number = |line: usize, what: &str, s: &str| -> Result<Ms, LoadError> {
        let v: f64 = s
            .trim()
            .parse()
            .map_err(|_| syntax(line, format!("{what} '{s}' is not a number")))?;
        if v.is_finite() && v >= 0.0 {
            Ok(Ms(v))
        } else {
            Err(syntax(
                line,
                format!("{what} must be finite and non-negative, got '{s}'"),
            ))
        }
    };
    let mut latency = None;
    let mut blocks = Vec::new();
    for (i, raw) in text.split('\n').enumerate() {
        let line_no = i + 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw).trim();
        if line.is_empty() {
            continue;
        }
        if latency.is_none() {
            latency = Some(number(line_no, "latency", line)?);
            continue;
        }
        let cols: Vec<&str> = line.split(',').collect();
        if cols.len() != 4 {
            return Err(syntax(
                line_no,
                format!(
                    "expected 4 columns pid,start_ms,syscall,duration_ms, found {}",
                    cols.len()
                ),
            ));
        }
        blocks.push(Block {
            start_ms: number(line_no, "start_ms", cols[1])?,
            duration_ms: number(line_no, "duration_ms", cols[3])?,
            syscall: cols[2].trim().to_owned(),
        });
    }
    let latency = latency.ok_or_else(|| {
        syntax(
            1,
            "empty timeline: the first line must be the latency".into(),
        )
    })?;
    Ok((latency, blocks))
}

/// Parses `exec_times.json`: an object from function type to milliseconds.
///
/// # Errors
/// [`LoadError::Syntax`] for bad JSON, [`LoadError::Format`] for a value
/// that is not a number.
pub fn parse_exec_times(file: &str, text: &str) -> Result<BTreeMap<String, Ms>, LoadError> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| LoadError::json(file, &e))?;
    let obj = v.as_object().ok_or_else(|| LoadError::Format {
        file: file.into(),
        message: "must be a JSON object from function type to milliseconds".into(),
    })?;
    obj.iter()
        .map(|(k, v)| {
            v.as_f64()
                .map(|x| (k.clone(), Ms(x)))
                .ok_or_else(|| LoadError::Format {
                    file: file.into(),
                    message: format!("exec time of '{k}' is not a number"),
                })
        })
        .collect()
}

/// Imports a published mode folder as a [`Catalog`] with parameters
/// `params`, adding the workflows of each of `extra_workflow_dirs`.
///
/// Workflows are named after their file stem. The result is deterministic:
/// everything is keyed and sorted by name.
///
/// # Errors
/// A [`LoadError`] naming the file: unreadable, malformed, a timeline for a
/// type with no exec time, an invalid profile, a broken workflow, or the same
/// workflow name in two folders.
pub fn import_chiron(
    mode_dir: &Path,
    mode: &str,
    params: ModelParams,
    extra_workflow_dirs: &[&Path],
) -> Result<Catalog, LoadError> {
    let exec_path = mode_dir.join("exec_times.json");
    let exec = parse_exec_times(&exec_path.display().to_string(), &read(&exec_path)?)?;
    let provenance = Provenance {
        source: Some(format!("chiron/{mode}")),
        ..Provenance::default()
    };
    let mut profiles: BTreeMap<String, Profile> = exec
        .iter()
        .map(|(name, &e)| {
            let mut p = Profile::compute_only(e);
            p.provenance = Some(provenance.clone());
            (name.clone(), p)
        })
        .collect();
    let timelines = mode_dir.join("timelines");
    for path in csv_files(&timelines)? {
        let file = path.display().to_string();
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_owned();
        let (latency, blocks) = parse_timeline(&file, &read(&path)?)?;
        let p = profiles.get_mut(&name).ok_or_else(|| LoadError::Format {
            file: file.clone(),
            message: format!(
                "function type '{name}' has a timeline but no exec time in {}",
                exec_path.display()
            ),
        })?;
        p.trace_latency_ms = latency;
        p.blocks = blocks;
        p.validate(&name)
            .map_err(|error| LoadError::Profile { file, error })?;
    }
    let set = ProfileSet::new(mode, params, profiles).map_err(|error| LoadError::Profile {
        file: exec_path.display().to_string(),
        error,
    })?;
    let mut workflows = BTreeMap::new();
    let mut origin: BTreeMap<String, String> = BTreeMap::new();
    let mode_workflows = mode_dir.join("workflows");
    let dirs = std::iter::once(mode_workflows.as_path()).chain(extra_workflow_dirs.iter().copied());
    for dir in dirs {
        if !dir.is_dir() {
            continue;
        }
        for path in json_files(dir)? {
            let file = path.display().to_string();
            let name = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default()
                .to_owned();
            let w = parse_workflow(&file, &name, &read(&path)?)?;
            if let Some(first) = origin.insert(name.clone(), file.clone()) {
                return Err(LoadError::Format {
                    file,
                    message: format!("workflow '{name}' is already imported from {first}"),
                });
            }
            workflows.insert(name, w);
        }
    }
    Ok(Catalog {
        profiles: set,
        workflows,
    })
}

fn csv_files(dir: &Path) -> Result<Vec<std::path::PathBuf>, LoadError> {
    let mut out = Vec::new();
    if !dir.is_dir() {
        return Ok(out);
    }
    for entry in std::fs::read_dir(dir).map_err(|e| LoadError::io(dir, e))? {
        let path = entry.map_err(|e| LoadError::io(dir, e))?.path();
        if path.extension().is_some_and(|x| x == "csv") {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

/// The published folders our built-in MPK-L set is made from, below the
/// published `chiron/` root: the `mpk-l` mode folder, plus the workflows of
/// the `mpk-s` folder (`finra5`, `sn`, `mr`, `SLApp`, `SLApp-V`), which use
/// function types the MPK-L set also profiles.
///
/// # Errors
/// As [`import_chiron`].
pub fn import_builtin_mpk_l(chiron_root: &Path) -> Result<Catalog, LoadError> {
    let extra = chiron_root.join("mpk-s").join("workflows");
    import_chiron(
        &chiron_root.join("mpk-l"),
        "mpk-l",
        ModelParams::MPK_L,
        &[extra.as_path()],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeline_tolerates_crlf_and_blank_lines() {
        let (lat, blocks) = parse_timeline(
            "t.csv",
            "1.5\r\n7,0.25,read,0.5\r\n\r\n7,1,poll,0.125\r\n\n\n",
        )
        .unwrap();
        assert_eq!(lat, Ms(1.5));
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[1].syscall, "poll");
        assert_eq!(blocks[1].duration_ms, Ms(0.125));
    }

    #[test]
    fn timeline_errors_give_file_and_line() {
        let err = parse_timeline("t.csv", "1.5\n7,0.25,read\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.csv:2: expected 4 columns pid,start_ms,syscall,duration_ms, found 3"
        );
        let err = parse_timeline("t.csv", "x\n").unwrap_err();
        assert!(err.to_string().starts_with("t.csv:1: latency 'x'"), "{err}");
        let err = parse_timeline("t.csv", "1\n1,2,read,3\n1,-2,read,3\n").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("t.csv:3: start_ms must be finite"),
            "{err}"
        );
        let err = parse_timeline("t.csv", "\n\n").unwrap_err();
        assert!(err.to_string().contains("empty timeline"), "{err}");
    }

    #[test]
    fn exec_times_must_be_numbers() {
        let m = parse_exec_times("e.json", r#"{"a": 1.5, "b": 2}"#).unwrap();
        assert_eq!(m["b"], Ms(2.0));
        let err = parse_exec_times("e.json", r#"{"a": "x"}"#).unwrap_err();
        assert_eq!(err.to_string(), "e.json: exec time of 'a' is not a number");
        let err = parse_exec_times("e.json", "{\n\"a\": }").unwrap_err();
        assert!(err.to_string().starts_with("e.json:2:"), "{err}");
    }
    /// A scratch mode folder, removed when dropped.
    struct Scratch(std::path::PathBuf);

    impl Scratch {
        fn new(test: &str) -> Self {
            let dir = std::env::temp_dir()
                .join(format!("wrap-model-import-{}-{test}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            Scratch(dir)
        }

        /// Writes `text` to `rel` below the folder; returns the full path.
        fn write(&self, rel: &str, text: &str) -> String {
            let path = self.0.join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, text).unwrap();
            path.display().to_string()
        }

        fn import(&self, extra: &[&Path]) -> Result<Catalog, LoadError> {
            import_chiron(&self.0, "test", ModelParams::MPK_L, extra)
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    const TASK: &str =
        r#"{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "a", "End": true}}}"#;

    #[test]
    fn a_small_mode_folder_imports() {
        let d = Scratch::new("good");
        d.write("exec_times.json", r#"{"a": 2.0, "b": 1.0}"#);
        d.write("timelines/a.csv", "2.5\r\n1,0.5,read,0.25\r\n\r\n");
        d.write("workflows/w.json", TASK);
        let c = d.import(&[]).unwrap();
        let a = c.profiles.get("a").unwrap();
        assert_eq!((a.exec_ms, a.trace_latency_ms), (Ms(2.0), Ms(2.5)));
        assert_eq!(a.blocks.len(), 1);
        let b = c.profiles.get("b").unwrap();
        assert_eq!(b.trace_latency_ms, b.exec_ms);
        assert!(b.blocks.is_empty());
        assert_eq!(c.workflows["w"].stage_sizes(), vec![1]);
    }

    #[test]
    fn timeline_without_exec_time_is_refused() {
        let d = Scratch::new("no-exec");
        d.write("exec_times.json", r#"{"a": 2.0}"#);
        let csv = d.write("timelines/ghost.csv", "1.0\n1,0.1,read,0.2\n");
        let err = d.import(&[]).unwrap_err();
        assert!(
            matches!(&err, LoadError::Format { file, .. } if *file == csv),
            "{err:?}"
        );
        let text = err.to_string();
        assert!(text.starts_with(&format!("{csv}: ")), "{text}");
        assert!(text.contains("'ghost'"), "{text}");
        assert!(text.contains("no exec time"), "{text}");
        assert!(text.contains("exec_times.json"), "{text}");
    }

    #[test]
    fn same_workflow_in_two_folders_is_refused() {
        let d = Scratch::new("twice");
        d.write("exec_times.json", r#"{"a": 2.0}"#);
        let first = d.write("workflows/w.json", TASK);
        let second = d.write("extra/w.json", TASK);
        let extra = d.0.join("extra");
        let err = d.import(&[extra.as_path()]).unwrap_err();
        assert!(
            matches!(&err, LoadError::Format { file, .. } if *file == second),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            format!("{second}: workflow 'w' is already imported from {first}")
        );
    }

    #[test]
    fn malformed_csv_line_is_reported_as_file_and_line() {
        let d = Scratch::new("csv");
        d.write("exec_times.json", r#"{"a": 2.0}"#);
        let csv = d.write(
            "timelines/a.csv",
            "2.5\r\n1,0.5,read,0.25\r\n1,zero,read,1\r\n",
        );
        let err = d.import(&[]).unwrap_err();
        assert!(
            matches!(&err, LoadError::Syntax { file, line: 3, column: None, .. } if *file == csv),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            format!("{csv}:3: start_ms 'zero' is not a number")
        );
    }

    #[test]
    fn workflow_json_syntax_error_is_reported_as_file_line_and_column() {
        let d = Scratch::new("json");
        d.write("exec_times.json", r#"{"a": 2.0}"#);
        let file = d.write("workflows/w.json", "{\n  \"StartAt\": ,\n}\n");
        let err = d.import(&[]).unwrap_err();
        assert!(
            matches!(&err, LoadError::Syntax { file: f, line: 2, column: Some(14), .. } if *f == file),
            "{err:?}"
        );
        assert_eq!(err.to_string(), format!("{file}:2:14: expected value"));
    }

    #[test]
    fn broken_workflow_names_the_file_and_the_state() {
        let d = Scratch::new("state");
        d.write("exec_times.json", r#"{"a": 2.0}"#);
        let file = d.write(
            "workflows/w.json",
            r#"{"StartAt": "A", "States": {"A": {"Type": "Task", "End": true}}}"#,
        );
        let err = d.import(&[]).unwrap_err();
        assert!(
            matches!(&err, LoadError::Workflow { file: f, error: crate::WorkflowError::MissingResource { state } } if *f == file && state == "A"),
            "{err:?}"
        );
        assert!(
            err.to_string().starts_with(&format!("{file}: state 'A'")),
            "{err}"
        );
    }

    #[test]
    fn exec_times_syntax_error_has_line_and_column() {
        let err = parse_exec_times("e.json", "{\n\"a\": }").unwrap_err();
        assert!(
            matches!(
                err,
                LoadError::Syntax {
                    line: 2,
                    column: Some(6),
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(err.to_string(), "e.json:2:6: expected value");
    }
}
