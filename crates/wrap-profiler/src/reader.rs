//! Streaming reader: lines of a log in, whole calls and process ends out.
//!
//! [`CallReader`] reads a [`BufRead`] one line at a time (reusing one
//! buffer, so a 1 GB log needs no more memory than its longest line plus
//! one pending call per thread), pairs `<unfinished ...>` starts with their
//! `<... NAME resumed>` ends by thread *and* name, and yields each call
//! once, with the start's timestamp and the resumed line's `-T` duration
//! (which covers the whole call). What it cannot use is counted in
//! [`ParseStats`], never an error.

use std::collections::HashMap;
use std::fmt;
use std::io::{self, BufRead};

use serde::Serialize;

use crate::grammar::{parse_line, LineKind};

/// One system call, as started and ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// The thread that made it, if the log names threads.
    pub pid: Option<u32>,
    /// The system call's name.
    pub name: String,
    /// When it started, in nanoseconds since the epoch.
    pub start_ns: i64,
    /// How long it took (`-T`), in nanoseconds. For a split call without
    /// `-T`, the time between its two lines; `None` when unknown (no `-T`,
    /// or a call that never returned such as `exit_group`).
    pub duration_ns: Option<i64>,
    /// All its arguments as printed: for a split call, the start's text
    /// followed by the resumed line's.
    pub args: String,
    /// The return value text (`0`, `-1 EAGAIN (...)`, `?`, ...).
    pub ret: String,
    /// Whether it was split over two lines.
    pub split: bool,
    /// The 1-based line number where it ended.
    pub line: u64,
}

impl Call {
    /// When it ended, if its duration is known.
    #[must_use]
    pub fn end_ns(&self) -> Option<i64> {
        self.duration_ns.map(|d| self.start_ns.saturating_add(d))
    }
}

/// How a process (or thread) left the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ProcessEnd {
    /// `+++ exited with CODE +++`.
    Exited(i32),
    /// `+++ killed by SIGNAL +++`.
    Killed(String),
}

impl fmt::Display for ProcessEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProcessEnd::Exited(code) => write!(f, "exited with {code}"),
            ProcessEnd::Killed(sig) => write!(f, "killed by {sig}"),
        }
    }
}

/// What the reader yields.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A whole call.
    Call(Call),
    /// A thread or process ended (`+++ ... +++`).
    ProcessEnd {
        /// The thread, if the log names threads.
        pid: Option<u32>,
        /// When, in nanoseconds since the epoch.
        time_ns: Option<i64>,
        /// How.
        end: ProcessEnd,
    },
}

/// Counts of what the reader saw; printed on stderr by the CLI
/// (`Display` gives one line).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ParseStats {
    /// Lines read.
    pub lines: u64,
    /// Calls yielded (a split call counts once).
    pub calls: u64,
    /// Of those, calls split over an `<unfinished ...>` and a resumed line.
    pub split_calls: u64,
    /// Resumed lines without a matching start (the call's start is then
    /// its end minus its duration).
    pub unmatched_resumed: u64,
    /// Starts that never resumed: their thread ended, another start
    /// replaced them, or the log ended (`exit`/`exit_group` not counted).
    pub unreturned: u64,
    /// Signal lines (`--- ... ---`).
    pub signals: u64,
    /// `+++ exited with N +++` lines.
    pub exits: u64,
    /// `+++ killed by SIG +++` lines.
    pub kills: u64,
    /// Calls during which strace detached, and `Process N detached` lines.
    pub detaches: u64,
    /// `Process N attached`, `superseded by execve` and other `strace:` lines.
    pub messages: u64,
    /// Call lines cut before their end (normally only the last line).
    pub truncated: u64,
    /// Calls without a `-ttt` timestamp, which cannot be placed in time.
    pub untimed: u64,
    /// Lines that fit no shape of the grammar.
    pub unknown: u64,
    /// The first unknown line, with its 1-based number (at most 200 bytes).
    pub first_unknown: Option<(u64, String)>,
}

impl fmt::Display for ParseStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "strace log: {} lines, {} calls ({} split), {} signals, {} exits, {} kills",
            self.lines, self.calls, self.split_calls, self.signals, self.exits, self.kills
        )?;
        let extra = [
            ("unmatched resumed", self.unmatched_resumed),
            ("unreturned", self.unreturned),
            ("detached", self.detaches),
            ("messages", self.messages),
            ("truncated", self.truncated),
            ("untimed", self.untimed),
            ("unknown", self.unknown),
        ];
        for (what, n) in extra {
            if n > 0 {
                write!(f, ", {n} {what}")?;
            }
        }
        if let Some((line, text)) = &self.first_unknown {
            write!(f, " (first unknown line {line}: {text:?})")?;
        }
        Ok(())
    }
}

struct Pending {
    name: String,
    start_ns: i64,
    args: String,
}

/// Reads a log and yields [`Event`]s; see the [module documentation](self).
///
/// ```
/// use wrap_profiler::reader::{CallReader, Event};
///
/// let log = "\
/// 7 10.000000 read(3,  <unfinished ...>
/// 8 10.000100 getpid() = 8 <0.000005>
/// 7 10.030000 <... read resumed>\"x\", 1) = 1 <0.030000>
/// 7 10.040000 +++ exited with 0 +++
/// ";
/// let mut reader = CallReader::new(log.as_bytes());
/// let events: Vec<Event> = reader.by_ref().collect::<Result<_, _>>()?;
/// assert_eq!(events.len(), 3);
/// let Event::Call(read) = &events[1] else { panic!() };
/// assert_eq!((read.name.as_str(), read.start_ns, read.duration_ns), ("read", 10_000_000_000, Some(30_000_000)));
/// assert_eq!(reader.stats().split_calls, 1);
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct CallReader<R> {
    input: R,
    buf: Vec<u8>,
    pending: HashMap<Option<u32>, Pending>,
    stats: ParseStats,
    origin: Option<(Option<u32>, i64)>,
    first_ns: Option<i64>,
    last_ns: Option<i64>,
    done: bool,
}

impl<R: BufRead> CallReader<R> {
    /// A reader over `input`.
    pub fn new(input: R) -> Self {
        CallReader {
            input,
            buf: Vec::with_capacity(512),
            pending: HashMap::new(),
            stats: ParseStats::default(),
            origin: None,
            first_ns: None,
            last_ns: None,
            done: false,
        }
    }

    /// What was seen so far (complete once the iterator returned `None`).
    #[must_use]
    pub fn stats(&self) -> &ParseStats {
        &self.stats
    }

    /// The thread and timestamp of the first timed line: the traced
    /// command's `execve` in a log of `strace -f ... CMD`.
    #[must_use]
    pub fn origin(&self) -> Option<(Option<u32>, i64)> {
        self.origin
    }

    /// The earliest time seen so far: a line's timestamp or a call's start
    /// (a resumed line without its start began its duration earlier).
    /// With [`last_ns`](Self::last_ns), the log's time span.
    #[must_use]
    pub fn first_ns(&self) -> Option<i64> {
        self.first_ns
    }

    /// The latest time seen so far: a line's timestamp or a call's end.
    #[must_use]
    pub fn last_ns(&self) -> Option<i64> {
        self.last_ns
    }

    fn see_time(&mut self, t: i64) {
        self.first_ns = Some(self.first_ns.map_or(t, |f| f.min(t)));
        self.last_ns = Some(self.last_ns.map_or(t, |l| l.max(t)));
    }

    fn unknown(&mut self, text: &str) {
        self.stats.unknown += 1;
        if self.stats.first_unknown.is_none() {
            let mut end = text.len().min(200);
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            self.stats.first_unknown = Some((self.stats.lines, text[..end].to_owned()));
        }
    }

    fn drop_pending(&mut self, pid: Option<u32>) {
        if let Some(p) = self.pending.remove(&pid) {
            if p.name != "exit" && p.name != "exit_group" {
                self.stats.unreturned += 1;
            }
        }
    }

    /// Handles one line; returns the event it completes, if any.
    fn handle(&mut self, text: &str, last_without_newline: bool) -> Option<Event> {
        let line = parse_line(text);
        let pid = line.pid;
        if let Some(t) = line.time_ns {
            if self.origin.is_none() {
                self.origin = Some((pid, t));
            }
            self.see_time(t);
        }
        let line_no = self.stats.lines;
        let call = |name: &str, start_ns, duration_ns, args: String, ret: &str, split| Call {
            pid,
            name: name.to_owned(),
            start_ns,
            duration_ns,
            args,
            ret: ret.to_owned(),
            split,
            line: line_no,
        };
        match line.kind {
            LineKind::Complete {
                name,
                args,
                ret,
                duration_ns,
            } => {
                let Some(t) = line.time_ns else {
                    self.stats.untimed += 1;
                    return None;
                };
                if let Some(d) = duration_ns {
                    self.see_time(t.saturating_add(d));
                }
                self.stats.calls += 1;
                Some(Event::Call(call(
                    name,
                    t,
                    duration_ns,
                    args.to_owned(),
                    ret,
                    false,
                )))
            }
            LineKind::Unfinished { name, args } => {
                let Some(t) = line.time_ns else {
                    self.stats.untimed += 1;
                    return None;
                };
                self.drop_pending(pid);
                self.pending.insert(
                    pid,
                    Pending {
                        name: name.to_owned(),
                        start_ns: t,
                        args: args.to_owned(),
                    },
                );
                None
            }
            LineKind::Resumed {
                name,
                args,
                ret,
                duration_ns,
            } => {
                let matched = match self.pending.get(&pid) {
                    Some(p) if p.name == name => self.pending.remove(&pid),
                    Some(_) => {
                        self.drop_pending(pid);
                        None
                    }
                    None => None,
                };
                let Some(t) = line.time_ns else {
                    self.stats.untimed += 1;
                    return None;
                };
                self.stats.calls += 1;
                if let Some(p) = matched {
                    self.stats.split_calls += 1;
                    let d = duration_ns.or(Some(t.saturating_sub(p.start_ns).max(0)));
                    if let Some(d) = d {
                        self.see_time(p.start_ns.saturating_add(d));
                    }
                    let mut all = p.args;
                    if !all.is_empty() && !args.is_empty() && !all.ends_with(' ') {
                        all.push(' ');
                    }
                    all.push_str(args);
                    Some(Event::Call(call(name, p.start_ns, d, all, ret, true)))
                } else {
                    self.stats.unmatched_resumed += 1;
                    let start = duration_ns.map_or(t, |d| t.saturating_sub(d));
                    self.see_time(start);
                    Some(Event::Call(call(
                        name,
                        start,
                        duration_ns,
                        args.to_owned(),
                        ret,
                        true,
                    )))
                }
            }
            LineKind::Detached { .. } | LineKind::DetachMessage { .. } => {
                self.stats.detaches += 1;
                self.pending.remove(&pid);
                None
            }
            LineKind::Signal { .. } => {
                self.stats.signals += 1;
                None
            }
            LineKind::Exited { code } => {
                self.stats.exits += 1;
                self.drop_pending(pid);
                Some(Event::ProcessEnd {
                    pid,
                    time_ns: line.time_ns,
                    end: ProcessEnd::Exited(code),
                })
            }
            LineKind::Killed { signal, .. } => {
                self.stats.kills += 1;
                self.drop_pending(pid);
                Some(Event::ProcessEnd {
                    pid,
                    time_ns: line.time_ns,
                    end: ProcessEnd::Killed(signal.to_owned()),
                })
            }
            LineKind::Superseded { .. }
            | LineKind::AttachMessage { .. }
            | LineKind::StraceMessage { .. } => {
                self.stats.messages += 1;
                None
            }
            LineKind::Truncated { .. } => {
                self.stats.truncated += 1;
                None
            }
            LineKind::Blank => None,
            LineKind::Unknown => {
                if last_without_newline {
                    self.stats.truncated += 1;
                } else {
                    self.unknown(text);
                }
                None
            }
        }
    }
}

impl<R: BufRead> Iterator for CallReader<R> {
    type Item = io::Result<Event>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            self.buf.clear();
            match self.input.read_until(b'\n', &mut self.buf) {
                Ok(0) => {
                    self.done = true;
                    let left = self
                        .pending
                        .values()
                        .filter(|p| p.name != "exit" && p.name != "exit_group")
                        .count();
                    self.stats.unreturned += left as u64;
                    self.pending.clear();
                }
                Ok(_) => {
                    self.stats.lines += 1;
                    let no_newline = self.buf.last() != Some(&b'\n');
                    let buf = std::mem::take(&mut self.buf);
                    let text = String::from_utf8_lossy(&buf);
                    let ev = self.handle(&text, no_newline);
                    drop(text);
                    self.buf = buf;
                    if let Some(ev) = ev {
                        return Some(Ok(ev));
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(log: &str) -> (Vec<Event>, ParseStats) {
        let mut r = CallReader::new(log.as_bytes());
        let ev = r.by_ref().collect::<io::Result<Vec<_>>>().unwrap();
        (ev, r.stats().clone())
    }

    fn calls(log: &str) -> Vec<Call> {
        events(log)
            .0
            .into_iter()
            .filter_map(|e| match e {
                Event::Call(c) => Some(c),
                Event::ProcessEnd { .. } => None,
            })
            .collect()
    }

    #[test]
    fn pairs_by_thread_and_name() {
        let log = "\
21222 1.000000 futex(0x1, FUTEX_WAIT_PRIVATE, 2, NULL <unfinished ...>
21223 1.000100 read(3,  <unfinished ...>
21224 1.000200 futex(0x1, FUTEX_WAKE_PRIVATE, 1 <unfinished ...>
21223 1.010000 <... read resumed>\"hello\", 64) = 5 <0.009900>
21224 1.010100 <... futex resumed>) = 0 <0.000046>
21222 1.020000 <... futex resumed>) = 0 <0.019000>
";
        let c = calls(log);
        assert_eq!(c.len(), 3);
        assert_eq!(c[0].name, "read");
        assert_eq!(c[0].start_ns, 1_000_100_000);
        assert_eq!(c[0].args, "3, \"hello\", 64");
        assert_eq!(c[1].pid, Some(21224));
        assert_eq!(c[1].args, "0x1, FUTEX_WAKE_PRIVATE, 1");
        assert_eq!(c[2].pid, Some(21222));
        assert_eq!(c[2].start_ns, 1_000_000_000);
        assert_eq!(c[2].duration_ns, Some(19_000_000));
        assert!(c.iter().all(|c| c.split));
    }

    #[test]
    fn unmatched_and_mismatched() {
        let log = "\
5 2.000000 <... poll resumed>) = 0 (Timeout) <0.500000>
5 2.100000 read(3,  <unfinished ...>
5 2.200000 <... write resumed>) = 1 <0.000100>
6 2.300000 exit(0 <unfinished ...>
6 2.300100 +++ exited with 0 +++
7 2.400000 wait4(-1,  <unfinished ...>
";
        let (ev, st) = events(log);
        let c: Vec<&Call> = ev
            .iter()
            .filter_map(|e| match e {
                Event::Call(c) => Some(c),
                Event::ProcessEnd { .. } => None,
            })
            .collect();
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].start_ns, 1_500_000_000);
        assert_eq!(c[1].name, "write");
        assert_eq!(st.unmatched_resumed, 2);
        // read (replaced by the mismatched resume) and wait4 (log ended);
        // the exit that never returned is not counted.
        assert_eq!(st.unreturned, 2);
        assert_eq!(st.exits, 1);
    }

    #[test]
    fn split_call_without_t_uses_line_times() {
        let c = calls(
            "1 5.000000 read(0,  <unfinished ...>\n1 5.250000 <... read resumed>\"\", 1) = 0\n",
        );
        assert_eq!(c[0].duration_ns, Some(250_000_000));
    }

    #[test]
    fn counts_everything_else() {
        let log = "\
1 1.0 --- SIGCHLD {si_signo=SIGCHLD} ---
1 1.1 +++ killed by SIGKILL +++
strace: Process 9 attached
garbage here
2 1.2 poll([{fd=3, events=POLLIN}], 1, 500 <detached ...>
read(0, \"\", 1) = 0 <0.1>
2 1.3 poll([{fd=3,";
        let (ev, st) = events(log);
        assert_eq!(ev.len(), 1);
        assert_eq!(
            (
                st.signals,
                st.kills,
                st.messages,
                st.unknown,
                st.detaches,
                st.untimed,
                st.truncated
            ),
            (1, 1, 1, 1, 1, 1, 1)
        );
        assert_eq!(st.first_unknown, Some((4, "garbage here\n".to_owned())));
        assert!(st.to_string().contains("1 unknown"), "{st}");
    }

    #[test]
    fn invalid_utf8_is_not_fatal() {
        let mut r = CallReader::new(&b"1 1.0 read(3, \"\xff\xfe\", 2) = 2 <0.1>\n\xff\n"[..]);
        let n = r.by_ref().count();
        assert_eq!(n, 1);
        assert_eq!(r.stats().unknown, 1);
    }
}
