//! The two PKU instructions, RDPKRU and WRPKRU, and the CPUID check that
//! must come before either (x86-64 only).
//!
//! # Safety
//!
//! RDPKRU and WRPKRU raise `#UD` unless the operating system has enabled
//! protection keys (CR4.PKE, visible to user space as CPUID leaf 7 ECX bit 4,
//! OSPKE). Every function here that executes one of them takes a [`Pku`]
//! token, and the only way to get a token is [`detect`], which checks that
//! bit. Both instructions also need ECX = 0 (and WRPKRU EDX = 0), or they
//! raise `#GP`; the `asm!` blocks set those registers themselves.
//!
//! WRPKRU changes which memory the thread may touch, so its `asm!` block is
//! deliberately **not** `nomem`: the compiler must treat it as reading and
//! writing memory and may not move loads or stores across it. RDPKRU only
//! reads the register and may be `nomem`.
#![allow(unsafe_code)]

use core::arch::asm;
use core::arch::x86_64::{__cpuid, __cpuid_count};

/// Proof that this CPU and kernel support protection keys (CPUID OSPKE is
/// set). Only [`detect`] creates one.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Pku(());

/// CPUID leaf 7 (structured extended features), sub-leaf 0, ECX bit 4:
/// OSPKE, "the OS has set CR4.PKE". Bit 3 (PKU) only says the CPU could.
const OSPKE: u32 = 1 << 4;

/// Checks CPUID for OSPKE, after checking that leaf 7 exists at all.
///
/// No vendor check: AMD and Intel report the bit the same way.
pub(crate) fn detect() -> Option<Pku> {
    // CPUID is a safe intrinsic: every x86-64 CPU has it.
    let max_leaf = __cpuid(0).eax;
    if max_leaf < 7 {
        return None;
    }
    let ecx = __cpuid_count(7, 0).ecx;
    (ecx & OSPKE != 0).then_some(Pku(()))
}

/// RDPKRU: this thread's PKRU register.
#[inline]
pub(crate) fn read(_: Pku) -> u32 {
    let pkru: u32;
    // SAFETY: the `Pku` token proves OSPKE, so RDPKRU does not fault; ECX is
    // zero as the instruction requires; EDX is declared clobbered. It reads no
    // memory and touches no flags or stack.
    unsafe {
        asm!(
            "rdpkru",
            in("ecx") 0u32,
            out("eax") pkru,
            out("edx") _,
            options(nomem, nostack, preserves_flags),
        );
    }
    pkru
}

/// WRPKRU: replaces this thread's PKRU register with `value`.
///
/// Callers in this crate only write values derived read-modify-write from
/// [`read`], or a value saved earlier by [`read`].
#[inline]
pub(crate) fn write(_: Pku, value: u32) {
    // SAFETY: the `Pku` token proves OSPKE, so WRPKRU does not raise #UD;
    // ECX and EDX are zero as the instruction requires (else #GP). Changing
    // PKRU cannot break memory safety: at worst a later access faults with
    // SIGSEGV. Not `nomem`, so that the compiler keeps memory accesses on
    // their side of the change of rights.
    unsafe {
        asm!(
            "wrpkru",
            in("eax") value,
            in("ecx") 0u32,
            in("edx") 0u32,
            options(nostack, preserves_flags),
        );
    }
}
