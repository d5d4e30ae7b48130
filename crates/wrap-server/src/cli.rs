//! The command line: the clap definitions and the offline subcommands
//! (`schedule`, `predict`, `frontier`). Each subcommand returns an
//! [`Outcome`]: what to print and the exit code, so tests can run it
//! without a process.
//!
//! Exit codes: 0 success; 2 bad input or usage (the error JSON on stdout,
//! a one-line message on stderr); 3 SLO unreachable (the `slo_unreachable`
//! error JSON with `best` on stdout).
//!
//! ```
//! use wrap_server::cli::{schedule, ScheduleArgs};
//!
//! let args = ScheduleArgs {
//!     workflow: "finra50".into(),
//!     slo: 348.0,
//!     strategy: "default".into(),
//!     max_wraps: None,
//!     profiles: None,
//! };
//! let out = schedule(&args);
//! assert_eq!(out.code, 0);
//! assert!(out.stdout.contains(r#""strategy":"default""#));
//! ```

use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use serde::Serialize;
use wrap_model::Catalog;
use wrap_sched::DEFAULT_FRONTIER_WRAPS;

use crate::api::{slo_of, Api, Limits, ScheduleRequest, WorkflowRef};
use crate::error::{ApiError, ErrorKind};
use crate::http::{Config, DEFAULT_LISTEN, DEFAULT_MAX_BODY};
pub use crate::profile_cli::ProfileArgs;

/// The wrap scheduler: packs serverless workflow functions onto CPUs
/// ("wraps"). Without a subcommand it serves HTTP on 127.0.0.1:20232.
#[derive(Debug, Parser)]
#[command(
    name = "wrap-server",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// The subcommand (default: `serve`).
    #[command(subcommand)]
    pub command: Option<Command>,
    /// The options of `serve`, also accepted without the subcommand.
    #[command(flatten)]
    pub serve: ServeArgs,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serves the scheduler over HTTP (the default).
    Serve(ServeArgs),
    /// Prints the plan with the fewest wraps that meets an SLO.
    Schedule(ScheduleArgs),
    /// Prints a plan's predicted latency, per stage and group.
    Predict(PredictArgs),
    /// Prints the best plan for every wrap cap from 1 to N.
    Frontier(FrontierArgs),
    /// Profiles a function: a command run live under strace, or an strace
    /// log taken elsewhere; prints the profile and can add it to a profile
    /// directory.
    Profile(ProfileArgs),
    /// Imports the published Chiron data as our own profile directory.
    Import {
        /// The published `chiron/` folder (holding `mpk-l/`, `mpk-s/`, ...).
        #[arg(long, default_value = "../shared/reference/chiron")]
        chiron: PathBuf,
        /// Where to write the profile directory.
        #[arg(long, default_value = "profiles/mpk-l")]
        out: PathBuf,
    },
}

/// The options of `serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// The address to listen on (`0.0.0.0:20232` inside a cluster).
    #[arg(long, value_name = "ADDR:PORT", default_value = DEFAULT_LISTEN)]
    pub listen: SocketAddr,
    /// A profile directory in our format, replacing the built-in profile set
    /// and workflows.
    #[arg(long, value_name = "DIR")]
    pub profiles: Option<PathBuf>,
    /// The largest request body, in bytes (larger: 413).
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_BODY)]
    pub max_body: usize,
    /// Scheduling requests computed at once (default: the number of CPUs).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub max_concurrency: Option<u16>,
    /// Open connections at once; more wait to be accepted.
    #[arg(long, value_name = "N", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,
    /// The most instances an inline workflow may have.
    #[arg(long, value_name = "N", default_value_t = Limits::MAX_INSTANCES)]
    pub max_instances: usize,
    /// The most wraps any request may search; also the cap of default-strategy
    /// requests without `max_wraps`.
    #[arg(long, value_name = "N", default_value_t = Limits::WRAP_LIMIT, value_parser = positive)]
    pub wrap_limit: usize,
    /// The wrap cap of `chiron-kl` requests without `max_wraps`.
    #[arg(long, value_name = "N", default_value_t = Limits::CHIRON_KL_WRAPS, value_parser = positive)]
    pub chiron_kl_wraps: usize,
    /// The work one search may do, in work units (about 1 ns each; the
    /// largest built-in search needs 6.6e8); past it: 422 limit_exceeded.
    #[arg(long, value_name = "UNITS", default_value_t = wrap_sched::WorkBudget::DEFAULT, value_parser = clap::value_parser!(u64).range(1..))]
    pub work_budget: u64,
    /// Seconds allowed to receive a request's headers, then its body.
    #[arg(long, value_name = "SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub request_timeout: u64,
    /// Seconds in-flight requests get to finish after SIGINT or SIGTERM.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub shutdown_grace: u64,
}

impl ServeArgs {
    /// The service configuration these options describe.
    #[must_use]
    pub fn config(&self) -> Config {
        let default = Config::default();
        Config {
            max_body: self.max_body,
            max_concurrency: self
                .max_concurrency
                .map_or(default.max_concurrency, usize::from),
            max_connections: self.max_connections as usize,
            request_timeout: Duration::from_secs(self.request_timeout),
            shutdown_grace: Duration::from_secs(self.shutdown_grace),
            limits: Limits {
                max_instances: self.max_instances,
                wrap_limit: self.wrap_limit,
                chiron_kl_wraps: self.chiron_kl_wraps,
                work_budget: self.work_budget,
                ..Limits::server()
            },
        }
    }
}

/// Parses a positive integer (a wrap count).
fn positive(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("'{s}' is not a positive integer")),
    }
}

/// The options of `schedule`.
#[derive(Debug, Clone, Args)]
pub struct ScheduleArgs {
    /// A registered workflow's name (`finra50`).
    #[arg(long, value_name = "NAME")]
    pub workflow: String,
    /// The SLO in milliseconds (0 < SLO <= 3600000).
    #[arg(long, value_name = "MS", allow_negative_numbers = true)]
    pub slo: f64,
    /// The search strategy.
    #[arg(long, default_value = "default", value_parser = ["default", "chiron-kl"])]
    pub strategy: String,
    /// The most wraps to consider (default: up to the largest stage).
    #[arg(long, value_name = "N", value_parser = positive)]
    pub max_wraps: Option<usize>,
    /// A profile directory in our format, instead of the built-in set.
    #[arg(long, value_name = "DIR")]
    pub profiles: Option<PathBuf>,
}

/// The options of `predict`.
#[derive(Debug, Clone, Args)]
pub struct PredictArgs {
    /// The predict request of `spec/json.md` (`{"workflow": ..., "wraps":
    /// ..., "first_wrap_invokes_remote": true}`); `-` reads stdin.
    #[arg(long, value_name = "FILE")]
    pub plan: PathBuf,
    /// A profile directory in our format, instead of the built-in set.
    #[arg(long, value_name = "DIR")]
    pub profiles: Option<PathBuf>,
}

/// The options of `frontier`.
#[derive(Debug, Clone, Args)]
pub struct FrontierArgs {
    /// A registered workflow's name (`finra200`).
    #[arg(long, value_name = "NAME")]
    pub workflow: String,
    /// The largest wrap cap listed (capped by the largest stage).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_FRONTIER_WRAPS, value_parser = positive)]
    pub max_wraps: usize,
    /// A profile directory in our format, instead of the built-in set.
    #[arg(long, value_name = "DIR")]
    pub profiles: Option<PathBuf>,
}

/// What a subcommand prints and how it exits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// For stdout: a result or the error JSON, compact (the bytes the HTTP
    /// service answers), with a final newline.
    pub stdout: String,
    /// For stderr: one line, on failure.
    pub stderr: Option<String>,
    /// The exit code.
    pub code: u8,
}

impl Outcome {
    /// A success printing `value`.
    pub fn ok<T: Serialize>(value: &T) -> Self {
        match serde_json::to_string(value) {
            Ok(mut s) => {
                s.push('\n');
                Outcome {
                    stdout: s,
                    stderr: None,
                    code: 0,
                }
            }
            Err(e) => Outcome::error(&ApiError::internal(e)),
        }
    }

    /// A failure: the error JSON on stdout, a line on stderr.
    #[must_use]
    pub fn error(e: &ApiError) -> Self {
        let mut stdout = e.to_json();
        stdout.push('\n');
        Outcome {
            stdout,
            stderr: Some(format!("wrap-server: {}", e.message.replace('\n', " "))),
            code: e.exit_code(),
        }
    }

    fn of<T: Serialize>(r: Result<T, ApiError>) -> Self {
        match r {
            Ok(v) => Outcome::ok(&v),
            Err(e) => Outcome::error(&e),
        }
    }
}

/// The catalog of `--profiles DIR`, or the built-in one.
///
/// # Errors
/// `invalid_profiles` naming the file at fault.
pub fn load_catalog(dir: Option<&Path>) -> Result<Catalog, ApiError> {
    match dir {
        None => Ok(crate::builtin::catalog().clone()),
        Some(d) => Catalog::load_dir(d).map_err(|e| {
            ApiError::new(
                ErrorKind::InvalidProfiles,
                format!("--profiles {}: {e}", d.display()),
            )
        }),
    }
}

fn api(dir: Option<&Path>) -> Result<Api, ApiError> {
    Ok(Api::new(load_catalog(dir)?, Limits::unlimited()))
}

/// `wrap-server schedule`: the schedule result, or exit 3 with `best`.
#[must_use]
pub fn schedule(args: &ScheduleArgs) -> Outcome {
    Outcome::of((|| {
        let api = api(args.profiles.as_deref())?;
        let req = ScheduleRequest {
            workflow: WorkflowRef::Named(args.workflow.clone()),
            slo: slo_of(args.slo, "--slo")?,
            strategy: args
                .strategy
                .parse()
                .map_err(|e| ApiError::new(ErrorKind::Usage, format!("--strategy: {e}")))?,
            max_wraps: args.max_wraps,
            profiles: None,
        };
        api.schedule(&req)
    })())
}

fn read_plan(path: &Path) -> Result<Vec<u8>, ApiError> {
    let unreadable = |e: std::io::Error| {
        ApiError::new(
            ErrorKind::UnreadableFile,
            format!("--plan {}: {e}", path.display()),
        )
    };
    if path == Path::new("-") {
        let mut buf = Vec::new();
        std::io::stdin().read_to_end(&mut buf).map_err(unreadable)?;
        Ok(buf)
    } else {
        std::fs::read(path).map_err(unreadable)
    }
}

/// `wrap-server predict --plan FILE`: the predict result.
#[must_use]
pub fn predict(args: &PredictArgs) -> Outcome {
    Outcome::of((|| {
        let api = api(args.profiles.as_deref())?;
        let text = read_plan(&args.plan)?;
        let body = crate::http::parse_body(&text).map_err(|e| ApiError {
            message: e.message.replacen(
                "request body",
                &format!("--plan {}", args.plan.display()),
                1,
            ),
            ..e
        })?;
        let req = api.parse_predict(&body)?;
        api.predict(&req)
    })())
}

/// `wrap-server frontier`: the frontier result.
#[must_use]
pub fn frontier(args: &FrontierArgs) -> Outcome {
    Outcome::of((|| {
        let api = api(args.profiles.as_deref())?;
        api.frontier(&args.workflow, Some(args.max_wraps))
    })())
}

/// `wrap-server profile`: the profile JSON (or the Chiron CSV) on stdout,
/// what was traced and written on stderr.
#[must_use]
pub fn profile(args: &ProfileArgs) -> Outcome {
    match crate::profile_cli::run(args) {
        Ok(p) => Outcome {
            stdout: p.stdout,
            stderr: (!p.notes.is_empty()).then(|| p.notes.join("\n")),
            code: 0,
        },
        Err(e) => Outcome::error(&e),
    }
}

/// `wrap-server import`: writes the published data as a profile directory.
#[must_use]
pub fn import(chiron: &Path, out: &Path) -> Outcome {
    let result = wrap_model::import::import_builtin_mpk_l(chiron).and_then(|c| {
        c.write_dir(out)?;
        Ok(c)
    });
    match result {
        Ok(c) => Outcome {
            stdout: String::new(),
            stderr: Some(format!(
                "wrote {} profiles and {} workflows to {}",
                c.profiles.profiles().len(),
                c.workflows.len(),
                out.display()
            )),
            code: 0,
        },
        Err(e) => Outcome::error(&ApiError::new(
            ErrorKind::InvalidProfiles,
            format!("import from {} to {}: {e}", chiron.display(), out.display()),
        )),
    }
}

/// A usage error from clap as an [`Outcome`] (exit 2, error JSON); `None`
/// for `--help` and `--version`, which clap prints itself.
#[must_use]
pub fn usage_error(e: &clap::Error) -> Option<Outcome> {
    use clap::error::ErrorKind as K;
    if matches!(
        e.kind(),
        K::DisplayHelp | K::DisplayVersion | K::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        return None;
    }
    // clap's message: the lines before its usage block, folded into one
    // (a missing argument's name stands on the line after the first).
    let rendered = e.render().to_string();
    let message: Vec<&str> = rendered
        .lines()
        .take_while(|l| !l.starts_with("Usage:"))
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("For more information"))
        .collect();
    let first = match message.join(" ") {
        m if m.is_empty() => "invalid usage".to_owned(),
        m => m.trim_start_matches("error: ").to_owned(),
    };
    let mut out = Outcome::error(&ApiError::new(
        ErrorKind::Usage,
        format!("{first} (see wrap-server --help)"),
    ));
    out.code = 2;
    Some(out)
}
