//! Which system calls block: the default set of Linux x86_64 as glibc and
//! language runtimes call it, and how to override it.
//!
//! The call's *name* decides. Four calls block only for some operations,
//! decided from their operation argument (never from other text):
//! `futex` (waiting operations: `FUTEX_WAIT`, `FUTEX_WAIT_BITSET`,
//! `FUTEX_LOCK_PI`, `FUTEX_LOCK_PI2`, `FUTEX_WAIT_REQUEUE_PI`, with or
//! without `_PRIVATE`/`FUTEX_CLOCK_REALTIME`, symbolic or numeric), `fcntl`
//! (`F_SETLKW`, `F_OFD_SETLKW`), `flock` (without `LOCK_NB`) and
//! `io_uring_enter` (with `IORING_ENTER_GETEVENTS`).

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use crate::grammar::split_args;
use crate::reader::Call;
use crate::ProfilerError;

/// The default blocking set, grouped as in `docs/profiler.md`.
pub const DEFAULT_BLOCKING: &[&str] = &[
    // sleeping and waiting for a signal
    "nanosleep",
    "clock_nanosleep",
    "pause",
    "rt_sigsuspend",
    "rt_sigtimedwait",
    "restart_syscall",
    // poll, select and epoll
    "poll",
    "ppoll",
    "select",
    "pselect6",
    "epoll_wait",
    "epoll_pwait",
    "epoll_pwait2",
    // file I/O
    "open",
    "openat",
    "openat2",
    "creat",
    "close",
    "read",
    "write",
    "readv",
    "writev",
    "pread64",
    "pwrite64",
    "preadv",
    "pwritev",
    "preadv2",
    "pwritev2",
    "fsync",
    "fdatasync",
    "sync",
    "syncfs",
    "sync_file_range",
    "sendfile",
    "splice",
    "tee",
    "vmsplice",
    "copy_file_range",
    "flock",
    "fcntl",
    // sockets
    "accept",
    "accept4",
    "connect",
    "recvfrom",
    "recvmsg",
    "recvmmsg",
    "sendto",
    "sendmsg",
    "sendmmsg",
    // child processes
    "wait4",
    "waitid",
    // locks and other waits
    "futex",
    "futex_waitv",
    "futex_wait",
    "msgrcv",
    "msgsnd",
    "semop",
    "semtimedop",
    "mq_timedreceive",
    "mq_timedsend",
    // asynchronous I/O completion
    "io_getevents",
    "io_pgetevents",
    "io_uring_enter",
];

/// A set of blocking system call names. [`Default`] is
/// [`BlockingSet::linux_x86_64`].
///
/// ```
/// use wrap_profiler::BlockingSet;
///
/// let set = BlockingSet::default();
/// assert!(set.is_blocking("clock_nanosleep", "CLOCK_REALTIME, 0, {tv_sec=0, tv_nsec=20000000}, NULL"));
/// assert!(!set.is_blocking("getppid", ""));
/// assert!(set.is_blocking("futex", "0x7f37c3db3990, FUTEX_WAIT_BITSET|FUTEX_CLOCK_REALTIME, 21223, NULL"));
/// assert!(!set.is_blocking("futex", "0x5611de7320e0, FUTEX_WAKE_PRIVATE, 1"));
///
/// // A `--syscalls` list: the default set without close, plus ioctl.
/// let custom: BlockingSet = "default,-close,ioctl".parse()?;
/// assert!(custom.contains("ioctl") && !custom.contains("close") && custom.contains("read"));
/// # Ok::<(), wrap_profiler::ProfilerError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockingSet {
    names: BTreeSet<String>,
}

impl Default for BlockingSet {
    fn default() -> Self {
        Self::linux_x86_64()
    }
}

impl BlockingSet {
    /// The default set, [`DEFAULT_BLOCKING`].
    #[must_use]
    pub fn linux_x86_64() -> Self {
        BlockingSet {
            names: DEFAULT_BLOCKING.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    /// No system call blocks.
    #[must_use]
    pub fn empty() -> Self {
        BlockingSet {
            names: BTreeSet::new(),
        }
    }

    /// Parses a comma-separated list, as a `--syscalls` flag gives it:
    /// names (optionally `+NAME`) are added, `-NAME` removed, and `default`
    /// adds the whole default set; items apply left to right, starting from
    /// the empty set. So `read,write` is exactly those two, and
    /// `default,-close` the default without `close`. Spaces around items
    /// are ignored.
    ///
    /// # Errors
    /// [`ProfilerError::InvalidSyscall`] for an empty item or a name not
    /// made of `[a-z0-9_]`.
    pub fn parse_list(list: &str) -> Result<Self, ProfilerError> {
        let mut set = BlockingSet::empty();
        for raw in list.split(',') {
            let item = raw.trim();
            let bad = || ProfilerError::InvalidSyscall {
                item: item.to_owned(),
            };
            if item == "default" {
                set.names
                    .extend(DEFAULT_BLOCKING.iter().map(|s| (*s).to_owned()));
            } else if let Some(name) = item.strip_prefix('-') {
                if !valid_name(name) {
                    return Err(bad());
                }
                set.names.remove(name);
            } else {
                let name = item.strip_prefix('+').unwrap_or(item);
                if !valid_name(name) {
                    return Err(bad());
                }
                set.names.insert(name.to_owned());
            }
        }
        Ok(set)
    }

    /// Whether `name` is in the set (regardless of its operation argument).
    #[must_use]
    pub fn contains(&self, name: &str) -> bool {
        self.names.contains(name)
    }

    /// Adds a name; returns whether it was new.
    pub fn insert(&mut self, name: impl Into<String>) -> bool {
        self.names.insert(name.into())
    }

    /// Removes a name; returns whether it was there.
    pub fn remove(&mut self, name: &str) -> bool {
        self.names.remove(name)
    }

    /// The names, in alphabetical order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(String::as_str)
    }

    /// Whether a call named `name` with arguments `args` (as printed by
    /// strace) blocks: its name is in the set and, for `futex`, `fcntl`,
    /// `flock` and `io_uring_enter`, its operation waits (see the
    /// [module documentation](self)).
    #[must_use]
    pub fn is_blocking(&self, name: &str, args: &str) -> bool {
        if !self.names.contains(name) {
            return false;
        }
        match name {
            "futex" => split_args(args).get(1).is_some_and(|op| futex_waits(op)),
            "fcntl" => split_args(args).get(1).is_some_and(|cmd| fcntl_waits(cmd)),
            "flock" => split_args(args)
                .get(1)
                .is_some_and(|op| !op.contains("LOCK_NB") && !numeric_has(op, 4)),
            "io_uring_enter" => split_args(args).get(3).is_some_and(|flags| {
                flags.contains("IORING_ENTER_GETEVENTS") || numeric_has(flags, 1)
            }),
            _ => true,
        }
    }

    /// [`is_blocking`](Self::is_blocking) of a parsed call.
    #[must_use]
    pub fn is_blocking_call(&self, call: &Call) -> bool {
        self.is_blocking(&call.name, &call.args)
    }

    /// The value of strace's `-e trace=` for live profiling: `execve` (its
    /// line marks the traced command's start) and every name of the set,
    /// each prefixed with `?` so that strace ignores names it does not know
    /// on this system (such as `futex_wait` before Linux 6.7).
    ///
    /// ```
    /// use wrap_profiler::BlockingSet;
    /// let set: BlockingSet = "read,futex".parse()?;
    /// assert_eq!(set.trace_filter(), "execve,?futex,?read");
    /// # Ok::<(), wrap_profiler::ProfilerError>(())
    /// ```
    #[must_use]
    pub fn trace_filter(&self) -> String {
        let mut out = String::from("execve");
        for n in self.names.iter().filter(|n| *n != "execve") {
            out.push_str(",?");
            out.push_str(n);
        }
        out
    }
}

impl FromStr for BlockingSet {
    type Err = ProfilerError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        BlockingSet::parse_list(s)
    }
}

impl fmt::Display for BlockingSet {
    /// The names as a comma-separated list that [`BlockingSet::parse_list`]
    /// reads back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, n) in self.names.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(n)?;
        }
        Ok(())
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Parses a decimal or `0x` hexadecimal number.
fn parse_number(s: &str) -> Option<u64> {
    let s = s.trim();
    match s.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

fn numeric_has(s: &str, bit: u64) -> bool {
    parse_number(s).is_some_and(|n| n & bit != 0)
}

/// Whether a `futex` operation argument (`FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME`,
/// or a number as with `strace -X raw`) is a waiting operation.
///
/// ```
/// use wrap_profiler::blocking::futex_waits;
/// assert!(futex_waits("FUTEX_WAIT_PRIVATE"));
/// assert!(futex_waits("FUTEX_LOCK_PI"));
/// assert!(futex_waits("0x189")); // FUTEX_WAIT_BITSET | PRIVATE | CLOCK_REALTIME
/// assert!(!futex_waits("FUTEX_WAKE_PRIVATE"));
/// assert!(!futex_waits("FUTEX_WAKE_OP_PRIVATE"));
/// ```
#[must_use]
pub fn futex_waits(op: &str) -> bool {
    const PRIVATE: u64 = 128;
    const CLOCK_REALTIME: u64 = 256;
    // FUTEX_WAIT, FUTEX_LOCK_PI, FUTEX_WAIT_BITSET, FUTEX_WAIT_REQUEUE_PI, FUTEX_LOCK_PI2
    const WAITING: [u64; 5] = [0, 6, 9, 11, 13];
    if let Some(n) = parse_number(op) {
        return WAITING.contains(&(n & !(PRIVATE | CLOCK_REALTIME)));
    }
    op.split('|').map(str::trim).any(|flag| {
        let cmd = flag.strip_suffix("_PRIVATE").unwrap_or(flag);
        matches!(
            cmd,
            "FUTEX_WAIT"
                | "FUTEX_WAIT_BITSET"
                | "FUTEX_LOCK_PI"
                | "FUTEX_LOCK_PI2"
                | "FUTEX_WAIT_REQUEUE_PI"
        )
    })
}

/// Whether an `fcntl` command waits for a lock.
fn fcntl_waits(cmd: &str) -> bool {
    // F_SETLKW = 7, F_OFD_SETLKW = 38 on x86_64.
    match parse_number(cmd) {
        Some(n) => n == 7 || n == 38,
        None => matches!(cmd, "F_SETLKW" | "F_SETLKW64" | "F_OFD_SETLKW"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_lists() {
        let s = BlockingSet::parse_list("read, write").unwrap();
        assert_eq!(s.to_string(), "read,write");
        let s = BlockingSet::parse_list("default,-close,+ioctl").unwrap();
        assert!(s.contains("ioctl") && !s.contains("close") && s.contains("futex"));
        assert_eq!(
            BlockingSet::parse_list(&BlockingSet::default().to_string()).unwrap(),
            BlockingSet::default()
        );
        for bad in ["", "read,,write", "Read", "-", "a b", "read("] {
            assert!(BlockingSet::parse_list(bad).is_err(), "{bad:?} accepted");
        }
        let err = BlockingSet::parse_list("read,Bad").unwrap_err();
        assert!(err.to_string().contains("'Bad'"), "{err}");
    }

    #[test]
    fn op_decided_calls() {
        let s = BlockingSet::default();
        assert!(s.is_blocking("futex", "0x1, FUTEX_WAIT_PRIVATE, 2, NULL"));
        assert!(s.is_blocking(
            "futex",
            "0x1, FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME, 0, NULL, FUTEX_BITSET_MATCH_ANY"
        ));
        assert!(!s.is_blocking("futex", "0x1, FUTEX_WAKE_PRIVATE, 2147483647"));
        assert!(!s.is_blocking("futex", "0x1, FUTEX_REQUEUE_PRIVATE, 1, 2, 0x2"));
        assert!(s.is_blocking("futex", "0x1, 0x80, 2, NULL"));
        assert!(!s.is_blocking("futex", "0x1, 129, 2"));
        assert!(!s.is_blocking("futex", ""));
        assert!(s.is_blocking("fcntl", "3, F_SETLKW, {l_type=F_WRLCK}"));
        assert!(!s.is_blocking("fcntl", "3, F_GETFD"));
        assert!(s.is_blocking("flock", "3, LOCK_EX"));
        assert!(!s.is_blocking("flock", "3, LOCK_EX|LOCK_NB"));
        assert!(s.is_blocking("io_uring_enter", "3, 0, 1, IORING_ENTER_GETEVENTS, NULL, 8"));
        assert!(!s.is_blocking("io_uring_enter", "3, 1, 0, 0, NULL, 8"));
        // the name decides, never text in the arguments
        assert!(!s.is_blocking("getppid", "read(3)"));
        assert!(!s.is_blocking("futexx", "0x1, FUTEX_WAIT, 0"));
    }

    #[test]
    fn trace_filter_lists_execve_first() {
        let f = BlockingSet::default().trace_filter();
        assert!(f.starts_with("execve,?"));
        assert!(f.contains(",?clock_nanosleep") && f.contains(",?futex"));
        assert_eq!(BlockingSet::empty().trace_filter(), "execve");
    }
}
