//! Function profiles, model parameters and profile sets.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Ms;

/// One blocking period of a function: a system call that kept it off the CPU.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Block {
    /// When the call started, relative to the function's start.
    pub start_ms: Ms,
    /// How long the call blocked.
    pub duration_ms: Ms,
    /// The system call's name, kept for display only; the model ignores it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub syscall: String,
}

impl Block {
    /// When the period ends: `start_ms + duration_ms`.
    #[must_use]
    pub fn end_ms(&self) -> Ms {
        self.start_ms + self.duration_ms
    }
}

/// Where a profile came from. Every field is optional: profiles imported
/// from the published data carry only `source`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Provenance {
    /// What produced the profile (`"chiron-import"`, `"strace-live"`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// How many runs were measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runs: Option<u32>,
    /// Every measured stand-alone latency, in run order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exec_samples_ms: Vec<Ms>,
    /// The strace version used, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strace_version: Option<String>,
    /// The factor the CPU gaps of the trace were scaled by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale: Option<f64>,
    /// The command that was profiled.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
}

/// The profile of one function type: its stand-alone latency `E(f)`, the
/// latency of the traced run `T(f)`, and its blocking periods in time order.
///
/// JSON shape: `{"exec_ms": 92.0, "trace_latency_ms": 92.0, "blocks": [...]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Profile {
    /// Stand-alone latency `E(f)`.
    pub exec_ms: Ms,
    /// Latency of the profiled run `T(f)` that the block starts refer to.
    pub trace_latency_ms: Ms,
    /// Blocking periods, in time order, not overlapping.
    #[serde(default)]
    pub blocks: Vec<Block>,
    /// Where the profile came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provenance: Option<Provenance>,
}

impl Profile {
    /// A profile from its three parts, without provenance.
    #[must_use]
    pub fn new(exec_ms: Ms, trace_latency_ms: Ms, blocks: Vec<Block>) -> Self {
        Profile {
            exec_ms,
            trace_latency_ms,
            blocks,
            provenance: None,
        }
    }

    /// A pure-computation profile: no blocking, traced latency = exec time.
    #[must_use]
    pub fn compute_only(exec_ms: Ms) -> Self {
        Profile::new(exec_ms, exec_ms, Vec::new())
    }

    /// Checks the profile of function type `function`.
    ///
    /// # Errors
    /// A [`ProfileError`] naming the function and field: a negative, NaN or
    /// infinite time, periods out of order, or overlapping periods
    /// (touching ones are fine).
    pub fn validate(&self, function: &str) -> Result<(), ProfileError> {
        let bad = |field: String, value: Ms| ProfileError::InvalidTime {
            function: function.to_owned(),
            field,
            value: value.get(),
        };
        if !self.exec_ms.is_valid_duration() {
            return Err(bad("exec_ms".into(), self.exec_ms));
        }
        if !self.trace_latency_ms.is_valid_duration() {
            return Err(bad("trace_latency_ms".into(), self.trace_latency_ms));
        }
        for (i, b) in self.blocks.iter().enumerate() {
            if !b.start_ms.is_valid_duration() {
                return Err(bad(format!("blocks[{i}].start_ms"), b.start_ms));
            }
            if !b.duration_ms.is_valid_duration() {
                return Err(bad(format!("blocks[{i}].duration_ms"), b.duration_ms));
            }
            if !b.end_ms().get().is_finite() {
                return Err(bad(format!("blocks[{i}].duration_ms"), b.duration_ms));
            }
        }
        for (i, pair) in self.blocks.windows(2).enumerate() {
            let (a, b) = (&pair[0], &pair[1]);
            if b.start_ms < a.start_ms {
                return Err(ProfileError::OutOfOrder {
                    function: function.to_owned(),
                    index: i + 1,
                });
            }
            if a.end_ms() > b.start_ms {
                return Err(ProfileError::Overlap {
                    function: function.to_owned(),
                    index: i + 1,
                });
            }
        }
        Ok(())
    }
}

/// The parameters of the latency model for one execution mode.
///
/// Every constant of the simulation is a field here, never a literal in the
/// algorithm, so that the other modes (native threads, MPK-S, process pool)
/// reuse the same machinery with other values. See `docs/model.md`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ModelParams {
    /// CPU time the wrap's main thread spends to launch one function.
    pub thread_spawn: Ms,
    /// Start-up delay of a launched function before its own code runs.
    pub thread_init: Ms,
    /// Scheduler time slice: the longest a thread runs before the CPU is
    /// handed on. Must be positive.
    pub slice: Ms,
    /// Cost of one scheduling decision, added once per simulation turn.
    pub switch_cost: Ms,
    /// Cost of running a group of functions as one process (fork, pipe, collect).
    pub rpc_overhead: Ms,
    /// Cost of returning a process's results.
    pub result_overhead: Ms,
    /// Extra time the entry wrap spends invoking each other wrap of a stage.
    pub remote_invoke: Ms,
    /// The smallest wrap count the published search tries after one wrap.
    pub first_wrap_count: usize,
    /// The main thread's budget on its very first turn.
    pub first_spawn_budget: Ms,
}

impl ModelParams {
    /// The published MPK-L values.
    pub const MPK_L: ModelParams = ModelParams {
        thread_spawn: Ms(7.0),
        thread_init: Ms(13.0),
        slice: Ms(5.0),
        switch_cost: Ms(0.005),
        rpc_overhead: Ms(20.0),
        result_overhead: Ms(2.0),
        remote_invoke: Ms(4.0),
        first_wrap_count: 6,
        first_spawn_budget: Ms(9999.0),
    };

    /// Checks the validity rules: every time finite and non-negative,
    /// `slice > 0`, `thread_spawn > 0`, `first_spawn_budget >= thread_spawn`.
    ///
    /// # Errors
    /// [`ProfileError::InvalidParameter`] naming the first field that fails.
    pub fn validate(&self) -> Result<(), ProfileError> {
        let fields = [
            ("thread_spawn", self.thread_spawn),
            ("thread_init", self.thread_init),
            ("slice", self.slice),
            ("switch_cost", self.switch_cost),
            ("rpc_overhead", self.rpc_overhead),
            ("result_overhead", self.result_overhead),
            ("remote_invoke", self.remote_invoke),
            ("first_spawn_budget", self.first_spawn_budget),
        ];
        let bad = |field: &'static str, reason: &'static str, value: Ms| {
            Err(ProfileError::InvalidParameter {
                field,
                reason,
                value: value.get(),
            })
        };
        for (field, value) in fields {
            if !value.is_valid_duration() {
                return bad(field, "must be finite and non-negative", value);
            }
        }
        if self.slice.get() <= 0.0 {
            return bad("slice", "must be positive", self.slice);
        }
        if self.thread_spawn.get() <= 0.0 {
            return bad("thread_spawn", "must be positive", self.thread_spawn);
        }
        if self.first_spawn_budget < self.thread_spawn {
            return bad(
                "first_spawn_budget",
                "must be at least thread_spawn",
                self.first_spawn_budget,
            );
        }
        Ok(())
    }
}

/// The profiles of one execution mode together with that mode's model
/// parameters. Always valid: every way to build or change one validates.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileSet {
    mode: String,
    params: ModelParams,
    profiles: BTreeMap<String, Profile>,
}

impl ProfileSet {
    /// A validated profile set.
    ///
    /// # Errors
    /// The first invalid parameter, function type name or profile.
    pub fn new(
        mode: impl Into<String>,
        params: ModelParams,
        profiles: BTreeMap<String, Profile>,
    ) -> Result<Self, ProfileError> {
        params.validate()?;
        for (name, p) in &profiles {
            validate_type_name(name)?;
            p.validate(name)?;
        }
        Ok(ProfileSet {
            mode: mode.into(),
            params,
            profiles,
        })
    }

    /// The execution mode, e.g. `"mpk-l"`.
    #[must_use]
    pub fn mode(&self) -> &str {
        &self.mode
    }

    /// The model parameters.
    #[must_use]
    pub fn params(&self) -> &ModelParams {
        &self.params
    }

    /// The profile of function type `function`, if known.
    #[must_use]
    pub fn get(&self, function: &str) -> Option<&Profile> {
        self.profiles.get(function)
    }

    /// All profiles, by function type.
    #[must_use]
    pub fn profiles(&self) -> &BTreeMap<String, Profile> {
        &self.profiles
    }

    /// Adds or replaces the profile of `function`, returning the old one.
    ///
    /// # Errors
    /// An invalid type name or profile; the set is then unchanged.
    pub fn insert(
        &mut self,
        function: impl Into<String>,
        profile: Profile,
    ) -> Result<Option<Profile>, ProfileError> {
        let function = function.into();
        validate_type_name(&function)?;
        profile.validate(&function)?;
        Ok(self.profiles.insert(function, profile))
    }
}

/// Checks that a function type name is usable everywhere, including as a
/// file name in a profile directory: 1 to 128 characters of ASCII letters,
/// digits, `-`, `_` and `.`, not starting with `.`.
///
/// # Errors
/// [`ProfileError::InvalidTypeName`].
pub fn validate_type_name(name: &str) -> Result<(), ProfileError> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(ProfileError::InvalidTypeName {
            name: name.to_owned(),
        })
    }
}

/// What is wrong with a profile or a parameter set.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ProfileError {
    /// A time that is negative, NaN or infinite.
    #[error("function '{function}': field '{field}' must be a finite, non-negative number of milliseconds, got {value}")]
    InvalidTime {
        /// The function type.
        function: String,
        /// The field, e.g. `blocks[3].duration_ms`.
        field: String,
        /// The offending value.
        value: f64,
    },
    /// A period that starts before the previous one.
    #[error("function '{function}': blocks[{index}] starts before blocks[{prev}]; periods must be in time order", prev = index - 1)]
    OutOfOrder {
        /// The function type.
        function: String,
        /// Index of the period that is out of order.
        index: usize,
    },
    /// A period that starts before the previous one ends.
    #[error("function '{function}': blocks[{index}] starts before blocks[{prev}] ends; periods must not overlap", prev = index - 1)]
    Overlap {
        /// The function type.
        function: String,
        /// Index of the later of the two overlapping periods.
        index: usize,
    },
    /// A model parameter outside its valid range.
    #[error("model parameter '{field}' {reason}, got {value}")]
    InvalidParameter {
        /// The parameter's field name.
        field: &'static str,
        /// The rule it breaks.
        reason: &'static str,
        /// The offending value.
        value: f64,
    },
    /// A function type name that is empty, too long or has odd characters.
    #[error("function type name '{name}' is invalid: use 1 to 128 ASCII letters, digits, '-', '_' or '.', not starting with '.'")]
    InvalidTypeName {
        /// The rejected name.
        name: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(s: f64, d: f64) -> Block {
        Block {
            start_ms: Ms(s),
            duration_ms: Ms(d),
            syscall: "read".into(),
        }
    }

    #[test]
    fn mpk_l_params_are_valid() {
        ModelParams::MPK_L.validate().unwrap();
    }

    #[test]
    fn params_rules_name_the_field() {
        let mut p = ModelParams::MPK_L;
        p.slice = Ms(0.0);
        assert!(matches!(
            p.validate(),
            Err(ProfileError::InvalidParameter { field: "slice", .. })
        ));
        let mut p = ModelParams::MPK_L;
        p.switch_cost = Ms(f64::NAN);
        assert!(matches!(
            p.validate(),
            Err(ProfileError::InvalidParameter {
                field: "switch_cost",
                ..
            })
        ));
        let mut p = ModelParams::MPK_L;
        p.first_spawn_budget = Ms(1.0);
        assert!(matches!(
            p.validate(),
            Err(ProfileError::InvalidParameter {
                field: "first_spawn_budget",
                ..
            })
        ));
        let mut p = ModelParams::MPK_L;
        p.thread_spawn = Ms(0.0);
        assert!(matches!(
            p.validate(),
            Err(ProfileError::InvalidParameter {
                field: "thread_spawn",
                ..
            })
        ));
    }

    #[test]
    fn profile_validation_names_function_and_field() {
        let ok = Profile::new(Ms(10.0), Ms(9.0), vec![block(1.0, 2.0), block(3.0, 1.0)]);
        ok.validate("f").unwrap();
        let err = Profile::new(Ms(-1.0), Ms(9.0), vec![])
            .validate("f")
            .unwrap_err();
        assert_eq!(
            err,
            ProfileError::InvalidTime {
                function: "f".into(),
                field: "exec_ms".into(),
                value: -1.0
            }
        );
        assert!(err.to_string().contains("'f'") && err.to_string().contains("exec_ms"));
        let err = Profile::new(Ms(1.0), Ms(f64::INFINITY), vec![])
            .validate("g")
            .unwrap_err();
        assert!(
            matches!(err, ProfileError::InvalidTime { ref field, .. } if field == "trace_latency_ms")
        );
        let err = Profile::new(Ms(1.0), Ms(1.0), vec![block(1.0, f64::NAN)])
            .validate("g")
            .unwrap_err();
        assert!(
            matches!(err, ProfileError::InvalidTime { ref field, .. } if field == "blocks[0].duration_ms")
        );
        let err = Profile::new(Ms(1.0), Ms(1.0), vec![block(2.0, 0.5), block(1.0, 0.1)])
            .validate("g")
            .unwrap_err();
        assert_eq!(
            err,
            ProfileError::OutOfOrder {
                function: "g".into(),
                index: 1
            }
        );
        let err = Profile::new(Ms(1.0), Ms(1.0), vec![block(1.0, 0.5), block(1.2, 0.1)])
            .validate("g")
            .unwrap_err();
        assert_eq!(
            err,
            ProfileError::Overlap {
                function: "g".into(),
                index: 1
            }
        );
    }

    #[test]
    fn profile_json_shape() {
        let p = Profile::new(Ms(92.0), Ms(92.0), vec![block(1.25, 0.31)]);
        let s = serde_json::to_string(&p).unwrap();
        assert_eq!(
            s,
            r#"{"exec_ms":92.0,"trace_latency_ms":92.0,"blocks":[{"start_ms":1.25,"duration_ms":0.31,"syscall":"read"}]}"#
        );
        let back: Profile = serde_json::from_str(&s).unwrap();
        assert_eq!(back, p);
    }

    #[test]
    fn type_names() {
        for good in ["marketdata", "upload-user-id", "a.b_c"] {
            validate_type_name(good).unwrap();
        }
        for bad in ["", ".hidden", "a/b", "a b", "ä"] {
            assert!(validate_type_name(bad).is_err(), "{bad:?} accepted");
        }
        let mut set = ProfileSet::new("mpk-l", ModelParams::MPK_L, BTreeMap::new()).unwrap();
        assert!(set.insert("../x", Profile::compute_only(Ms(1.0))).is_err());
        assert!(set.insert("x", Profile::compute_only(Ms(-1.0))).is_err());
        assert!(set.get("x").is_none());
        set.insert("x", Profile::compute_only(Ms(1.0))).unwrap();
        assert_eq!(set.get("x").unwrap().exec_ms, Ms(1.0));
    }
}
