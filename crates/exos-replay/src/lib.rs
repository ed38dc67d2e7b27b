//! Session replay: turning the browser SDK's rrweb log records back into a
//! playable recording, and reading frustration signals from it.
//!
//! `chunks` reassembles events from chunks that arrive out of order, twice or
//! not at all, marking the gaps. `signals` finds rage, dead and error clicks
//! and measures active time. `incremental` keeps what a session's analysis
//! reads between passes, so a pass reads only the records that arrived since. `queries` reads recordings and writes analyses
//! through the store, for both SQL dialects. Nothing here speaks HTTP.

pub mod chunks;
pub mod incremental;
pub mod queries;
pub mod signals;

pub use chunks::{reassemble, ChunkRecord, Gap, Reassembled, ReplayEvent};
pub use incremental::SessionState;
pub use signals::{activity, detect, Activity, EventHead, Signal, SignalKind, SignalSettings};
