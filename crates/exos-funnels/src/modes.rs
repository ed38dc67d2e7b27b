//! The modes of ClickHouse's `windowFunnel(window, mode, …)` and which
//! combinations are valid.
//!
//! Mode names are ClickHouse's own, so a definition stored by EXOS renders
//! unchanged into a native `windowFunnel` call. ClickHouse 26.9 rejects
//! `allow_reentry` without `strict_order`, and so does [`FunnelModes::validate`].

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// One `windowFunnel` mode, spelled as ClickHouse spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FunnelMode {
    /// A second event of a step already reached stops the search.
    StrictDeduplication,
    /// An event of another step, or an event matching no step, between two
    /// steps stops the search.
    StrictOrder,
    /// Consecutive steps need strictly increasing timestamps.
    StrictIncrease,
    /// One event (row) counts for at most one step of a chain.
    StrictOnce,
    /// With `strict_order`, an out-of-order step event is skipped instead of
    /// stopping the search (events matching no step still stop it).
    AllowReentry,
}

impl FunnelMode {
    /// All modes, in the order their bits take in [`FunnelModes`].
    pub const ALL: [FunnelMode; 5] = [
        FunnelMode::StrictDeduplication,
        FunnelMode::StrictOrder,
        FunnelMode::StrictIncrease,
        FunnelMode::StrictOnce,
        FunnelMode::AllowReentry,
    ];

    /// Returns ClickHouse's name of the mode, as written in `windowFunnel`'s parameters.
    pub fn clickhouse_name(self) -> &'static str {
        match self {
            FunnelMode::StrictDeduplication => "strict_deduplication",
            FunnelMode::StrictOrder => "strict_order",
            FunnelMode::StrictIncrease => "strict_increase",
            FunnelMode::StrictOnce => "strict_once",
            FunnelMode::AllowReentry => "allow_reentry",
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// Invalid or unsupported mode combination.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ModeError {
    #[error(
        "funnel mode allow_reentry requires strict_order: add strict_order or drop allow_reentry"
    )]
    ReentryWithoutStrictOrder,
    #[error("unknown funnel mode {0:?}: expected one of strict_deduplication, strict_order, strict_increase, strict_once, allow_reentry")]
    Unknown(String),
}

/// A set of [`FunnelMode`]s; the empty set is `windowFunnel`'s default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct FunnelModes(u8);

impl FunnelModes {
    /// Returns whether `mode` is in the set.
    pub fn contains(self, mode: FunnelMode) -> bool {
        self.0 & mode.bit() != 0
    }

    /// Returns the set with `mode` added.
    pub fn with(self, mode: FunnelMode) -> Self {
        FunnelModes(self.0 | mode.bit())
    }

    /// Returns the modes in the set, in [`FunnelMode::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = FunnelMode> {
        FunnelMode::ALL
            .into_iter()
            .filter(move |mode| self.contains(*mode))
    }

    /// Parses ClickHouse mode names, as in `windowFunnel(3600, 'strict_order')`.
    pub fn parse<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Self, ModeError> {
        let mut modes = FunnelModes::default();
        for name in names {
            let mode = FunnelMode::ALL
                .into_iter()
                .find(|mode| mode.clickhouse_name() == name)
                .ok_or_else(|| ModeError::Unknown(name.to_string()))?;
            modes = modes.with(mode);
        }
        Ok(modes)
    }

    /// Checks that ClickHouse accepts the combination: it rejects
    /// `allow_reentry` without `strict_order`.
    pub fn validate(self) -> Result<(), ModeError> {
        if self.contains(FunnelMode::AllowReentry) && !self.contains(FunnelMode::StrictOrder) {
            return Err(ModeError::ReentryWithoutStrictOrder);
        }
        Ok(())
    }
}

impl FromIterator<FunnelMode> for FunnelModes {
    fn from_iter<I: IntoIterator<Item = FunnelMode>>(modes: I) -> Self {
        modes
            .into_iter()
            .fold(FunnelModes::default(), FunnelModes::with)
    }
}

impl Serialize for FunnelModes {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for FunnelModes {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let modes = Vec::<FunnelMode>::deserialize(deserializer)?;
        Ok(modes.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_round_trips_clickhouse_names() {
        let modes = FunnelModes::parse(["strict_order", "allow_reentry"]).unwrap();
        let names: Vec<_> = modes.iter().map(FunnelMode::clickhouse_name).collect();
        assert_eq!(names, ["strict_order", "allow_reentry"]);
    }

    #[test]
    fn parse_rejects_unknown_name() {
        let error = FunnelModes::parse(["bogus"]).unwrap_err();
        assert_eq!(error, ModeError::Unknown("bogus".into()));
    }

    #[test]
    fn reentry_needs_strict_order() {
        let modes = FunnelModes::parse(["allow_reentry"]).unwrap();
        assert_eq!(modes.validate(), Err(ModeError::ReentryWithoutStrictOrder));
    }

    #[test]
    fn every_other_combination_is_valid() {
        let all: FunnelModes = FunnelMode::ALL.into_iter().collect();
        assert_eq!(all.validate(), Ok(()));
    }

    #[test]
    fn serde_uses_clickhouse_names() {
        let modes: FunnelModes =
            serde_json::from_str(r#"["strict_increase","strict_deduplication"]"#).unwrap();
        assert_eq!(
            serde_json::to_string(&modes).unwrap(),
            r#"["strict_deduplication","strict_increase"]"#
        );
    }
}
