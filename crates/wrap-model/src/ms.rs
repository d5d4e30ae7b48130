//! Typed milliseconds.

use std::fmt;
use std::ops::{Add, AddAssign, Mul, Sub};

use serde::{Deserialize, Serialize};

/// A duration or instant in milliseconds, as the model computes it (`f64`).
///
/// Serialises as a bare JSON number, so `{"exec_ms": 92.0}` reads straight
/// into a field of this type.
#[derive(Debug, Clone, Copy, Default, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Ms(pub f64);

impl Ms {
    /// Zero milliseconds.
    pub const ZERO: Ms = Ms(0.0);

    /// The number of milliseconds.
    #[must_use]
    pub const fn get(self) -> f64 {
        self.0
    }

    /// Whether the value is finite and not negative: the rule every time
    /// read from a profile or a parameter set must pass.
    #[must_use]
    pub fn is_valid_duration(self) -> bool {
        self.0.is_finite() && self.0 >= 0.0
    }
}

impl fmt::Display for Ms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ms", self.0)
    }
}

impl Add for Ms {
    type Output = Ms;
    fn add(self, rhs: Ms) -> Ms {
        Ms(self.0 + rhs.0)
    }
}

impl AddAssign for Ms {
    fn add_assign(&mut self, rhs: Ms) {
        self.0 += rhs.0;
    }
}

impl Sub for Ms {
    type Output = Ms;
    fn sub(self, rhs: Ms) -> Ms {
        Ms(self.0 - rhs.0)
    }
}

impl Mul<f64> for Ms {
    type Output = Ms;
    fn mul(self, rhs: f64) -> Ms {
        Ms(self.0 * rhs)
    }
}

/// A latency objective: a plan must be predicted strictly below it.
///
/// Valid SLOs are finite with `0 < SLO <= 3_600_000` ms (one hour).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize)]
#[serde(transparent)]
pub struct Slo(Ms);

/// Why a number is not a valid [`Slo`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("SLO must be a finite number of milliseconds with 0 < SLO <= {max}, got {value}", max = Slo::MAX_MS)]
pub struct InvalidSlo {
    /// The rejected value.
    pub value: f64,
}

impl Slo {
    /// The largest SLO accepted: one hour.
    pub const MAX_MS: f64 = 3_600_000.0;

    /// An SLO of `ms` milliseconds, if it is in range.
    ///
    /// # Errors
    /// [`InvalidSlo`] when `ms` is not finite, not positive or over an hour.
    pub fn new(ms: f64) -> Result<Self, InvalidSlo> {
        if ms.is_finite() && ms > 0.0 && ms <= Self::MAX_MS {
            Ok(Slo(Ms(ms)))
        } else {
            Err(InvalidSlo { value: ms })
        }
    }

    /// The SLO in milliseconds.
    #[must_use]
    pub const fn ms(self) -> Ms {
        self.0
    }

    /// Whether `latency` meets the SLO (strictly below it).
    #[must_use]
    pub fn is_met_by(self, latency: Ms) -> bool {
        latency.0 < self.0 .0
    }
}

impl<'de> Deserialize<'de> for Slo {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = f64::deserialize(d)?;
        Slo::new(v).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slo_range() {
        assert!(Slo::new(348.0).is_ok());
        assert!(Slo::new(Slo::MAX_MS).is_ok());
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY, Slo::MAX_MS + 1.0] {
            assert!(Slo::new(bad).is_err(), "{bad} accepted");
        }
        let slo = Slo::new(10.0).unwrap();
        assert!(slo.is_met_by(Ms(9.999)));
        assert!(!slo.is_met_by(Ms(10.0)));
    }
}
