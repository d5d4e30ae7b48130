//! Live profiling under the machine's strace.
//!
//! # `WRAP_TEST_FORCE_STRACE`
//!
//! Set `WRAP_TEST_FORCE_STRACE=1` where tracing is promised (`.ci/run`
//! sets it). Then these tests never skip: a system that forbids tracing
//! (ptrace refused, as in containers without `CAP_SYS_PTRACE`) and a
//! missing `python3` FAIL them.
//!
//! Without it (unset, empty or `0`), a test that meets forbidden tracing,
//! or the python test without `python3` on `PATH`, prints `skipped: ...`
//! on stderr (shown with `--nocapture`) and passes — so a plain `cargo
//! test` passes in such a container without proving anything about live
//! profiling. A missing strace fails in both cases: it is a missing
//! package (`apt-get install strace`), not a property of the system. Any
//! other error always fails.

use std::path::{Path, PathBuf};

use wrap_profiler::{profile_command, LiveOptions, LiveProfile, ProcessEnd, ProfilerError};

/// The variable that turns skips into failures.
const FORCE: &str = "WRAP_TEST_FORCE_STRACE";

/// Whether [`FORCE`] is set to something other than empty or `0`.
fn forced() -> bool {
    std::env::var_os(FORCE).is_some_and(|v| !v.is_empty() && v != "0")
}

/// Skips a test (prints why; the caller returns) — or, when `forced`,
/// fails it.
fn skip_or_fail(why: &str, forced: bool) {
    assert!(
        !forced,
        "{FORCE} is set, so this test may not be skipped: {why}"
    );
    eprintln!("skipped: {why} (set {FORCE}=1 to make this a failure)");
}

/// A directory for a test's strace logs, removed when dropped.
struct LogDir(PathBuf);

impl LogDir {
    fn new(test: &str) -> LogDir {
        let dir =
            std::env::temp_dir().join(format!("wrap-profiler-test-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        LogDir(dir)
    }
}

impl Drop for LogDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn options(runs: u32, logs: &LogDir) -> LiveOptions {
    LiveOptions {
        runs,
        log_dir: Some(logs.0.clone()),
        ..LiveOptions::default()
    }
}

/// Profiles `cmd`; `None` (after printing why) only when tracing is
/// forbidden and `forced` is false. Every other error fails, a missing
/// strace included.
fn profile_or_skip_with(cmd: &[&str], opts: &LiveOptions, forced: bool) -> Option<LiveProfile> {
    match profile_command(cmd, opts) {
        Ok(p) => Some(p),
        Err(e @ ProfilerError::TracingForbidden { .. }) => {
            skip_or_fail(&format!("strace cannot trace here: {e}"), forced);
            None
        }
        Err(e) => panic!("profiling {cmd:?} failed: {e}"),
    }
}

/// [`profile_or_skip_with`] as [`FORCE`] says.
fn profile_or_skip(cmd: &[&str], opts: &LiveOptions) -> Option<LiveProfile> {
    profile_or_skip_with(cmd, opts, forced())
}

/// The interpreter itself, not a wrapper script (pyenv's shims run bash,
/// whose waits for its subshells would be blocking periods too).
fn python3() -> Option<String> {
    std::process::Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .filter(|exe| !exe.is_empty())
}

fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// What every live profile must satisfy, checked against the values they
/// come from: the command, the untraced samples, the chosen run's window
/// and its log (kept in `logs`).
fn check_common(live: &LiveProfile, runs: u32, cmd: &[&str], logs: &Path) {
    let p = &live.profile;
    p.validate("live").unwrap();
    let prov = p.provenance.as_ref().unwrap();
    assert_eq!(prov.source.as_deref(), Some("strace-live"));
    assert_eq!(prov.runs, Some(runs));
    assert_eq!(prov.command, cmd);
    assert_eq!(live.exec_samples_ms.len(), runs as usize);
    let samples: Vec<f64> = prov.exec_samples_ms.iter().map(|m| m.get()).collect();
    assert_eq!(samples, live.exec_samples_ms);
    assert!(samples.iter().all(|&s| s > 0.0), "{samples:?}");
    assert_eq!(p.exec_ms.get(), median(&samples));
    // `strace -V` of the machine's strace: `strace -- version 6.1` -> `6.1`.
    assert_eq!(
        prov.strace_version.as_deref(),
        Some(live.strace_version.as_str())
    );
    assert!(
        live.strace_version
            .split('.')
            .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())),
        "strace version {:?}",
        live.strace_version
    );
    assert_eq!(prov.scale, Some(live.scale));
    assert!(
        live.scale >= 0.0 && live.scale <= 1.0,
        "scale {}",
        live.scale
    );

    // The chosen run is the median traced one, and its window is the trace's.
    assert_eq!(live.traced_latencies_ms.len(), runs as usize);
    let traced = live.traced_latencies_ms[live.median_run];
    assert_eq!(traced, live.trace.traced_latency_ms());
    let mut sorted = live.traced_latencies_ms.clone();
    sorted.sort_by(f64::total_cmp);
    assert_eq!(traced, sorted[(sorted.len() - 1) / 2]);
    // trace_latency_ms = min(traced, solo), never below the blocking total.
    let exec = p.exec_ms.get();
    let blocked = live.trace.blocked_ms();
    let want = if exec < traced {
        exec.max(blocked)
    } else {
        traced
    };
    assert!(
        (p.trace_latency_ms.get() - want).abs() < 1e-9,
        "trace_latency_ms {} (traced {traced}, exec {exec}, blocked {blocked})",
        p.trace_latency_ms.get()
    );

    // The root process is the command's: the pid of the log's first line
    // (its execve), which exited with 0 — not the test's own pid.
    let log = logs.join(format!("run-{}.strace", live.median_run + 1));
    let text = std::fs::read_to_string(&log)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", log.display()));
    let first = text.lines().next().unwrap_or_default();
    assert!(first.contains(" execve("), "{first}");
    let pid: u32 = first
        .split_whitespace()
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no pid on the first line of {}: {first}", log.display()));
    assert_eq!(live.trace.root_pid, Some(pid));
    assert_ne!(pid, std::process::id());
    assert_eq!(live.trace.root_end, Some(ProcessEnd::Exited(0)));
    assert!(
        text.lines()
            .any(|l| l.starts_with(&format!("{pid} ")) && l.ends_with("+++ exited with 0 +++")),
        "no exit line of {pid} in {}",
        log.display()
    );
}

#[test]
fn live_sleep_50ms() {
    let runs = 3;
    let logs = LogDir::new("sleep");
    let cmd = ["sleep", "0.05"];
    let Some(live) = profile_or_skip(&cmd, &options(runs, &logs)) else {
        return;
    };
    check_common(&live, runs, &cmd, &logs.0);
    let p = &live.profile;
    eprintln!(
        "{}\n{}",
        serde_json::to_string(p).unwrap(),
        live.trace.stats
    );
    assert!(p.exec_ms.get() >= 50.0, "exec {}", p.exec_ms.get());
    let sleep = p
        .blocks
        .iter()
        .find(|b| b.duration_ms.get() >= 49.0)
        .unwrap_or_else(|| panic!("no 50 ms block in {:?}", p.blocks));
    assert!(sleep.syscall.contains("nanosleep"), "{}", sleep.syscall);
    assert!(sleep.duration_ms.get() < 250.0, "{sleep:?}");
}

#[test]
fn live_python_sleep_20ms() {
    let Some(exe) = python3() else {
        skip_or_fail("no python3 on PATH", forced());
        return;
    };
    let runs = 3;
    let code = "import time; time.sleep(0.02)";
    let logs = LogDir::new("python");
    let cmd = [exe.as_str(), "-c", code];
    let Some(live) = profile_or_skip(&cmd, &options(runs, &logs)) else {
        return;
    };
    check_common(&live, runs, &cmd, &logs.0);
    let p = &live.profile;
    eprintln!(
        "exec {} trace {} blocks {} scale {} seccomp {}\n{}",
        p.exec_ms.get(),
        p.trace_latency_ms.get(),
        p.blocks.len(),
        live.scale,
        live.seccomp_bpf,
        live.trace.stats
    );
    assert!(p.exec_ms.get() > 20.0);
    let sleep = p
        .blocks
        .iter()
        .find(|b| b.syscall == "clock_nanosleep" && b.duration_ms.get() >= 19.5)
        .unwrap_or_else(|| panic!("no 20 ms clock_nanosleep in {:?}", p.blocks));
    assert!(sleep.duration_ms.get() < 250.0, "{sleep:?}");
    assert!(sleep.end_ms().get() <= p.trace_latency_ms.get() + 1e-9);

    // As a new user types it (maybe through a wrapper script such as
    // pyenv's shim, which execs the interpreter): the sleep is there, by
    // name and length, not just some long block of the wrapper's.
    let logs = LogDir::new("python3");
    let cmd = ["python3", "-c", code];
    let Some(live) = profile_or_skip(&cmd, &options(1, &logs)) else {
        return;
    };
    check_common(&live, 1, &cmd, &logs.0);
    let blocks = &live.profile.blocks;
    assert!(
        blocks
            .iter()
            .any(|b| b.syscall == "clock_nanosleep" && (19.5..250.0).contains(&b.duration_ms.get())),
        "no 20 ms clock_nanosleep in {blocks:?}"
    );
}

#[test]
fn live_multiprocess_tree_is_merged_and_logs_kept() {
    let logs = LogDir::new("tree");
    // Two children sleeping at once, 30 ms and 20 ms, while the shell waits.
    let cmd = [
        "sh",
        "-c",
        "sleep 0.03 & sleep 0.02; wait; echo out; echo err >&2",
    ];
    let Some(live) = profile_or_skip(&cmd, &options(1, &logs)) else {
        return;
    };
    assert!(logs.0.join("run-1.strace").is_file());
    check_common(&live, 1, &cmd, &logs.0);
    let total: f64 = live
        .profile
        .blocks
        .iter()
        .map(|b| b.duration_ms.get())
        .sum();
    // Union, not sum: the two sleeps and the shell's wait4 overlap.
    assert!(total < live.trace.traced_latency_ms(), "{total}");
    // The 30 ms sleep is inside one merged period (the shell's wait4 may
    // stretch it: a loaded machine slows the traced run, so no tighter
    // upper bound than the run itself holds).
    let traced = live.trace.traced_latency_ms();
    assert!(
        live.profile
            .blocks
            .iter()
            .any(|b| (29.0..=traced).contains(&b.duration_ms.get())),
        "{:?}",
        live.profile.blocks
    );
}

#[test]
fn failing_commands_are_errors() {
    let logs = LogDir::new("failing");
    let err =
        profile_command(&["sh", "-c", "echo boom >&2; exit 3"], &options(2, &logs)).unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(err, ProfilerError::CommandFailed { traced: false, .. }),
        "{msg}"
    );
    assert!(msg.contains("exit code 3") && msg.contains("boom"), "{msg}");

    let err = profile_command(&["/nonexistent/program"], &options(1, &logs)).unwrap_err();
    assert!(matches!(err, ProfilerError::Spawn { .. }), "{err}");
    assert!(err.to_string().contains("/nonexistent/program"), "{err}");

    // Fine untraced, fails when traced (it checks for a tracer).
    let cmd = [
        "sh",
        "-c",
        "grep -q 'TracerPid:[[:space:]]*0$' /proc/self/status",
    ];
    match profile_command(&cmd, &options(1, &logs)) {
        Err(ProfilerError::CommandFailed {
            traced: true,
            status,
            ..
        }) => {
            assert_eq!(status, "exit code 1");
        }
        Err(e @ ProfilerError::TracingForbidden { .. }) => {
            skip_or_fail(&format!("strace cannot trace here: {e}"), forced());
        }
        other => panic!("expected a traced failure, got {other:?}"),
    }
}

/// The skip logic itself: forbidden tracing skips only when not forced; a
/// missing strace fails whether forced or not; a skip reason fails when
/// forced.
#[test]
fn skips_become_failures_when_forced() {
    use std::panic::{catch_unwind, AssertUnwindSafe};
    let (dir, eperm) = fake_strace("force", EPERM_STRACE);
    let opts = LiveOptions {
        runs: 1,
        strace: eperm,
        ..LiveOptions::default()
    };
    assert!(profile_or_skip_with(&["true"], &opts, false).is_none());
    let forced_run = catch_unwind(AssertUnwindSafe(|| {
        profile_or_skip_with(&["true"], &opts, true)
    }));
    let _ = std::fs::remove_dir_all(&dir);
    let msg = panic_text(forced_run.expect_err("forbidden tracing was skipped while forced"));
    assert!(
        msg.contains(FORCE) && msg.contains("forbids tracing"),
        "{msg}"
    );

    let missing = LiveOptions {
        runs: 1,
        strace: "/nonexistent/strace".into(),
        ..LiveOptions::default()
    };
    for force in [false, true] {
        let run = catch_unwind(AssertUnwindSafe(|| {
            profile_or_skip_with(&["true"], &missing, force)
        }));
        let msg = panic_text(run.expect_err("a missing strace was skipped"));
        assert!(msg.contains("apt-get install strace"), "{msg}");
    }

    skip_or_fail("no python3 on PATH", false);
    let run = catch_unwind(|| skip_or_fail("no python3 on PATH", true));
    let msg = panic_text(run.expect_err("a missing python3 was skipped while forced"));
    assert!(msg.contains(FORCE) && msg.contains("python3"), "{msg}");
}

fn panic_text(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default()
}

/// A fake strace that reports ptrace refused, as strace does where the
/// system forbids tracing.
const EPERM_STRACE: &str = r#"if [ "$1" = -V ]; then echo "strace -- version 6.1"; exit 0; fi
echo "strace: test_ptrace_get_syscall_info: PTRACE_TRACEME: Operation not permitted" >&2
echo "strace: ptrace(PTRACE_TRACEME, ...): Operation not permitted" >&2
exit 1"#;

/// A fake strace (a shell script) in a fresh directory.
fn fake_strace(name: &str, script: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let dir =
        std::env::temp_dir().join(format!("wrap-profiler-fake-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("strace");
    std::fs::write(&path, format!("#!/bin/sh\n{script}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    (dir, path)
}

#[test]
fn an_strace_without_seccomp_bpf_is_retried_without_it() {
    let (dir, path) = fake_strace(
        "noseccomp",
        r#"for a in "$@"; do
  if [ "$a" = --seccomp-bpf ]; then echo "strace: unrecognized option '--seccomp-bpf'" >&2; exit 1; fi
done
exec strace "$@""#,
    );
    let opts = LiveOptions {
        runs: 2,
        strace: path,
        ..LiveOptions::default()
    };
    let result = profile_or_skip(&["sleep", "0.01"], &opts);
    let _ = std::fs::remove_dir_all(&dir);
    let Some(live) = result else { return };
    assert!(!live.seccomp_bpf);
    assert!(
        live.profile
            .blocks
            .iter()
            .any(|b| b.syscall.contains("nanosleep") && (9.5..250.0).contains(&b.duration_ms.get())),
        "no 10 ms sleep in {:?}",
        live.profile.blocks
    );
}

#[test]
fn forbidden_tracing_is_its_own_error() {
    let (dir, path) = fake_strace("eperm", EPERM_STRACE);
    let opts = LiveOptions {
        runs: 1,
        strace: path,
        ..LiveOptions::default()
    };
    let err = profile_command(&["true"], &opts).unwrap_err();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        matches!(err, ProfilerError::TracingForbidden { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("CAP_SYS_PTRACE"), "{err}");
}

#[test]
fn strace_failing_otherwise_is_reported() {
    let (dir, path) = fake_strace(
        "broken",
        r#"if [ "$1" = -V ]; then echo "strace -- version 6.1"; exit 0; fi
echo "strace: something else went wrong" >&2
exit 1"#,
    );
    let opts = LiveOptions {
        runs: 1,
        strace: path,
        ..LiveOptions::default()
    };
    let err = profile_command(&["true"], &opts).unwrap_err();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(matches!(err, ProfilerError::Strace { .. }), "{err}");
    assert!(
        err.to_string().contains("something else went wrong"),
        "{err}"
    );
}
