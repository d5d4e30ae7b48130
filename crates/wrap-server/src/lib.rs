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

pub mod builtin;
