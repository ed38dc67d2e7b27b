//! Session replay: turning the browser SDK's rrweb log records back into a
//! playable recording, and reading frustration signals from it.
//!
//! `chunks` reassembles events from chunks that arrive out of order, twice or
//! not at all, marking the gaps; `signals` finds rage, dead and error clicks
//! and measures active time. Neither touches a database or HTTP: the server
//! reads the stored records and hands them here.

pub mod chunks;
pub mod signals;

pub use chunks::{reassemble, ChunkRecord, Gap, Reassembled, ReplayEvent};
pub use signals::{activity, detect, Activity, Signal, SignalKind, SignalSettings};
