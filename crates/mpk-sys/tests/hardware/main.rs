//! Hardware tests of `mpk-sys`: real protection keys, real faults.
//!
//! A small harness of its own (`harness = false`): every test runs in a
//! forked child process, so PKRU changes, allocated keys and deliberate
//! faults of one test cannot leak into another, and the summary is a plain
//! `N passed, M failed` line.
//!
//! Without PKU (CPUID OSPKE is 0) every test is skipped with the reason
//! printed, unless `MPK_REQUIRE_HARDWARE=1`, which turns the skips into
//! failures: the QEMU run of `scripts/pku-vm-test.sh` sets it.
//!
//! Arguments: substrings to select tests (`--exact` for whole names), and
//! `--list` as libtest has it.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::mpsc;

use mpk_sys::{Error, KeyId, Pkru, ProtectionKey, Region, Rights, SEGV_PKUERR};

/// One test: a name and a function that panics on failure.
struct Test {
    name: &'static str,
    run: fn(),
}

const TESTS: &[Test] = &[
    Test {
        name: "alloc_until_exhausted_then_free",
        run: alloc_until_exhausted_then_free,
    },
    Test {
        name: "write_disable_blocks_writes",
        run: write_disable_blocks_writes,
    },
    Test {
        name: "access_disable_blocks_reads",
        run: access_disable_blocks_reads,
    },
    Test {
        name: "scoped_rights_are_restored",
        run: scoped_rights_are_restored,
    },
    Test {
        name: "set_rights_changes_only_its_key",
        run: set_rights_changes_only_its_key,
    },
    Test {
        name: "new_thread_inherits_pkru",
        run: new_thread_inherits_pkru,
    },
    Test {
        name: "key_is_not_freed_while_a_region_uses_it",
        run: key_is_not_freed_while_a_region_uses_it,
    },
    Test {
        name: "untag_gives_the_pages_back_to_key_0",
        run: untag_gives_the_pages_back_to_key_0,
    },
    Test {
        name: "kernel_read_into_access_disabled_page_is_efault",
        run: kernel_read_into_access_disabled_page_is_efault,
    },
];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let exact = args.iter().any(|a| a == "--exact");
    let filters: Vec<&str> = args
        .iter()
        .filter(|a| !a.starts_with('-'))
        .map(String::as_str)
        .collect();
    let selected: Vec<&Test> = TESTS
        .iter()
        .filter(|t| {
            filters.is_empty()
                || filters.iter().any(|f| {
                    if exact {
                        t.name == *f
                    } else {
                        t.name.contains(f)
                    }
                })
        })
        .collect();

    if args.iter().any(|a| a == "--list") {
        if !args.iter().any(|a| a == "--ignored") {
            for test in &selected {
                println!("{}: test", test.name);
            }
        }
        return;
    }

    let required = std::env::var("MPK_REQUIRE_HARDWARE").is_ok_and(|v| v == "1");
    println!(
        "running {} hardware tests, each in its own process",
        selected.len()
    );
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    for test in &selected {
        if !mpk_sys::is_supported() {
            let reason = "no memory protection keys on this machine (CPUID OSPKE is 0)";
            if required {
                println!(
                    "test {} ... FAILED: {reason}, and MPK_REQUIRE_HARDWARE=1",
                    test.name
                );
                failed += 1;
            } else {
                println!(
                    "test {} ... skipped: {reason}; MPK_REQUIRE_HARDWARE=1 makes this a failure",
                    test.name
                );
                skipped += 1;
            }
            continue;
        }
        match run_in_child(test.run) {
            Ok(()) => {
                println!("test {} ... ok", test.name);
                passed += 1;
            }
            Err(why) => {
                println!("test {} ... FAILED: {why}", test.name);
                failed += 1;
            }
        }
    }
    if skipped > 0 {
        println!("hardware: {passed} passed, {failed} failed, {skipped} skipped");
    } else {
        println!("hardware: {passed} passed, {failed} failed");
    }
    std::process::exit(i32::from(failed > 0));
}

// ---------------------------------------------------------------------------
// Processes and signals

/// Flushes stdout before a fork, so buffered text is not printed twice.
fn flush() {
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
}

/// Forks; the child runs `child` and `_exit`s with its return value.
fn fork_and(child: impl FnOnce() -> i32) -> libc::pid_t {
    flush();
    // SAFETY: the harness is single-threaded when it forks (tests fork only
    // from their own main thread before spawning threads), so the child may
    // run ordinary Rust code.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed: {}", std::io::Error::last_os_error());
    if pid == 0 {
        let code = child();
        flush();
        // SAFETY: _exit ends the child without running the parent's atexit
        // handlers or destructors a second time.
        unsafe { libc::_exit(code) };
    }
    pid
}

/// Waits for `pid` and returns its raw wait status.
fn wait(pid: libc::pid_t) -> i32 {
    let mut status = 0;
    loop {
        // SAFETY: `status` is a valid out-pointer; `pid` is our child.
        let ret = unsafe { libc::waitpid(pid, &raw mut status, 0) };
        if ret == pid {
            return status;
        }
        let err = std::io::Error::last_os_error();
        assert_eq!(
            err.raw_os_error(),
            Some(libc::EINTR),
            "waitpid failed: {err}"
        );
    }
}

fn describe(status: i32) -> String {
    if libc::WIFEXITED(status) {
        format!("exit status {}", libc::WEXITSTATUS(status))
    } else if libc::WIFSIGNALED(status) {
        format!("killed by signal {}", libc::WTERMSIG(status))
    } else {
        format!("wait status {status:#x}")
    }
}

/// Runs one test in a child process, with a time limit.
fn run_in_child(test: fn()) -> Result<(), String> {
    let pid = fork_and(|| {
        // SAFETY: alarm only arms a timer; SIGALRM's default action ends a
        // hung test.
        unsafe { libc::alarm(60) };
        match std::panic::catch_unwind(test) {
            Ok(()) => 0,
            Err(_) => 101, // the panic message is already on stderr
        }
    });
    let status = wait(pid);
    if libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0 {
        Ok(())
    } else {
        Err(describe(status))
    }
}

/// What the SIGSEGV handler saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Fault {
    si_code: i32,
    /// From [`mpk_sys::fault_key`].
    key: Option<KeyId>,
    addr: usize,
    /// PKRU inside the handler.
    handler_pkru: Option<Pkru>,
}

/// The write end of the fault pipe, for the handler.
static FAULT_PIPE: AtomicI32 = AtomicI32::new(-1);

extern "C" fn on_sigsegv(_signo: libc::c_int, info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    // SAFETY: with SA_SIGINFO the kernel passes a valid siginfo_t.
    let info = unsafe { &*info };
    let key = mpk_sys::fault_key(info).map_or(u64::MAX, |k| u64::from(k.get()));
    // Support was detected before the fault, so this is only RDPKRU.
    let pkru = Pkru::current().map_or(u64::MAX, |p| u64::from(p.bits()));
    // SAFETY: si_addr is filled in for every SIGSEGV.
    let addr = unsafe { info.si_addr() } as u64;
    #[allow(clippy::cast_sign_loss)]
    let words: [u64; 4] = [info.si_code as u64, key, addr, pkru];
    // SAFETY: write(2) and _exit(2) are async-signal-safe; `words` is a live
    // local array of the given size.
    unsafe {
        libc::write(
            FAULT_PIPE.load(Ordering::Relaxed),
            words.as_ptr().cast(),
            std::mem::size_of_val(&words),
        );
        libc::_exit(0);
    }
}

/// Runs `f` in a forked child whose SIGSEGV handler reports the fault
/// through a pipe and exits. Returns the fault, or `None` if `f` returned.
fn fault_of(f: impl FnOnce()) -> Option<Fault> {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    let [read_fd, write_fd] = fds;
    let pid = fork_and(|| {
        FAULT_PIPE.store(write_fd, Ordering::Relaxed);
        // SAFETY: a zeroed sigaction is a valid starting value; the handler
        // has the SA_SIGINFO signature and only calls async-signal-safe
        // functions.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_sigsegv as *const () as usize;
            action.sa_flags = libc::SA_SIGINFO;
            libc::sigemptyset(&raw mut action.sa_mask);
            assert_eq!(
                libc::sigaction(libc::SIGSEGV, &raw const action, std::ptr::null_mut()),
                0
            );
        }
        f();
        3 // no fault
    });
    // SAFETY: closing our copy of the write end, which we own.
    unsafe { libc::close(write_fd) };
    let mut words = [0u64; 4];
    // SAFETY: reading into a local buffer of the given size.
    let n = unsafe {
        libc::read(
            read_fd,
            words.as_mut_ptr().cast(),
            std::mem::size_of_val(&words),
        )
    };
    // SAFETY: closing the read end, which we own.
    unsafe { libc::close(read_fd) };
    let status = wait(pid);
    if n == 0 {
        assert!(
            libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 3,
            "child neither faulted nor returned normally: {}",
            describe(status)
        );
        return None;
    }
    assert_eq!(
        usize::try_from(n).ok(),
        Some(std::mem::size_of_val(&words)),
        "short read from fault pipe"
    );
    #[allow(clippy::cast_possible_truncation)]
    Some(Fault {
        si_code: words[0] as i32,
        key: u32::try_from(words[1]).ok().and_then(KeyId::new),
        addr: words[2] as usize,
        handler_pkru: u32::try_from(words[3]).ok().map(Pkru::from_bits),
    })
}

/// Asserts that `f` faults on a protection key with `key`, inside `region`.
fn assert_key_fault(region: &mut Region, key: &ProtectionKey, f: impl FnOnce(&mut Region)) {
    let start = region.as_ptr() as usize;
    let len = region.len();
    let fault = fault_of(|| f(region)).expect("the access did not fault");
    assert_eq!(fault.si_code, SEGV_PKUERR, "si_code, in {fault:?}");
    assert_eq!(fault.key, Some(key.id()), "si_pkey, in {fault:?}");
    assert!(
        (start..start + len).contains(&fault.addr),
        "fault address {:#x} outside the region at {start:#x}",
        fault.addr
    );
    assert_eq!(
        fault.handler_pkru,
        Some(Pkru::INIT),
        "signal handlers start with the initial PKRU"
    );
}

fn tagged_region(key: &ProtectionKey) -> Region {
    let mut region = Region::new(4096).unwrap();
    region.tag(key).unwrap();
    region
}

// ---------------------------------------------------------------------------
// The tests

fn alloc_until_exhausted_then_free() {
    let mut keys = Vec::new();
    loop {
        match ProtectionKey::new(Rights::NoAccess) {
            Ok(key) => keys.push(key),
            Err(Error::KeysExhausted) => break,
            Err(other) => panic!("unexpected error after {} keys: {other}", keys.len()),
        }
        assert!(keys.len() <= 15, "more than 15 keys allocated");
    }
    let ids: BTreeSet<u32> = keys.iter().map(|k| k.id().get()).collect();
    println!(
        "    allocated {} keys before exhaustion: {ids:?}",
        keys.len()
    );
    assert!(!keys.is_empty());
    assert_eq!(ids.len(), keys.len(), "a key was handed out twice");
    assert!(!ids.contains(&0), "key 0 was handed out");
    // Free one explicitly, drop the rest: all come back.
    keys.pop().unwrap().free().unwrap();
    drop(keys);
    let again: Vec<ProtectionKey> = (0..ids.len())
        .map(|_| ProtectionKey::new(Rights::NoAccess).unwrap())
        .collect();
    let again: BTreeSet<u32> = again.iter().map(|k| k.id().get()).collect();
    assert_eq!(again, ids);
}

fn write_disable_blocks_writes() {
    let key = ProtectionKey::new(Rights::ReadWrite).unwrap();
    let mut region = tagged_region(&key);
    region.write(0, b"before");
    key.set_rights(Rights::ReadOnly);
    assert_eq!(key.rights(), Rights::ReadOnly);
    let mut buf = [0; 6];
    region.read(0, &mut buf);
    assert_eq!(&buf, b"before", "reads stay allowed under write-disable");
    assert_key_fault(&mut region, &key, |region| region.write(0, b"after"));
    region.read(0, &mut buf);
    assert_eq!(&buf, b"before");
    // Not a fault on key 0 memory: plain memory is still writable.
    assert_eq!(fault_of(|| buf.copy_from_slice(b"xxxxxx")), None);
}

fn access_disable_blocks_reads() {
    let key = ProtectionKey::new(Rights::ReadWrite).unwrap();
    let mut region = tagged_region(&key);
    region.write(100, b"secret");
    key.set_rights(Rights::NoAccess);
    assert_key_fault(&mut region, &key, |region| {
        let mut buf = [0; 6];
        region.read(100, &mut buf);
        println!("    read {buf:?} through an access-disabled key");
    });
    assert_key_fault(&mut region, &key, |region| region.write(0, b"x"));
    // Allowed again: the data is intact.
    key.set_rights(Rights::ReadOnly);
    let mut buf = [0; 6];
    region.read(100, &mut buf);
    assert_eq!(&buf, b"secret");
}

fn scoped_rights_are_restored() {
    let key = ProtectionKey::new(Rights::NoAccess).unwrap();
    let mut region = tagged_region(&key);
    let before = Pkru::current().unwrap();
    key.with_rights(Rights::ReadWrite, || {
        region.write(0, b"inside");
        assert_eq!(key.rights(), Rights::ReadWrite);
        key.with_rights(Rights::ReadOnly, || {
            assert_eq!(key.rights(), Rights::ReadOnly);
            key.with_rights(Rights::NoAccess, || {
                assert_eq!(key.rights(), Rights::NoAccess)
            });
            assert_eq!(key.rights(), Rights::ReadOnly);
        });
        assert_eq!(key.rights(), Rights::ReadWrite);
    });
    assert_eq!(Pkru::current().unwrap(), before, "PKRU after the scope");
    assert_eq!(key.rights(), Rights::NoAccess);

    // On unwind too (quietly: this test process has no other panics to show).
    std::panic::set_hook(Box::new(|_| {}));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        key.with_rights(Rights::ReadWrite, || {
            assert_eq!(key.rights(), Rights::ReadWrite);
            panic!("deliberate panic inside with_rights");
        })
    }));
    drop(std::panic::take_hook());
    assert!(result.is_err());
    assert_eq!(Pkru::current().unwrap(), before, "PKRU after unwinding");
    // And the region is really closed again.
    assert_key_fault(&mut region, &key, |region| {
        let mut buf = [0; 1];
        region.read(0, &mut buf);
    });
    key.with_rights(Rights::ReadOnly, || {
        let mut buf = [0; 6];
        region.read(0, &mut buf);
        assert_eq!(&buf, b"inside");
    });
}

fn set_rights_changes_only_its_key() {
    let a = ProtectionKey::new(Rights::ReadOnly).unwrap();
    let b = ProtectionKey::new(Rights::NoAccess).unwrap();
    let before = Pkru::current().unwrap();
    assert_eq!(before.rights(a.id()), Rights::ReadOnly);
    assert_eq!(before.rights(b.id()), Rights::NoAccess);
    assert_eq!(before.rights(KeyId::DEFAULT), Rights::ReadWrite);
    b.set_rights(Rights::ReadWrite);
    let after = Pkru::current().unwrap();
    assert_eq!(after, before.with_rights(b.id(), Rights::ReadWrite));
    assert_eq!(a.rights(), Rights::ReadOnly);
}

fn new_thread_inherits_pkru() {
    let key = ProtectionKey::new(Rights::ReadOnly).unwrap();
    let region = tagged_region(&key);
    let parent = Pkru::current().unwrap();

    // A thread that exists before the next key is allocated.
    let (to_old, from_main) = mpsc::channel::<ProtectionKey>();
    let old = std::thread::spawn(move || {
        let later = from_main.recv().unwrap();
        (Pkru::current().unwrap(), later.rights())
    });

    let child = std::thread::spawn({
        let key = key.clone();
        move || {
            let mut buf = [0; 1];
            region.read(0, &mut buf); // readable: ReadOnly was inherited
            (Pkru::current().unwrap(), key.rights())
        }
    })
    .join()
    .unwrap();
    assert_eq!(
        child,
        (parent, Rights::ReadOnly),
        "a new thread starts with its creator's PKRU"
    );

    let later = ProtectionKey::new(Rights::ReadWrite).unwrap();
    assert_eq!(later.rights(), Rights::ReadWrite);
    to_old.send(later).unwrap();
    let (old_pkru, later_rights) = old.join().unwrap();
    assert_eq!(old_pkru.rights(key.id()), Rights::ReadOnly);
    assert_eq!(
        later_rights,
        Rights::NoAccess,
        "a key allocated later is access-disabled in threads that already existed"
    );
}

fn key_is_not_freed_while_a_region_uses_it() {
    let key = ProtectionKey::new(Rights::ReadWrite).unwrap();
    let id = key.id();
    let region = tagged_region(&key);
    assert_eq!(region.key().map(ProtectionKey::id), Some(id));
    match key.free() {
        Err(Error::KeyInUse { key, users }) => assert_eq!((key, users), (id, 1)),
        other => panic!("free of a key in use: {other:?}"),
    }
    // The handle is gone but the key is not free: no allocation returns it.
    let mut others = Vec::new();
    while let Ok(k) = ProtectionKey::new(Rights::NoAccess) {
        assert_ne!(
            k.id(),
            id,
            "key {id} was handed out again while a region carries it"
        );
        others.push(k);
    }
    // Once the region is gone, the key is freed and can be allocated again.
    drop(region);
    let k = ProtectionKey::new(Rights::NoAccess).unwrap();
    assert_eq!(k.id(), id);
}

fn untag_gives_the_pages_back_to_key_0() {
    let key = ProtectionKey::new(Rights::NoAccess).unwrap();
    let mut region = tagged_region(&key);
    assert_key_fault(&mut region, &key, |region| region.write(0, b"x"));
    region.untag().unwrap();
    assert!(region.key().is_none());
    region.write(0, b"free");
    key.free().unwrap();
}

fn kernel_read_into_access_disabled_page_is_efault() {
    let key = ProtectionKey::new(Rights::NoAccess).unwrap();
    let mut region = tagged_region(&key);
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    let [read_fd, write_fd] = fds;
    // SAFETY: writing 8 bytes from a static string.
    let n = unsafe { libc::write(write_fd, b"pkeydata".as_ptr().cast(), 8) };
    assert_eq!(n, 8);

    // SAFETY: the destination is the region's own 4096 bytes; the kernel
    // checks PKRU and refuses rather than writing.
    let n = unsafe { libc::read(read_fd, region.as_mut_ptr().cast(), 8) };
    let err = std::io::Error::last_os_error();
    assert_eq!(n, -1, "read(2) into an access-disabled page succeeded");
    assert_eq!(err.raw_os_error(), Some(libc::EFAULT), "{err}");

    key.with_rights(Rights::ReadWrite, || {
        // SAFETY: as above; now the thread may write the page.
        let n = unsafe { libc::read(read_fd, region.as_mut_ptr().cast(), 8) };
        assert_eq!(n, 8, "{}", std::io::Error::last_os_error());
        let mut buf = [0; 8];
        region.read(0, &mut buf);
        assert_eq!(&buf, b"pkeydata");
    });
    // SAFETY: closing descriptors we own.
    unsafe {
        libc::close(read_fd);
        libc::close(write_fd);
    }
}
