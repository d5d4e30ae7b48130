//! The grammar of one line of an `strace -f -ttt -T` log.
//!
//! ```text
//! line      = [pid] [timestamp] body
//! pid       = DIGITS " " | "[pid" " "* DIGITS "] "
//! timestamp = DIGITS "." DIGITS " "            (-ttt: epoch seconds)
//!           | HH ":" MM ":" SS ["." DIGITS] " " (-t/-tt: skipped, the line is untimed)
//! body      = NAME "(" args ")" " "* "=" " " ret [" <" DURATION ">"]   complete call
//!           | NAME "(" args " <unfinished ...>"                        start of a split call
//!           | "<... " NAME " resumed>" [" <unfinished ...>"] args ")" " "* "=" " " ret [" <" DURATION ">"]
//!           | NAME "(" args " <detached ...>"                          strace detached mid-call
//!           | "--- " SIGNAL-TEXT " ---"                                 signal or stop
//!           | "+++ exited with " INT " +++"
//!           | "+++ killed by " SIG [" (core dumped)"] " +++"
//!           | "+++ superseded by execve in pid " DIGITS " +++"
//!           | "strace: Process " DIGITS " attached" ... | "... detached" | "strace: " TEXT
//! ```
//!
//! `args` is scanned, not searched: quoted strings (with `\` escapes) and
//! `()`, `[]`, `{}` nesting are tracked, so a `)` or `<unfinished ...>`
//! inside a string or a structure never ends the call. `NAME` is
//! `[A-Za-z_][A-Za-z0-9_]*`; it alone says which call a line is.
//! A call line that stops before its `)` (and is neither unfinished nor
//! detached) is [`LineKind::Truncated`]. `ret` is the text after `=` with
//! the duration removed: `0`, `-1 EAGAIN (Resource temporarily
//! unavailable)`, `0 (Timeout)`, `?`, `? ERESTARTSYS (To be restarted if
//! SA_RESTART is set)`, `3</tmp/x>` (with `-y`).

/// One parsed line. Borrowed from the line text; nothing is allocated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line<'a> {
    /// The thread id: the leading number of `strace -f -o`, or `[pid N]`
    /// of `strace -f` writing to stderr; `None` when the line has none.
    pub pid: Option<u32>,
    /// The `-ttt` timestamp in nanoseconds since the epoch; `None` when the
    /// line has no `-ttt` timestamp.
    pub time_ns: Option<i64>,
    /// What the line says.
    pub kind: LineKind<'a>,
}

/// The shapes a line can have. See the [module documentation](self).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LineKind<'a> {
    /// A call that started and ended on this line.
    Complete {
        /// The system call's name.
        name: &'a str,
        /// The arguments, between the parentheses.
        args: &'a str,
        /// The return value text, without the duration.
        ret: &'a str,
        /// The `-T` duration in nanoseconds, if printed.
        duration_ns: Option<i64>,
    },
    /// The start of a call that another thread's line interrupted:
    /// `read(3,  <unfinished ...>`.
    Unfinished {
        /// The system call's name.
        name: &'a str,
        /// The arguments printed so far.
        args: &'a str,
    },
    /// The end of a split call: `<... read resumed>"x", 1) = 1 <0.030475>`.
    /// Its `-T` duration is the whole call's.
    Resumed {
        /// The system call's name.
        name: &'a str,
        /// The rest of the arguments.
        args: &'a str,
        /// The return value text, without the duration.
        ret: &'a str,
        /// The `-T` duration of the whole call in nanoseconds, if printed.
        duration_ns: Option<i64>,
    },
    /// A call during which strace detached: `poll(..., 500 <detached ...>`.
    Detached {
        /// The system call's name.
        name: &'a str,
        /// The arguments printed so far.
        args: &'a str,
    },
    /// A signal delivery or stop: `--- SIGCHLD {si_signo=...} ---`.
    Signal {
        /// The text between the dashes.
        text: &'a str,
    },
    /// `+++ exited with 3 +++`.
    Exited {
        /// The exit code.
        code: i32,
    },
    /// `+++ killed by SIGKILL +++`.
    Killed {
        /// The signal's name.
        signal: &'a str,
        /// Whether `(core dumped)` follows.
        core_dumped: bool,
    },
    /// `+++ superseded by execve in pid 123 +++`: a non-leader thread ran
    /// `execve` and now continues as the process's leader.
    Superseded {
        /// The pid the thread continues as.
        pid: u32,
    },
    /// `strace: Process 123 attached`.
    AttachMessage {
        /// The attached process.
        pid: u32,
    },
    /// `strace: Process 123 detached`.
    DetachMessage {
        /// The detached process.
        pid: u32,
    },
    /// Any other `strace: ...` message.
    StraceMessage {
        /// The text after `strace: `.
        text: &'a str,
    },
    /// A call line cut before its end, as strace's last line when it is
    /// killed: `poll([{fd=3, events=POLLIN}], 1, 500`.
    Truncated {
        /// The system call's name.
        name: &'a str,
        /// The arguments printed so far.
        args: &'a str,
    },
    /// An empty line.
    Blank,
    /// Anything else.
    Unknown,
}

/// Parses one line (with or without its line end). Never panics, never
/// allocates; anything unrecognised is [`LineKind::Unknown`].
///
/// ```
/// use wrap_profiler::grammar::{parse_line, LineKind};
///
/// let line = parse_line("21127 1796322274.495507 <... read resumed>\"yy\"..., 4096) = 4096 <0.030475>");
/// assert_eq!(line.pid, Some(21127));
/// assert_eq!(line.time_ns, Some(1_796_322_274_495_507_000));
/// assert!(matches!(line.kind, LineKind::Resumed { name: "read", duration_ns: Some(30_475_000), .. }));
/// ```
#[must_use]
pub fn parse_line(line: &str) -> Line<'_> {
    let text = line.trim_end_matches(['\n', '\r']);
    let mut rest = text.trim_start();
    let mut pid = None;
    if let Some(r) = rest.strip_prefix("[pid") {
        let r = r.trim_start();
        if let Some(close) = r.find(']') {
            if let Ok(p) = r[..close].trim().parse::<u32>() {
                pid = Some(p);
                rest = r[close + 1..].trim_start();
            }
        }
    } else if let Some((tok, after)) = split_token(rest) {
        if !tok.is_empty() && tok.bytes().all(|b| b.is_ascii_digit()) {
            if let Ok(p) = tok.parse::<u32>() {
                pid = Some(p);
                rest = after;
            }
        }
    }
    let mut time_ns = None;
    if let Some((tok, after)) = split_token(rest) {
        if let Some(t) = parse_seconds(tok) {
            time_ns = Some(t);
            rest = after;
        } else if is_time_of_day(tok) {
            rest = after;
        }
    }
    Line {
        pid,
        time_ns,
        kind: parse_body(rest.trim_end()),
    }
}

/// The first space-separated token and the text after its spaces, if the
/// token is followed by a space.
fn split_token(s: &str) -> Option<(&str, &str)> {
    let sp = s.find(' ')?;
    Some((&s[..sp], s[sp..].trim_start()))
}

/// Parses `SECONDS.FRACTION` (as `-ttt` and `-T` print them) into
/// nanoseconds; digits past the ninth decimal are ignored. `None` for
/// anything else or on overflow.
#[must_use]
pub fn parse_seconds(s: &str) -> Option<i64> {
    let (whole, frac) = s.split_once('.')?;
    if whole.is_empty()
        || frac.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let secs: i64 = whole.parse().ok()?;
    let mut nanos: i64 = 0;
    for i in 0..9 {
        let digit = frac.as_bytes().get(i).map_or(0, |b| i64::from(b - b'0'));
        nanos = nanos * 10 + digit;
    }
    secs.checked_mul(1_000_000_000)?.checked_add(nanos)
}

/// `HH:MM:SS` or `HH:MM:SS.FRACTION` (`-t`, `-tt`).
fn is_time_of_day(s: &str) -> bool {
    let hms = s.split_once('.').map_or(s, |(h, _)| h);
    let parts: Vec<&str> = hms.split(':').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit()))
}

fn parse_body(body: &str) -> LineKind<'_> {
    if body.is_empty() {
        return LineKind::Blank;
    }
    if let Some(inner) = body.strip_prefix("--- ") {
        return match inner.strip_suffix(" ---") {
            Some(text) => LineKind::Signal { text },
            None => LineKind::Unknown,
        };
    }
    if let Some(inner) = body.strip_prefix("+++ ") {
        return parse_exit(inner);
    }
    if let Some(text) = body.strip_prefix("strace: ") {
        return parse_message(text);
    }
    if let Some(inner) = body.strip_prefix("<... ") {
        return parse_resumed(inner);
    }
    let name_len = identifier_len(body);
    if name_len > 0 && body.as_bytes().get(name_len) == Some(&b'(') {
        let name = &body[..name_len];
        let after = &body[name_len + 1..];
        return match scan_args(after) {
            ArgsEnd::Closed(i) => match parse_tail(&after[i + 1..]) {
                Tail::Return { ret, duration_ns } => LineKind::Complete {
                    name,
                    args: &after[..i],
                    ret,
                    duration_ns,
                },
                Tail::Missing => LineKind::Truncated {
                    name,
                    args: &after[..i],
                },
                Tail::Bad => LineKind::Unknown,
            },
            ArgsEnd::Unfinished(i) => LineKind::Unfinished {
                name,
                args: after[..i].trim_end(),
            },
            ArgsEnd::Detached(i) => LineKind::Detached {
                name,
                args: after[..i].trim_end(),
            },
            ArgsEnd::Eol => LineKind::Truncated { name, args: after },
        };
    }
    LineKind::Unknown
}

fn parse_exit(inner: &str) -> LineKind<'_> {
    let Some(inner) = inner.strip_suffix(" +++") else {
        return LineKind::Unknown;
    };
    if let Some(code) = inner.strip_prefix("exited with ") {
        return code
            .trim()
            .parse()
            .map_or(LineKind::Unknown, |code| LineKind::Exited { code });
    }
    if let Some(sig) = inner.strip_prefix("killed by ") {
        let (signal, core_dumped) = match sig.strip_suffix(" (core dumped)") {
            Some(s) => (s, true),
            None => (sig, false),
        };
        return LineKind::Killed {
            signal: signal.trim(),
            core_dumped,
        };
    }
    if let Some(pid) = inner.strip_prefix("superseded by execve in pid ") {
        return pid
            .trim()
            .parse()
            .map_or(LineKind::Unknown, |pid| LineKind::Superseded { pid });
    }
    LineKind::Unknown
}

fn parse_message(text: &str) -> LineKind<'_> {
    if let Some(rest) = text.strip_prefix("Process ") {
        if let Some((pid, what)) = split_token(rest) {
            if let Ok(pid) = pid.parse() {
                if what.starts_with("attached") {
                    return LineKind::AttachMessage { pid };
                }
                if what.starts_with("detached") {
                    return LineKind::DetachMessage { pid };
                }
            }
        }
    }
    LineKind::StraceMessage { text }
}

fn parse_resumed(inner: &str) -> LineKind<'_> {
    let name_len = identifier_len(inner);
    if name_len == 0 {
        return LineKind::Unknown;
    }
    let name = &inner[..name_len];
    let Some(mut after) = inner[name_len..].strip_prefix(" resumed>") else {
        return LineKind::Unknown;
    };
    // `<... read resumed> <unfinished ...>) = ?`: the process died in the call.
    if let Some(a) = after.trim_start().strip_prefix(UNFINISHED) {
        after = a;
    }
    match scan_args(after) {
        ArgsEnd::Closed(i) => match parse_tail(&after[i + 1..]) {
            Tail::Return { ret, duration_ns } => LineKind::Resumed {
                name,
                args: &after[..i],
                ret,
                duration_ns,
            },
            Tail::Missing | Tail::Bad => LineKind::Truncated {
                name,
                args: &after[..i],
            },
        },
        ArgsEnd::Detached(i) => LineKind::Detached {
            name,
            args: after[..i].trim_end(),
        },
        // A resumed call cannot be unfinished again; treat it as cut.
        ArgsEnd::Unfinished(_) | ArgsEnd::Eol => LineKind::Truncated { name, args: after },
    }
}

const UNFINISHED: &str = "<unfinished ...>";
const DETACHED: &str = "<detached ...>";

/// Length of the identifier `[A-Za-z_][A-Za-z0-9_]*` at the start of `s`.
fn identifier_len(s: &str) -> usize {
    let b = s.as_bytes();
    match b.first() {
        Some(c) if c.is_ascii_alphabetic() || *c == b'_' => {}
        _ => return 0,
    }
    b.iter()
        .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
        .count()
}

enum ArgsEnd {
    /// Byte index of the `)` that closes the call.
    Closed(usize),
    /// Byte index where `<unfinished ...>` starts (at the end of the line).
    Unfinished(usize),
    /// Byte index where `<detached ...>` starts (at the end of the line).
    Detached(usize),
    /// The line ended inside the arguments.
    Eol,
}

/// Scans arguments that start just inside the call's `(`.
fn scan_args(s: &str) -> ArgsEnd {
    let b = s.as_bytes();
    let mut depth = 1usize;
    let mut in_str = false;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if in_str {
            match c {
                b'\\' => i += 1,
                b'"' => in_str = false,
                _ => {}
            }
        } else {
            match c {
                b'"' => in_str = true,
                b'(' | b'[' | b'{' => depth += 1,
                b')' => {
                    if depth == 1 {
                        return ArgsEnd::Closed(i);
                    }
                    depth -= 1;
                }
                // Lenient: a closer the line never opened (a resumed line
                // closing what its start line opened) does not end the call.
                b']' | b'}' if depth > 1 => depth -= 1,
                b'<' => {
                    let rest = &s[i..];
                    if rest.trim_end() == UNFINISHED {
                        return ArgsEnd::Unfinished(i);
                    }
                    if rest.trim_end() == DETACHED {
                        return ArgsEnd::Detached(i);
                    }
                }
                _ => {}
            }
        }
        i += 1;
    }
    ArgsEnd::Eol
}

enum Tail<'a> {
    Return {
        ret: &'a str,
        duration_ns: Option<i64>,
    },
    /// Nothing after the `)`: the line was cut.
    Missing,
    /// Something that is not ` = ...`.
    Bad,
}

/// Parses what follows the closing `)`: ` = RET [<DURATION>]`.
fn parse_tail(s: &str) -> Tail<'_> {
    let s = s.trim();
    if s.is_empty() {
        return Tail::Missing;
    }
    let Some(ret) = s.strip_prefix('=') else {
        return Tail::Bad;
    };
    let ret = ret.trim();
    if ret.is_empty() {
        return Tail::Missing;
    }
    if let Some(body) = ret.strip_suffix('>') {
        if let Some(open) = body.rfind('<') {
            let inside = &body[open + 1..];
            if let Some(d) = parse_seconds(inside) {
                return Tail::Return {
                    ret: body[..open].trim_end(),
                    duration_ns: Some(d),
                };
            }
            if inside == "unavailable" {
                return Tail::Return {
                    ret: body[..open].trim_end(),
                    duration_ns: None,
                };
            }
        }
    }
    Tail::Return {
        ret,
        duration_ns: None,
    }
}

/// Splits an argument list at its top-level commas (outside strings and
/// brackets), trimming each argument.
///
/// ```
/// use wrap_profiler::grammar::split_args;
/// assert_eq!(
///     split_args(r#"0x7f, FUTEX_WAIT_PRIVATE, 2, {tv_sec=1, tv_nsec=2}, "a,b""#),
///     vec!["0x7f", "FUTEX_WAIT_PRIVATE", "2", "{tv_sec=1, tv_nsec=2}", r#""a,b""#]
/// );
/// ```
#[must_use]
pub fn split_args(args: &str) -> Vec<&str> {
    let b = args.as_bytes();
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut in_str = false;
    let mut start = 0;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if in_str {
            match c {
                b'\\' => i += 1,
                b'"' => in_str = false,
                _ => {}
            }
        } else {
            match c {
                b'"' => in_str = true,
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' | b'}' => depth = depth.saturating_sub(1),
                b',' if depth == 0 => {
                    out.push(args[start..i].trim());
                    start = i + 1;
                }
                _ => {}
            }
        }
        i += 1;
    }
    let last = args.get(start..).unwrap_or("").trim();
    if !last.is_empty() || !out.is_empty() {
        out.push(last);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(s: &str) -> LineKind<'_> {
        parse_line(s).kind
    }

    #[test]
    fn complete_call_with_pid_time_and_duration() {
        let l = parse_line(
            "23417 1796322510.271426 clock_nanosleep(CLOCK_REALTIME, 0, {tv_sec=0, tv_nsec=20000000}, NULL) = 0 <0.020267>",
        );
        assert_eq!(l.pid, Some(23417));
        assert_eq!(l.time_ns, Some(1_796_322_510_271_426_000));
        assert_eq!(
            l.kind,
            LineKind::Complete {
                name: "clock_nanosleep",
                args: "CLOCK_REALTIME, 0, {tv_sec=0, tv_nsec=20000000}, NULL",
                ret: "0",
                duration_ns: Some(20_267_000)
            }
        );
    }

    #[test]
    fn aligned_return_and_errno_text() {
        assert!(matches!(
            kind("1 2.5 close(3)        = 0 <0.000037>"),
            LineKind::Complete {
                name: "close",
                ret: "0",
                duration_ns: Some(37_000),
                ..
            }
        ));
        assert!(matches!(
            kind("1 2.5 futex(0x5611de7320e0, FUTEX_WAIT_PRIVATE, 2, NULL) = -1 EAGAIN (Resource temporarily unavailable) <0.000033>"),
            LineKind::Complete { ret: "-1 EAGAIN (Resource temporarily unavailable)", .. }
        ));
        assert!(matches!(
            kind("1 2.5 poll(NULL, 0, 10) = 0 (Timeout) <0.010132>"),
            LineKind::Complete {
                ret: "0 (Timeout)",
                ..
            }
        ));
        assert!(matches!(
            kind("1 2.5 openat(AT_FDCWD, \"x\", O_RDONLY) = 3</tmp/x> <0.000010>"),
            LineKind::Complete {
                ret: "3</tmp/x>",
                duration_ns: Some(10_000),
                ..
            }
        ));
        assert!(matches!(
            kind("1 2.5 openat(AT_FDCWD, \"x\", O_RDONLY) = 3</tmp/x>"),
            LineKind::Complete {
                ret: "3</tmp/x>",
                duration_ns: None,
                ..
            }
        ));
    }

    #[test]
    fn strings_do_not_end_calls() {
        let l = kind(r#"9 1.0 write(1, "a) = 5 <0.5> <unfinished ...>\"(", 12) = 12 <0.000010>"#);
        assert_eq!(
            l,
            LineKind::Complete {
                name: "write",
                args: r#"1, "a) = 5 <0.5> <unfinished ...>\"(", 12"#,
                ret: "12",
                duration_ns: Some(10_000)
            }
        );
    }

    #[test]
    fn split_calls() {
        assert_eq!(
            kind("21127 1796322274.465020 read(3,  <unfinished ...>"),
            LineKind::Unfinished {
                name: "read",
                args: "3,"
            }
        );
        assert_eq!(
            kind("21128 1796322274.465050 <... set_robust_list resumed>) = 0 <0.000033>"),
            LineKind::Resumed {
                name: "set_robust_list",
                args: "",
                ret: "0",
                duration_ns: Some(33_000)
            }
        );
        assert_eq!(
            kind("5 1.0 <... read resumed> <unfinished ...>) = ?"),
            LineKind::Resumed {
                name: "read",
                args: "",
                ret: "?",
                duration_ns: None
            }
        );
        assert_eq!(
            kind("5 1.0 <... ppoll resumed>) = 1 ([{fd=3, revents=POLLIN}]) <0.1>"),
            LineKind::Resumed {
                name: "ppoll",
                args: "",
                ret: "1 ([{fd=3, revents=POLLIN}])",
                duration_ns: Some(100_000_000)
            }
        );
    }

    #[test]
    fn other_shapes() {
        assert_eq!(
            kind("14204 1796358537.731700 exit_group(0)   = ?"),
            LineKind::Complete {
                name: "exit_group",
                args: "0",
                ret: "?",
                duration_ns: None
            }
        );
        assert!(matches!(
            kind("7 1.0 read(3, 0x7ffc, 4096) = ? ERESTARTSYS (To be restarted if SA_RESTART is set) <0.012000>"),
            LineKind::Complete { ret: "? ERESTARTSYS (To be restarted if SA_RESTART is set)", duration_ns: Some(12_000_000), .. }
        ));
        assert_eq!(
            kind("14202 1796358537.732244 --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED} ---"),
            LineKind::Signal {
                text: "SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED}"
            }
        );
        assert_eq!(
            kind("1 2.0 --- stopped by SIGSTOP ---"),
            LineKind::Signal {
                text: "stopped by SIGSTOP"
            }
        );
        assert_eq!(
            kind("14202 1796358537.748819 +++ exited with 3 +++"),
            LineKind::Exited { code: 3 }
        );
        assert_eq!(
            kind("1 2.0 +++ killed by SIGSEGV (core dumped) +++"),
            LineKind::Killed {
                signal: "SIGSEGV",
                core_dumped: true
            }
        );
        assert_eq!(
            kind("1 2.0 +++ killed by SIGKILL +++"),
            LineKind::Killed {
                signal: "SIGKILL",
                core_dumped: false
            }
        );
        assert_eq!(
            kind("1 2.0 +++ superseded by execve in pid 77 +++"),
            LineKind::Superseded { pid: 77 }
        );
        assert_eq!(
            kind("22460 1796322422.278803 restart_syscall(<... resuming interrupted read ...>) = 1 <0.288789>"),
            LineKind::Complete {
                name: "restart_syscall",
                args: "<... resuming interrupted read ...>",
                ret: "1",
                duration_ns: Some(288_789_000)
            }
        );
        assert_eq!(
            kind("22460 1796322423.070268 poll([{fd=3, events=POLLIN}], 1, 500 <detached ...>"),
            LineKind::Detached {
                name: "poll",
                args: "[{fd=3, events=POLLIN}], 1, 500"
            }
        );
        assert_eq!(
            kind("22460 1796322423.070268 poll([{fd=3, events=POLLIN}], 1, 500"),
            LineKind::Truncated {
                name: "poll",
                args: "[{fd=3, events=POLLIN}], 1, 500"
            }
        );
        assert_eq!(
            kind("strace: Process 22460 attached"),
            LineKind::AttachMessage { pid: 22460 }
        );
        assert_eq!(
            kind("strace: Process 22460 detached"),
            LineKind::DetachMessage { pid: 22460 }
        );
        assert_eq!(kind(""), LineKind::Blank);
        assert_eq!(kind("hello world"), LineKind::Unknown);
        assert_eq!(kind("1 2.0 +++ exited with x +++"), LineKind::Unknown);
    }

    #[test]
    fn pid_forms_and_timestamps() {
        let l = parse_line("[pid 14203] 1796358537.710803 wait4(-1, NULL, 0, NULL) = 14204 <0.02>");
        assert_eq!(l.pid, Some(14203));
        assert_eq!(l.time_ns, Some(1_796_358_537_710_803_000));
        let l = parse_line("[pid  9] 1.5 getpid() = 9");
        assert_eq!(l.pid, Some(9));
        let l =
            parse_line("1796358537.710803 nanosleep({tv_sec=0, tv_nsec=1}, NULL) = 0 <0.000100>");
        assert_eq!(l.pid, None);
        assert_eq!(l.time_ns, Some(1_796_358_537_710_803_000));
        let l = parse_line("12 10:11:12.123456 read(0, \"\", 1) = 0 <0.000100>");
        assert_eq!(l.pid, Some(12));
        assert_eq!(l.time_ns, None);
        assert!(matches!(l.kind, LineKind::Complete { name: "read", .. }));
        let l = parse_line("read(0, \"\", 1) = 0");
        assert_eq!((l.pid, l.time_ns), (None, None));
        assert_eq!(parse_seconds("0.000123"), Some(123_000));
        assert_eq!(parse_seconds("1.123456789123"), Some(1_123_456_789));
        assert_eq!(parse_seconds("1."), None);
        assert_eq!(parse_seconds("99999999999999999999.1"), None);
    }

    #[test]
    fn args_split() {
        assert_eq!(split_args(""), Vec::<&str>::new());
        assert_eq!(split_args("3,"), vec!["3", ""]);
        assert_eq!(split_args("[1, 2], (a, b)"), vec!["[1, 2]", "(a, b)"]);
    }
}
