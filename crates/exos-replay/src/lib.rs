//! Session replay: turning the browser SDK's rrweb log records back into a
//! playable recording, and reading frustration signals from it.
//!
//! `chunks` reassembles events from chunks that arrive out of order, twice or
//! not at all, marking the gaps. `signals` finds rage, dead and error clicks
//! and measures active time. `queries` reads recordings and writes analyses
//! through the store, for both SQL dialects. Nothing here speaks HTTP.

pub mod chunks;
pub mod queries;
pub mod signals;

pub use chunks::{reassemble, ChunkRecord, Gap, Reassembled, ReplayEvent};
pub use signals::{activity, detect, Activity, EventHead, Signal, SignalKind, SignalSettings};
