//! `wrap-server profile`: from a command (run live under strace) or an
//! strace log taken elsewhere to a profile, printed as JSON (or the
//! published timelines CSV) and optionally added to a profile directory.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use wrap_model::{validate_type_name, Catalog, ModelParams, ProfileSet};
use wrap_profiler::{profile_command, profile_log, BlockingSet, LiveOptions, ProfilerError};

use crate::error::{ApiError, ErrorKind};

/// How `profile` prints the profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum ProfileFormat {
    /// The profile JSON of `spec/json.md`, with provenance.
    #[default]
    Json,
    /// The published Chiron timelines CSV (first line the latency, then
    /// `pid,start_ms,syscall,duration_ms`).
    Chiron,
}

/// The arguments of `wrap-server profile`.
#[derive(Debug, Clone, Args)]
pub struct ProfileArgs {
    /// The function type the profile is for (ASCII letters, digits, `-`,
    /// `_`, `.`). Default: the command's file name (`python3`), or the
    /// log's file stem with `--strace`.
    #[arg(long = "type", value_name = "NAME")]
    pub function: Option<String>,
    /// Untraced runs for the exec time, and as many traced runs (live mode).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub runs: u32,
    /// Profile an strace log taken elsewhere (`strace -f -ttt -T`) instead of running a command.
    #[arg(
        long,
        value_name = "LOG",
        requires = "window",
        conflicts_with = "command"
    )]
    pub strace: Option<PathBuf>,
    /// With --strace: the function's start and end, in epoch milliseconds.
    #[arg(long, num_args = 2, value_names = ["START_MS", "END_MS"], allow_negative_numbers = true)]
    pub window: Option<Vec<f64>>,
    /// With --strace: the untraced (solo) latency in milliseconds, if known.
    #[arg(long, value_name = "MS", requires = "strace")]
    pub solo_ms: Option<f64>,
    /// The system calls that count as blocking: a comma list of names,
    /// `default` for the built-in set, `-NAME` to remove one.
    #[arg(long, value_name = "LIST")]
    pub syscalls: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ProfileFormat::Json)]
    pub format: ProfileFormat,
    /// Add the profile to this profile directory (created with the MPK-L
    /// parameters when it has no `set.json`).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// With --out: replace an existing profile of the same type.
    #[arg(long, requires = "out")]
    pub force: bool,
    /// The command to profile, after `--`.
    #[arg(last = true, value_name = "CMD")]
    pub command: Vec<String>,
}

/// What `profile` produced.
#[derive(Debug, Clone)]
pub struct ProfileOutcome {
    /// What to print on stdout.
    pub stdout: String,
    /// Lines for stderr: parse statistics, where the profile was written.
    pub notes: Vec<String>,
}

/// Runs `wrap-server profile`.
///
/// # Errors
/// `usage` for bad arguments, `profile_failed` when the profiler fails,
/// `profile_directory` when `--out` cannot be used; in detail: bad arguments, a failing command or strace, an
/// unreadable log, or a profile directory that cannot be written (or that
/// already holds the type, without `--force`).
pub fn run(args: &ProfileArgs) -> Result<ProfileOutcome, ApiError> {
    let function = function_type(args)?;
    validate_type_name(&function).map_err(|e| usage(format!("--type: {e}")))?;
    let syscalls = match &args.syscalls {
        Some(list) => list
            .parse::<BlockingSet>()
            .map_err(|e| usage(format!("--syscalls: {e}")))?,
        None => BlockingSet::default(),
    };
    if let Some(dir) = &args.out {
        check_out(dir, &function, args.force)?;
    }
    let mut notes = Vec::new();
    let (profile, pid) = if let Some(log) = &args.strace {
        let w = args.window.as_deref().unwrap_or_default();
        let [start, end] = w else {
            return Err(usage("--window takes START_MS END_MS"));
        };
        let (profile, trace) =
            profile_log(log, *start, *end, args.solo_ms, &syscalls).map_err(failed)?;
        notes.push(format!("{}: {}", log.display(), trace.stats));
        (profile, trace.root_pid.unwrap_or(0))
    } else {
        if args.command.is_empty() {
            return Err(usage(
                "give the command to profile after `--` (wrap-server profile --type NAME -- CMD ARGS...), or --strace LOG --window START_MS END_MS",
            ));
        }
        let opts = LiveOptions {
            runs: args.runs,
            syscalls,
            ..LiveOptions::default()
        };
        let live = profile_command(&args.command, &opts).map_err(failed)?;
        notes.push(format!(
            "profiled '{}' {} times untraced and {} times under strace {}{}; median traced run #{}: {}",
            args.command.join(" "),
            args.runs,
            args.runs,
            live.strace_version,
            if live.seccomp_bpf { " --seccomp-bpf" } else { "" },
            live.median_run + 1,
            live.trace.stats
        ));
        (live.profile, live.trace.root_pid.unwrap_or(0))
    };
    if let Some(dir) = &args.out {
        let path = write_out(dir, &function, &profile)?;
        notes.push(format!("wrote {}", path.display()));
    }
    let stdout = match args.format {
        ProfileFormat::Json => {
            let mut s = serde_json::to_string_pretty(&profile).map_err(ApiError::internal)?;
            s.push('\n');
            s
        }
        ProfileFormat::Chiron => wrap_profiler::chiron_csv(&profile, pid),
    };
    Ok(ProfileOutcome { stdout, notes })
}

/// The `--type` given, or one derived from the command's or the log's
/// file name (characters a type name cannot hold become `_`).
fn function_type(args: &ProfileArgs) -> Result<String, ApiError> {
    if let Some(t) = &args.function {
        return Ok(t.clone());
    }
    let source = match (&args.strace, args.command.first()) {
        (Some(log), _) => log.file_stem(),
        (None, Some(cmd)) => Path::new(cmd).file_name(),
        (None, None) => None,
    };
    let name: String = source
        .map(|s| s.to_string_lossy())
        .unwrap_or_default()
        .trim_start_matches('.')
        .chars()
        .take(128)
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() {
        return Err(usage(
            "give the function type with --type NAME (it cannot be derived from the command)",
        ));
    }
    Ok(name)
}

fn usage(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorKind::Usage, message)
}

fn directory(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorKind::ProfileDirectory, message)
}

fn failed(e: ProfilerError) -> ApiError {
    ApiError::new(ErrorKind::ProfileFailed, e.to_string())
}

fn check_out(dir: &Path, function: &str, force: bool) -> Result<(), ApiError> {
    let path = Catalog::profile_path(dir, function);
    if path.exists() && !force {
        return Err(directory(format!(
            "{} already holds a profile of '{function}'; pass --force to replace it",
            path.display()
        )));
    }
    if dir.join(wrap_model::catalog::SET_FILE).exists() {
        Catalog::load_dir(dir).map_err(|e| directory(format!("--out {}: {e}", dir.display())))?;
    }
    Ok(())
}

fn write_out(
    dir: &Path,
    function: &str,
    profile: &wrap_model::Profile,
) -> Result<PathBuf, ApiError> {
    let dir_err = |e: wrap_model::LoadError| directory(format!("--out {}: {e}", dir.display()));
    let mut catalog = if dir.join(wrap_model::catalog::SET_FILE).exists() {
        Catalog::load_dir(dir).map_err(dir_err)?
    } else {
        let set = ProfileSet::new("mpk-l", ModelParams::MPK_L, Default::default())
            .map_err(|e| directory(e.to_string()))?;
        Catalog {
            profiles: set,
            workflows: Default::default(),
        }
    };
    catalog
        .profiles
        .insert(function, profile.clone())
        .map_err(|e| directory(e.to_string()))?;
    catalog.write_dir(dir).map_err(dir_err)?;
    Ok(Catalog::profile_path(dir, function))
}
