//! The fixtures of `<repo>/../shared/fixtures/strace/`, read at test time,
//! against the programs' own record of their blocking calls.

use std::fmt::Write as _;
use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;

use serde_json::Value;
use wrap_profiler::{BlockingSet, CallReader, Event, ProfilerError, Trace, Window, WindowSpec};

/// The fixture directory: `shared/` is the repository's sibling.
pub fn dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/fixtures/strace"
    ))
}

/// Every fixture: (log stem, truth stem, solo stem).
pub const FIXTURES: [(&str, &str); 6] = [
    ("p1_seq", "p1_seq"),
    ("p1_seq.seccomp", "p1_seq"),
    ("p2_fork_pipe", "p2_fork_pipe"),
    ("p3_threads", "p3_threads"),
    ("p4_py", "p4_py"),
    ("p5_server", "p5_server"),
];

pub struct Truth {
    pub start_ms: f64,
    pub end_ms: f64,
    pub latency_ms: f64,
    /// (what, tid, start, dur), relative to `start_ms`.
    pub events: Vec<(String, u64, f64, f64)>,
}

pub fn truth(stem: &str, kind: &str) -> Truth {
    let path = dir().join(format!("{stem}.{kind}.json"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read fixture {}: {e}", path.display()));
    let v: Value = serde_json::from_str(&text).unwrap();
    let num = |v: &Value, k: &str| v[k].as_f64().unwrap_or_else(|| panic!("{stem}: no {k}"));
    Truth {
        start_ms: num(&v, "start_ms"),
        end_ms: num(&v, "end_ms"),
        latency_ms: num(&v, "latency_ms"),
        events: v["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["what"].as_str().unwrap().to_owned(),
                    e["tid"].as_u64().unwrap(),
                    num(e, "start"),
                    num(e, "dur"),
                )
            })
            .collect(),
    }
}

pub fn log_path(stem: &str) -> PathBuf {
    dir().join(format!("{stem}.strace"))
}

pub fn trace_of(stem: &str, t: &Truth) -> Trace {
    let w = Window::from_ms(t.start_ms, t.end_ms).unwrap();
    Trace::from_file(
        &log_path(stem),
        WindowSpec::Explicit(w),
        &BlockingSet::default(),
    )
    .unwrap()
}

/// Blocking calls inside the window, unmerged: (tid, name, start_ms, dur_ms)
/// relative to the window start.
fn window_calls(stem: &str, t: &Truth) -> Vec<(Option<u32>, String, f64, f64)> {
    let set = BlockingSet::default();
    let w = Window::from_ms(t.start_ms, t.end_ms).unwrap();
    let file = File::open(log_path(stem)).unwrap();
    CallReader::new(BufReader::new(file))
        .filter_map(|e| match e.unwrap() {
            Event::Call(c) => Some(c),
            _ => None,
        })
        .filter(|c| set.is_blocking_call(c))
        .filter_map(|c| {
            let end = c.end_ns()?;
            w.contains(c.start_ns, end).then(|| {
                (
                    c.pid,
                    c.name,
                    (c.start_ns - w.start_ns()) as f64 / 1e6,
                    (end - c.start_ns) as f64 / 1e6,
                )
            })
        })
        .collect()
}

fn overlap(a0: f64, a1: f64, b0: f64, b1: f64) -> f64 {
    (a1.min(b1) - a0.max(b0)).max(0.0)
}

/// Coverage of every truth event by the extracted blocks, printed as the
/// table for the issue note (`cargo test -p wrap-profiler --test profiler
/// fixture_table -- --nocapture`).
#[test]
fn every_known_event_of_2ms_is_covered_to_85_percent() {
    let mut table = String::new();
    let mut failures = Vec::new();
    writeln!(table, "| fixture | event | tid | truth start | truth dur | call (tid) | call start | call dur | block start | block dur | covered |").unwrap();
    writeln!(table, "|---|---|---|---|---|---|---|---|---|---|---|").unwrap();
    for (stem, truth_stem) in FIXTURES {
        let t = truth(truth_stem_for(stem, truth_stem), "truth");
        let trace = trace_of(stem, &t);
        let profile = trace.to_profile(None).unwrap().profile;
        profile.validate(stem).unwrap();
        let calls = window_calls(stem, &t);
        let (mut found, mut known) = (0, 0);
        for (what, tid, start, dur) in &t.events {
            let end = start + dur;
            let covered: f64 = profile
                .blocks
                .iter()
                .map(|b| overlap(*start, end, b.start_ms.get(), b.end_ms().get()))
                .sum();
            let frac = if *dur > 0.0 { covered / dur } else { 0.0 };
            let best_block = profile.blocks.iter().max_by(|a, b| {
                overlap(*start, end, a.start_ms.get(), a.end_ms().get()).total_cmp(&overlap(
                    *start,
                    end,
                    b.start_ms.get(),
                    b.end_ms().get(),
                ))
            });
            // The call of the event's thread overlapping it most.
            let best_call = calls
                .iter()
                .filter(|c| c.0 == Some(*tid as u32))
                .map(|c| (overlap(*start, end, c.2, c.2 + c.3), c))
                .filter(|(o, _)| *o > 0.0)
                .max_by(|a, b| a.0.total_cmp(&b.0))
                .map(|(_, c)| c);
            // Known blocking events: all but the getppid loop (CPU, not
            // blocking) and p3's join of a thread that had already exited
            // (no call at all, 0 ms).
            let is_known = !what.contains("getppid") && *dur > 0.0;
            if is_known {
                known += 1;
                if best_call.is_some() {
                    found += 1;
                }
            }
            let (cs, cd, cn) = match best_call {
                Some(c) if is_known => (format!("{:.3}", c.2), format!("{:.3}", c.3), c.1.clone()),
                _ => ("-".into(), "-".into(), "-".into()),
            };
            let (bs, bd) = match best_block {
                Some(b) if frac > 0.0 => (
                    format!("{:.3}", b.start_ms.get()),
                    format!("{:.3}", b.duration_ms.get()),
                ),
                _ => ("-".into(), "-".into()),
            };
            writeln!(
                table,
                "| {stem} | {what} | {tid} | {start:.3} | {dur:.3} | {cn} | {cs} | {cd} | {bs} | {bd} | {:.0}% |",
                frac * 100.0
            )
            .unwrap();
            if *dur >= 2.0 && is_known && frac < 0.85 {
                failures.push(format!("{stem}: '{what}' covered {:.1}%", frac * 100.0));
            }
        }
        writeln!(
            table,
            "| {stem} | **{found} of {known} known events found**; {} blocks, {:.3} ms blocked of {:.3} ms traced | | | | | | | | | |",
            profile.blocks.len(),
            trace.blocked_ms(),
            trace.traced_latency_ms()
        )
        .unwrap();
        if found != known {
            failures.push(format!("{stem}: found {found} of {known} known events"));
        }
    }
    println!("{table}");
    assert!(failures.is_empty(), "{failures:#?}\n{table}");
}

fn truth_stem_for<'a>(stem: &'a str, truth_stem: &'a str) -> &'a str {
    // p1_seq.seccomp has its own truth file (another run).
    if stem.ends_with(".seccomp") {
        stem
    } else {
        truth_stem
    }
}

#[test]
fn p1_getppid_calls_are_not_blocking() {
    for stem in ["p1_seq", "p1_seq.seccomp"] {
        let t = truth(stem, "truth");
        let trace = trace_of(stem, &t);
        let profile = trace.to_profile(None).unwrap().profile;
        assert!(profile.blocks.iter().all(|b| b.syscall != "getppid"));
        let (_, _, start, dur) = t
            .events
            .iter()
            .find(|e| e.0.contains("getppid"))
            .cloned()
            .unwrap();
        let blocked: f64 = profile
            .blocks
            .iter()
            .map(|b| overlap(start, start + dur, b.start_ms.get(), b.end_ms().get()))
            .sum();
        assert!(
            blocked < 0.05 * dur.max(1.0),
            "{stem}: {blocked} ms of the getppid loop ({dur} ms) counted as blocking"
        );
    }
    // Traced, the loop took 48.7 ms against 0.24 ms untraced: with the solo
    // latency the CPU gaps shrink, the blocking periods do not.
    let t = truth("p1_seq", "truth");
    let solo = truth("p1_seq", "solo");
    let trace = trace_of("p1_seq", &t);
    let plain = trace.to_profile(None).unwrap().profile;
    let scaled = trace.to_profile(Some(solo.latency_ms)).unwrap();
    assert!(scaled.scale < 0.9, "scale {}", scaled.scale);
    assert_eq!(scaled.profile.trace_latency_ms.get(), solo.latency_ms);
    assert_eq!(scaled.profile.exec_ms.get(), solo.latency_ms);
    assert_eq!(plain.blocks.len(), scaled.profile.blocks.len());
    for (a, b) in plain.blocks.iter().zip(&scaled.profile.blocks) {
        assert_eq!(a.duration_ms, b.duration_ms);
        assert!(b.start_ms <= a.start_ms);
    }
    let last = scaled.profile.blocks.last().unwrap();
    assert!(last.end_ms().get() <= solo.latency_ms + 1e-9);
    // The poll lands near where the untraced run had it: one factor for
    // all gaps spreads the getppid loop's tracing overhead over the run.
    let poll = scaled
        .profile
        .blocks
        .iter()
        .find(|b| b.syscall == "poll")
        .unwrap();
    let solo_poll = solo
        .events
        .iter()
        .find(|e| e.0.starts_with("poll"))
        .unwrap();
    assert!(
        (poll.start_ms.get() - solo_poll.2).abs() < 8.0,
        "scaled poll at {} vs solo {}",
        poll.start_ms.get(),
        solo_poll.2
    );
}

#[test]
fn p5_idle_polling_thread_is_not_counted() {
    let t = truth("p5_server", "truth");
    let trace = trace_of("p5_server", &t);
    // The main thread's restart_syscall (0.29 s) and poll (0.5 s) both
    // began before the window.
    assert!(trace.counts.began_before >= 2, "{:?}", trace.counts);
    let profile = trace.to_profile(None).unwrap().profile;
    assert!(
        profile
            .blocks
            .iter()
            .all(|b| b.syscall != "poll" && b.syscall != "restart_syscall"),
        "{:?}",
        profile.blocks
    );
    let blocked = trace.blocked_ms();
    assert!(
        blocked < 12.0,
        "{blocked} ms blocked in a {} ms window",
        t.latency_ms
    );
    // The log's last line is cut.
    assert_eq!(trace.stats.truncated, 1, "{}", trace.stats);
}

#[test]
fn p4_interleaved_calls_are_not_counted_twice() {
    let path = log_path("p4_py");
    let text = std::fs::read_to_string(&path).unwrap();
    // (No exit or signal lines in this log; one call's arguments contain
    // "---", so count by shape, not by searching text.)
    let complete = text
        .lines()
        .filter(|l| !l.ends_with("<unfinished ...>"))
        .count() as u64;
    let unfinished = text
        .lines()
        .filter(|l| l.ends_with("<unfinished ...>"))
        .count() as u64;
    let resumed = text.lines().filter(|l| l.contains(" resumed>")).count() as u64;
    assert!(unfinished > 100);
    let t = truth("p4_py", "truth");
    let trace = trace_of("p4_py", &t);
    let st = &trace.stats;
    // One call per complete line (resumed lines included), none per start.
    assert_eq!(st.calls, complete, "{st}");
    assert_eq!(st.split_calls, resumed, "{st}");
    assert_eq!(st.unmatched_resumed, 0, "{st}");
    assert_eq!(st.unknown, 0, "{st}");
    // The thread's recv, split over two lines, is one call of 15.5 ms.
    let recvs: Vec<_> = window_calls("p4_py", &t)
        .into_iter()
        .filter(|c| c.1 == "recvfrom")
        .collect();
    assert_eq!(recvs.len(), 1, "{recvs:?}");
    assert!((recvs[0].3 - 15.501).abs() < 1e-9);
    // Merged as a union: never more blocking than the window has.
    assert!(trace.blocked_ms() <= trace.traced_latency_ms());
    let profile = trace.to_profile(None).unwrap().profile;
    profile.validate("p4").unwrap();
}

#[test]
fn every_fixture_parses_without_unknown_lines() {
    for (stem, truth_stem) in FIXTURES {
        let t = truth(truth_stem_for(stem, truth_stem), "truth");
        let trace = trace_of(stem, &t);
        assert_eq!(trace.stats.unknown, 0, "{stem}: {}", trace.stats);
        assert_eq!(trace.stats.unmatched_resumed, 0, "{stem}: {}", trace.stats);
        println!("{stem}: {}; {:?}", trace.stats, trace.counts);
        // With the solo latency: the profile validates and lasts
        // min(traced, solo).
        let solo = truth(truth_stem, "solo");
        let s = trace.to_profile(Some(solo.latency_ms)).unwrap();
        let p = &s.profile;
        p.validate(stem).unwrap();
        let want = solo.latency_ms.min(trace.traced_latency_ms());
        assert!((p.trace_latency_ms.get() - want).abs() < 1e-9, "{stem}");
        if let Some(last) = p.blocks.last() {
            assert!(
                last.end_ms().get() <= p.trace_latency_ms.get() + 1e-9,
                "{stem}"
            );
        }
    }
    let t = Trace::from_file(
        &log_path("p1_seq.seccomp"),
        WindowSpec::RootProcess,
        &BlockingSet::default(),
    )
    .unwrap();
    assert_eq!(t.root_pid, Some(23417));
    assert_eq!(t.root_end, Some(wrap_profiler::ProcessEnd::Exited(0)));
}

#[test]
fn offline_profile_log_in_one_call() {
    let t = truth("p2_fork_pipe", "truth");
    let solo = truth("p2_fork_pipe", "solo");
    let (profile, trace) = wrap_profiler::profile_log(
        &log_path("p2_fork_pipe"),
        t.start_ms,
        t.end_ms,
        Some(solo.latency_ms),
        &BlockingSet::default(),
    )
    .unwrap();
    let prov = profile.provenance.as_ref().unwrap();
    assert_eq!(prov.source.as_deref(), Some("strace-log"));
    assert!(prov.scale.is_some());
    assert_eq!(profile.exec_ms.get(), solo.latency_ms);
    assert!(trace.periods.iter().any(|p| p.syscall == "read"));
    let csv = wrap_profiler::chiron_csv(&profile, trace.root_pid.unwrap_or(0));
    let (lat, blocks) = wrap_model::import::parse_timeline("p2.csv", &csv).unwrap();
    assert_eq!(lat, profile.trace_latency_ms);
    assert_eq!(blocks, profile.blocks);

    let err = wrap_profiler::profile_log(
        &dir().join("missing.strace"),
        1.0,
        2.0,
        None,
        &BlockingSet::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("missing.strace"), "{err}");
    let err = wrap_profiler::profile_log(
        &log_path("p2_fork_pipe"),
        2.0,
        1.0,
        None,
        &BlockingSet::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("invalid window"), "{err}");
}

/// `wrap-server profile --strace p2_fork_pipe.strace --window 1 2`: a window
/// that misses the log (here, seconds or small numbers where epoch
/// milliseconds belong) is an error giving the log's span, not an empty
/// profile.
#[test]
fn a_window_outside_the_log_is_an_error() {
    let set = BlockingSet::default();
    // p2's first line is at 1796322274.462904 s, its last call ends at
    // 1796322274.521795 + 0.000008 s.
    let span = "spans 1796322274462.904 to 1796322274521.803 epoch ms (58.899 ms)";
    for (start, end) in [
        (1.0, 2.0),
        (1_796_322_274_400.0, 1_796_322_274_462.9),
        (1_796_322_274_521.804, 1_796_322_274_600.0),
    ] {
        let err = wrap_profiler::profile_log(&log_path("p2_fork_pipe"), start, end, None, &set)
            .unwrap_err();
        assert!(
            matches!(err, ProfilerError::WindowOutsideLog { .. }),
            "{err}"
        );
        let msg = err.to_string();
        assert!(
            msg.contains("does not overlap the strace log")
                && msg.contains("p2_fork_pipe.strace")
                && msg.contains(span)
                && msg.contains("epoch milliseconds (`-ttt` seconds × 1000)"),
            "{msg}"
        );
    }
    // The window in -ttt seconds: the message says what it is in ms.
    let err = wrap_profiler::profile_log(
        &log_path("p2_fork_pipe"),
        1_796_322_274.464_778,
        1_796_322_274.521_557,
        None,
        &set,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains(
            "looks like seconds: in milliseconds that is [1796322274464.778, 1796322274521.557]"
        ),
        "{err}"
    );
}

/// A window inside the log without a blocking call: p1's loop of 1000
/// `getppid` calls, pure computation, gives a profile without blocks.
#[test]
fn a_window_without_blocking_calls_is_a_pure_compute_profile() {
    let (profile, trace) = wrap_profiler::profile_log(
        &log_path("p1_seq"),
        1_796_322_274_010.0,
        1_796_322_274_050.0,
        None,
        &BlockingSet::default(),
    )
    .unwrap();
    assert!(trace.stats.calls > 1000, "{}", trace.stats);
    assert_eq!(trace.counts.kept, 0, "{:?}", trace.counts);
    assert!(profile.blocks.is_empty(), "{:?}", profile.blocks);
    assert!((profile.exec_ms.get() - 40.0).abs() < 1e-9);
    assert!((profile.trace_latency_ms.get() - 40.0).abs() < 1e-9);
    profile.validate("p1 getppid loop").unwrap();
}

/// A generated log, produced line by line and never stored: eight threads
/// cycling through a `read` split over two lines (its resumed line carries
/// a [`STRING_LEN`]-byte string, as `strace -s 4096` prints), a `getppid`
/// and a `futex` wake, one line every 10 µs from epoch second 1000.
struct Generated {
    line: u64,
    lines: u64,
    bytes: u64,
    pending: Vec<u8>,
    pos: usize,
}

const STRING_LEN: usize = 4000;

impl Generated {
    fn new(lines: u64) -> Self {
        Generated {
            line: 0,
            lines,
            bytes: 0,
            pending: Vec::with_capacity(STRING_LEN + 128),
            pos: 0,
        }
    }

    fn next_line(&mut self) {
        use std::io::Write as _;
        let i = self.line;
        self.line += 1;
        let (sec, us) = (1000 + i / 100_000, (i % 100_000) * 10);
        let out = &mut self.pending;
        out.clear();
        // A resumed line is its start's thread's.
        let pid = 100 + if i % 4 == 1 { i - 1 } else { i } % 8;
        write!(out, "{pid} {sec}.{us:06} ").unwrap();
        match i % 4 {
            0 => out.extend_from_slice(b"read(3,  <unfinished ...>\n"),
            1 => {
                out.extend_from_slice(b"<... read resumed>\"");
                out.resize(out.len() + STRING_LEN, b'x');
                out.extend_from_slice(b"\"..., 65536) = 65536 <0.000005>\n");
            }
            2 => out.extend_from_slice(b"getppid() = 1 <0.000001>\n"),
            _ => out.extend_from_slice(
                b"futex(0x7f37c3db3990, FUTEX_WAKE_PRIVATE, 1) = 0 <0.000002>\n",
            ),
        }
        self.bytes += out.len() as u64;
        self.pos = 0;
    }
}

impl std::io::Read for Generated {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.pos == self.pending.len() {
            if self.line == self.lines {
                return Ok(0);
            }
            self.next_line();
        }
        let n = buf.len().min(self.pending.len() - self.pos);
        buf[..n].copy_from_slice(&self.pending[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// The peak resident set size of this process, in KiB (`VmHWM`).
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Set in the child process of [`a_large_log_streams_in_little_memory`]:
/// how many lines to generate.
const STREAM_CHILD: &str = "WRAP_PROFILER_TEST_STREAM_LINES";

/// The child's part: stream `lines` generated lines through
/// [`Trace::from_log`] and print `bytes=B peak_rss_kib=K`.
fn stream_generated_log(lines: u64) {
    let mut gen = Generated::new(lines);
    // A 1 ms window 0.1 s into the log: only its calls are kept.
    let w = Window::from_ms(1_000_100.0, 1_000_101.0).unwrap();
    let trace = Trace::from_log(
        std::io::BufReader::new(&mut gen),
        WindowSpec::Explicit(w),
        &BlockingSet::default(),
    )
    .unwrap();
    assert_eq!(gen.line, lines);
    let st = &trace.stats;
    assert_eq!(st.lines, lines, "{st}");
    assert_eq!(st.calls, lines / 4 * 3, "{st}");
    assert_eq!(st.split_calls, lines / 4, "{st}");
    assert_eq!(
        (st.unknown, st.unreturned, st.unmatched_resumed),
        (0, 0, 0),
        "{st}"
    );
    // 100 lines in the window, 25 of them 5 µs reads 40 µs apart.
    assert_eq!(trace.counts.kept, 25, "{:?}", trace.counts);
    assert_eq!(trace.periods.len(), 25);
    println!("bytes={} peak_rss_kib={}", gen.bytes, peak_rss_kib());
}

/// Runs this test binary again, only this test, as a child that streams
/// `lines` generated lines; returns (log bytes, the child's peak RSS in KiB).
/// Its own process, so that no other test's memory counts.
fn stream_in_child(lines: u64) -> std::process::Child {
    std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "fixtures::a_large_log_streams_in_little_memory",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(STREAM_CHILD, lines.to_string())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

fn child_result(child: std::process::Child) -> (u64, u64) {
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "child failed: {stdout}\n{stderr}");
    let field = |name: &str| -> u64 {
        stdout
            .split_whitespace()
            .find_map(|w| w.strip_prefix(name)?.strip_prefix('='))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in the child's output: {stdout}\n{stderr}"))
    };
    (field("bytes"), field("peak_rss_kib"))
}

/// Streaming: a 270 MB log is read in the memory of a 68 MB one, far
/// below its size. Each size runs in a child process of its own (this test
/// binary again, this test only), which reports its own peak RSS
/// (`VmHWM`): the tests running in parallel in this process do not count.
#[test]
fn a_large_log_streams_in_little_memory() {
    if let Some(lines) = std::env::var_os(STREAM_CHILD) {
        stream_generated_log(lines.to_str().unwrap().parse().unwrap());
        return;
    }
    // About 1 KiB a line on average.
    let small_lines = 64_000;
    let large_lines = 4 * small_lines;
    let small = stream_in_child(small_lines);
    let large = stream_in_child(large_lines);
    let (small_bytes, small_kib) = child_result(small);
    let (large_bytes, large_kib) = child_result(large);
    eprintln!(
        "{small_bytes} bytes: peak RSS {small_kib} KiB; {large_bytes} bytes: peak RSS {large_kib} KiB"
    );
    assert!(large_bytes > 250_000_000, "only {large_bytes} bytes");
    assert!(large_bytes >= 4 * small_bytes - 4);
    // Far below the log's size: under 1/16 of it (16 MiB).
    assert!(
        large_kib * 1024 < large_bytes / 16,
        "peak RSS {large_kib} KiB reading a log of {large_bytes} bytes"
    );
    // Independent of the size: four times the log, not 2 MiB more memory.
    assert!(
        large_kib < small_kib + 2048,
        "peak RSS {small_kib} KiB for {small_bytes} bytes but {large_kib} KiB for {large_bytes} bytes"
    );
}
