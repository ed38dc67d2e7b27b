//! A session's recording as the analysis needs it, kept between passes so
//! that each pass reads only the records that arrived since the last one.
//!
//! The state keeps, per page load and event number, which chunks arrived and
//! the few fields of the event that signal detection reads, never the event
//! texts. Records may be added in any order and any number of times. A record
//! seen both in a full read of the store and in the ingest feed counts once.
//! The analysis equals that of all records added at once, which is what
//! `queries::analyse` does. The gaps and their order are those of
//! [`crate::reassemble`], which walks the events the same way.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use exos_store::{ReplayAnalysis, SignalRecord};

use crate::chunks::{walk, Arrival, ChunkRecord, MAX_CHUNKS};
use crate::signals::{activity, detect, DataHead, EventHead, SignalSettings};

/// The fields of one event that the detectors read, in 24 bytes: whether it
/// is incremental (type 3), its source, and the position of a click.
#[derive(Debug, Clone, PartialEq)]
struct Head {
    timestamp: i64,
    /// False when the event has no timestamp.
    has_time: bool,
    incremental: bool,
    /// The incremental source; [`NO_SOURCE`] when absent or over 254.
    source: u8,
    /// Position and node of a click (mouse interaction of type 2).
    click: Option<Box<ClickAt>>,
}

/// The fields of a click the signals report.
#[derive(Debug, Clone, PartialEq)]
struct ClickAt {
    action: Option<u64>,
    x: Option<f64>,
    y: Option<f64>,
    node: Option<i64>,
}

/// Source code kept for events without a (small) source.
const NO_SOURCE: u8 = u8::MAX;
/// rrweb's incremental event type and its mouse-interaction source.
const INCREMENTAL: u64 = 3;
const MOUSE_INTERACTION: u64 = 2;

impl Head {
    fn new(head: &EventHead) -> Self {
        let incremental = head.kind == Some(INCREMENTAL);
        let source = head
            .data
            .source
            .and_then(|source| u8::try_from(source).ok())
            .filter(|&source| source != NO_SOURCE)
            .unwrap_or(NO_SOURCE);
        let click = (incremental && head.data.source == Some(MOUSE_INTERACTION)).then(|| {
            Box::new(ClickAt {
                action: head.data.kind,
                x: head.data.x,
                y: head.data.y,
                node: head.data.id,
            })
        });
        Self {
            timestamp: head.timestamp.unwrap_or_default(),
            has_time: head.timestamp.is_some(),
            incremental,
            source,
            click,
        }
    }

    /// Rebuilds an event head that the detectors read as they read the original.
    fn event_head(&self) -> EventHead {
        let click = self.click.as_deref();
        EventHead {
            timestamp: self.has_time.then_some(self.timestamp),
            kind: self.incremental.then_some(INCREMENTAL),
            data: DataHead {
                source: (self.source != NO_SOURCE).then_some(u64::from(self.source)),
                kind: click.and_then(|c| c.action),
                x: click.and_then(|c| c.x),
                y: click.and_then(|c| c.y),
                id: click.and_then(|c| c.node),
            },
        }
    }
}

/// The contribution of one event to the analysis.
#[derive(Debug, Clone, PartialEq)]
enum Content {
    /// A DOM snapshot (sent in chunks, or of rrweb type 2): counted, never parsed.
    Snapshot,
    Event(Head),
    /// Not an rrweb event object: left out, as a fresh analysis leaves it out.
    Unreadable,
}

/// The records of one event number.
#[derive(Debug, Clone)]
struct EventState {
    time_ns: i64,
    total: u32,
    /// Chunk numbers received, for events declared in more than one chunk.
    /// Boxed so that the many one-chunk events pay 8 bytes for it, not 24.
    #[allow(clippy::box_collection)]
    chunks: Option<Box<BTreeSet<u32>>>,
    /// Whether chunk 1 of a one-chunk event arrived.
    whole: bool,
    content: Content,
}

impl Arrival for EventState {
    fn time_ns(&self) -> i64 {
        self.time_ns
    }

    fn missing(&self) -> Vec<u32> {
        match &self.chunks {
            Some(chunks) => (1..=self.total).filter(|n| !chunks.contains(n)).collect(),
            None if self.whole => Vec::new(),
            None => vec![1],
        }
    }
}

/// One session's recording, reduced to what its analysis reads.
#[derive(Debug, Clone, Default)]
pub struct SessionState {
    /// Page load -> event number -> its records.
    loads: HashMap<String, BTreeMap<u64, EventState>>,
    /// Times (ms) of the session's JavaScript errors, sorted, each once.
    errors_ms: Vec<i64>,
    events: usize,
    /// Events holding a click's position (an upper bound: replaced ones stay counted).
    clicks: usize,
}

impl SessionState {
    /// Adds stored records. Bodies of chunked events are not read, so callers
    /// may leave them empty.
    pub fn add_records(&mut self, records: impl IntoIterator<Item = ChunkRecord>) {
        for record in records {
            self.add(record);
        }
    }

    fn add(&mut self, record: ChunkRecord) {
        let total = record.total.clamp(1, MAX_CHUNKS);
        let chunk = record.chunk.max(1);
        if chunk > total {
            return; // As reassembly: a chunk beyond its own total cannot be placed.
        }
        let events = self.loads.entry(record.script_instance).or_default();
        let state = events.entry(record.event).or_insert_with(|| {
            self.events += 1;
            EventState {
                time_ns: record.time_ns,
                total,
                chunks: None,
                whole: false,
                content: Content::Snapshot,
            }
        });
        state.time_ns = state.time_ns.min(record.time_ns);
        state.total = state.total.max(total);
        if state.total > 1 {
            let chunks = state.chunks.get_or_insert_with(Box::default);
            if state.whole {
                chunks.insert(1);
            }
            chunks.insert(chunk);
            // Chunked events are snapshots; their texts are never read.
            state.content = Content::Snapshot;
        } else {
            state.whole = true;
            state.content = content_of(&record.body);
            if matches!(&state.content, Content::Event(head) if head.click.is_some()) {
                self.clicks += 1;
            }
        }
    }

    /// Adds the times (ms) of JavaScript errors of the session.
    pub fn add_errors(&mut self, times_ms: impl IntoIterator<Item = i64>) {
        self.errors_ms.extend(times_ms);
        self.errors_ms.sort_unstable();
        self.errors_ms.dedup();
    }

    /// Approximate heap bytes held, for a cache's budget: the B-tree entries
    /// with a third for the tree's spare room, and the clicks' boxes.
    pub fn bytes(&self) -> usize {
        const PER_EVENT: usize = std::mem::size_of::<(u64, EventState)>() * 4 / 3;
        self.events * PER_EVENT
            + self.clicks * std::mem::size_of::<ClickAt>()
            + self.errors_ms.len() * 8
            + self.loads.len() * 64
    }

    /// True when no record was added.
    pub fn is_empty(&self) -> bool {
        self.events == 0
    }

    /// Computes the session's analysis from everything added so far.
    pub fn analysis(&self, session: &str, settings: &SignalSettings) -> ReplayAnalysis {
        let mut gaps = Vec::new();
        let mut heads = Vec::with_capacity(self.events);
        let mut snapshots = 0usize;
        walk(&self.loads, &mut gaps, |_, _, state| match &state.content {
            Content::Snapshot => snapshots += 1,
            Content::Event(head) => heads.push(head.event_head()),
            Content::Unreadable => {}
        });
        let signals = detect(&heads, &self.errors_ms, settings);
        let activity = activity(&heads, settings);
        ReplayAnalysis {
            session_id: session.to_string(),
            start_ms: activity.start_ms.unwrap_or_default(),
            end_ms: activity.end_ms.unwrap_or_default(),
            active_ms: activity.active_ms,
            clicks: activity.clicks as u64,
            events: (heads.len() + snapshots) as u64,
            gaps: gaps.len() as u64,
            signals: signals
                .iter()
                .map(|signal| SignalRecord {
                    kind: signal.kind.as_str().to_string(),
                    time_ms: signal.time_ms,
                    x: signal.x,
                    y: signal.y,
                    node: signal.node,
                    clicks: signal.clicks as u64,
                })
                .collect(),
            analysed_ms: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or_default(),
        }
    }
}

/// Reads an event sent whole. Full snapshots (type 2) carry no input, so they
/// are counted without parsing.
fn content_of(json: &str) -> Content {
    if json.is_empty() || json.starts_with("{\"type\":2,") {
        return Content::Snapshot;
    }
    EventHead::parse(json).map_or(Content::Unreadable, |head| Content::Event(Head::new(&head)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunks::tests::record;

    fn click(event: u64, t: i64) -> ChunkRecord {
        let body = format!(
            "{{\"type\":3,\"timestamp\":{t},\"data\":{{\"source\":2,\"type\":2,\"id\":7,\"x\":10.5,\"y\":20}}}}"
        );
        record("a", event, 1, 1, &body)
    }

    fn without_time(mut analysis: ReplayAnalysis) -> ReplayAnalysis {
        analysis.analysed_ms = 0;
        analysis
    }

    #[test]
    fn state_in_parts_equals_state_at_once() {
        let records = vec![
            record("a", 1, 1, 1, "{\"type\":4,\"timestamp\":1000,\"data\":{}}"),
            record("a", 2, 2, 2, "ignored"),
            click(3, 2_000),
            click(4, 2_200),
            click(5, 2_400),
            record("a", 2, 1, 2, ""),
            record("b", 1, 1, 1, "not json"),
            record(
                "b",
                3,
                1,
                1,
                "{\"type\":3,\"timestamp\":9000,\"data\":{\"source\":0}}",
            ),
        ];
        let settings = SignalSettings::default();
        let mut whole = SessionState::default();
        whole.add_records(records.clone());
        whole.add_errors([2_500]);
        let mut parts = SessionState::default();
        for (index, record) in records.into_iter().enumerate() {
            parts.add_records([record.clone()]);
            // Every record twice, as a full read and the ingest feed may both bring it.
            parts.add_records([record]);
            if index == 3 {
                parts.add_errors([2_500]);
            }
        }
        parts.add_errors([2_500]);
        let expected = without_time(whole.analysis("s", &settings));
        assert_eq!(without_time(parts.analysis("s", &settings)), expected);
        // Three clicks in a burst make one rage click. No mutation follows them
        // within 2.5 s, so each is also a dead click. The error comes 100 ms
        // after the last click.
        let kinds: Vec<&str> = expected.signals.iter().map(|s| s.kind.as_str()).collect();
        assert_eq!(
            kinds,
            vec![
                "dead_click",
                "rage_click",
                "dead_click",
                "dead_click",
                "error_click"
            ]
        );
        // Events: the meta event, the snapshot, three clicks and one mutation.
        assert_eq!(expected.events, 6);
        // Page load b skipped event 2.
        assert_eq!(expected.gaps, 1);
    }

    #[test]
    fn state_event_size_is_small() {
        assert!(std::mem::size_of::<Head>() <= 24);
        assert!(std::mem::size_of::<EventState>() <= 56);
    }

    #[test]
    fn state_missing_chunk_is_gap() {
        let settings = SignalSettings::default();
        let mut state = SessionState::default();
        state.add_records([record("a", 1, 1, 3, ""), record("a", 1, 3, 3, "")]);
        let before = state.analysis("s", &settings);
        assert_eq!((before.gaps, before.events), (1, 0));
        state.add_records([record("a", 1, 2, 3, "")]);
        let after = state.analysis("s", &settings);
        assert_eq!((after.gaps, after.events), (0, 1));
    }

    #[test]
    fn state_whole_then_chunked_needs_all() {
        let settings = SignalSettings::default();
        let mut state = SessionState::default();
        state.add_records([click(1, 1_000), record("a", 1, 2, 2, "")]);
        let analysis = state.analysis("s", &settings);
        // Chunk 1 came as the whole record, chunk 2 now: complete, and a snapshot.
        assert_eq!((analysis.gaps, analysis.events, analysis.clicks), (0, 1, 0));
        assert!(state.bytes() > 0);
    }
}
