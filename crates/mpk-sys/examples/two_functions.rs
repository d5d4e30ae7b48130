//! Two "functions" in one process, each in its own protection-key domain.
//!
//! Each function gets a key and a page tagged with it. A function runs with
//! only its own key opened, so when the second function reads the first
//! one's memory the CPU stops it with SIGSEGV (`SEGV_PKUERR`, naming the
//! first function's key). The offending call runs in a forked child whose
//! SIGSEGV handler writes `si_code` and `si_pkey` to a pipe and `_exit`s
//! (no `longjmp` across Rust frames); the parent reports what was caught and
//! carries on.
//!
//! On a machine without PKU it says so and exits 0.
//!
//! ```text
//! cargo run -p mpk-sys --example two_functions
//! ```

use std::process::ExitCode;
use std::sync::atomic::{AtomicI32, Ordering};

use mpk_sys::{Error, ProtectionKey, Region, Rights, SEGV_PKUERR};

/// A function of the workflow: its key and the memory only it may touch.
struct Function {
    name: &'static str,
    key: ProtectionKey,
    memory: Region,
}

impl Function {
    fn new(name: &'static str) -> Result<Function, Error> {
        // Closed in this thread until the function runs.
        let key = ProtectionKey::new(Rights::NoAccess)?;
        let mut memory = Region::new(4096)?;
        memory.tag(&key)?;
        Ok(Function { name, key, memory })
    }

    /// Runs `body` in this function's domain: its own key open, the other
    /// functions' keys closed as they are outside.
    fn run<R>(&mut self, body: impl FnOnce(&mut Region) -> R) -> R {
        let memory = &mut self.memory;
        self.key.with_rights(Rights::ReadWrite, || body(memory))
    }
}

/// The write end of the report pipe, for the signal handler.
static REPORT_FD: AtomicI32 = AtomicI32::new(-1);

extern "C" fn report_and_exit(
    _signo: libc::c_int,
    info: *mut libc::siginfo_t,
    _ctx: *mut libc::c_void,
) {
    // SAFETY: with SA_SIGINFO the kernel passes a valid siginfo_t.
    let info = unsafe { &*info };
    let key = mpk_sys::fault_key(info).map_or(-1, |k| i32::try_from(k.get()).unwrap_or(-1));
    let report: [i32; 2] = [info.si_code, key];
    // SAFETY: write(2) and _exit(2) are async-signal-safe; `report` is a
    // live local array of the given size.
    unsafe {
        libc::write(
            REPORT_FD.load(Ordering::Relaxed),
            report.as_ptr().cast(),
            std::mem::size_of_val(&report),
        );
        libc::_exit(0);
    }
}

/// Runs `offence` in a forked child that reports a SIGSEGV through a pipe.
/// Returns `(si_code, si_pkey)`, or `None` if the child finished unharmed.
fn caught(offence: impl FnOnce()) -> std::io::Result<Option<(i32, i32)>> {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for two descriptors.
    if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let [read_fd, write_fd] = fds;
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    // SAFETY: the program is single-threaded here, so the child may go on
    // running ordinary code.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(std::io::Error::last_os_error());
    }
    if pid == 0 {
        REPORT_FD.store(write_fd, Ordering::Relaxed);
        // SAFETY: a zeroed sigaction is a valid start; the handler has the
        // SA_SIGINFO signature and calls only async-signal-safe functions.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = report_and_exit as *const () as usize;
            action.sa_flags = libc::SA_SIGINFO;
            libc::sigemptyset(&raw mut action.sa_mask);
            libc::sigaction(libc::SIGSEGV, &raw const action, std::ptr::null_mut());
        }
        offence();
        let _ = std::io::stdout().flush();
        // SAFETY: ends the child without running the parent's destructors.
        unsafe { libc::_exit(0) };
    }
    // SAFETY: closing our copy of the write end, which we own.
    unsafe { libc::close(write_fd) };
    let mut report = [0i32; 2];
    // SAFETY: reading into a local buffer of the given size.
    let n = unsafe {
        libc::read(
            read_fd,
            report.as_mut_ptr().cast(),
            std::mem::size_of_val(&report),
        )
    };
    // SAFETY: closing the read end, which we own; `status` is a valid
    // out-pointer and `pid` our child.
    unsafe {
        libc::close(read_fd);
        let mut status = 0;
        libc::waitpid(pid, &raw mut status, 0);
    }
    Ok(
        (usize::try_from(n).ok() == Some(std::mem::size_of_val(&report)))
            .then_some((report[0], report[1])),
    )
}

fn demo() -> Result<bool, Box<dyn std::error::Error>> {
    let mut resize = Function::new("resize")?;
    let mut classify = Function::new("classify")?;
    println!(
        "function {} has key {}, function {} has key {}",
        resize.name,
        resize.key.id(),
        classify.name,
        classify.key.id()
    );

    resize.run(|memory| memory.write(0, b"resize's private image"));
    classify.run(|memory| memory.write(0, b"classify's scratch"));
    let mut own = [0u8; 18];
    classify.run(|memory| memory.read(0, &mut own));
    println!(
        "{} reads its own memory: {:?}",
        classify.name,
        String::from_utf8_lossy(&own)
    );

    println!(
        "{} now tries to read {}'s memory ...",
        classify.name, resize.name
    );
    let victim = &resize.memory;
    let report = caught(|| {
        classify.run(|_| {
            let mut stolen = [0u8; 22];
            victim.read(0, &mut stolen);
            println!("LEAK: {:?}", String::from_utf8_lossy(&stolen));
        });
    })?;

    let Some((si_code, si_pkey)) = report else {
        println!(
            "NOT caught: {} read {}'s memory",
            classify.name, resize.name
        );
        return Ok(false);
    };
    let name = if si_code == SEGV_PKUERR {
        " (SEGV_PKUERR)"
    } else {
        ""
    };
    println!("caught: SIGSEGV with si_code={si_code}{name}, si_pkey={si_pkey}");
    let expected = i32::try_from(resize.key.id().get())?;
    if si_code != SEGV_PKUERR || si_pkey != expected {
        println!("unexpected fault: wanted si_code={SEGV_PKUERR} and si_pkey={expected}");
        return Ok(false);
    }

    let mut intact = [0u8; 22];
    resize.run(|memory| memory.read(0, &mut intact));
    println!(
        "isolation held: {} was stopped by {}'s key {}; {}'s memory is intact ({:?}) and the process goes on",
        classify.name,
        resize.name,
        si_pkey,
        resize.name,
        String::from_utf8_lossy(&intact)
    );
    Ok(true)
}

fn main() -> ExitCode {
    if !mpk_sys::is_supported() {
        println!("memory protection keys (PKU) are not supported on this machine; nothing to demonstrate");
        return ExitCode::SUCCESS;
    }
    match demo() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}
