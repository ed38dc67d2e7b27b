//! Process discovery: the inductive miner, process trees and their Petri
//! nets.

pub mod imf;
pub mod petri;
pub mod tree;

pub use imf::{inductive_miner, ImfOptions};
pub use petri::{tree_to_petri_net, Marking, PetriNet, Transition};
pub use tree::{Operator, ProcessTree};
