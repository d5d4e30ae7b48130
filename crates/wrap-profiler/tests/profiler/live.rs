//! Live profiling under the machine's strace.
//!
//! Where the system forbids tracing (ptrace refused, as in some
//! containers) these tests print why and pass; set
//! `WRAP_TEST_FORCE_STRACE=1` to make that a failure where tracing is
//! promised. Any other error fails.

use wrap_profiler::{profile_command, LiveOptions, LiveProfile, ProfilerError};

fn options(runs: u32) -> LiveOptions {
    LiveOptions {
        runs,
        ..LiveOptions::default()
    }
}

/// Profiles `cmd`; `None` (after printing why) only when tracing is
/// forbidden and not forced.
fn profile_or_skip(cmd: &[&str], opts: &LiveOptions) -> Option<LiveProfile> {
    match profile_command(cmd, opts) {
        Ok(p) => Some(p),
        Err(e @ ProfilerError::TracingForbidden { .. }) => {
            assert!(
                std::env::var_os("WRAP_TEST_FORCE_STRACE").is_none(),
                "WRAP_TEST_FORCE_STRACE is set but: {e}"
            );
            eprintln!("skipped: strace cannot trace here: {e}");
            None
        }
        Err(e) => panic!("profiling {cmd:?} failed: {e}"),
    }
}

fn check_common(live: &LiveProfile, runs: u32) {
    let p = &live.profile;
    p.validate("live").unwrap();
    let prov = p.provenance.as_ref().unwrap();
    assert_eq!(prov.source.as_deref(), Some("strace-live"));
    assert_eq!(prov.runs, Some(runs));
    assert_eq!(prov.exec_samples_ms.len(), runs as usize);
    assert_eq!(live.traced_latencies_ms.len(), runs as usize);
    assert!(prov
        .strace_version
        .as_deref()
        .is_some_and(|v| !v.is_empty()));
    assert_eq!(prov.scale, Some(live.scale));
    assert!(
        live.scale >= 0.0 && live.scale <= 1.0,
        "scale {}",
        live.scale
    );
    assert!(!prov.command.is_empty());
    let traced = live.traced_latencies_ms[live.median_run];
    assert!(p.trace_latency_ms.get() <= traced + 1e-9);
    assert!(p.trace_latency_ms.get() <= p.exec_ms.get().max(live.trace.blocked_ms()) + 1e-9);
    assert_eq!(live.trace.root_pid, live.trace.root_pid.or(Some(0)));
}

#[test]
fn live_sleep_50ms() {
    let runs = 3;
    let Some(live) = profile_or_skip(&["sleep", "0.05"], &options(runs)) else {
        return;
    };
    check_common(&live, runs);
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
    assert!(sleep.duration_ms.get() < 80.0);
}

#[test]
fn live_python_sleep_20ms() {
    // The interpreter itself, not a wrapper script (pyenv's shims run bash,
    // whose waits for its subshells would be blocking periods too).
    let exe = std::process::Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    let Some(exe) = exe else {
        eprintln!("skipped: no python3 on PATH");
        return;
    };
    let runs = 3;
    let code = "import time; time.sleep(0.02)";
    let Some(live) = profile_or_skip(&[exe.as_str(), "-c", code], &options(runs)) else {
        return;
    };
    check_common(&live, runs);
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
    assert!(sleep.duration_ms.get() < 60.0, "{sleep:?}");
    assert!(sleep.end_ms().get() <= p.trace_latency_ms.get() + 1e-9);

    // As a new user types it (maybe through a wrapper script): the sleep is there.
    let Some(live) = profile_or_skip(&["python3", "-c", code], &options(1)) else {
        return;
    };
    live.profile.validate("python3").unwrap();
    assert!(
        live.profile
            .blocks
            .iter()
            .any(|b| b.duration_ms.get() >= 19.5),
        "{:?}",
        live.profile.blocks
    );
}

#[test]
fn live_multiprocess_tree_is_merged_and_logs_kept() {
    let dir = std::env::temp_dir().join(format!("wrap-profiler-test-{}", std::process::id()));
    let opts = LiveOptions {
        runs: 1,
        log_dir: Some(dir.clone()),
        ..LiveOptions::default()
    };
    // Two children sleeping at once, 30 ms and 20 ms, while the shell waits.
    let Some(live) = profile_or_skip(
        &[
            "sh",
            "-c",
            "sleep 0.03 & sleep 0.02; wait; echo out; echo err >&2",
        ],
        &opts,
    ) else {
        let _ = std::fs::remove_dir_all(&dir);
        return;
    };
    check_common(&live, 1);
    assert!(dir.join("run-1.strace").is_file());
    let _ = std::fs::remove_dir_all(&dir);
    let total: f64 = live
        .profile
        .blocks
        .iter()
        .map(|b| b.duration_ms.get())
        .sum();
    // Union, not sum: the two sleeps and the shell's wait4 overlap.
    assert!(total < live.trace.traced_latency_ms(), "{total}");
    assert!(
        live.profile
            .blocks
            .iter()
            .any(|b| b.duration_ms.get() >= 29.0),
        "{:?}",
        live.profile.blocks
    );
}

#[test]
fn failing_commands_are_errors() {
    let err = profile_command(&["sh", "-c", "echo boom >&2; exit 3"], &options(2)).unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(err, ProfilerError::CommandFailed { traced: false, .. }),
        "{msg}"
    );
    assert!(msg.contains("exit code 3") && msg.contains("boom"), "{msg}");

    let err = profile_command(&["/nonexistent/program"], &options(1)).unwrap_err();
    assert!(matches!(err, ProfilerError::Spawn { .. }), "{err}");
    assert!(err.to_string().contains("/nonexistent/program"), "{err}");

    // Fine untraced, fails when traced (it checks for a tracer).
    let cmd = [
        "sh",
        "-c",
        "grep -q 'TracerPid:[[:space:]]*0$' /proc/self/status",
    ];
    match profile_command(&cmd, &options(1)) {
        Err(ProfilerError::CommandFailed {
            traced: true,
            status,
            ..
        }) => {
            assert_eq!(status, "exit code 1");
        }
        Err(e @ ProfilerError::TracingForbidden { .. }) => eprintln!("skipped: {e}"),
        other => panic!("expected a traced failure, got {other:?}"),
    }
}

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
    assert!(live
        .profile
        .blocks
        .iter()
        .any(|b| b.duration_ms.get() >= 9.5));
}

#[test]
fn forbidden_tracing_is_its_own_error() {
    let (dir, path) = fake_strace(
        "eperm",
        r#"if [ "$1" = -V ]; then echo "strace -- version 6.1"; exit 0; fi
echo "strace: test_ptrace_get_syscall_info: PTRACE_TRACEME: Operation not permitted" >&2
echo "strace: ptrace(PTRACE_TRACEME, ...): Operation not permitted" >&2
exit 1"#,
    );
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
