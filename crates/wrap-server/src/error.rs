//! The error JSON of `spec/json.md`, with its HTTP status and CLI exit code.
//!
//! ```
//! use wrap_server::error::{ApiError, ErrorKind};
//!
//! let e = ApiError::new(ErrorKind::InvalidSlo, "field 'SLO' must be positive, got -1");
//! assert_eq!(e.status(), 422);
//! assert_eq!(e.exit_code(), 2);
//! assert_eq!(
//!     e.to_json(),
//!     r#"{"error":{"kind":"invalid_slo","message":"field 'SLO' must be positive, got -1"}}"#
//! );
//! ```

use std::fmt;

use serde::Serialize;
use wrap_sched::{PlanChoice, PredictError, ScheduleError, SimError};

/// The `kind` of an error: what went wrong, in one snake_case word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The body is empty, not JSON, too deeply nested, or not an object (400).
    MalformedJson,
    /// A field is missing, unknown, or of the wrong type (400).
    InvalidField,
    /// No workflow of that name (404).
    UnknownWorkflow,
    /// An inline workflow that is not a valid States Language chain (422).
    InvalidWorkflow,
    /// A plan that does not fit its workflow (422).
    InvalidPlan,
    /// An SLO outside `0 < SLO <= 3600000` ms (422).
    InvalidSlo,
    /// An inline profile with invalid values (422).
    InvalidProfile,
    /// A function type that no profile describes (422).
    UnknownFunction,
    /// A request larger than this server's documented limits (422).
    LimitExceeded,
    /// The thread simulation hit its turn bound, e.g. for a hostile inline
    /// profile (422).
    SimulationLimit,
    /// No plan within the search meets the SLO; the error carries `best` (422).
    SloUnreachable,
    /// The body is over the limit (413).
    BodyTooLarge,
    /// The path exists, the method does not (405).
    MethodNotAllowed,
    /// No such path (404).
    NotFound,
    /// The request was not received in time (408).
    RequestTimeout,
    /// A profile directory that cannot be loaded (CLI, exit 2).
    InvalidProfiles,
    /// A file that cannot be read (CLI, exit 2).
    UnreadableFile,
    /// Bad command-line usage (CLI, exit 2).
    Usage,
    /// Profiling a command or an strace log failed (CLI, exit 2).
    ProfileFailed,
    /// A profile directory that cannot be read or written, or that already
    /// holds the type (CLI, exit 2).
    ProfileDirectory,
    /// A bug on our side (500, exit 1); the detail goes to the log only.
    Internal,
}

impl ErrorKind {
    /// The kind as the error JSON spells it.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorKind::MalformedJson => "malformed_json",
            ErrorKind::InvalidField => "invalid_field",
            ErrorKind::UnknownWorkflow => "unknown_workflow",
            ErrorKind::InvalidWorkflow => "invalid_workflow",
            ErrorKind::InvalidPlan => "invalid_plan",
            ErrorKind::InvalidSlo => "invalid_slo",
            ErrorKind::InvalidProfile => "invalid_profile",
            ErrorKind::UnknownFunction => "unknown_function",
            ErrorKind::LimitExceeded => "limit_exceeded",
            ErrorKind::SimulationLimit => "simulation_limit",
            ErrorKind::SloUnreachable => "slo_unreachable",
            ErrorKind::BodyTooLarge => "body_too_large",
            ErrorKind::MethodNotAllowed => "method_not_allowed",
            ErrorKind::NotFound => "not_found",
            ErrorKind::RequestTimeout => "request_timeout",
            ErrorKind::InvalidProfiles => "invalid_profiles",
            ErrorKind::UnreadableFile => "unreadable_file",
            ErrorKind::Usage => "usage",
            ErrorKind::ProfileFailed => "profile_failed",
            ErrorKind::ProfileDirectory => "profile_directory",
            ErrorKind::Internal => "internal",
        }
    }

    /// The HTTP status code of this kind.
    #[must_use]
    pub const fn status(self) -> u16 {
        match self {
            ErrorKind::MalformedJson
            | ErrorKind::InvalidField
            | ErrorKind::InvalidProfiles
            | ErrorKind::UnreadableFile
            | ErrorKind::Usage => 400,
            ErrorKind::ProfileFailed | ErrorKind::ProfileDirectory => 422,
            ErrorKind::UnknownWorkflow | ErrorKind::NotFound => 404,
            ErrorKind::MethodNotAllowed => 405,
            ErrorKind::RequestTimeout => 408,
            ErrorKind::BodyTooLarge => 413,
            ErrorKind::InvalidWorkflow
            | ErrorKind::InvalidPlan
            | ErrorKind::InvalidSlo
            | ErrorKind::InvalidProfile
            | ErrorKind::UnknownFunction
            | ErrorKind::LimitExceeded
            | ErrorKind::SimulationLimit
            | ErrorKind::SloUnreachable => 422,
            ErrorKind::Internal => 500,
        }
    }

    /// The CLI exit code of this kind: 3 for an unreachable SLO, 1 for an
    /// internal error, 2 for everything else.
    #[must_use]
    pub const fn exit_code(self) -> u8 {
        match self {
            ErrorKind::SloUnreachable => 3,
            ErrorKind::Internal => 1,
            _ => 2,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error to answer with: a kind, a message naming the field, state or
/// function at fault, and for `slo_unreachable` the best plan found.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// What went wrong.
    pub kind: ErrorKind,
    /// What is wrong, for a person; names the field, state or function.
    pub message: String,
    /// For [`ErrorKind::SloUnreachable`]: the best plan the search found.
    pub best: Option<Box<PlanChoice>>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    kind: &'static str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    best: Option<&'a PlanChoice>,
}

impl ApiError {
    /// An error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ApiError {
            kind,
            message: message.into(),
            best: None,
        }
    }

    /// An internal error: `detail` is for the log; the message a client
    /// sees is generic.
    pub fn internal(detail: impl fmt::Display) -> Self {
        tracing::error!("internal error: {detail}");
        ApiError::new(
            ErrorKind::Internal,
            "internal error; the server log has the detail",
        )
    }

    /// The HTTP status code.
    #[must_use]
    pub fn status(&self) -> u16 {
        self.kind.status()
    }

    /// The CLI exit code.
    #[must_use]
    pub fn exit_code(&self) -> u8 {
        self.kind.exit_code()
    }

    /// The error JSON, compact:
    /// `{"error": {"kind": ..., "message": ..., "best": ...}}`.
    #[must_use]
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.body()).unwrap_or_default()
    }

    fn body(&self) -> Body<'_> {
        Body {
            error: Inner {
                kind: self.kind.as_str(),
                message: &self.message,
                best: self.best.as_deref(),
            },
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}

impl std::error::Error for ApiError {}

impl From<SimError> for ApiError {
    fn from(e: SimError) -> Self {
        match e {
            SimError::TurnLimit { .. } => ApiError::new(ErrorKind::SimulationLimit, e.to_string()),
            SimError::WorkLimit { limit } => ApiError::new(
                ErrorKind::LimitExceeded,
                format!(
                    "the search needs more work than this server allows one request ({limit} units, --work-budget); ask for fewer wraps with 'max_wraps', or run it offline with wrap-server schedule"
                ),
            ),
            other => ApiError::internal(other),
        }
    }
}

impl From<ScheduleError> for ApiError {
    fn from(e: ScheduleError) -> Self {
        match e {
            ScheduleError::UnknownFunction(u) => {
                ApiError::new(ErrorKind::UnknownFunction, u.to_string())
            }
            ScheduleError::Unreachable { ref best, .. } => {
                let best = Some(best.clone());
                ApiError {
                    kind: ErrorKind::SloUnreachable,
                    message: e.to_string(),
                    best,
                }
            }
            ScheduleError::Simulation(s) => s.into(),
            other => ApiError::internal(other),
        }
    }
}

impl From<PredictError> for ApiError {
    fn from(e: PredictError) -> Self {
        match e {
            PredictError::InvalidPlan(p) => {
                ApiError::new(ErrorKind::InvalidPlan, format!("field 'wraps': {p}"))
            }
            PredictError::UnknownFunction(u) => {
                ApiError::new(ErrorKind::UnknownFunction, u.to_string())
            }
            PredictError::Simulation(s) => s.into(),
            other => ApiError::internal(other),
        }
    }
}
