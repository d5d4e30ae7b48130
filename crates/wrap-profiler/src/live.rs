//! Live profiling: run a command untraced for its latency, then under
//! strace for its blocking periods.
//!
//! 1. `strace -V` (a missing strace is [`ProfilerError::StraceMissing`]).
//! 2. `runs` untraced runs, timed from spawn to exit (wall clock); their
//!    median is `exec_ms`. A failing run is [`ProfilerError::CommandFailed`].
//! 3. `runs` runs under `strace -f -ttt -T --seccomp-bpf -e
//!    trace=<BlockingSet::trace_filter> -o LOG -- CMD...`; if strace
//!    refuses `--seccomp-bpf` (it fails naming seccomp), that run and the
//!    rest go without it. Each log is cut with [`WindowSpec::RootProcess`]:
//!    from the command's `execve` to its root process's exit.
//! 4. The traced run with the median traced latency (the lower median for
//!    an even count) gives the profile, scaled to `exec_ms`.
//!
//! The command's stdin is `/dev/null`, its stdout goes to `/dev/null` and
//! its stderr to a file in a private temporary directory (its end is quoted
//! in errors); nothing it writes reaches our stdout or stderr.

use std::ffi::{OsStr, OsString};
use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use wrap_model::{Ms, Profile};

use crate::reader::ProcessEnd;
use crate::{BlockingSet, ProfilerError, Trace, WindowSpec};

/// How to profile a command live. Build with struct update syntax from
/// [`Default`]: `LiveOptions { runs: 3, ..LiveOptions::default() }`.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveOptions {
    /// Untraced runs and, as many, traced runs (default 5, at least 1).
    pub runs: u32,
    /// What counts as blocking (default [`BlockingSet::linux_x86_64`]).
    pub syscalls: BlockingSet,
    /// The strace binary (default `strace`, looked up in `PATH`).
    pub strace: PathBuf,
    /// Whether to try `--seccomp-bpf` first (default true).
    pub seccomp_bpf: bool,
    /// Where to keep the logs (`run-N.strace`, `stderr.txt`); by default a
    /// temporary directory that is removed afterwards.
    pub log_dir: Option<PathBuf>,
}

impl Default for LiveOptions {
    fn default() -> Self {
        LiveOptions {
            runs: 5,
            syscalls: BlockingSet::default(),
            strace: PathBuf::from("strace"),
            seccomp_bpf: true,
            log_dir: None,
        }
    }
}

/// The result of [`profile_command`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct LiveProfile {
    /// The profile, provenance filled: `source = "strace-live"`, `runs`,
    /// `exec_samples_ms`, `strace_version`, `scale`, `command`.
    pub profile: Profile,
    /// The median traced run's trace (its parse stats for stderr).
    pub trace: Trace,
    /// Untraced latencies, in run order.
    pub exec_samples_ms: Vec<f64>,
    /// Traced latencies (window lengths), in run order.
    pub traced_latencies_ms: Vec<f64>,
    /// Index into `traced_latencies_ms` of the run the profile comes from.
    pub median_run: usize,
    /// strace's version, e.g. `6.1`.
    pub strace_version: String,
    /// Whether `--seccomp-bpf` was used for the chosen run.
    pub seccomp_bpf: bool,
    /// The factor the CPU gaps were scaled by.
    pub scale: f64,
}

/// The version strace reports (`strace -V`: `strace -- version 6.1` →
/// `6.1`).
///
/// # Errors
/// [`ProfilerError::StraceMissing`] if it cannot be started,
/// [`ProfilerError::Strace`] if it fails.
pub fn strace_version(strace: &Path) -> Result<String, ProfilerError> {
    let out = Command::new(strace)
        .arg("-V")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| {
            if e.kind() == io::ErrorKind::NotFound || e.kind() == io::ErrorKind::PermissionDenied {
                ProfilerError::StraceMissing {
                    strace: strace.display().to_string(),
                }
            } else {
                ProfilerError::Spawn {
                    command: strace.display().to_string(),
                    error: e,
                }
            }
        })?;
    let text = String::from_utf8_lossy(&out.stdout);
    let first = text.lines().next().unwrap_or("").trim();
    if !out.status.success() || first.is_empty() {
        return Err(ProfilerError::Strace {
            status: status_text(out.status),
            message: format!(
                "'{} -V' printed no version: {}",
                strace.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        });
    }
    Ok(first
        .rsplit_once("version ")
        .map_or(first, |(_, v)| v.trim())
        .to_owned())
}

/// Profiles `command` (program and arguments) live; see the
/// [module documentation](self).
///
/// ```no_run
/// use wrap_profiler::{profile_command, LiveOptions};
///
/// let live = profile_command(&["python3", "-c", "import time; time.sleep(0.02)"], &LiveOptions::default())?;
/// println!("{}", serde_json::to_string(&live.profile).unwrap());
/// eprintln!("{}", live.trace.stats);
/// # Ok::<(), wrap_profiler::ProfilerError>(())
/// ```
///
/// # Errors
/// [`ProfilerError::NoRuns`], [`ProfilerError::StraceMissing`],
/// [`ProfilerError::Spawn`] (command not found), [`ProfilerError::CommandFailed`]
/// (non-zero exit, untraced or traced), [`ProfilerError::TracingForbidden`]
/// (ptrace refused), [`ProfilerError::Strace`] (strace failed otherwise),
/// [`ProfilerError::BadLog`], [`ProfilerError::Io`] (temporary files).
pub fn profile_command<S: AsRef<OsStr>>(
    command: &[S],
    opts: &LiveOptions,
) -> Result<LiveProfile, ProfilerError> {
    let argv: Vec<OsString> = command.iter().map(|s| s.as_ref().to_owned()).collect();
    let shown = shell_words(&argv);
    if argv.is_empty() {
        return Err(ProfilerError::Spawn {
            command: shown,
            error: io::Error::new(io::ErrorKind::InvalidInput, "no command given"),
        });
    }
    if opts.runs == 0 {
        return Err(ProfilerError::NoRuns);
    }
    let version = strace_version(&opts.strace)?;
    let dir = WorkDir::new(opts.log_dir.as_deref())?;
    let stderr_path = dir.path().join("stderr.txt");

    let mut exec_samples = Vec::with_capacity(opts.runs as usize);
    for _ in 0..opts.runs {
        let stderr = create(&stderr_path)?;
        let t0 = Instant::now();
        let status = Command::new(&argv[0])
            .args(&argv[1..])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .status()
            .map_err(|error| ProfilerError::Spawn {
                command: shown.clone(),
                error,
            })?;
        let ms = t0.elapsed().as_secs_f64() * 1000.0;
        if !status.success() {
            return Err(ProfilerError::CommandFailed {
                command: shown,
                status: status_text(status),
                traced: false,
                stderr: tail(&stderr_path, 2000),
            });
        }
        exec_samples.push(ms);
    }
    let exec_ms = median(&exec_samples);

    let filter = format!("trace={}", opts.syscalls.trace_filter());
    let mut seccomp = opts.seccomp_bpf;
    let mut traces = Vec::with_capacity(opts.runs as usize);
    for run in 1..=opts.runs {
        let log = dir.path().join(format!("run-{run}.strace"));
        let trace = loop {
            let stderr = create(&stderr_path)?;
            let mut cmd = Command::new(&opts.strace);
            cmd.args(["-f", "-ttt", "-T"]);
            if seccomp {
                cmd.arg("--seccomp-bpf");
            }
            let status = cmd
                .arg("-e")
                .arg(&filter)
                .arg("-o")
                .arg(&log)
                .arg("--")
                .args(&argv)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(stderr)
                .status()
                .map_err(|e| {
                    if e.kind() == io::ErrorKind::NotFound {
                        ProfilerError::StraceMissing {
                            strace: opts.strace.display().to_string(),
                        }
                    } else {
                        ProfilerError::Spawn {
                            command: opts.strace.display().to_string(),
                            error: e,
                        }
                    }
                })?;
            let err_text = tail(&stderr_path, 64 * 1024);
            let strace_says: Vec<&str> = err_text
                .lines()
                .filter(|l| l.starts_with("strace: "))
                .collect();
            if let Some(line) = strace_says.iter().find(|l| {
                l.to_ascii_lowercase().contains("ptrace")
                    && (l.contains("Operation not permitted") || l.contains("EPERM"))
            }) {
                return Err(ProfilerError::TracingForbidden {
                    message: (*line).to_owned(),
                });
            }
            if !status.success() && seccomp && strace_says.iter().any(|l| l.contains("seccomp")) {
                seccomp = false;
                continue;
            }
            let strace_failed = || ProfilerError::Strace {
                status: status_text(status),
                message: if strace_says.is_empty() {
                    format!(
                        "no exit of the command in its log; stderr ends: {:?}",
                        err_text.trim()
                    )
                } else {
                    strace_says.join("; ")
                },
            };
            let trace = match Trace::from_file(&log, WindowSpec::RootProcess, &opts.syscalls) {
                Ok(t) => t,
                Err(_) if !status.success() => return Err(strace_failed()),
                Err(e) => return Err(e),
            };
            match &trace.root_end {
                Some(ProcessEnd::Exited(0)) => {}
                Some(end) => {
                    return Err(ProfilerError::CommandFailed {
                        command: shown,
                        status: match end {
                            ProcessEnd::Exited(code) => format!("exit code {code}"),
                            ProcessEnd::Killed(sig) => format!("killed by {sig}"),
                        },
                        traced: true,
                        stderr: tail(&stderr_path, 2000),
                    })
                }
                None if !status.success() => return Err(strace_failed()),
                None => {
                    return Err(ProfilerError::BadLog {
                        file: Some(log.display().to_string()),
                        message: "no '+++ exited' line of the traced command".to_owned(),
                    })
                }
            }
            break trace;
        };
        traces.push(trace);
    }

    let traced: Vec<f64> = traces.iter().map(Trace::traced_latency_ms).collect();
    let mut order: Vec<usize> = (0..traced.len()).collect();
    order.sort_by(|&a, &b| traced[a].total_cmp(&traced[b]));
    let median_run = order[(order.len() - 1) / 2];
    let trace = traces.swap_remove(median_run);
    let scaled = trace.to_profile(Some(exec_ms))?;
    let mut profile = scaled.profile;
    if let Some(p) = profile.provenance.as_mut() {
        p.source = Some("strace-live".to_owned());
        p.runs = Some(opts.runs);
        p.exec_samples_ms = exec_samples.iter().map(|&x| Ms(x)).collect();
        p.strace_version = Some(version.clone());
        p.command = argv
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
    }
    Ok(LiveProfile {
        profile,
        trace,
        exec_samples_ms: exec_samples,
        traced_latencies_ms: traced,
        median_run,
        strace_version: version,
        seccomp_bpf: seccomp,
        scale: scaled.scale,
    })
}

/// The median; the mean of the two middle values for an even count.
fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        0.0
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn status_text(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit code {code}"),
        (None, Some(sig)) => format!("killed by signal {sig}"),
        (None, None) => status.to_string(),
    }
}

/// The command line for messages, each word shell-quoted when needed.
fn shell_words(argv: &[OsString]) -> String {
    argv.iter()
        .map(|a| {
            let s = a.to_string_lossy();
            let plain = !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_./=:,+-@%".contains(c));
            if plain {
                s.into_owned()
            } else {
                format!("'{}'", s.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn create(path: &Path) -> Result<File, ProfilerError> {
    File::create(path).map_err(|error| ProfilerError::Io {
        what: "cannot create",
        path: path.display().to_string(),
        error,
    })
}

/// The last `max` bytes of a file, lossily decoded; empty if unreadable.
fn tail(path: &Path, max: u64) -> String {
    let Ok(mut f) = File::open(path) else {
        return String::new();
    };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    if len > max && f.seek(SeekFrom::Start(len - max)).is_err() {
        return String::new();
    }
    let mut buf = Vec::new();
    let _ = f.take(max).read_to_end(&mut buf);
    String::from_utf8_lossy(&buf).into_owned()
}

/// The directory for logs: the given one (kept), or a fresh private
/// temporary one (removed on drop).
struct WorkDir {
    path: PathBuf,
    remove: bool,
}

impl WorkDir {
    fn new(keep: Option<&Path>) -> Result<WorkDir, ProfilerError> {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        if let Some(dir) = keep {
            fs::create_dir_all(dir).map_err(|error| ProfilerError::Io {
                what: "cannot create log directory",
                path: dir.display().to_string(),
                error,
            })?;
            return Ok(WorkDir {
                path: dir.to_owned(),
                remove: false,
            });
        }
        let base = std::env::temp_dir();
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let mut last_err = None;
        for _ in 0..100 {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let path = base.join(format!(
                "wrap-profiler-{}-{nanos:09}-{n}",
                std::process::id()
            ));
            match fs::create_dir(&path) {
                Ok(()) => return Ok(WorkDir { path, remove: true }),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last_err = Some(e),
                Err(e) => {
                    last_err = Some(e);
                    break;
                }
            }
        }
        Err(ProfilerError::Io {
            what: "cannot create a temporary directory in",
            path: base.display().to_string(),
            error: last_err.unwrap_or_else(|| io::Error::other("no free name")),
        })
    }

    fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        if self.remove {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(median(&[7.0]), 7.0);
    }

    #[test]
    fn quoting() {
        let argv: Vec<OsString> = ["python3", "-c", "import time; time.sleep(0.02)", "it's"]
            .iter()
            .map(OsString::from)
            .collect();
        assert_eq!(
            shell_words(&argv),
            r#"python3 -c 'import time; time.sleep(0.02)' 'it'\''s'"#
        );
    }

    #[test]
    fn missing_strace_names_the_package() {
        let err = strace_version(Path::new("/nonexistent/strace")).unwrap_err();
        assert!(matches!(err, ProfilerError::StraceMissing { .. }));
        assert!(err.to_string().contains("Debian package `strace`"), "{err}");
        let o = LiveOptions {
            strace: "/nonexistent/strace".into(),
            ..LiveOptions::default()
        };
        let err = profile_command(&["true"], &o).unwrap_err();
        assert!(matches!(err, ProfilerError::StraceMissing { .. }), "{err}");
    }

    #[test]
    fn bad_arguments() {
        let none: [&str; 0] = [];
        assert!(matches!(
            profile_command(&none, &LiveOptions::default()),
            Err(ProfilerError::Spawn { .. })
        ));
        let o = LiveOptions {
            runs: 0,
            ..LiveOptions::default()
        };
        assert!(matches!(
            profile_command(&["true"], &o),
            Err(ProfilerError::NoRuns)
        ));
    }
}
