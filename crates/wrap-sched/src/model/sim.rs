//! The one-CPU thread simulation (`mpk-l-model.md` §3).
//!
//! A discrete simulation of a fair scheduler: a main thread launches the
//! functions one after another; every launched function runs for at most a
//! slice, blocks on its traced system calls, and the CPU goes to the
//! runnable thread with the least CPU time received (vruntime).

use std::collections::VecDeque;

use wrap_model::ModelParams;

use super::EffectiveProfile;

/// Why a simulation did not finish.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// The simulation ran more turns than [`MAX_TURNS`]: a bug or a hostile
    /// profile. It is stopped rather than looping forever.
    #[error("thread simulation of {threads} functions did not finish within {turns} turns")]
    TurnLimit {
        /// Functions in the group.
        threads: usize,
        /// The bound that was hit.
        turns: u64,
    },
    /// A search ran past its [`WorkBudget`](crate::WorkBudget): it was
    /// stopped rather than let run on.
    #[error("the search needed more than its budget of {limit} work units")]
    WorkLimit {
        /// The budget that was exhausted.
        limit: u64,
    },
    /// An internal inconsistency (a bug), reported instead of a panic.
    #[error("internal error: {0}")]
    Internal(String),
    /// The CPU went idle with nothing blocked: an internal inconsistency.
    #[error("thread simulation of {threads} functions went idle with no blocked thread")]
    Stalled {
        /// Functions in the group.
        threads: usize,
    },
}

/// The most turns a simulation may take before it is stopped with
/// [`SimError::TurnLimit`].
pub const MAX_TURNS: u64 = 1_000_000;

struct Thread<'a> {
    lat: f64,
    blocks: &'a [(f64, f64)],
    /// Index of the next block period in `blocks`.
    next_block: usize,
    /// Time lived: CPU received plus time spent blocked.
    clock: f64,
}

impl Thread<'_> {
    fn next_period(&self) -> Option<(f64, f64)> {
        self.blocks.get(self.next_block).copied()
    }
}

struct Sim<'a> {
    threads: Vec<Thread<'a>>,
    /// Insertion-ordered `(thread, vruntime)`; the main thread is id `n`.
    runnable: Vec<(usize, f64)>,
    /// Per thread id, its index in `runnable` (`usize::MAX` when absent).
    position: Vec<usize>,
    /// Ordered `(thread, remaining)`.
    blocked: Vec<(usize, f64)>,
    /// The threads still blocked after the last `advance`, and a flag per id.
    still: Vec<usize>,
    is_still: Vec<bool>,
}

impl Sim<'_> {
    fn enter_runnable(&mut self, t: usize) {
        self.position[t] = self.runnable.len();
        self.runnable.push((t, 0.0));
    }

    fn add_vruntime(&mut self, t: usize, x: f64) {
        if let Some(entry) = self.runnable.get_mut(self.position[t]) {
            entry.1 += x;
        }
    }

    fn remove_runnable(&mut self, t: usize) {
        let i = self.position[t];
        if i < self.runnable.len() {
            self.runnable.remove(i);
            self.position[t] = usize::MAX;
            for (k, &(u, _)) in self.runnable.iter().enumerate().skip(i) {
                self.position[u] = k;
            }
        }
    }

    /// Lets `x` ms pass for every blocked thread but `me`; fills `still`
    /// with those that stay blocked.
    fn advance(&mut self, x: f64, me: usize) {
        for &t in &self.still {
            self.is_still[t] = false;
        }
        self.still.clear();
        let threads = &mut self.threads;
        let still = &mut self.still;
        let is_still = &mut self.is_still;
        self.blocked.retain_mut(|(t, remaining)| {
            if *t == me {
                return true;
            }
            let th = &mut threads[*t];
            if x < *remaining {
                still.push(*t);
                is_still[*t] = true;
                th.clock += x;
                *remaining -= x;
                true
            } else {
                th.clock += *remaining;
                th.next_block += 1;
                false
            }
        });
    }

    /// The runnable thread with the least vruntime, excluding `me` and the
    /// threads in `still`; ties go to the earliest to enter `runnable`.
    fn pick(&self, me: usize) -> Option<usize> {
        let mut best: Option<(usize, f64)> = None;
        for &(t, v) in &self.runnable {
            if t == me || self.is_still[t] {
                continue;
            }
            if best.is_none_or(|(_, bv)| v < bv) {
                best = Some((t, v));
            }
        }
        best.map(|(t, _)| t)
    }
}

/// Simulates `group` (effective profiles, in the order given) launched by
/// one main thread on one CPU; returns the time until the last ends,
/// including `turns * switch_cost`.
///
/// Two behaviours of the published model are kept on purpose (the vectors
/// depend on them): when a thread is the last one runnable the simulation
/// adds `lat - clock` at once and skips any block periods it still has, and
/// a function whose shifted periods start after its latency first blocks
/// through them, so its final step `lat - clock` is negative.
///
/// # Errors
/// [`SimError::TurnLimit`] when the simulation exceeds [`MAX_TURNS`].
pub fn threads_latency(group: &[&EffectiveProfile], params: &ModelParams) -> Result<f64, SimError> {
    simulate(group, params).map(|(latency, _turns)| latency)
}

/// [`threads_latency`] with the number of turns the simulation took, the
/// measure of its work that [`WorkBudget`](crate::WorkBudget)s are charged.
///
/// # Errors
/// As [`threads_latency`].
pub(crate) fn simulate(
    group: &[&EffectiveProfile],
    params: &ModelParams,
) -> Result<(f64, u64), SimError> {
    let n = group.len();
    if n == 0 {
        return Ok((0.0, 0));
    }
    let slice = params.slice.get();
    let spawn = params.thread_spawn.get();
    let mut sim = Sim {
        threads: group
            .iter()
            .map(|p| Thread {
                lat: p.lat,
                blocks: &p.blocks,
                next_block: 0,
                clock: 0.0,
            })
            .collect(),
        runnable: Vec::with_capacity(n + 1),
        position: vec![usize::MAX; n + 1],
        blocked: Vec::with_capacity(n),
        still: Vec::with_capacity(n),
        is_still: vec![false; n + 1],
    };
    let main = n;
    sim.enter_runnable(main);
    let mut pending: VecDeque<(usize, f64)> = (0..n).map(|t| (t, spawn)).collect();
    let mut launched_any = false;
    let mut total = 0.0_f64;
    let mut turns: u64 = 0;
    let mut current = main;

    loop {
        turns += 1;
        if turns > MAX_TURNS {
            return Err(SimError::TurnLimit {
                threads: n,
                turns: MAX_TURNS,
            });
        }
        if current == main {
            let mut budget = if launched_any {
                slice
            } else {
                params.first_spawn_budget.get()
            };
            let mut used = 0.0;
            while used < budget {
                let Some(front) = pending.front_mut() else {
                    break;
                };
                if used + front.1 <= budget {
                    budget = slice;
                    used += front.1;
                    let t = front.0;
                    pending.pop_front();
                    sim.enter_runnable(t);
                    launched_any = true;
                    if pending.is_empty() {
                        sim.remove_runnable(main);
                    }
                } else {
                    front.1 -= budget - used;
                    used = budget;
                }
            }
            sim.add_vruntime(main, used);
            sim.advance(used, main);
            total += used;
            current = sim.pick(main).unwrap_or(main);
            continue;
        }

        let t = current;
        if sim.runnable.len() == 1 && sim.runnable[0].0 == t {
            let th = &sim.threads[t];
            total += th.lat - th.clock;
            break;
        }
        let mut budget = slice;
        if sim.runnable.len() == sim.blocked.len() + 1 {
            let least = sim
                .blocked
                .iter()
                .map(|b| b.1)
                .fold(f64::INFINITY, f64::min);
            if least.is_finite() {
                budget += least;
            }
        }
        let th = &sim.threads[t];
        let run;
        let mut finished = false;
        if let Some((s, d)) = th.next_period() {
            if th.clock + budget < s {
                run = budget;
            } else {
                run = s - th.clock;
                sim.blocked.push((t, d));
            }
        } else if th.clock + budget < th.lat {
            run = budget;
        } else {
            run = th.lat - th.clock;
            finished = true;
        }
        if finished {
            sim.remove_runnable(t);
            if sim.runnable.is_empty() {
                total += run;
                break;
            }
        } else {
            sim.add_vruntime(t, run);
        }
        sim.advance(run, t);
        sim.threads[t].clock += run;
        total += run;
        current = match sim.pick(t) {
            Some(u) => u,
            None => {
                // The CPU idles until the earliest block ends.
                if sim.blocked.is_empty() {
                    return Err(SimError::Stalled { threads: n });
                }
                // A stable sort by remaining, then the first comes out.
                sim.blocked
                    .sort_by(|a, b| a.1.partial_cmp(&b.1).unwrap_or(std::cmp::Ordering::Equal));
                let (u, r) = sim.blocked.remove(0);
                sim.threads[u].next_block += 1;
                sim.threads[u].clock += r;
                for (w, rem) in &mut sim.blocked {
                    *rem -= r;
                    sim.threads[*w].clock += r;
                }
                total += r;
                u
            }
        };
    }
    Ok((total + turns as f64 * params.switch_cost.get(), turns))
}
