//! Safe wrappers for x86 memory protection keys (work in progress).
