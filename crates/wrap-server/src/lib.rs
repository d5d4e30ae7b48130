//! The wrap scheduler as a service and a command-line tool.
//!
//! The binary `wrap-server` serves the scheduler over HTTP on
//! `127.0.0.1:20232` and offers offline subcommands; this library holds
//! everything it does, so tests can drive it without a process.
//!
//! ```
//! let catalog = wrap_server::builtin::catalog();
//! assert!(catalog.workflows.contains_key("finra50"));
//! assert_eq!(catalog.profiles.mode(), "mpk-l");
//! ```
//!
//! # Layout
//! * [`builtin`]: the profile set and workflows embedded at compile time.
//! * [`error`]: the error JSON, its HTTP status and CLI exit code.
//! * [`api`]: request parsing, work limits and the operations, shared by
//!   the service and the CLI.
//! * [`http`]: the hyper service: [`http::handle`] and [`http::run`].
//! * [`cli`]: the command line and the offline subcommands.

pub mod api;
pub mod builtin;
pub mod cli;
pub mod error;
pub mod http;
pub mod profile_cli;
