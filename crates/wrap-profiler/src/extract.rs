//! From parsed calls to blocking periods and a [`Profile`].
//!
//! 1. Keep the calls of the [`BlockingSet`] that have a duration.
//! 2. Drop those that began before the window or end after it (an idle
//!    server thread's `poll` that spans the window is not the function's).
//! 3. Merge the periods of all threads and processes into their union:
//!    overlapping or touching periods (in integer nanoseconds) become one,
//!    named after the call that started first.
//! 4. Express them relative to the window start. The traced latency is the
//!    window's length; with a solo (untraced) latency below it, the CPU
//!    gaps between periods, and before the first and after the last, are
//!    scaled by one factor so that the profile lasts the solo latency;
//!    blocking durations stay as measured.
//!
//! Times are kept in integer nanoseconds until the profile is built.

use std::io::BufRead;
use std::path::Path;

use serde::Serialize;
use wrap_model::{Block, Ms, Profile, Provenance};

use crate::reader::{CallReader, Event, ParseStats, ProcessEnd};
use crate::{BlockingSet, ProfilerError};

const NS_PER_MS: f64 = 1e6;

/// A time window in epoch nanoseconds, `start < end`, at microsecond
/// resolution when made from milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Window {
    start_ns: i64,
    end_ns: i64,
}

impl Window {
    /// A window from epoch milliseconds (`-ttt` seconds × 1000), rounded to
    /// whole microseconds, which is what `-ttt` prints.
    ///
    /// # Errors
    /// [`ProfilerError::InvalidWindow`] unless both are finite, not
    /// negative, and `start_ms < end_ms` after rounding.
    pub fn from_ms(start_ms: f64, end_ms: f64) -> Result<Self, ProfilerError> {
        let bad = || ProfilerError::InvalidWindow { start_ms, end_ms };
        let start = ms_to_ns(start_ms).ok_or_else(bad)?;
        let end = ms_to_ns(end_ms).ok_or_else(bad)?;
        Window::from_ns(start, end).ok_or_else(bad)
    }

    /// A window from epoch nanoseconds; `None` unless `start_ns < end_ns`.
    #[must_use]
    pub fn from_ns(start_ns: i64, end_ns: i64) -> Option<Self> {
        (start_ns < end_ns).then_some(Window { start_ns, end_ns })
    }

    /// Start, epoch nanoseconds.
    #[must_use]
    pub fn start_ns(&self) -> i64 {
        self.start_ns
    }

    /// End, epoch nanoseconds.
    #[must_use]
    pub fn end_ns(&self) -> i64 {
        self.end_ns
    }

    /// Start, epoch milliseconds.
    #[must_use]
    pub fn start_ms(&self) -> f64 {
        ns_to_ms(self.start_ns)
    }

    /// End, epoch milliseconds.
    #[must_use]
    pub fn end_ms(&self) -> f64 {
        ns_to_ms(self.end_ns)
    }

    /// Length in milliseconds: the traced latency.
    #[must_use]
    pub fn duration_ms(&self) -> f64 {
        ns_to_ms(self.end_ns - self.start_ns)
    }

    /// Whether a call from `start` to `end` (epoch ns) lies inside.
    #[must_use]
    pub fn contains(&self, start: i64, end: i64) -> bool {
        start >= self.start_ns && end <= self.end_ns
    }
}

/// Epoch ms → ns, rounded to whole µs (whole ms and µs handled apart so
/// that the f64's rounding at 1.8e12 ms does not move the result).
fn ms_to_ns(ms: f64) -> Option<i64> {
    if !ms.is_finite() || !(0.0..=9.0e12).contains(&ms) {
        return None;
    }
    let whole = ms.floor();
    let micros = ((ms - whole) * 1000.0).round();
    // The casts are exact: whole < 9e12 and micros <= 1000.
    #[allow(clippy::cast_possible_truncation)]
    let ns = (whole as i64) * 1_000_000 + (micros as i64) * 1000;
    Some(ns)
}

#[allow(clippy::cast_precision_loss)]
fn ns_to_ms(ns: i64) -> f64 {
    ns as f64 / NS_PER_MS
}

/// Epoch ns → ms for messages: whole ms and the fraction converted apart,
/// so that `1796322274464778000` prints as `1796322274464.778`.
#[allow(clippy::cast_precision_loss)]
fn epoch_ms(ns: i64) -> f64 {
    ns.div_euclid(1_000_000) as f64 + ns.rem_euclid(1_000_000) as f64 / NS_PER_MS
}

/// Which window to cut from a log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowSpec {
    /// A given window (offline profiling: the function's start and end).
    Explicit(Window),
    /// The traced command's life, for a log of `strace -f ... CMD`: from
    /// the first timed line (the command's `execve`) to the
    /// `+++ exited ... +++` (or `killed`) line of that line's pid — the
    /// root process, whose end is the end of the run as its caller sees it.
    /// Periods of every process of the tree count, but only inside that
    /// window. Without such an exit line the window ends at the last time
    /// in the log and [`Trace::root_end`] is `None`.
    RootProcess,
}

/// One merged blocking period, relative to the window start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Period {
    /// Start, nanoseconds after the window start.
    pub start_ns: i64,
    /// End, nanoseconds after the window start.
    pub end_ns: i64,
    /// The name of the call that started first.
    pub syscall: String,
    /// How many calls were merged into it.
    pub calls: u32,
    /// The thread of the call that started first, if known.
    pub pid: Option<u32>,
}

impl Period {
    /// Length in nanoseconds.
    #[must_use]
    pub fn duration_ns(&self) -> i64 {
        self.end_ns - self.start_ns
    }
}

/// What extraction kept and dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ExtractCounts {
    /// Calls of the blocking set (with their operation check) with a duration.
    pub blocking_calls: u64,
    /// Of those, dropped for starting before the window.
    pub began_before: u64,
    /// Of those, dropped for ending after the window.
    pub ended_after: u64,
    /// Blocking calls without a duration (no `-T`, or never returned).
    pub no_duration: u64,
    /// Blocking calls kept, before merging.
    pub kept: u64,
    /// Periods after merging.
    pub periods: u64,
}

/// The blocking periods of one traced run, before they become a profile.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trace {
    /// The window the periods are relative to.
    pub window: Window,
    /// Merged periods in time order, relative to the window start, neither
    /// overlapping nor touching.
    pub periods: Vec<Period>,
    /// The root pid (the first timed line's), if the log names threads.
    pub root_pid: Option<u32>,
    /// How the root process ended, if the log says.
    pub root_end: Option<ProcessEnd>,
    /// What the reader saw.
    pub stats: ParseStats,
    /// What extraction kept and dropped.
    pub counts: ExtractCounts,
}

/// A profile made from a trace, with the scaling that was applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Scaled {
    /// The profile, with provenance `source` and `scale` set.
    pub profile: Profile,
    /// The factor the CPU gaps were multiplied by (1 when not scaled).
    pub scale: f64,
}

impl Trace {
    /// Reads a log and cuts its blocking periods. Streams: only blocking
    /// calls are kept, and with an explicit window only those inside it.
    ///
    /// ```
    /// use wrap_profiler::{BlockingSet, Trace, Window, WindowSpec};
    ///
    /// let log = "\
    /// 10 1000.000000 execve(\"./f\", [\"./f\"], 0x7ffc /* 3 vars */) = 0 <0.000300>
    /// 10 1000.010000 clock_nanosleep(CLOCK_REALTIME, 0, {tv_sec=0, tv_nsec=20000000}, NULL) = 0 <0.020000>
    /// 10 1000.030000 getppid() = 9 <0.000005>
    /// 10 1000.040000 exit_group(0) = ?
    /// 10 1000.040200 +++ exited with 0 +++
    /// ";
    /// let trace = Trace::from_log(log.as_bytes(), WindowSpec::RootProcess, &BlockingSet::default())?;
    /// assert_eq!(trace.window.duration_ms(), 40.2);
    /// assert_eq!(trace.periods.len(), 1);
    /// assert_eq!((trace.periods[0].start_ns, trace.periods[0].end_ns), (10_000_000, 30_000_000));
    ///
    /// // The same run took 30.2 ms untraced: CPU gaps shrink, the sleep does not.
    /// let p = trace.to_profile(Some(30.2))?.profile;
    /// assert_eq!(p.trace_latency_ms.get(), 30.2);
    /// assert_eq!(p.blocks[0].duration_ms.get(), 20.0);
    /// assert!((p.blocks[0].start_ms.get() - 10.0 * 10.2 / 20.2).abs() < 1e-9);
    ///
    /// let w = Window::from_ms(1_000_005.0, 1_000_035.0)?;
    /// let t = Trace::from_log(log.as_bytes(), WindowSpec::Explicit(w), &BlockingSet::default())?;
    /// assert_eq!(t.periods[0].start_ns, 5_000_000);
    /// # Ok::<(), wrap_profiler::ProfilerError>(())
    /// ```
    ///
    /// # Errors
    /// [`ProfilerError::BadLog`] if reading fails or the log has no timed
    /// line (no window can be derived or placed);
    /// [`ProfilerError::WindowOutsideLog`] if an explicit window does not
    /// overlap the log's span, from its first to its last time (a window
    /// given in seconds instead of epoch milliseconds, say). A window that
    /// overlaps the log but holds no blocking call is fine: a pure-compute
    /// function's profile has no blocks.
    pub fn from_log<R: BufRead>(
        reader: R,
        window: WindowSpec,
        set: &BlockingSet,
    ) -> Result<Trace, ProfilerError> {
        let mut calls = CallReader::new(reader);
        let mut counts = ExtractCounts::default();
        let mut raw: Vec<(i64, i64, String, Option<u32>)> = Vec::new();
        let mut root_end: Option<(i64, ProcessEnd)> = None;
        let explicit = match window {
            WindowSpec::Explicit(w) => Some(w),
            WindowSpec::RootProcess => None,
        };
        while let Some(event) = calls.next() {
            let event = event.map_err(|e| ProfilerError::BadLog {
                file: None,
                message: format!("reading failed after line {}: {e}", calls.stats().lines),
            })?;
            match event {
                Event::Call(call) => {
                    if !set.is_blocking_call(&call) {
                        continue;
                    }
                    let Some(end) = call.end_ns() else {
                        counts.no_duration += 1;
                        continue;
                    };
                    counts.blocking_calls += 1;
                    if let Some(w) = explicit {
                        if call.start_ns < w.start_ns {
                            counts.began_before += 1;
                            continue;
                        }
                        if end > w.end_ns {
                            counts.ended_after += 1;
                            continue;
                        }
                    }
                    raw.push((call.start_ns, end, call.name, call.pid));
                }
                Event::ProcessEnd { pid, time_ns, end } => {
                    let root = calls.origin().map(|(p, _)| p);
                    if let (Some(t), true, None) = (time_ns, root == Some(pid), &root_end) {
                        root_end = Some((t, end));
                    }
                }
            }
        }
        let stats = calls.stats().clone();
        let origin = calls.origin();
        let root_pid = origin.and_then(|(p, _)| p);
        let window = match explicit {
            Some(w) => {
                let Some((first, last)) = calls.first_ns().zip(calls.last_ns()) else {
                    return Err(ProfilerError::BadLog {
                        file: None,
                        message: "no line with a -ttt timestamp, so the window cannot be placed in it (trace with -ttt)".to_owned(),
                    });
                };
                if w.start_ns > last || w.end_ns < first {
                    return Err(ProfilerError::WindowOutsideLog {
                        file: None,
                        start_ms: epoch_ms(w.start_ns),
                        end_ms: epoch_ms(w.end_ns),
                        log_start_ms: epoch_ms(first),
                        log_end_ms: epoch_ms(last),
                    });
                }
                w
            }
            None => {
                let no_window = |message: &str| ProfilerError::BadLog {
                    file: None,
                    message: message.to_owned(),
                };
                let (_, start) = origin.ok_or_else(|| {
                    no_window("no line with a -ttt timestamp, so no window (trace with -ttt)")
                })?;
                let end = root_end
                    .as_ref()
                    .map(|(t, _)| *t)
                    .or(calls.last_ns())
                    .unwrap_or(start);
                let w = Window::from_ns(start, end).ok_or_else(|| {
                    no_window("the traced process has no duration: its first and last lines have the same time")
                })?;
                raw.retain(|(s, e, _, _)| {
                    if *s < w.start_ns {
                        counts.began_before += 1;
                        false
                    } else if *e > w.end_ns {
                        counts.ended_after += 1;
                        false
                    } else {
                        true
                    }
                });
                w
            }
        };
        counts.kept = raw.len() as u64;
        let periods = merge(raw, window.start_ns);
        counts.periods = periods.len() as u64;
        Ok(Trace {
            window,
            periods,
            root_pid,
            root_end: root_end.map(|(_, e)| e),
            stats,
            counts,
        })
    }

    /// [`from_log`](Self::from_log) of a file.
    ///
    /// # Errors
    /// [`ProfilerError::Io`] if the file cannot be opened, else as
    /// [`from_log`](Self::from_log), naming the file.
    pub fn from_file(
        path: &Path,
        window: WindowSpec,
        set: &BlockingSet,
    ) -> Result<Trace, ProfilerError> {
        let file = std::fs::File::open(path).map_err(|error| ProfilerError::Io {
            what: "cannot open strace log",
            path: path.display().to_string(),
            error,
        })?;
        let name = || Some(path.display().to_string());
        Trace::from_log(std::io::BufReader::new(file), window, set).map_err(|e| match e {
            ProfilerError::BadLog { message, .. } => ProfilerError::BadLog {
                file: name(),
                message,
            },
            ProfilerError::WindowOutsideLog {
                start_ms,
                end_ms,
                log_start_ms,
                log_end_ms,
                ..
            } => ProfilerError::WindowOutsideLog {
                file: name(),
                start_ms,
                end_ms,
                log_start_ms,
                log_end_ms,
            },
            other => other,
        })
    }

    /// The traced latency: the window's length in milliseconds.
    #[must_use]
    pub fn traced_latency_ms(&self) -> f64 {
        self.window.duration_ms()
    }

    /// The total blocking time in milliseconds.
    #[must_use]
    pub fn blocked_ms(&self) -> f64 {
        ns_to_ms(self.periods.iter().map(Period::duration_ns).sum())
    }

    /// The profile of this trace.
    ///
    /// * `exec_ms` = `solo_ms`, or the traced latency without one.
    /// * `trace_latency_ms` = the smaller of the traced and the solo
    ///   latency — but never less than the total blocking time, which
    ///   scaling cannot shrink.
    /// * Blocks start where the periods start, relative to the window
    ///   start; when `solo_ms` is below the traced latency, every CPU gap
    ///   is multiplied by `scale = max(solo − blocked, 0) / (traced −
    ///   blocked)`.
    /// * Provenance: `source = "strace"` and `scale`.
    ///
    /// # Errors
    /// [`ProfilerError::InvalidSolo`] for a solo latency that is not finite
    /// and positive; [`ProfilerError::InvalidProfile`] should the result
    /// not validate (it always does).
    pub fn to_profile(&self, solo_ms: Option<f64>) -> Result<Scaled, ProfilerError> {
        if let Some(s) = solo_ms {
            if !s.is_finite() || s <= 0.0 {
                return Err(ProfilerError::InvalidSolo { value: s });
            }
        }
        let traced = self.traced_latency_ms();
        let blocked = self.blocked_ms();
        let (exec, latency, scale) = match solo_ms {
            Some(solo) if solo < traced => {
                let cpu = traced - blocked;
                let scale = if cpu > 0.0 {
                    ((solo - blocked).max(0.0) / cpu).min(1.0)
                } else {
                    1.0
                };
                (solo, solo.max(blocked), scale)
            }
            Some(solo) => (solo, traced, 1.0),
            None => (traced, traced, 1.0),
        };
        let mut blocks: Vec<Block> = Vec::with_capacity(self.periods.len());
        let mut blocked_before: i64 = 0;
        for p in &self.periods {
            let cpu_before = p.start_ns - blocked_before;
            #[allow(clippy::float_cmp, clippy::cast_precision_loss)]
            let mut start = if scale == 1.0 {
                ns_to_ms(p.start_ns)
            } else {
                (blocked_before as f64 + scale * cpu_before as f64) / NS_PER_MS
            };
            if let Some(prev) = blocks.last() {
                // Rounding must never make neighbours overlap.
                start = start.max(prev.end_ms().get());
            }
            blocks.push(Block {
                start_ms: Ms(start),
                duration_ms: Ms(ns_to_ms(p.duration_ns())),
                syscall: p.syscall.clone(),
            });
            blocked_before += p.duration_ns();
        }
        let mut profile = Profile::new(Ms(exec), Ms(latency), blocks);
        let mut prov = Provenance::default();
        prov.source = Some("strace".to_owned());
        prov.scale = Some(scale);
        profile.provenance = Some(prov);
        profile
            .validate("profile")
            .map_err(ProfilerError::InvalidProfile)?;
        Ok(Scaled { profile, scale })
    }
}

/// Sorts and merges `(start, end, name, pid)` calls (epoch ns) into their
/// union, relative to `origin`: overlapping or touching calls become one
/// period named after the first. Zero-length periods are dropped.
fn merge(mut raw: Vec<(i64, i64, String, Option<u32>)>, origin: i64) -> Vec<Period> {
    raw.sort_by_key(|a| (a.0, a.1));
    let mut out: Vec<Period> = Vec::new();
    for (s, e, name, pid) in raw {
        let (s, e) = (s - origin, e - origin);
        match out.last_mut() {
            Some(last) if s <= last.end_ns => {
                last.end_ns = last.end_ns.max(e);
                last.calls += 1;
            }
            _ => out.push(Period {
                start_ns: s,
                end_ns: e,
                syscall: name,
                calls: 1,
                pid,
            }),
        }
    }
    out.retain(|p| p.end_ns > p.start_ns);
    out
}

/// Offline profiling in one call, as `wrap-server profile --strace LOG
/// --window START_MS END_MS [--solo-ms MS]` needs it: reads the log file,
/// cuts the window, builds the profile (provenance `source =
/// "strace-log"`, `scale`).
///
/// # Errors
/// As [`Window::from_ms`], [`Trace::from_file`] (a window that does not
/// overlap the log is [`ProfilerError::WindowOutsideLog`], quoting the
/// window as given) and [`Trace::to_profile`].
pub fn profile_log(
    path: &Path,
    start_ms: f64,
    end_ms: f64,
    solo_ms: Option<f64>,
    set: &BlockingSet,
) -> Result<(Profile, Trace), ProfilerError> {
    let window = Window::from_ms(start_ms, end_ms)?;
    let trace = Trace::from_file(path, WindowSpec::Explicit(window), set).map_err(|e| match e {
        // Quote the window as given, not rounded to the microsecond: a
        // window in seconds loses its fraction in the rounding.
        ProfilerError::WindowOutsideLog {
            file,
            log_start_ms,
            log_end_ms,
            ..
        } => ProfilerError::WindowOutsideLog {
            file,
            start_ms,
            end_ms,
            log_start_ms,
            log_end_ms,
        },
        other => other,
    })?;
    let mut profile = trace.to_profile(solo_ms)?.profile;
    if let Some(p) = profile.provenance.as_mut() {
        p.source = Some("strace-log".to_owned());
    }
    Ok((profile, trace))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: i64, e: i64) -> (i64, i64, String, Option<u32>) {
        (s, e, format!("c{s}"), None)
    }

    #[test]
    fn merge_is_a_union() {
        let m = merge(
            vec![
                p(50, 60),
                p(10, 20),
                p(15, 30),
                p(30, 35),
                p(40, 40),
                p(70, 71),
            ],
            10,
        );
        let spans: Vec<(i64, i64, &str, u32)> = m
            .iter()
            .map(|p| (p.start_ns, p.end_ns, p.syscall.as_str(), p.calls))
            .collect();
        assert_eq!(
            spans,
            vec![(0, 25, "c10", 3), (40, 50, "c50", 1), (60, 61, "c70", 1)]
        );
    }

    #[test]
    fn window_from_ms_is_exact_to_the_microsecond() {
        let w = Window::from_ms(1_796_322_273_947.413, 1_796_322_274_079.791).unwrap();
        assert_eq!(w.start_ns(), 1_796_322_273_947_413_000);
        assert_eq!(w.end_ns(), 1_796_322_274_079_791_000);
        assert!((w.duration_ms() - 132.378).abs() < 1e-9);
        assert!(Window::from_ms(5.0, 5.0).is_err());
        assert!(Window::from_ms(6.0, 5.0).is_err());
        assert!(Window::from_ms(f64::NAN, 5.0).is_err());
        assert!(Window::from_ms(-1.0, 5.0).is_err());
    }

    fn trace(periods: &[(i64, i64)], len_ms: i64) -> Trace {
        Trace {
            window: Window::from_ns(0, len_ms * 1_000_000).unwrap(),
            periods: periods
                .iter()
                .map(|&(s, e)| Period {
                    start_ns: s * 1_000_000,
                    end_ns: e * 1_000_000,
                    syscall: "read".into(),
                    calls: 1,
                    pid: None,
                })
                .collect(),
            root_pid: None,
            root_end: None,
            stats: ParseStats::default(),
            counts: ExtractCounts::default(),
        }
    }

    #[test]
    fn scaling_shrinks_cpu_gaps_only() {
        // 100 ms traced: 10 cpu, 20 block, 30 cpu, 10 block, 30 cpu.
        let t = trace(&[(10, 30), (60, 70)], 100);
        let s = t.to_profile(Some(65.0)).unwrap();
        // cpu 70 -> 35: scale 0.5
        assert!((s.scale - 0.5).abs() < 1e-12);
        let b = &s.profile.blocks;
        assert_eq!((b[0].start_ms.get(), b[0].duration_ms.get()), (5.0, 20.0));
        assert_eq!((b[1].start_ms.get(), b[1].duration_ms.get()), (40.0, 10.0));
        assert_eq!(s.profile.trace_latency_ms.get(), 65.0);
        assert_eq!(s.profile.exec_ms.get(), 65.0);
        let prov = s.profile.provenance.unwrap();
        assert_eq!(prov.scale, Some(0.5));

        // A solo run slower than the traced one: nothing is scaled.
        let s = t.to_profile(Some(120.0)).unwrap();
        assert_eq!(s.scale, 1.0);
        assert_eq!(s.profile.trace_latency_ms.get(), 100.0);
        assert_eq!(s.profile.exec_ms.get(), 120.0);
        assert_eq!(s.profile.blocks[1].start_ms.get(), 60.0);

        // Solo below the blocking total: gaps vanish, blocks stay whole.
        let s = t.to_profile(Some(20.0)).unwrap();
        assert_eq!(s.scale, 0.0);
        assert_eq!(s.profile.trace_latency_ms.get(), 30.0);
        assert_eq!(s.profile.blocks[1].start_ms.get(), 20.0);
        s.profile.validate("x").unwrap();

        assert!(t.to_profile(Some(0.0)).is_err());
        assert!(t.to_profile(Some(f64::NAN)).is_err());
        let s = t.to_profile(None).unwrap();
        assert_eq!(s.profile.exec_ms.get(), 100.0);
    }

    #[test]
    fn root_window_and_bad_logs() {
        let set = BlockingSet::default();
        let log = "\
5 1.000000 execve(\"x\", [\"x\"], 0x1 /* 1 var */) = 0 <0.000100>
6 0.990000 poll(NULL, 0, 100) = 0 (Timeout) <0.100000>
6 1.001000 read(3, \"\", 1) = 0 <0.002000>
5 1.002000 wait4(-1,  <unfinished ...>
5 1.010000 <... wait4 resumed>NULL, 0, NULL) = 6 <0.008000>
5 1.010100 +++ exited with 3 +++
6 1.020000 write(1, \"x\", 1) = 1 <0.001000>
";
        let t = Trace::from_log(log.as_bytes(), WindowSpec::RootProcess, &set).unwrap();
        assert_eq!(t.root_pid, Some(5));
        assert_eq!(t.root_end, Some(ProcessEnd::Exited(3)));
        assert_eq!(t.window.duration_ms(), 10.1);
        assert_eq!(t.periods.len(), 1);
        assert_eq!(
            (t.periods[0].start_ns, t.periods[0].end_ns),
            (1_000_000, 10_000_000)
        );
        assert_eq!(t.periods[0].syscall, "read");
        assert_eq!((t.counts.began_before, t.counts.ended_after), (1, 1));

        let err =
            Trace::from_log("garbage\n".as_bytes(), WindowSpec::RootProcess, &set).unwrap_err();
        assert!(matches!(err, ProfilerError::BadLog { .. }), "{err}");
        assert!(err.to_string().contains("-ttt"), "{err}");
    }

    #[test]
    fn an_explicit_window_must_overlap_the_log() {
        let set = BlockingSet::default();
        let log = "\
10 1000.000000 execve(\"./f\", [\"./f\"], 0x7ffc /* 3 vars */) = 0 <0.000300>
10 1000.010000 clock_nanosleep(CLOCK_REALTIME, 0, {tv_sec=0, tv_nsec=20000000}, NULL) = 0 <0.020000>
10 1000.030000 getppid() = 9 <0.000005>
10 1000.040000 exit_group(0) = ?
10 1000.040200 +++ exited with 0 +++
";
        let cut = |a: f64, b: f64| {
            Trace::from_log(
                log.as_bytes(),
                WindowSpec::Explicit(Window::from_ms(a, b).unwrap()),
                &set,
            )
        };
        // Before the log, after it, and in seconds instead of milliseconds.
        for (a, b) in [
            (1.0, 2.0),
            (999_000.0, 999_999.999),
            (1_000_040.3, 1_000_050.0),
        ] {
            let err = cut(a, b).unwrap_err();
            let ProfilerError::WindowOutsideLog {
                start_ms,
                end_ms,
                log_start_ms,
                log_end_ms,
                file: None,
            } = err
            else {
                panic!("[{a}, {b}]: {err}");
            };
            assert_eq!((start_ms, end_ms), (a, b));
            assert_eq!((log_start_ms, log_end_ms), (1_000_000.0, 1_000_040.2));
            let msg = err.to_string();
            assert!(
                msg.contains(&format!(
                    "window [{a}, {b}] does not overlap the strace log"
                )) && msg.contains("spans 1000000 to 1000040.2 epoch ms (40.2 ms)")
                    && msg.contains("epoch milliseconds (`-ttt` seconds × 1000)")
                    && !msg.contains("looks like seconds"),
                "{msg}"
            );
        }
        let msg = cut(1000.005, 1000.035).unwrap_err().to_string();
        assert!(
            msg.contains("[1000.005, 1000.035] looks like seconds: in milliseconds that is [1000005, 1000035]"),
            "{msg}"
        );

        // Overlapping the log at one end or holding all of it: fine.
        for (a, b) in [(999_000.0, 1_000_000.0), (1_000_040.2, 1_000_100.0)] {
            let t = cut(a, b).unwrap();
            assert!(t.periods.is_empty(), "[{a}, {b}]: {:?}", t.periods);
        }
        let t = cut(999_000.0, 1_001_000.0).unwrap();
        assert_eq!(t.periods.len(), 1);
        assert_eq!(t.periods[0].start_ns, 1_010_000_000);

        // Inside the log, holding no blocking call: a pure-compute profile.
        let t = cut(1_000_030.0, 1_000_040.0).unwrap();
        assert!(t.periods.is_empty(), "{:?}", t.periods);
        assert_eq!(t.counts.kept, 0);
        assert_eq!(t.counts.began_before, 1);
        let p = t.to_profile(Some(8.0)).unwrap().profile;
        assert!(p.blocks.is_empty());
        assert_eq!((p.exec_ms.get(), p.trace_latency_ms.get()), (8.0, 8.0));

        // A log without -ttt times cannot hold a window.
        let untimed = "10 execve(\"./f\", [\"./f\"], 0x7ffc) = 0 <0.000300>\n";
        let w = Window::from_ms(1.0, 2.0).unwrap();
        let err = Trace::from_log(untimed.as_bytes(), WindowSpec::Explicit(w), &set).unwrap_err();
        assert!(matches!(err, ProfilerError::BadLog { .. }), "{err}");
        assert!(err.to_string().contains("-ttt"), "{err}");
    }

    #[test]
    fn a_resumed_line_without_its_start_extends_the_span_back() {
        // The log began mid-call: the read started 30 ms before its line.
        let log = "7 10.030000 <... read resumed>\"x\", 1) = 1 <0.030000>\n";
        let w = Window::from_ms(10_000.0, 10_010.0).unwrap();
        let t = Trace::from_log(
            log.as_bytes(),
            WindowSpec::Explicit(w),
            &BlockingSet::default(),
        )
        .unwrap();
        assert!(t.periods.is_empty());
        assert_eq!(t.counts.ended_after, 1);
    }
}
