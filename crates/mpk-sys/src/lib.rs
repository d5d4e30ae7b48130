//! Safe wrappers for x86 memory protection keys (Intel PKU / AMD MPK) on
//! Linux: `pkey_alloc`, `pkey_free`, `pkey_mprotect`, RDPKRU and WRPKRU.
//!
//! A process tags pages with one of 16 keys; each thread's PKRU register then
//! says, per key, whether that thread may read and write those pages.
//! Changing PKRU is a single unprivileged instruction, so functions sharing
//! one process can each get their own key domain cheaply.
//!
//! ```
//! use mpk_sys::{Error, ProtectionKey, Region, Rights};
//!
//! if !mpk_sys::is_supported() {
//!     // Every call answers `Unsupported` on a machine without PKU.
//!     assert!(matches!(ProtectionKey::new(Rights::NoAccess), Err(Error::Unsupported)));
//!     println!("no memory protection keys here");
//!     return Ok(());
//! }
//! // A key that this thread may not use yet, and a page tagged with it.
//! let key = ProtectionKey::new(Rights::NoAccess)?;
//! let mut secret = Region::new(4096)?;
//! secret.tag(&key)?;
//! // Open the key just for the closure; the old PKRU comes back afterwards.
//! key.with_rights(Rights::ReadWrite, || secret.write(0, b"hunter2"));
//! assert_eq!(key.rights(), Rights::NoAccess);
//! // The key stays allocated while the region carries it.
//! assert!(matches!(key.free(), Err(Error::KeyInUse { .. })));
//! # Ok::<(), Error>(())
//! ```
//!
//! # The PKRU register
//!
//! Two bits per key, one register per thread:
//!
//! ```text
//!  bit  31 30  29 28  ...   5  4   3  2   1  0
//!      +-----+------+-----+-----+-----+-----+
//!      |WD AD| WD AD| ... |WD AD|WD AD|WD AD|
//!      +-----+------+-----+-----+-----+-----+
//!       key 15 key 14       key 2 key 1 key 0
//!
//!  AD (bit 2k)   access-disable: no reads or writes of pages with key k
//!  WD (bit 2k+1) write-disable:  reads only
//! ```
//!
//! Facts the API is built around:
//! * PKRU is **per thread**. A new thread starts with its creator's PKRU; a
//!   key allocated later is access-disabled in threads that already existed.
//!   Rights change read-modify-write for one key at a time, never by
//!   overwriting the whole register.
//! * A signal handler starts with the kernel's initial PKRU ([`Pkru::INIT`]:
//!   key 0 open, keys 1 to 15 access-disabled).
//! * Key 0 is the default key of all memory: this crate never hands it out
//!   and never frees it.
//! * A key freed while pages still carry it could be allocated again and so
//!   open those pages to its new owner; here a [`Region`] keeps its key
//!   allocated.
//! * The kernel honours PKRU too: `read(2)` into an access-disabled page
//!   fails with `EFAULT`.
//!
//! # Layout
//! * the crate root: the safe API: [`is_supported`], [`ProtectionKey`],
//!   [`Rights`], [`Pkru`], [`KeyId`], [`Region`], [`fault_key`], [`Error`].
//! * `sys` (private): raw `libc::syscall(SYS_pkey_*)` calls returning plain
//!   `io::Error`s, and the owned mapping behind [`Region`].
//! * `pkru` (private): CPUID detection, RDPKRU and WRPKRU in `asm!`.
//! * on targets other than Linux on x86-64, both private modules are stubs
//!   with the same names, and everything reports [`Error::Unsupported`].
#![deny(unsafe_code)]

use std::fmt;
use std::io;
use std::sync::{Arc, OnceLock};

#[cfg(all(target_arch = "x86_64", target_os = "linux", not(mpk_disabled)))]
mod pkru;
#[cfg(all(target_arch = "x86_64", target_os = "linux", not(mpk_disabled)))]
mod sys;

#[cfg(not(all(target_arch = "x86_64", target_os = "linux", not(mpk_disabled))))]
#[path = "disabled/pkru.rs"]
mod pkru;
#[cfg(not(all(target_arch = "x86_64", target_os = "linux", not(mpk_disabled))))]
#[path = "disabled/sys.rs"]
mod sys;

use pkru::Pku;

/// `PKEY_DISABLE_ACCESS`: the access-disable bit of a key's rights.
pub const PKEY_DISABLE_ACCESS: u32 = 0x1;
/// `PKEY_DISABLE_WRITE`: the write-disable bit of a key's rights.
pub const PKEY_DISABLE_WRITE: u32 = 0x2;
/// `SEGV_PKUERR`: the SIGSEGV `si_code` of an access denied by a protection
/// key.
pub const SEGV_PKUERR: i32 = 4;

/// Number of protection keys on x86-64 (key 0 included).
pub const KEY_COUNT: u32 = 16;

// ---------------------------------------------------------------------------
// Support detection

/// The support token, checked once per process (CPUID leaf 7, OSPKE).
fn pku() -> Option<Pku> {
    static PKU: OnceLock<Option<Pku>> = OnceLock::new();
    *PKU.get_or_init(pkru::detect)
}

/// Whether this CPU and kernel support memory protection keys.
///
/// Checks CPUID leaf 7 (after checking that the CPU has it) for OSPKE, the
/// bit that says the kernel has enabled protection keys; the answer is cached
/// for the process. Nothing in this crate executes RDPKRU or WRPKRU unless
/// this is true. Always false on targets other than Linux on x86-64.
///
/// See [pkeys(7)](https://man7.org/linux/man-pages/man7/pkeys.7.html).
#[doc(alias = "ospke")]
#[doc(alias = "cpuid")]
#[must_use]
pub fn is_supported() -> bool {
    pku().is_some()
}

fn require_pku() -> Result<Pku, Error> {
    pku().ok_or(Error::Unsupported)
}

// ---------------------------------------------------------------------------
// Errors

/// What went wrong in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// This CPU or kernel has no memory protection keys (also reported for
    /// `ENOSYS`, and for `EINVAL` or `ENOSPC` from `pkey_alloc` on a CPU
    /// without PKU).
    #[error("memory protection keys are not supported on this machine")]
    Unsupported,
    /// `pkey_alloc` found no free key (at most 15 exist; execute-only memory
    /// may use one).
    #[error("no free memory protection key: all allocatable keys are in use")]
    KeysExhausted,
    /// [`ProtectionKey::free`] was called while regions (or other handles)
    /// still use the key; it will be freed when the last of them is dropped.
    #[error("protection key {key} is still used by {users} region(s) or other handle(s)")]
    KeyInUse {
        /// The key.
        key: KeyId,
        /// How many regions and other handles still hold it.
        users: usize,
    },
    /// A system call failed; the `errno` is in [`source`](std::error::Error::source).
    #[error("{op} failed ({args})")]
    Os {
        /// The system call, e.g. `"pkey_mprotect"`.
        op: &'static str,
        /// Its arguments, e.g. `"addr=0x7f…, len=4096, key=3"`.
        args: String,
        /// The OS error.
        #[source]
        source: io::Error,
    },
}

impl Error {
    /// The `errno` of an [`Error::Os`].
    #[must_use]
    pub fn raw_os_error(&self) -> Option<i32> {
        match self {
            Error::Os { source, .. } => source.raw_os_error(),
            _ => None,
        }
    }

    fn os(op: &'static str, args: String, source: io::Error) -> Error {
        if source.raw_os_error() == Some(libc::ENOSYS) {
            Error::Unsupported
        } else {
            Error::Os { op, args, source }
        }
    }
}

/// Maps a failed `pkey_alloc` to an [`Error`]. `cpu_has_pku` is what CPUID
/// said: without PKU, kernels answer `ENOSYS` (before 4.9), `ENOSPC` (6.1)
/// or `EINVAL` (6.18), all meaning "unsupported"; with PKU, `ENOSPC` means
/// every key is taken.
fn alloc_error(err: io::Error, cpu_has_pku: bool, access_rights: u32) -> Error {
    match err.raw_os_error() {
        Some(libc::ENOSYS) => Error::Unsupported,
        Some(libc::EINVAL | libc::ENOSPC) if !cpu_has_pku => Error::Unsupported,
        Some(libc::ENOSPC) => Error::KeysExhausted,
        _ => Error::os(
            "pkey_alloc",
            format!("flags=0, access_rights={access_rights:#x}"),
            err,
        ),
    }
}

// ---------------------------------------------------------------------------
// Keys, rights and PKRU values

/// A protection key number, 0 to 15. Key 0 is the default key of all memory.
///
/// See [pkeys(7)](https://man7.org/linux/man-pages/man7/pkeys.7.html).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct KeyId(u8);

impl KeyId {
    /// Key 0, the default key of all memory.
    pub const DEFAULT: KeyId = KeyId(0);

    /// The key numbered `n`, if `n < 16`.
    #[must_use]
    pub const fn new(n: u32) -> Option<KeyId> {
        if n < KEY_COUNT {
            #[allow(clippy::cast_possible_truncation)]
            Some(KeyId(n as u8))
        } else {
            None
        }
    }

    /// The key number.
    #[must_use]
    pub const fn get(self) -> u32 {
        self.0 as u32
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// What a thread may do with the pages of one key.
///
/// See [pkeys(7)](https://man7.org/linux/man-pages/man7/pkeys.7.html)
/// (`PKEY_DISABLE_ACCESS`, `PKEY_DISABLE_WRITE`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Rights {
    /// Read and write (no bit set).
    ReadWrite,
    /// Read only ([`PKEY_DISABLE_WRITE`]).
    ReadOnly,
    /// Neither read nor write ([`PKEY_DISABLE_ACCESS`], and
    /// [`PKEY_DISABLE_WRITE`] too when this crate sets it).
    NoAccess,
}

impl Rights {
    /// The `PKEY_DISABLE_*` bits for these rights, as `pkey_alloc` and PKRU
    /// take them. [`NoAccess`](Rights::NoAccess) sets both bits.
    #[must_use]
    pub const fn bits(self) -> u32 {
        match self {
            Rights::ReadWrite => 0,
            Rights::ReadOnly => PKEY_DISABLE_WRITE,
            Rights::NoAccess => PKEY_DISABLE_ACCESS | PKEY_DISABLE_WRITE,
        }
    }

    /// The rights that two `PKEY_DISABLE_*` bits grant (higher bits are
    /// ignored). Access-disable wins over everything else.
    #[must_use]
    pub const fn from_bits(bits: u32) -> Rights {
        if bits & PKEY_DISABLE_ACCESS != 0 {
            Rights::NoAccess
        } else if bits & PKEY_DISABLE_WRITE != 0 {
            Rights::ReadOnly
        } else {
            Rights::ReadWrite
        }
    }

    /// Whether reads are allowed.
    #[must_use]
    pub const fn can_read(self) -> bool {
        !matches!(self, Rights::NoAccess)
    }

    /// Whether writes are allowed.
    #[must_use]
    pub const fn can_write(self) -> bool {
        matches!(self, Rights::ReadWrite)
    }
}

/// A value of the PKRU register: the rights of all 16 keys for one thread.
///
/// Bit layout: see the [crate docs](crate#the-pkru-register).
/// Pure arithmetic; [`Pkru::current`] reads the register. Changes go through
/// [`ProtectionKey::set_rights`] and [`ProtectionKey::with_rights`], which
/// update one key read-modify-write.
///
/// ```
/// use mpk_sys::{KeyId, Pkru, Rights};
///
/// let key = KeyId::new(3).unwrap();
/// let pkru = Pkru::INIT.with_rights(key, Rights::ReadOnly);
/// assert_eq!(pkru.rights(key), Rights::ReadOnly);
/// assert_eq!(pkru.rights(KeyId::DEFAULT), Rights::ReadWrite);
/// assert_eq!(pkru.bits(), 0x5555_5594);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Pkru(u32);

impl Pkru {
    /// The kernel's initial value, also in force in signal handlers: key 0
    /// read-write, keys 1 to 15 access-disabled (`0x55555554`).
    pub const INIT: Pkru = Pkru(0x5555_5554);
    /// Every key read-write (`0`).
    pub const ALL_ACCESS: Pkru = Pkru(0);

    /// A PKRU value from its raw bits.
    #[must_use]
    pub const fn from_bits(bits: u32) -> Pkru {
        Pkru(bits)
    }

    /// The raw bits.
    #[must_use]
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// The rights this value gives `key`.
    #[must_use]
    pub const fn rights(self, key: KeyId) -> Rights {
        Rights::from_bits(self.0 >> (2 * key.get()))
    }

    /// This value with `key`'s two bits replaced by `rights`; every other
    /// key's bits unchanged.
    #[must_use]
    pub const fn with_rights(self, key: KeyId, rights: Rights) -> Pkru {
        let shift = 2 * key.get();
        Pkru((self.0 & !(0b11 << shift)) | (rights.bits() << shift))
    }

    /// The calling thread's PKRU register.
    ///
    /// See [pkeys(7)](https://man7.org/linux/man-pages/man7/pkeys.7.html)
    /// and glibc's [pkey_get(3)](https://man7.org/linux/man-pages/man3/pkey_get.3.html).
    ///
    /// # Errors
    /// [`Error::Unsupported`] without PKU.
    #[doc(alias = "rdpkru")]
    pub fn current() -> Result<Pkru, Error> {
        Ok(Pkru(pkru::read(require_pku()?)))
    }
}

impl fmt::Debug for Pkru {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pkru({:#010x})", self.0)
    }
}

impl Default for Pkru {
    /// [`Pkru::INIT`].
    fn default() -> Pkru {
        Pkru::INIT
    }
}

// ---------------------------------------------------------------------------
// Owned keys

/// An allocated protection key (never key 0), freed when the last handle and
/// the last [`Region`] tagged with it are gone.
///
/// Clones are handles to the same key. The handle is `Send` and `Sync`
/// (the allocation belongs to the process), but rights are per thread:
/// [`set_rights`](Self::set_rights) and [`with_rights`](Self::with_rights)
/// change only the calling thread's PKRU.
#[derive(Clone)]
pub struct ProtectionKey {
    inner: Arc<KeyInner>,
}

struct KeyInner {
    id: KeyId,
    pku: Pku,
}

impl Drop for KeyInner {
    fn drop(&mut self) {
        // Nothing refers to the key any more: no region carries it.
        let _ = sys::pkey_free(self.id.get());
    }
}

impl ProtectionKey {
    /// Allocates a key and gives the calling thread `rights` to it. Other
    /// existing threads see a new key as access-disabled.
    ///
    /// If the kernel hands out key 0 (possible after someone freed it), it is
    /// kept allocated, as it should be, and another key is requested.
    ///
    /// See [pkey_alloc(2)](https://man7.org/linux/man-pages/man2/pkey_alloc.2.html).
    ///
    /// # Errors
    /// [`Error::Unsupported`] without PKU, [`Error::KeysExhausted`] when no
    /// key is left, [`Error::Os`] otherwise.
    #[doc(alias = "pkey_alloc")]
    pub fn new(rights: Rights) -> Result<ProtectionKey, Error> {
        let pku = require_pku()?;
        loop {
            let raw = sys::pkey_alloc(0, rights.bits())
                .map_err(|err| alloc_error(err, true, rights.bits()))?;
            match KeyId::new(raw) {
                Some(KeyId::DEFAULT) => {} // keep key 0 allocated; try again
                Some(id) => {
                    return Ok(ProtectionKey {
                        inner: Arc::new(KeyInner { id, pku }),
                    })
                }
                None => {
                    return Err(Error::os(
                        "pkey_alloc",
                        format!("returned key {raw}"),
                        io::Error::from_raw_os_error(libc::ERANGE),
                    ))
                }
            }
        }
    }

    /// The key number (1 to 15).
    #[must_use]
    pub fn id(&self) -> KeyId {
        self.inner.id
    }

    /// The calling thread's rights to this key.
    ///
    /// See glibc's [pkey_get(3)](https://man7.org/linux/man-pages/man3/pkey_get.3.html).
    #[doc(alias = "pkey_get")]
    #[must_use]
    pub fn rights(&self) -> Rights {
        Pkru(pkru::read(self.inner.pku)).rights(self.inner.id)
    }

    /// Sets the calling thread's rights to this key, read-modify-write: the
    /// other keys' bits in PKRU stay as they are.
    ///
    /// See glibc's [pkey_set(3)](https://man7.org/linux/man-pages/man3/pkey_set.3.html).
    #[doc(alias = "pkey_set")]
    #[doc(alias = "wrpkru")]
    pub fn set_rights(&self, rights: Rights) {
        let pku = self.inner.pku;
        let new = Pkru(pkru::read(pku)).with_rights(self.inner.id, rights);
        pkru::write(pku, new.0);
    }

    /// Runs `f` with the calling thread's rights to this key set to
    /// `rights`, then restores the whole PKRU value saved on entry, also if
    /// `f` panics. Calls nest: each restores what it saved, innermost first.
    ///
    /// Changes `f` makes to other keys' rights in this thread are undone on
    /// exit as well. Threads that `f` spawns inherit the rights in force.
    ///
    /// See glibc's [pkey_set(3)](https://man7.org/linux/man-pages/man3/pkey_set.3.html).
    #[doc(alias = "pkey_set")]
    #[doc(alias = "wrpkru")]
    pub fn with_rights<R>(&self, rights: Rights, f: impl FnOnce() -> R) -> R {
        let pku = self.inner.pku;
        let saved = pkru::read(pku);
        // Dropped on return and on unwind; `!Send`, so it cannot leave this
        // thread (it lives on this stack frame anyway).
        let _restore = Restore {
            pku,
            saved,
            _not_send: std::marker::PhantomData,
        };
        pkru::write(pku, Pkru(saved).with_rights(self.inner.id, rights).0);
        f()
    }

    /// Frees the key now, if nothing else holds it.
    ///
    /// See [pkey_free(2)](https://man7.org/linux/man-pages/man2/pkey_free.2.html).
    ///
    /// # Errors
    /// [`Error::KeyInUse`] if regions tagged with the key (or other handles)
    /// remain: the key is then freed when the last of them is dropped, never
    /// before. [`Error::Os`] if `pkey_free` fails.
    #[doc(alias = "pkey_free")]
    pub fn free(self) -> Result<(), Error> {
        let id = self.inner.id;
        match Arc::try_unwrap(self.inner) {
            Ok(inner) => {
                let inner = std::mem::ManuallyDrop::new(inner);
                sys::pkey_free(inner.id.get())
                    .map_err(|err| Error::os("pkey_free", format!("key={id}"), err))
            }
            Err(shared) => Err(Error::KeyInUse {
                key: id,
                users: Arc::strong_count(&shared) - 1,
            }),
        }
    }
}

impl fmt::Debug for ProtectionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ProtectionKey")
            .field(&self.inner.id.0)
            .finish()
    }
}

/// Restores a saved PKRU value on drop (see [`ProtectionKey::with_rights`]).
struct Restore {
    pku: Pku,
    saved: u32,
    _not_send: std::marker::PhantomData<*const ()>,
}

impl Drop for Restore {
    fn drop(&mut self) {
        pkru::write(self.pku, self.saved);
    }
}

// ---------------------------------------------------------------------------
// Regions

/// Memory owned by this crate (an anonymous mapping, whole pages, zeroed),
/// which can be tagged with a protection key.
///
/// A tagged region holds its key, so the key cannot be freed and handed out
/// again while the pages still carry it. Dropping the region unmaps the
/// pages first and then releases the key.
///
/// Access goes through [`read`](Self::read) and [`write`](Self::write) (or
/// raw pointers). If the calling thread's rights to the region's key forbid
/// the access, the CPU raises SIGSEGV with `si_code` [`SEGV_PKUERR`], which
/// kills the process unless a handler catches it.
#[derive(Debug)]
pub struct Region {
    // Field order matters: the pages are unmapped before the key is released.
    map: sys::Mapping,
    key: Option<ProtectionKey>,
}

impl Region {
    /// Maps `len` bytes, rounded up to whole pages, of zeroed read-write
    /// memory with the default key 0.
    ///
    /// See [mmap(2)](https://man7.org/linux/man-pages/man2/mmap.2.html).
    ///
    /// # Errors
    /// [`Error::Os`] if `len` is 0 or `mmap` fails; [`Error::Unsupported`]
    /// on targets other than Linux on x86-64.
    #[doc(alias = "mmap")]
    pub fn new(len: usize) -> Result<Region, Error> {
        let map =
            sys::Mapping::new(len).map_err(|err| Error::os("mmap", format!("len={len}"), err))?;
        Ok(Region { map, key: None })
    }

    /// Tags every page of the region with `key` (keeping it read-write at the
    /// page-table level); the region holds the key from now on, and releases
    /// the key it held before, if any.
    ///
    /// See [pkey_mprotect(2)](https://man7.org/linux/man-pages/man2/pkey_mprotect.2.html).
    ///
    /// # Errors
    /// [`Error::Os`] if `pkey_mprotect` fails.
    #[doc(alias = "pkey_mprotect")]
    pub fn tag(&mut self, key: &ProtectionKey) -> Result<(), Error> {
        self.retag(key.id())?;
        self.key = Some(key.clone());
        Ok(())
    }

    /// Tags the region with the default key 0 again and releases its key.
    ///
    /// See [pkey_mprotect(2)](https://man7.org/linux/man-pages/man2/pkey_mprotect.2.html).
    ///
    /// # Errors
    /// [`Error::Os`] if `pkey_mprotect` fails; the region then keeps its key.
    #[doc(alias = "pkey_mprotect")]
    pub fn untag(&mut self) -> Result<(), Error> {
        if self.key.is_some() {
            self.retag(KeyId::DEFAULT)?;
            self.key = None;
        }
        Ok(())
    }

    fn retag(&self, id: KeyId) -> Result<(), Error> {
        self.map.pkey_mprotect(id.get()).map_err(|err| {
            Error::os(
                "pkey_mprotect",
                format!(
                    "addr={:p}, len={}, prot=PROT_READ|PROT_WRITE, key={id}",
                    self.map.as_ptr(),
                    self.map.len()
                ),
                err,
            )
        })
    }

    /// The key the region is tagged with, if any.
    #[must_use]
    pub fn key(&self) -> Option<&ProtectionKey> {
        self.key.as_ref()
    }

    /// Length in bytes (whole pages).
    #[must_use]
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Always false: a region has at least one page.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Copies `buf.len()` bytes at `offset` out of the region.
    ///
    /// Faults (SIGSEGV, [`SEGV_PKUERR`]) if this thread may not read the
    /// region's key.
    ///
    /// # Panics
    /// If the range is not inside the region.
    pub fn read(&self, offset: usize, buf: &mut [u8]) {
        self.map.read_at(offset, buf);
    }

    /// Copies `data` into the region at `offset`.
    ///
    /// Faults (SIGSEGV, [`SEGV_PKUERR`]) if this thread may not write the
    /// region's key.
    ///
    /// # Panics
    /// If the range is not inside the region.
    pub fn write(&mut self, offset: usize, data: &[u8]) {
        self.map.write_at(offset, data);
    }

    /// The start address, e.g. to pass to a system call.
    #[must_use]
    pub fn as_ptr(&self) -> *const u8 {
        self.map.as_ptr()
    }

    /// The start address, for writing.
    #[must_use]
    pub fn as_mut_ptr(&mut self) -> *mut u8 {
        self.map.as_mut_ptr()
    }
}

// ---------------------------------------------------------------------------
// Signals

/// The key whose rights denied an access, from the `siginfo_t` of a SIGSEGV
/// with `si_code` [`SEGV_PKUERR`]; `None` for any other signal or cause.
///
/// Async-signal-safe: it only reads `info`. Note that a signal handler runs
/// with [`Pkru::INIT`], not the interrupted thread's PKRU.
///
/// See [sigaction(2)](https://man7.org/linux/man-pages/man2/sigaction.2.html)
/// (`si_pkey`) and [pkeys(7)](https://man7.org/linux/man-pages/man7/pkeys.7.html).
#[doc(alias = "si_pkey")]
#[doc(alias = "SEGV_PKUERR")]
#[cfg(unix)]
#[must_use]
pub fn fault_key(info: &libc::siginfo_t) -> Option<KeyId> {
    if info.si_signo == libc::SIGSEGV && info.si_code == SEGV_PKUERR {
        sys::siginfo_pkey(info).and_then(KeyId::new)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u32) -> KeyId {
        KeyId::new(n).unwrap()
    }

    #[test]
    fn key_ids_are_0_to_15() {
        assert_eq!(KeyId::new(0), Some(KeyId::DEFAULT));
        assert_eq!(KeyId::new(15).map(KeyId::get), Some(15));
        assert_eq!(KeyId::new(16), None);
        assert_eq!(KeyId::new(u32::MAX), None);
        assert_eq!(key(7).to_string(), "7");
    }

    #[test]
    fn rights_round_trip_through_bits() {
        for rights in [Rights::ReadWrite, Rights::ReadOnly, Rights::NoAccess] {
            assert_eq!(Rights::from_bits(rights.bits()), rights);
        }
        assert_eq!(Rights::from_bits(0), Rights::ReadWrite);
        assert_eq!(Rights::from_bits(PKEY_DISABLE_WRITE), Rights::ReadOnly);
        assert_eq!(Rights::from_bits(PKEY_DISABLE_ACCESS), Rights::NoAccess);
        assert_eq!(Rights::from_bits(0b11), Rights::NoAccess);
        assert_eq!(Rights::from_bits(0b100), Rights::ReadWrite);
        assert!(Rights::ReadOnly.can_read() && !Rights::ReadOnly.can_write());
        assert!(!Rights::NoAccess.can_read() && !Rights::NoAccess.can_write());
        assert!(Rights::ReadWrite.can_read() && Rights::ReadWrite.can_write());
    }

    #[test]
    fn init_value_opens_only_key_0() {
        assert_eq!(Pkru::INIT.rights(KeyId::DEFAULT), Rights::ReadWrite);
        for n in 1..KEY_COUNT {
            assert_eq!(Pkru::INIT.rights(key(n)), Rights::NoAccess, "key {n}");
        }
        for n in 0..KEY_COUNT {
            assert_eq!(Pkru::ALL_ACCESS.rights(key(n)), Rights::ReadWrite);
        }
        assert_eq!(Pkru::default(), Pkru::INIT);
        assert_eq!(format!("{:?}", Pkru::INIT), "Pkru(0x55555554)");
    }

    #[test]
    fn with_rights_changes_exactly_one_key() {
        let values = [0, 0x5555_5554, 0xffff_ffff, 0xaaaa_aaaa, 0x1234_5678];
        for bits in values {
            let before = Pkru::from_bits(bits);
            for n in 0..KEY_COUNT {
                for rights in [Rights::ReadWrite, Rights::ReadOnly, Rights::NoAccess] {
                    let after = before.with_rights(key(n), rights);
                    assert_eq!(after.rights(key(n)), rights);
                    let mask = 0b11 << (2 * n);
                    assert_eq!(after.bits() & !mask, bits & !mask, "{bits:#x} key {n}");
                    assert_eq!(after.bits() & mask, rights.bits() << (2 * n));
                }
            }
        }
    }

    #[test]
    fn with_rights_on_the_top_key() {
        let pkru = Pkru::ALL_ACCESS.with_rights(key(15), Rights::NoAccess);
        assert_eq!(pkru.bits(), 0xc000_0000);
        assert_eq!(
            pkru.with_rights(key(15), Rights::ReadOnly).bits(),
            0x8000_0000
        );
    }

    fn errno(n: i32) -> io::Error {
        io::Error::from_raw_os_error(n)
    }

    #[test]
    fn alloc_errnos_without_pku_mean_unsupported() {
        for n in [libc::ENOSYS, libc::EINVAL, libc::ENOSPC] {
            assert!(
                matches!(alloc_error(errno(n), false, 0), Error::Unsupported),
                "errno {n}"
            );
        }
    }

    #[test]
    fn alloc_errnos_with_pku() {
        assert!(matches!(
            alloc_error(errno(libc::ENOSPC), true, 0),
            Error::KeysExhausted
        ));
        assert!(matches!(
            alloc_error(errno(libc::ENOSYS), true, 0),
            Error::Unsupported
        ));
        let err = alloc_error(errno(libc::EINVAL), true, 3);
        assert_eq!(err.raw_os_error(), Some(libc::EINVAL));
        assert_eq!(
            err.to_string(),
            "pkey_alloc failed (flags=0, access_rights=0x3)"
        );
        let err = alloc_error(errno(libc::EPERM), false, 0);
        assert_eq!(err.raw_os_error(), Some(libc::EPERM));
    }

    #[test]
    fn os_errors_name_the_call_and_keep_the_cause_in_source() {
        let err = Error::os("pkey_free", "key=3".into(), errno(libc::EINVAL));
        assert_eq!(err.to_string(), "pkey_free failed (key=3)");
        let source = std::error::Error::source(&err).unwrap().to_string();
        assert!(source.contains("Invalid argument"), "{source}");
        assert!(!err.to_string().contains("Invalid argument"));
        assert!(matches!(
            Error::os("x", String::new(), errno(libc::ENOSYS)),
            Error::Unsupported
        ));
        let err = Error::KeyInUse {
            key: key(3),
            users: 2,
        };
        assert_eq!(
            err.to_string(),
            "protection key 3 is still used by 2 region(s) or other handle(s)"
        );
    }

    /// What this machine answers, whatever it is: consistent either way.
    #[test]
    fn support_is_consistent() {
        let supported = is_supported();
        assert_eq!(is_supported(), supported, "cached answer changed");
        if supported {
            assert!(Pkru::current().is_ok());
        } else {
            println!("skipping the hardware half: no PKU here (CPUID OSPKE is 0)");
            assert!(matches!(Pkru::current(), Err(Error::Unsupported)));
            assert!(matches!(
                ProtectionKey::new(Rights::ReadWrite),
                Err(Error::Unsupported)
            ));
            // The raw call's errno on this kernel also maps to Unsupported.
            if let Err(err) = sys::pkey_alloc(0, 0) {
                assert!(matches!(alloc_error(err, false, 0), Error::Unsupported));
            }
        }
    }

    #[test]
    #[cfg(all(target_arch = "x86_64", target_os = "linux", not(mpk_disabled)))]
    fn regions_work_without_keys() {
        let mut region = Region::new(100).unwrap();
        assert!(region.len() >= 4096 && !region.is_empty());
        assert!(region.key().is_none());
        region.write(0, b"abc");
        let mut buf = [0; 4];
        region.read(0, &mut buf);
        assert_eq!(&buf, b"abc\0");
        region.untag().unwrap();
        let err = Region::new(0).unwrap_err();
        assert_eq!(err.to_string(), "mmap failed (len=0)");
    }

    #[test]
    #[cfg(all(target_arch = "x86_64", target_os = "linux", not(mpk_disabled)))]
    fn fault_key_needs_sigsegv_and_pkuerr() {
        let info = sys::tests_support::siginfo(libc::SIGSEGV, SEGV_PKUERR, 5);
        assert_eq!(fault_key(&info), Some(key(5)));
        // si_code 2: SEGV_ACCERR, a plain protection fault.
        let info = sys::tests_support::siginfo(libc::SIGSEGV, 2, 5);
        assert_eq!(fault_key(&info), None);
        let info = sys::tests_support::siginfo(libc::SIGBUS, SEGV_PKUERR, 5);
        assert_eq!(fault_key(&info), None);
        let info = sys::tests_support::siginfo(libc::SIGSEGV, SEGV_PKUERR, 16);
        assert_eq!(fault_key(&info), None);
    }

    /// The stub for other targets: everything is unsupported.
    #[test]
    #[cfg(not(all(target_arch = "x86_64", target_os = "linux", not(mpk_disabled))))]
    fn the_stub_reports_unsupported() {
        assert!(!is_supported());
        assert!(matches!(Region::new(4096), Err(Error::Unsupported)));
        assert!(matches!(Pkru::current(), Err(Error::Unsupported)));
        assert!(matches!(
            ProtectionKey::new(Rights::NoAccess),
            Err(Error::Unsupported)
        ));
        #[cfg(unix)]
        {
            // SAFETY: siginfo_t is plain integers; all-zero is a valid value.
            #[allow(unsafe_code)]
            let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
            info.si_signo = libc::SIGSEGV;
            info.si_code = SEGV_PKUERR;
            assert_eq!(fault_key(&info), None);
        }
    }
}
