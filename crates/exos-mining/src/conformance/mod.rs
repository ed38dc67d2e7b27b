//! Conformance checking: how well a log fits a Petri net.

pub mod alignments;
pub mod token_replay;

pub use alignments::{align_variants, AlignmentOptions, AlignmentReport, VariantAlignment};
pub use token_replay::{token_replay, ReplayFitness, Replayer, TraceReplay};
