//! Raw system calls (Linux x86-64): `pkey_alloc`, `pkey_free`,
//! `pkey_mprotect`, and the anonymous mapping that the crate owns and tags.
//!
//! Results are plain [`io::Error`]s from `errno`, with no context; the safe
//! layer at the crate root adds the operation and its arguments.
//!
//! # Safety
//!
//! `libc` has the syscall numbers but no wrappers, so this module calls
//! `libc::syscall` directly. `pkey_alloc` and `pkey_free` take no pointers
//! and are safe to call with any arguments (the kernel validates them; the
//! crate root makes sure it frees only keys it allocated). Everything that
//! takes an address goes through [`Mapping`], which owns the pages it maps,
//! so the addresses handed to `mprotect`, `pkey_mprotect` and `munmap` always
//! name exactly the mapping's own pages, and copies in and out are
//! bounds-checked against it.
#![allow(unsafe_code)]

use std::io;
use std::ptr::NonNull;

/// Converts a raw `syscall` return value (−1 and `errno` on failure).
fn check(ret: libc::c_long) -> io::Result<libc::c_long> {
    if ret == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// `pkey_alloc(flags, access_rights)`: a new key, with `access_rights`
/// (`PKEY_DISABLE_*` bits) applied to the calling thread's PKRU.
pub(crate) fn pkey_alloc(flags: u32, access_rights: u32) -> io::Result<u32> {
    // SAFETY: pkey_alloc takes two integers and no pointers; the kernel
    // validates both.
    let ret = check(unsafe {
        libc::syscall(
            libc::SYS_pkey_alloc,
            libc::c_ulong::from(flags),
            libc::c_ulong::from(access_rights),
        )
    })?;
    // The kernel returns a key number in 0..=15.
    u32::try_from(ret).map_err(|_| io::Error::from_raw_os_error(libc::ERANGE))
}

/// `pkey_free(key)`.
pub(crate) fn pkey_free(key: u32) -> io::Result<()> {
    // SAFETY: pkey_free takes one integer and no pointers. Freeing a key that
    // pages still carry is not memory-unsafe for the kernel; the crate root
    // prevents it anyway.
    check(unsafe { libc::syscall(libc::SYS_pkey_free, libc::c_ulong::from(key)) })?;
    Ok(())
}

/// An anonymous, private, read-write mapping owned by this value and
/// unmapped on drop.
#[derive(Debug)]
pub(crate) struct Mapping {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is plain memory owned by this value alone (like a
// `Box<[u8]>`); shared access only reads it through `&self`, writes need
// `&mut self`.
unsafe impl Send for Mapping {}
// SAFETY: as above: `&Mapping` allows only reads.
unsafe impl Sync for Mapping {}

/// The page size, from `sysconf(_SC_PAGESIZE)`.
pub(crate) fn page_size() -> usize {
    // SAFETY: sysconf takes an integer name and has no other preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size).unwrap_or(4096)
}

impl Mapping {
    /// Maps `len` bytes (rounded up to whole pages; `len` > 0) of zeroed,
    /// read-write memory with the default key 0.
    pub(crate) fn new(len: usize) -> io::Result<Mapping> {
        let page = page_size();
        let len = len
            .checked_next_multiple_of(page)
            .filter(|&l| l > 0)
            .ok_or_else(|| io::Error::from_raw_os_error(libc::EINVAL))?;
        // SAFETY: a fresh anonymous private mapping at an address the kernel
        // chooses: no existing memory is affected.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let ptr = NonNull::new(ptr.cast::<u8>())
            .ok_or_else(|| io::Error::from_raw_os_error(libc::EFAULT))?;
        Ok(Mapping { ptr, len })
    }

    /// Length in bytes (a whole number of pages).
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Start address.
    pub(crate) fn as_ptr(&self) -> *const u8 {
        self.ptr.as_ptr()
    }

    /// Start address, for writing.
    pub(crate) fn as_mut_ptr(&mut self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    /// `pkey_mprotect(addr, len, PROT_READ | PROT_WRITE, key)` over the
    /// whole mapping.
    pub(crate) fn pkey_mprotect(&self, key: u32) -> io::Result<()> {
        // SAFETY: the range is exactly this value's own mapping, and the
        // protection stays read-write: only the key tag changes, which cannot
        // invalidate memory that Rust code relies on (a denied access faults).
        check(unsafe {
            libc::syscall(
                libc::SYS_pkey_mprotect,
                self.ptr.as_ptr(),
                self.len,
                libc::c_ulong::from((libc::PROT_READ | libc::PROT_WRITE).unsigned_abs()),
                libc::c_ulong::from(key),
            )
        })?;
        Ok(())
    }

    /// Copies `buf.len()` bytes starting at `offset` out of the mapping.
    ///
    /// # Panics
    /// If the range is not inside the mapping.
    pub(crate) fn read_at(&self, offset: usize, buf: &mut [u8]) {
        let end = offset.checked_add(buf.len());
        assert!(
            end.is_some_and(|end| end <= self.len),
            "read of {} bytes at offset {offset} is outside the region ({} bytes)",
            buf.len(),
            self.len
        );
        // SAFETY: the source range is inside this mapping (checked above),
        // which is live for `&self`; `buf` is a distinct Rust buffer, so the
        // ranges do not overlap. If PKRU denies access the load faults with
        // SIGSEGV instead of reading.
        unsafe {
            std::ptr::copy_nonoverlapping(
                self.ptr.as_ptr().add(offset),
                buf.as_mut_ptr(),
                buf.len(),
            );
        }
    }

    /// Copies `data` into the mapping starting at `offset`.
    ///
    /// # Panics
    /// If the range is not inside the mapping.
    pub(crate) fn write_at(&mut self, offset: usize, data: &[u8]) {
        let end = offset.checked_add(data.len());
        assert!(
            end.is_some_and(|end| end <= self.len),
            "write of {} bytes at offset {offset} is outside the region ({} bytes)",
            data.len(),
            self.len
        );
        // SAFETY: the destination range is inside this mapping (checked
        // above), borrowed exclusively through `&mut self`; `data` is a
        // distinct Rust buffer. If PKRU denies writing the store faults.
        unsafe {
            std::ptr::copy_nonoverlapping(data.as_ptr(), self.ptr.as_ptr().add(offset), data.len());
        }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the pages this value mapped; no reference
        // into them outlives `self` (accessors borrow `self`).
        let ret = unsafe { libc::munmap(self.ptr.as_ptr().cast(), self.len) };
        debug_assert_eq!(ret, 0, "munmap failed: {}", io::Error::last_os_error());
    }
}

/// The `si_pkey` field of a SIGSEGV `siginfo_t`.
///
/// Callers check `si_code == SEGV_PKUERR` first, the case in which the
/// kernel fills the field in. (`None` only in the stub for other targets.)
#[allow(clippy::unnecessary_wraps)]
pub(crate) fn siginfo_pkey(info: &libc::siginfo_t) -> Option<u32> {
    // SAFETY: `si_pkey` reads a `u32` at a fixed offset inside the 128-byte
    // union of a `siginfo_t`. A `siginfo_t` has private fields, so it can only
    // come from the kernel (which writes every byte) or from zeroed or copied
    // memory: all its bytes are initialised integers and any value is valid.
    Some(unsafe { info.si_pkey() })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// On any kernel, allocation either works or fails with one of the
    /// errnos documented for a machine without PKU.
    #[test]
    fn pkey_alloc_answers_a_documented_errno() {
        match pkey_alloc(0, 0) {
            Ok(key) => {
                assert_ne!(key, 0, "pkey_alloc returned the default key");
                pkey_free(key).unwrap();
            }
            Err(err) => {
                let errno = err.raw_os_error().unwrap();
                assert!(
                    [libc::ENOSYS, libc::EINVAL, libc::ENOSPC].contains(&errno),
                    "undocumented errno from pkey_alloc: {err}"
                );
            }
        }
    }

    #[test]
    fn pkey_alloc_rejects_unknown_flags_and_rights() {
        for (flags, rights) in [(1, 0), (0, 4)] {
            let err = pkey_alloc(flags, rights).unwrap_err();
            // ENOSYS from kernels built without protection keys.
            let errno = err.raw_os_error().unwrap();
            assert!(
                [libc::EINVAL, libc::ENOSYS].contains(&errno),
                "flags={flags} rights={rights}: {err}"
            );
        }
    }

    #[test]
    fn mapping_rounds_up_and_copies() {
        let mut map = Mapping::new(1).unwrap();
        assert_eq!(map.len(), page_size());
        map.write_at(10, b"hello");
        let mut buf = [0u8; 7];
        map.read_at(9, &mut buf);
        assert_eq!(&buf, b"\0hello\0");
        assert!(Mapping::new(0).is_err());
    }

    #[test]
    #[should_panic(expected = "outside the region")]
    fn mapping_bounds_are_checked() {
        let map = Mapping::new(1).unwrap();
        let mut buf = [0u8; 2];
        map.read_at(map.len() - 1, &mut buf);
    }

    #[test]
    fn siginfo_pkey_reads_the_field() {
        let info = tests_support::siginfo(libc::SIGSEGV, 4, 7);
        assert_eq!(siginfo_pkey(&info), Some(7));
        assert_eq!(info.si_code, 4);
    }
}

/// Builds `siginfo_t` values for the crate's unit tests.
#[cfg(test)]
pub(crate) mod tests_support {
    /// A `siginfo_t` with these signal, code and `si_pkey` fields.
    pub(crate) fn siginfo(signo: i32, code: i32, pkey: u32) -> libc::siginfo_t {
        // SAFETY: siginfo_t is plain integers; all-zero is a valid value.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        info.si_signo = signo;
        info.si_code = code;
        // Offset of `_sifields._sigfault._bounds._pkey` on x86-64: signo,
        // errno, code and padding (16 bytes), si_addr (8), si_addr_lsb padded
        // to pointer alignment (8): byte 32.
        // SAFETY: bytes 32..36 lie inside the 128-byte struct, 4-aligned.
        unsafe {
            std::ptr::from_mut(&mut info)
                .cast::<u8>()
                .add(32)
                .cast::<u32>()
                .write(pkey);
        }
        info
    }
}
