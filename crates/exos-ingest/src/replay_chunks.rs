//! Chunked rrweb events joined back into whole events, so the secret-input
//! masker of [`crate::replay_mask`] can read them.
//!
//! The HyperDX browser SDK cuts an event larger than about a megabyte into
//! chunks by byte count (`rr-web.chunk` of `rr-web.total-chunks`), and no chunk
//! is JSON on its own. Full DOM snapshots of large pages are such events, and
//! they are where the masker learns which node ids are secret inputs.
//!
//! Two cases:
//!
//! - All chunks of an event in one batch (the SDK sends an event's chunks
//!   together unless its export batch fills up): they are joined, masked as one
//!   event and cut again into as many chunks ([`split`]) before storing.
//! - Chunks spread over several batches: each is stored as it arrives, because
//!   an accepted request is a stored request. A copy waits in a
//!   [`ChunkBuffer`] until the last chunk arrives. Then the joined event is
//!   masked; when it held a secret, the last batch stores every chunk again,
//!   masked, and the earlier rows are deleted in the same write. When a copy
//!   is dropped, the stored chunks stay as they are, so nothing accepted is
//!   lost.
//!
//! The buffer is bounded in bytes and in events, and drops an event whose
//! chunks have waited longer than [`MAX_WAIT`].

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use exos_core::attributes::lookup;
use exos_core::LogRow;

/// Chunk text held at once over all sessions.
pub const MAX_BUFFERED_BYTES: usize = 64 * 1024 * 1024;
/// Incomplete events held at once over all sessions.
pub const MAX_PENDING_EVENTS: usize = 4_096;
/// How long the first chunk of an event waits for the others before the copy is dropped.
pub const MAX_WAIT: Duration = Duration::from_secs(600);
/// Most chunks one event may declare; more is treated as corrupt input and not buffered.
pub const MAX_CHUNKS: u32 = 10_000;
/// Completed events remembered, so a client's retry of one of their chunks is not held again.
const MAX_FINISHED: usize = 16_384;

/// Identifies one rrweb event: its session, page load and number within the page load.
pub use exos_core::ReplayEventKey as EventKey;

/// The position of one replay record in its event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkPlace {
    pub key: EventKey,
    /// 1-based chunk number.
    pub chunk: u32,
    /// Chunks of the event; at least 2.
    pub total: u32,
}

impl ChunkPlace {
    /// Reads the place of a replay record. `None` for an event sent whole, or
    /// for chunk numbers that cannot be placed (zero, beyond the total, or over
    /// [`MAX_CHUNKS`]).
    pub fn of(record: &LogRow) -> Option<Self> {
        let total = whole_number(lookup(&record.log_attributes, "rr-web.total-chunks")?)?;
        if total < 2 || total > u64::from(MAX_CHUNKS) {
            return None;
        }
        let chunk = whole_number(lookup(&record.log_attributes, "rr-web.chunk")?)?;
        if chunk == 0 || chunk > total {
            return None;
        }
        let key = EventKey {
            session: record.keys.rum_session_id.clone(),
            script_instance: lookup(&record.resource_attributes, "rum.scriptInstance")
                .unwrap_or_default()
                .to_string(),
            event: lookup(&record.log_attributes, exos_core::attributes::RRWEB_EVENT)
                .unwrap_or_default()
                .to_string(),
        };
        Some(Self {
            key,
            chunk: chunk as u32,
            total: total as u32,
        })
    }
}

/// Reads an attribute holding a whole number, as the SDK's doubles (`"2"`, `"2.0"`) are stored.
fn whole_number(text: &str) -> Option<u64> {
    let value: f64 = text.trim().parse().ok()?;
    (value.fract() == 0.0 && value >= 0.0 && value <= u64::MAX as f64).then_some(value as u64)
}

/// Cuts `text` into `count` pieces of nearly equal byte length, each ending on
/// a character boundary, whose concatenation is `text`.
pub fn split(text: &str, count: usize) -> Vec<String> {
    let count = count.max(1);
    let size = text.len().div_ceil(count);
    let mut pieces = Vec::with_capacity(count);
    let mut start = 0;
    for index in 0..count {
        let mut end = if index + 1 == count {
            text.len()
        } else {
            (start + size).min(text.len())
        };
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        pieces.push(text[start..end].to_string());
        start = end;
    }
    pieces
}

/// Copies of the chunks of events that arrived over several batches, held until whole.
#[derive(Debug, Default)]
pub struct ChunkBuffer {
    pending: HashMap<EventKey, Pending>,
    bytes: usize,
    /// Completed events and the tick they completed at.
    finished: HashMap<EventKey, u64>,
    /// Completed events whose stored chunks were rewritten, masked, and the tick.
    rewritten: HashMap<EventKey, u64>,
    clock: u64,
}

#[derive(Debug)]
struct Pending {
    total: u32,
    parts: BTreeMap<u32, String>,
    bytes: usize,
    first_seen: Instant,
    touched: u64,
}

impl ChunkBuffer {
    /// Adds a copy of one chunk. Returns the joined event when this chunk was its last missing one.
    ///
    /// A chunk seen before, or a chunk of an event already completed, is ignored.
    pub fn add(&mut self, place: &ChunkPlace, body: &str, now: Instant) -> Option<String> {
        self.drop_expired(now);
        if self.finished.contains_key(&place.key) || body.len() > MAX_BUFFERED_BYTES {
            return None;
        }
        let tick = self.tick();
        let pending = self
            .pending
            .entry(place.key.clone())
            .or_insert_with(|| Pending {
                total: place.total,
                parts: BTreeMap::new(),
                bytes: 0,
                first_seen: now,
                touched: tick,
            });
        pending.touched = tick;

        if place.total != pending.total || pending.parts.contains_key(&place.chunk) {
            return None;
        }
        pending.parts.insert(place.chunk, body.to_string());
        pending.bytes += body.len();
        self.bytes += body.len();

        if pending.parts.len() == pending.total as usize {
            let whole = self.pending.remove(&place.key)?;
            self.bytes -= whole.bytes;
            self.finish(place.key.clone());
            return Some(whole.parts.into_values().collect());
        }
        self.drop_least_recent(&place.key);
        None
    }

    /// Records that an event was completed elsewhere (all its chunks in one
    /// batch), dropping any copies held of it.
    pub fn finish(&mut self, key: EventKey) {
        if let Some(pending) = self.pending.remove(&key) {
            self.bytes -= pending.bytes;
        }
        let tick = self.tick();
        self.finished.insert(key, tick);
        if self.finished.len() > MAX_FINISHED {
            let cutoff = self.clock - (MAX_FINISHED / 2) as u64;
            self.finished.retain(|_, done_at| *done_at > cutoff);
        }
    }

    /// Records that an event's chunks were rewritten with secrets masked, so
    /// that later copies of its chunks (client retries) are not stored.
    pub fn rewrote(&mut self, key: EventKey) {
        let tick = self.tick();
        self.rewritten.insert(key, tick);
        if self.rewritten.len() > MAX_FINISHED {
            let cutoff = self.clock - (MAX_FINISHED / 2) as u64;
            self.rewritten.retain(|_, done_at| *done_at > cutoff);
        }
    }

    /// True when the event's chunks were rewritten (and still remembered).
    pub fn was_rewritten(&self, key: &EventKey) -> bool {
        self.rewritten.contains_key(key)
    }

    /// Bytes of chunk text held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Incomplete events held.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    fn tick(&mut self) -> u64 {
        self.clock += 1;
        self.clock
    }

    fn drop_expired(&mut self, now: Instant) {
        let before = self.pending.len();
        let mut freed = 0;
        self.pending.retain(|_, pending| {
            let keep = now.saturating_duration_since(pending.first_seen) <= MAX_WAIT;
            if !keep {
                freed += pending.bytes;
            }
            keep
        });
        if self.pending.len() != before {
            self.bytes -= freed;
        }
    }

    /// Drops the least recently touched events, other than `keep`, until within the bounds.
    fn drop_least_recent(&mut self, keep: &EventKey) {
        while self.bytes > MAX_BUFFERED_BYTES || self.pending.len() > MAX_PENDING_EVENTS {
            let oldest = self
                .pending
                .iter()
                .filter(|(key, _)| *key != keep)
                .min_by_key(|(_, pending)| pending.touched)
                .map(|(key, _)| key.clone());
            let Some(oldest) = oldest else {
                break;
            };
            if let Some(pending) = self.pending.remove(&oldest) {
                self.bytes -= pending.bytes;
            }
        }
        if self.bytes > MAX_BUFFERED_BYTES {
            // The kept event alone is over the bound: drop it too.
            if let Some(pending) = self.pending.remove(keep) {
                self.bytes -= pending.bytes;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place(event: &str, chunk: u32, total: u32) -> ChunkPlace {
        ChunkPlace {
            key: EventKey {
                session: "s1".into(),
                script_instance: "load-1".into(),
                event: event.into(),
            },
            chunk,
            total,
        }
    }

    #[test]
    fn split_keeps_text_and_character_boundaries() {
        let text = "ab✓cdé✓f".repeat(7);
        for count in 1..=9 {
            let pieces = split(&text, count);
            assert_eq!(pieces.len(), count);
            assert_eq!(pieces.concat(), text, "{count} pieces");
        }
        assert_eq!(split("", 3), vec!["", "", ""]);
    }

    #[test]
    fn buffer_joins_out_of_order_chunks_once() {
        let mut buffer = ChunkBuffer::default();
        let now = Instant::now();
        assert_eq!(buffer.add(&place("2", 3, 3), "c", now), None);
        assert_eq!(buffer.add(&place("2", 1, 3), "a", now), None);
        assert_eq!(
            buffer.add(&place("2", 1, 3), "a", now),
            None,
            "a retry is held once"
        );
        assert_eq!(buffer.bytes(), 2);
        assert_eq!(buffer.add(&place("2", 2, 3), "b", now), Some("abc".into()));
        assert_eq!(buffer.pending(), 0);
        assert_eq!(buffer.bytes(), 0);
        assert_eq!(
            buffer.add(&place("2", 2, 3), "b", now),
            None,
            "a retry after completion is not held"
        );
        assert_eq!(buffer.pending(), 0);
    }

    #[test]
    fn buffer_drops_events_waiting_too_long() {
        let mut buffer = ChunkBuffer::default();
        let start = Instant::now();
        buffer.add(&place("2", 1, 2), "a", start);
        let later = start + MAX_WAIT + Duration::from_secs(1);
        assert_eq!(buffer.add(&place("3", 1, 2), "x", later), None);
        assert_eq!(buffer.pending(), 1, "the stale event is dropped");
        assert_eq!(buffer.bytes(), 1);
        assert_eq!(
            buffer.add(&place("2", 2, 2), "b", later),
            None,
            "its late chunk starts a new wait"
        );
    }

    #[test]
    fn buffer_stays_within_event_bound() {
        let mut buffer = ChunkBuffer::default();
        let now = Instant::now();
        for n in 0..(MAX_PENDING_EVENTS + 50) {
            buffer.add(&place(&n.to_string(), 1, 2), "part", now);
        }
        assert_eq!(buffer.pending(), MAX_PENDING_EVENTS);
        assert_eq!(buffer.bytes(), MAX_PENDING_EVENTS * 4);
        let newest = (MAX_PENDING_EVENTS + 49).to_string();
        assert_eq!(
            buffer.add(&place(&newest, 2, 2), "tail", now),
            Some("parttail".into()),
            "the newest event is kept"
        );
    }

    #[test]
    fn buffer_stays_within_byte_bound() {
        let mut buffer = ChunkBuffer::default();
        let now = Instant::now();
        let megabyte = "x".repeat(1024 * 1024);
        for n in 0..80 {
            buffer.add(&place(&n.to_string(), 1, 2), &megabyte, now);
        }
        assert!(buffer.bytes() <= MAX_BUFFERED_BYTES, "{}", buffer.bytes());
        assert_eq!(buffer.bytes(), buffer.pending() * megabyte.len());
    }
}
