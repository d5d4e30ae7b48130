//! A profile directory in our own format: one mode's model parameters, its
//! function profiles and the workflows that use them.
//!
//! ```text
//! <dir>/set.json                 {"format": "wrap-profile-set/1", "mode": "mpk-l", "params": {...}}
//! <dir>/functions/<type>.json    one profile each, the shape of spec/json.md
//! <dir>/workflows/<name>.json    States Language, as [`Workflow::to_json`] writes it
//! ```
//!
//! Files are written pretty-printed with sorted keys and a final newline, so
//! the same catalog always gives the same bytes.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::{LoadError, ModelParams, Profile, ProfileSet, Workflow};

/// The `format` tag of `set.json`.
pub const FORMAT: &str = "wrap-profile-set/1";
/// File name of the set's header.
pub const SET_FILE: &str = "set.json";
/// Folder of the function profiles.
pub const FUNCTIONS_DIR: &str = "functions";
/// Folder of the workflows.
pub const WORKFLOWS_DIR: &str = "workflows";

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SetHeader {
    format: String,
    mode: String,
    params: ModelParams,
}

/// A profile set and the workflows registered with it.
#[derive(Debug, Clone, PartialEq)]
pub struct Catalog {
    /// The profiles and model parameters.
    pub profiles: ProfileSet,
    /// The workflows, by registered name.
    pub workflows: BTreeMap<String, Workflow>,
}

fn to_pretty<T: Serialize>(v: &T) -> String {
    // Serialising our own plain data types to a String cannot fail.
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s
}

fn stem_of<'a>(path: &'a str, dir: &str) -> Option<&'a str> {
    path.strip_prefix(dir)?
        .strip_prefix('/')?
        .strip_suffix(".json")
}

impl Catalog {
    /// Builds a catalog from `(relative path, contents)` pairs laid out as
    /// the module doc shows (paths use `/`). Files elsewhere are ignored.
    ///
    /// # Errors
    /// A [`LoadError`] naming the file: bad JSON, an invalid profile or
    /// parameter, a broken workflow, or no `set.json`.
    pub fn from_files<'a>(
        files: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, LoadError> {
        let mut header = None;
        let mut profiles = BTreeMap::new();
        let mut workflows = BTreeMap::new();
        for (path, text) in files {
            if path == SET_FILE {
                let h: SetHeader =
                    serde_json::from_str(text).map_err(|e| LoadError::json(path, &e))?;
                if h.format != FORMAT {
                    return Err(LoadError::Format {
                        file: path.into(),
                        message: format!("format is '{}', expected '{FORMAT}'", h.format),
                    });
                }
                header = Some(h);
            } else if let Some(name) = stem_of(path, FUNCTIONS_DIR) {
                let p: Profile =
                    serde_json::from_str(text).map_err(|e| LoadError::json(path, &e))?;
                profiles.insert(name.to_owned(), (path.to_owned(), p));
            } else if let Some(name) = stem_of(path, WORKFLOWS_DIR) {
                let w = parse_workflow(path, name, text)?;
                workflows.insert(name.to_owned(), w);
            }
        }
        let header = header.ok_or_else(|| LoadError::Format {
            file: SET_FILE.into(),
            message: "missing: a profile directory needs a set.json".into(),
        })?;
        let mut set =
            ProfileSet::new(header.mode, header.params, BTreeMap::new()).map_err(|error| {
                LoadError::Profile {
                    file: SET_FILE.into(),
                    error,
                }
            })?;
        for (name, (file, p)) in profiles {
            set.insert(name, p)
                .map_err(|error| LoadError::Profile { file, error })?;
        }
        Ok(Catalog {
            profiles: set,
            workflows,
        })
    }

    /// Loads a profile directory.
    ///
    /// # Errors
    /// A [`LoadError`] naming the file that cannot be read or is invalid.
    pub fn load_dir(dir: &Path) -> Result<Self, LoadError> {
        let mut files = Vec::new();
        let set = dir.join(SET_FILE);
        files.push((SET_FILE.to_owned(), read(&set)?));
        for sub in [FUNCTIONS_DIR, WORKFLOWS_DIR] {
            let d = dir.join(sub);
            if !d.is_dir() {
                continue;
            }
            for path in json_files(&d)? {
                let name = path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or_default();
                files.push((format!("{sub}/{name}"), read(&path)?));
            }
        }
        Self::from_files(files.iter().map(|(p, t)| (p.as_str(), t.as_str())))
    }

    /// The catalog as `(relative path, contents)` pairs, sorted by path.
    #[must_use]
    pub fn to_files(&self) -> Vec<(String, String)> {
        let mut out = vec![(
            SET_FILE.to_owned(),
            to_pretty(&SetHeader {
                format: FORMAT.into(),
                mode: self.profiles.mode().into(),
                params: self.profiles.params().clone(),
            }),
        )];
        for (name, p) in self.profiles.profiles() {
            out.push((format!("{FUNCTIONS_DIR}/{name}.json"), to_pretty(p)));
        }
        for (name, w) in &self.workflows {
            out.push((
                format!("{WORKFLOWS_DIR}/{name}.json"),
                to_pretty(&w.to_json()),
            ));
        }
        out.sort();
        out
    }

    /// Writes the catalog into `dir`, creating it as needed. Files of the
    /// catalog are overwritten; other files are left alone.
    ///
    /// # Errors
    /// [`LoadError::Io`] naming the path that cannot be written.
    pub fn write_dir(&self, dir: &Path) -> Result<(), LoadError> {
        for (rel, text) in self.to_files() {
            let path = dir.join(&rel);
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent).map_err(|e| LoadError::io(parent, e))?;
            }
            fs::write(&path, text).map_err(|e| LoadError::io(&path, e))?;
        }
        Ok(())
    }

    /// Writes one function profile into the profile directory `dir`
    /// (which must already hold a `set.json`).
    ///
    /// # Errors
    /// [`LoadError::Io`] when the file cannot be written.
    pub fn write_profile(
        dir: &Path,
        function: &str,
        profile: &Profile,
    ) -> Result<PathBuf, LoadError> {
        let d = dir.join(FUNCTIONS_DIR);
        fs::create_dir_all(&d).map_err(|e| LoadError::io(&d, e))?;
        let path = d.join(format!("{function}.json"));
        fs::write(&path, to_pretty(profile)).map_err(|e| LoadError::io(&path, e))?;
        Ok(path)
    }

    /// The path of `function`'s profile file in directory `dir`.
    #[must_use]
    pub fn profile_path(dir: &Path, function: &str) -> PathBuf {
        dir.join(FUNCTIONS_DIR).join(format!("{function}.json"))
    }
}

/// Parses the States Language workflow `text` of `file`, registering it
/// under `name`: a JSON syntax error is a [`LoadError::Syntax`] at its line
/// and column (`file:line:col: ...`), a broken workflow a
/// [`LoadError::Workflow`] naming the file and the state.
pub(crate) fn parse_workflow(file: &str, name: &str, text: &str) -> Result<Workflow, LoadError> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| LoadError::json(file, &e))?;
    Workflow::from_json(name, &v).map_err(|error| LoadError::Workflow {
        file: file.to_owned(),
        error,
    })
}

/// Reads a whole text file.
pub(crate) fn read(path: &Path) -> Result<String, LoadError> {
    fs::read_to_string(path).map_err(|e| LoadError::io(path, e))
}

/// The `*.json` files of a folder, sorted by name.
pub(crate) fn json_files(dir: &Path) -> Result<Vec<PathBuf>, LoadError> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| LoadError::io(dir, e))? {
        let path = entry.map_err(|e| LoadError::io(dir, e))?.path();
        if path.extension().is_some_and(|x| x == "json") && path.is_file() {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}
