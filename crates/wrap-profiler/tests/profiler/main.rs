//! Integration tests of the profiler: the strace fixtures with ground
//! truth, live profiling under strace, and property tests.

mod fixtures;
mod live;
mod props;
