//! Stand-in for the raw system calls on targets other than Linux on x86-64:
//! every call fails with `ENOSYS`, which the crate root reports as
//! [`Error::Unsupported`](crate::Error::Unsupported).
//!
//! # Safety
//!
//! Nothing here is unsafe.

use std::io;

fn enosys() -> io::Error {
    io::Error::from_raw_os_error(libc::ENOSYS)
}

/// Always fails with `ENOSYS`.
pub(crate) fn pkey_alloc(_flags: u32, _access_rights: u32) -> io::Result<u32> {
    Err(enosys())
}

/// Always fails with `ENOSYS`.
pub(crate) fn pkey_free(_key: u32) -> io::Result<()> {
    Err(enosys())
}

#[derive(Debug)]
enum Never {}

/// Uninhabited: no mapping can be made here.
#[derive(Debug)]
pub(crate) struct Mapping {
    never: Never,
}

impl Mapping {
    /// Always fails with `ENOSYS`.
    pub(crate) fn new(_len: usize) -> io::Result<Mapping> {
        Err(enosys())
    }

    pub(crate) fn len(&self) -> usize {
        match self.never {}
    }

    pub(crate) fn as_ptr(&self) -> *const u8 {
        match self.never {}
    }

    pub(crate) fn as_mut_ptr(&mut self) -> *mut u8 {
        match self.never {}
    }

    pub(crate) fn pkey_mprotect(&self, _key: u32) -> io::Result<()> {
        match self.never {}
    }

    pub(crate) fn read_at(&self, _offset: usize, _buf: &mut [u8]) {
        match self.never {}
    }

    pub(crate) fn write_at(&mut self, _offset: usize, _data: &[u8]) {
        match self.never {}
    }
}

/// Always `None`: no key faults happen here.
#[cfg(unix)]
pub(crate) fn siginfo_pkey(_info: &libc::siginfo_t) -> Option<u32> {
    None
}
