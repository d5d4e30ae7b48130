//! The profiler of the wrap scheduler: from a user's own function — a
//! command to run, or an strace log taken elsewhere — to the [`Profile`]
//! the scheduler uses (`exec_ms`, `trace_latency_ms`, blocking periods).
//! The rules (grammar, blocking set, window, merging, scaling) are in
//! `docs/profiler.md`.
//!
//! ```
//! use wrap_profiler::{BlockingSet, Trace, Window, WindowSpec};
//!
//! // Two threads; the reader blocks while the writer sleeps, p4-style.
//! let log = "\
//! 21127 1796322274.465020 read(3,  <unfinished ...>
//! 21128 1796322274.465105 clock_nanosleep(CLOCK_REALTIME, 0, {tv_sec=0, tv_nsec=30000000}, NULL) = 0 <0.030144>
//! 21128 1796322274.495384 write(4, \"yyyy\"..., 4096 <unfinished ...>
//! 21127 1796322274.495507 <... read resumed>\"yyyy\"..., 4096) = 4096 <0.030475>
//! 21128 1796322274.495537 <... write resumed>) = 4096 <0.000095>
//! 21127 1796322274.495577 getppid() = 21126 <0.000008>
//! 21128 1796322274.496000 +++ exited with 0 +++
//! 21127 1796322274.498000 --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=21128} ---
//! ";
//! let window = Window::from_ms(1_796_322_274_464.778, 1_796_322_274_521.557)?;
//! let trace = Trace::from_log(log.as_bytes(), WindowSpec::Explicit(window), &BlockingSet::default())?;
//! // read, sleep and write overlap: one period, named after the read.
//! assert_eq!(trace.periods.len(), 1);
//! assert_eq!(trace.periods[0].syscall, "read");
//! assert_eq!(trace.stats.split_calls, 2);
//! assert_eq!(trace.stats.signals, 1);
//!
//! let profile = trace.to_profile(None)?.profile;
//! assert_eq!(profile.blocks.len(), 1);
//! assert!((profile.blocks[0].start_ms.get() - 0.242).abs() < 1e-9);
//! assert!((profile.blocks[0].duration_ms.get() - 30.475).abs() < 1e-9);
//! print!("{}", wrap_profiler::chiron_csv(&profile, 21127));
//! # Ok::<(), wrap_profiler::ProfilerError>(())
//! ```
//!
//! # Layout
//! * [`grammar`]: one log line → [`grammar::Line`]; no allocation.
//! * [`reader`]: a streaming [`CallReader`] pairing split calls, with
//!   [`ParseStats`].
//! * [`blocking`]: the [`BlockingSet`] and the `-e trace=` list.
//! * [`extract`]: windows, merging, scaling: [`Trace`] → [`Profile`];
//!   offline profiling in one call, [`profile_log`].
//! * [`live`]: [`profile_command`] runs a command untraced and under strace.
//! * [`chiron`]: the published timelines CSV, [`write_chiron`].

#![deny(unsafe_code)]

pub mod blocking;
pub mod chiron;
mod error;
pub mod extract;
pub mod grammar;
pub mod live;
pub mod reader;

pub use blocking::{BlockingSet, DEFAULT_BLOCKING};
pub use chiron::{chiron_csv, write_chiron};
pub use error::ProfilerError;
pub use extract::{profile_log, ExtractCounts, Period, Scaled, Trace, Window, WindowSpec};
pub use live::{profile_command, strace_version, LiveOptions, LiveProfile};
pub use reader::{Call, CallReader, Event, ParseStats, ProcessEnd};
pub use wrap_model::Profile;
