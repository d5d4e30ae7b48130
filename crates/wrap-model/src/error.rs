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
    /// Malformed content at a line.
    #[error("{file}:{line}: {message}")]
    Syntax {
        /// The file.
        file: String,
        /// 1-based line number.
        line: usize,
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

    pub(crate) fn json(file: &str, e: &serde_json::Error) -> Self {
        LoadError::Syntax {
            file: file.to_owned(),
            line: e.line(),
            message: e.to_string(),
        }
    }
}
