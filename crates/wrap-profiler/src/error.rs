//! The profiler's one error type.

/// Why a profile could not be made. Messages are lowercase and name the
/// command, file, value or package concerned; causes are part of the
/// message (no `source()`), so printing `Display` alone tells everything.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProfilerError {
    /// The profiled command exited with a non-zero code or was killed.
    #[error("command '{command}' failed{}: {status}{}", under_strace(.traced), stderr_excerpt(.stderr))]
    CommandFailed {
        /// The command line, shell-quoted for display.
        command: String,
        /// `exit code 3` or `killed by signal 9`.
        status: String,
        /// Whether it failed under strace (it ran fine untraced).
        traced: bool,
        /// The end of what it wrote on stderr, if anything.
        stderr: String,
    },
    /// The command could not be started at all.
    #[error("cannot run command '{command}': {error}")]
    Spawn {
        /// The command line.
        command: String,
        /// The OS error.
        error: std::io::Error,
    },
    /// No strace binary.
    #[error("strace not found ('{strace}'): install the Debian package `strace` (apt-get install strace)")]
    StraceMissing {
        /// The strace path or name that was tried.
        strace: String,
    },
    /// The system forbids tracing (ptrace refused).
    #[error("this system forbids tracing: {message}; run as root, set kernel.yama.ptrace_scope=0, or give the container CAP_SYS_PTRACE (docker run --cap-add=SYS_PTRACE), or profile offline from a log taken elsewhere (--strace LOG)")]
    TracingForbidden {
        /// What strace said.
        message: String,
    },
    /// strace failed for another reason.
    #[error("strace failed ({status}): {message}")]
    Strace {
        /// strace's exit status.
        status: String,
        /// What strace said.
        message: String,
    },
    /// A log that cannot give a profile: no timestamps, no calls, no exit
    /// of the traced process, ...
    #[error("bad strace log{}: {message}", in_file(.file))]
    BadLog {
        /// The log file, if it is one.
        file: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// A window that is not two finite epoch times with start < end.
    #[error("invalid window [{start_ms}, {end_ms}]: give two finite epoch times in milliseconds with START_MS < END_MS")]
    InvalidWindow {
        /// The start given.
        start_ms: f64,
        /// The end given.
        end_ms: f64,
    },
    /// An explicit window that does not overlap the log's time span (from
    /// its first to its last timestamp): most likely a window in seconds,
    /// or relative times, where epoch milliseconds are expected.
    #[error("window [{start_ms}, {end_ms}] does not overlap the strace log{}, which spans {log_start_ms} to {log_end_ms} epoch ms ({} ms): the window is in epoch milliseconds (`-ttt` seconds × 1000){}", in_file(.file), span_ms(*.log_start_ms, *.log_end_ms), seconds_hint(*.start_ms, *.end_ms, *.log_start_ms, *.log_end_ms))]
    WindowOutsideLog {
        /// The log file, if it is one.
        file: Option<String>,
        /// The window's start, epoch ms.
        start_ms: f64,
        /// The window's end, epoch ms.
        end_ms: f64,
        /// The log's first time, epoch ms.
        log_start_ms: f64,
        /// The log's last time, epoch ms.
        log_end_ms: f64,
    },
    /// A solo latency that is not a finite positive number.
    #[error("invalid solo latency {value}: must be a finite number of milliseconds above 0")]
    InvalidSolo {
        /// The value given.
        value: f64,
    },
    /// A zero run count.
    #[error("the number of runs must be at least 1")]
    NoRuns,
    /// A bad item in a `--syscalls` list.
    #[error("invalid system call list item '{item}': use names of [a-z0-9_], 'default' for the default blocking set, '-NAME' to remove one")]
    InvalidSyscall {
        /// The offending item.
        item: String,
    },
    /// Reading or writing a file failed.
    #[error("{what} '{path}': {error}")]
    Io {
        /// What was being done (`cannot read strace log`, ...).
        what: &'static str,
        /// The file.
        path: String,
        /// The OS error.
        error: std::io::Error,
    },
    /// The extracted profile does not validate (a bug; reported, not hidden).
    #[error("extracted profile is invalid: {0}")]
    InvalidProfile(wrap_model::ProfileError),
}

fn stderr_excerpt(stderr: &str) -> String {
    let s = stderr.trim();
    if s.is_empty() {
        String::new()
    } else {
        format!("; its stderr ends: {s:?}")
    }
}

fn under_strace(traced: &bool) -> &'static str {
    if *traced {
        " under strace"
    } else {
        ""
    }
}

fn in_file(file: &Option<String>) -> String {
    file.as_ref().map(|f| format!(" '{f}'")).unwrap_or_default()
}

/// Milliseconds rounded to the microsecond, for messages.
fn round_us(ms: f64) -> f64 {
    (ms * 1000.0).round() / 1000.0
}

fn span_ms(start: f64, end: f64) -> f64 {
    round_us(end - start)
}

/// A hint when the window, read as seconds, would overlap the log.
fn seconds_hint(start: f64, end: f64, log_start: f64, log_end: f64) -> String {
    let (s, e) = (round_us(start * 1000.0), round_us(end * 1000.0));
    if s <= log_end && e >= log_start {
        format!("; [{start}, {end}] looks like seconds: in milliseconds that is [{s}, {e}]")
    } else {
        String::new()
    }
}
