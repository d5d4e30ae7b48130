//! Errors of loading files.

use std::path::Path;

use crate::{ProfileError, WorkflowError};

/// Why a file could not be loaded. Every variant names the file, and the
/// line where there is one.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The file cannot be read or written.
    #[error("{file}: {error}")]
    Io {
        /// The path.
        file: String,
        /// The OS error.
        error: std::io::Error,
    },
    /// Malformed content at a line (and, for JSON, a column): shown as
    /// `file:line: message` or `file:line:column: message`.
    #[error("{file}:{line}{}: {message}", column.map(|c| format!(":{c}")).unwrap_or_default())]
    Syntax {
        /// The file.
        file: String,
        /// 1-based line number.
        line: usize,
        /// 1-based column, where the parser reports one (JSON).
        column: Option<usize>,
        /// What is wrong.
        message: String,
    },
    /// Content that is well-formed but not what is expected.
    #[error("{file}: {message}")]
    Format {
        /// The file.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// An invalid profile or parameter set.
    #[error("{file}: {error}")]
    Profile {
        /// The file.
        file: String,
        /// What is wrong.
        error: ProfileError,
    },
    /// A broken workflow.
    #[error("{file}: {error}")]
    Workflow {
        /// The file.
        file: String,
        /// What is wrong.
        error: WorkflowError,
    },
}

impl LoadError {
    pub(crate) fn io(path: &Path, error: std::io::Error) -> Self {
        LoadError::Io {
            file: path.display().to_string(),
            error,
        }
    }

    /// A JSON syntax (or shape) error of `file`, at serde_json's line and
    /// column, without serde_json's own " at line L column C" suffix.
    pub(crate) fn json(file: &str, e: &serde_json::Error) -> Self {
        let full = e.to_string();
        let suffix = format!(" at line {} column {}", e.line(), e.column());
        let message = full.strip_suffix(&suffix).unwrap_or(&full).to_owned();
        LoadError::Syntax {
            file: file.to_owned(),
            line: e.line(),
            column: (e.line() > 0).then_some(e.column()),
            message,
        }
    }
}
