//! The effective profile of a function type (`mpk-l-model.md` §2).

use wrap_model::{ModelParams, Profile};

/// A function's profile as the simulation uses it: its effective latency and
/// its blocking periods `(start, duration)` on its own clock.
#[derive(Debug, Clone, PartialEq)]
pub struct EffectiveProfile {
    /// Effective latency `lat`: the exec time `E(f)`, computed as
    /// `L0 + (E(f) - L0)` to match the published numbers bit for bit.
    pub lat: f64,
    /// Blocking periods `(start, duration)`, shifted (and stretched).
    pub blocks: Vec<(f64, f64)>,
}

impl EffectiveProfile {
    /// Derives the effective profile of `profile` under `params`:
    ///
    /// 1. `shift = thread_init - thread_spawn`;
    /// 2. `L0 = T(f) + shift`, every block start moves by `shift`;
    /// 3. if `over = E(f) - L0 > 0`, every start and duration is multiplied
    ///    by `(L0 + over) / L0` and touching or overlapping periods merge;
    /// 4. `lat = L0 + over`.
    ///
    /// A trace whose `L0` is zero or negative is not stretched (the factor
    /// would be infinite); its periods stay as shifted.
    #[must_use]
    pub fn derive(profile: &Profile, params: &ModelParams) -> Self {
        let shift = params.thread_init.get() - params.thread_spawn.get();
        let l0 = profile.trace_latency_ms.get() + shift;
        let mut blocks: Vec<(f64, f64)> = profile
            .blocks
            .iter()
            .map(|b| (b.start_ms.get() + shift, b.duration_ms.get()))
            .collect();
        let over = profile.exec_ms.get() - l0;
        if over > 0.0 && l0 > 0.0 {
            let factor = (l0 + over) / l0;
            for b in &mut blocks {
                b.0 *= factor;
                b.1 *= factor;
            }
            blocks = merge_touching(blocks);
        }
        EffectiveProfile {
            lat: l0 + over,
            blocks,
        }
    }
}

/// Merges consecutive periods that touch or overlap (`s_i + d_i >= s_{i+1}`)
/// into one running to the later of their ends.
fn merge_touching(blocks: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    let mut out: Vec<(f64, f64)> = Vec::with_capacity(blocks.len());
    for (s, d) in blocks {
        if let Some(last) = out.last_mut() {
            let end = last.0 + last.1;
            if end >= s {
                let new_end = end.max(s + d);
                last.1 = new_end - last.0;
                continue;
            }
        }
        out.push((s, d));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use wrap_model::{Block, Ms};

    fn block(s: f64, d: f64) -> Block {
        Block {
            start_ms: Ms(s),
            duration_ms: Ms(d),
            syscall: String::new(),
        }
    }

    #[test]
    fn shifts_without_stretch_when_exec_is_shorter() {
        let p = Profile::new(Ms(5.0), Ms(10.0), vec![block(1.0, 2.0)]);
        let e = EffectiveProfile::derive(&p, &ModelParams::MPK_L);
        // L0 = 16, over = -11, lat = 5; the block moves by 6 and stays after lat.
        assert_eq!(e.lat, 5.0);
        assert_eq!(e.blocks, vec![(7.0, 2.0)]);
    }

    #[test]
    fn stretches_and_merges() {
        // L0 = 4 + 6 = 10, E = 20: factor 2.
        let p = Profile::new(
            Ms(20.0),
            Ms(4.0),
            vec![block(0.0, 1.0), block(1.0, 1.0), block(3.0, 0.5)],
        );
        let e = EffectiveProfile::derive(&p, &ModelParams::MPK_L);
        assert_eq!(e.lat, 20.0);
        // Shifted: (6,1) (7,1) (9,0.5); stretched: (12,2) (14,2) (18,1); the
        // first two touch and merge.
        assert_eq!(e.blocks, vec![(12.0, 4.0), (18.0, 1.0)]);
    }
}
