//! Process discovery: the inductive miner, process trees and their Petri
//! nets.

pub mod imf;
pub mod petri;
pub mod tree;

pub use imf::{inductive_miner, ImfOptions};

pub use tree::{Operator, ProcessTree};
