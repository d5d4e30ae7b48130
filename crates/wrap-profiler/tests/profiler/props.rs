//! Property tests: no input makes the parser panic; every profile that
//! comes out validates.

use proptest::prelude::*;
use wrap_profiler::grammar::parse_line;
use wrap_profiler::{BlockingSet, CallReader, ProfilerError, Trace, Window, WindowSpec};

use super::fixtures;

/// Lines of real logs, to cut at random places.
fn sample_lines() -> Vec<String> {
    let mut out = Vec::new();
    for stem in ["p2_fork_pipe", "p3_threads", "p5_server"] {
        let text = std::fs::read_to_string(fixtures::log_path(stem)).unwrap();
        out.extend(text.lines().map(str::to_owned));
    }
    out
}

/// strace-like lines: every shape, with random names, pids and times.
fn straceish_line() -> impl Strategy<Value = String> {
    let name = prop::sample::select(vec![
        "read",
        "write",
        "futex",
        "poll",
        "clock_nanosleep",
        "getppid",
        "wait4",
        "exit_group",
    ]);
    let args = prop::sample::select(vec![
        "3, \"x)y\"..., 4",
        "0x1, FUTEX_WAIT_PRIVATE, 2, NULL",
        "0x1, FUTEX_WAKE_PRIVATE, 1",
        "[{fd=3, events=POLLIN}], 1, 500",
        "",
        "CLOCK_REALTIME, 0, {tv_sec=0, tv_nsec=1}, NULL",
    ]);
    (
        0u32..4,
        0i64..2_000_000,
        name,
        args,
        0i64..50_000,
        0usize..9,
    )
        .prop_map(|(pid, t, name, args, d, shape)| {
            let ts = format!("{}.{:06}", 1000 + t / 1_000_000, t % 1_000_000);
            let dur = format!("<0.{d:06}>");
            let body = match shape {
                0 | 1 => format!("{name}({args}) = 0 {dur}"),
                2 => format!("{name}({args} <unfinished ...>"),
                3 => format!("<... {name} resumed>{args}) = 1 {dur}"),
                4 => "--- SIGCHLD {si_signo=SIGCHLD} ---".to_owned(),
                5 => "+++ exited with 0 +++".to_owned(),
                6 => format!("{name}({args}"),
                7 => format!("<... {name} resumed> <unfinished ...>) = ?"),
                _ => format!("{name}({args}) = ?"),
            };
            format!("{pid} {ts} {body}")
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_lines_never_panic(s in any::<String>()) {
        let _ = parse_line(&s);
        let mut r = CallReader::new(s.as_bytes());
        for e in r.by_ref() {
            let _ = e.unwrap();
        }
        prop_assert!(r.stats().lines <= s.lines().count() as u64 + 1);
    }

    #[test]
    fn arbitrary_bytes_never_panic(b in prop::collection::vec(any::<u8>(), 0..400)) {
        let r = CallReader::new(&b[..]);
        for e in r {
            let _ = e.unwrap();
        }
        let _ = Trace::from_log(&b[..], WindowSpec::RootProcess, &BlockingSet::default());
    }

    #[test]
    fn truncated_real_lines_never_panic(i in any::<prop::sample::Index>(), cut in any::<prop::sample::Index>()) {
        let lines = sample_lines();
        let line = &lines[i.index(lines.len())];
        let mut at = cut.index(line.len() + 1);
        while !line.is_char_boundary(at) {
            at -= 1;
        }
        let cut_line = &line[..at];
        let _ = parse_line(cut_line);
        // A whole log whose last line is cut.
        let log = format!("{}\n{cut_line}", lines[..20].join("\n"));
        let t = Trace::from_log(log.as_bytes(), WindowSpec::RootProcess, &BlockingSet::default());
        if let Ok(t) = t {
            t.to_profile(None).unwrap().profile.validate("cut").unwrap();
        }
    }

    #[test]
    fn straceish_logs_give_valid_profiles(
        lines in prop::collection::vec(straceish_line(), 1..60),
        solo in prop::option::of(0.001f64..5000.0),
        w0 in 0i64..1_000_000,
        wlen in 1i64..2_000_000,
    ) {
        let log = lines.join("\n");
        let set = BlockingSet::default();
        let start = 1_000_000_000_000 + w0 * 1000;
        let window = Window::from_ns(start, start + wlen * 1000).unwrap();
        // An explicit window is refused exactly when it misses the log's span.
        let mut reader = CallReader::new(log.as_bytes());
        for e in reader.by_ref() {
            e.unwrap();
        }
        let span = reader.first_ns().zip(reader.last_ns());
        let overlaps = span.is_some_and(|(first, last)| {
            window.start_ns() <= last && window.end_ns() >= first
        });
        match Trace::from_log(log.as_bytes(), WindowSpec::Explicit(window), &set) {
            Ok(_) => prop_assert!(overlaps, "{span:?} {window:?}"),
            Err(ProfilerError::WindowOutsideLog { .. }) => {
                prop_assert!(!overlaps, "{span:?} {window:?}");
            }
            Err(e) => prop_assert!(span.is_none(), "{e}"),
        }
        for spec in [WindowSpec::Explicit(window), WindowSpec::RootProcess] {
            let Ok(trace) = Trace::from_log(log.as_bytes(), spec, &set) else { continue };
            for pair in trace.periods.windows(2) {
                prop_assert!(pair[0].end_ns < pair[1].start_ns);
            }
            prop_assert!(trace.blocked_ms() <= trace.traced_latency_ms() + 1e-9);
            let s = trace.to_profile(solo).unwrap();
            let p = &s.profile;
            p.validate("prop").unwrap();
            prop_assert!(s.scale >= 0.0 && s.scale <= 1.0);
            if let Some(last) = p.blocks.last() {
                prop_assert!(last.end_ms().get() <= p.trace_latency_ms.get() + 1e-6,
                    "{} > {}", last.end_ms().get(), p.trace_latency_ms.get());
            }
            if let Some(solo) = solo {
                prop_assert!(p.trace_latency_ms.get() <= trace.traced_latency_ms().max(trace.blocked_ms()) + 1e-9);
                prop_assert!(p.trace_latency_ms.get() >= solo.min(trace.traced_latency_ms()) - 1e-9);
            }
        }
    }
}
