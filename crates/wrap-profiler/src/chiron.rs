//! The published Chiron timelines CSV (`--format chiron`), so users of the
//! published scheduler can use this profiler.
//!
//! First line: the traced latency `T(f)` (our `trace_latency_ms`); then one
//! `pid,start_ms,syscall,duration_ms` line per blocking period, in time
//! order. The stand-alone latency `E(f)` (our `exec_ms`) belongs in the
//! published `exec_times.json`, not in this file. Numbers are written in
//! Rust's shortest round-trip form.

use std::io::{self, Write};

use wrap_model::Profile;

/// Writes `profile` as a timelines CSV. `pid` fills the pid column, which
/// the published model ignores (our merged periods may span threads); pass
/// the traced root pid ([`Trace::root_pid`](crate::Trace::root_pid)) or 0.
/// A syscall name that is empty becomes `unknown`; commas and line breaks
/// in it become `_`.
///
/// ```
/// use wrap_model::{Block, Ms, Profile};
///
/// let p = Profile::new(Ms(30.0), Ms(25.5), vec![Block { start_ms: Ms(1.25), duration_ms: Ms(20.0), syscall: "clock_nanosleep".into() }]);
/// let mut out = Vec::new();
/// wrap_profiler::write_chiron(&mut out, &p, 42)?;
/// assert_eq!(String::from_utf8(out).unwrap(), "25.5\n42,1.25,clock_nanosleep,20\n");
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Errors
/// Whatever the writer returns.
pub fn write_chiron<W: Write>(mut out: W, profile: &Profile, pid: u32) -> io::Result<()> {
    writeln!(out, "{}", profile.trace_latency_ms.get())?;
    for b in &profile.blocks {
        let name: String = if b.syscall.is_empty() {
            "unknown".to_owned()
        } else {
            b.syscall
                .chars()
                .map(|c| {
                    if matches!(c, ',' | '\n' | '\r') {
                        '_'
                    } else {
                        c
                    }
                })
                .collect()
        };
        writeln!(
            out,
            "{pid},{},{name},{}",
            b.start_ms.get(),
            b.duration_ms.get()
        )?;
    }
    out.flush()
}

/// [`write_chiron`] into a string.
#[must_use]
pub fn chiron_csv(profile: &Profile, pid: u32) -> String {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail, and all text written is UTF-8.
    let _ = write_chiron(&mut out, profile, pid);
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use wrap_model::{Block, Ms};

    #[test]
    fn reads_back_with_the_importer() {
        let p = Profile::new(
            Ms(92.0),
            Ms(81.632),
            vec![
                Block {
                    start_ms: Ms(10.002),
                    duration_ms: Ms(20.127),
                    syscall: "clock_nanosleep".into(),
                },
                Block {
                    start_ms: Ms(35.145),
                    duration_ms: Ms(0.1),
                    syscall: String::new(),
                },
            ],
        );
        let csv = chiron_csv(&p, 7);
        let (lat, blocks) = wrap_model::import::parse_timeline("t.csv", &csv).unwrap();
        assert_eq!(lat, p.trace_latency_ms);
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0], p.blocks[0]);
        assert_eq!(blocks[1].syscall, "unknown");
        assert_eq!(blocks[1].start_ms, p.blocks[1].start_ms);
    }
}
