//! Reassembly of rrweb events from the chunks the browser SDK sends.
//!
//! The SDK numbers recorded events per page load (`rr-web.event` restarts at
//! 1 when the page reloads, and `rum.scriptInstance` tells the loads apart) and
//! cuts an event larger than about 950 KB into chunks (`rr-web.chunk` of
//! `rr-web.total-chunks`). Chunks may arrive in any order, twice, or never.
//! Reassembly concatenates the chunk texts of each event in order. An event
//! with a missing chunk, or a number skipped in a page load, becomes a gap
//! that the player marks, and playback goes on after it.
//!
//! Slices were cut by byte count and decoded leniently by the SDK, so a
//! multi-byte character on a boundary arrives as replacement characters
//! (U+FFFD) at the ends of two chunks. That is kept as is: the text stays
//! valid, and only that one character is lost.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

/// One stored replay log record: a whole rrweb event or one chunk of it.
#[derive(Debug, Clone, PartialEq)]
pub struct ChunkRecord {
    /// `rum.scriptInstance`: one page load.
    pub script_instance: String,
    /// `rr-web.event`: the event's number within its page load, from 1.
    pub event: u64,
    /// `rr-web.chunk`: 1-based chunk number.
    pub chunk: u32,
    /// `rr-web.total-chunks`: 1 for an event sent whole.
    pub total: u32,
    /// The log record's time, nanoseconds since the Unix epoch.
    pub time_ns: i64,
    /// The chunk's text.
    pub body: String,
}

/// One reassembled rrweb event: its JSON text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReplayEvent {
    pub script_instance: String,
    pub event: u64,
    pub time_ns: i64,
    pub json: String,
}

/// A hole in a recording.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Gap {
    /// An event some of whose chunks never arrived. It is left out.
    MissingChunks {
        script_instance: String,
        event: u64,
        /// 1-based numbers of the chunks that are missing.
        missing: Vec<u32>,
        time_ns: i64,
    },
    /// Event numbers skipped within one page load (`first..=last` never arrived).
    MissingEvents {
        script_instance: String,
        first: u64,
        last: u64,
        /// Time of the last event before the hole.
        time_ns: i64,
    },
}

/// The outcome of reassembly: events in playing order, the gaps, and duplicates dropped.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Reassembled {
    pub events: Vec<ReplayEvent>,
    pub gaps: Vec<Gap>,
    /// Chunks that arrived more than once (client retries). Each is used once.
    pub duplicates: usize,
}

/// Most chunks one event may declare. More is treated as corrupt input.
pub const MAX_CHUNKS: u32 = 10_000;

#[derive(Default)]
struct Pending {
    total: u32,
    time_ns: i64,
    parts: BTreeMap<u32, String>,
}

/// Reassembles every event of a session from its records, in any order.
pub fn reassemble(records: impl IntoIterator<Item = ChunkRecord>) -> Reassembled {
    let mut out = Reassembled::default();
    // Page load -> event number -> its chunks.
    let mut loads: HashMap<String, BTreeMap<u64, Pending>> = HashMap::new();
    for record in records {
        let total = record.total.clamp(1, MAX_CHUNKS);
        let chunk = record.chunk.max(1);
        if chunk > total {
            continue; // A chunk number beyond its own total cannot be placed.
        }
        let pending = loads
            .entry(record.script_instance)
            .or_default()
            .entry(record.event)
            .or_default();
        if pending.parts.is_empty() || record.time_ns < pending.time_ns {
            pending.time_ns = record.time_ns;
        }
        pending.total = pending.total.max(total);
        if pending.parts.insert(chunk, record.body).is_some() {
            out.duplicates += 1;
        }
    }
    walk(&loads, &mut out.gaps, |instance, number, pending| {
        out.events.push(ReplayEvent {
            script_instance: instance.to_string(),
            event: number,
            time_ns: pending.time_ns,
            json: pending.parts.values().map(String::as_str).collect(),
        });
    });
    out
}

/// The facts the gap walk needs about the records of one event number.
pub(crate) trait Arrival {
    /// Time of its earliest record.
    fn time_ns(&self) -> i64;
    /// 1-based numbers of the chunks that have not arrived; empty when complete.
    fn missing(&self) -> Vec<u32>;
}

impl Arrival for Pending {
    fn time_ns(&self) -> i64 {
        self.time_ns
    }

    fn missing(&self) -> Vec<u32> {
        (1..=self.total)
            .filter(|n| !self.parts.contains_key(n))
            .collect()
    }
}

/// Walks the page loads in the order they started and each load's events in
/// number order: pushes a gap for every skipped number and every incomplete
/// event, and hands each complete event to `complete`.
pub(crate) fn walk<'a, A: Arrival>(
    loads: &'a HashMap<String, BTreeMap<u64, A>>,
    gaps: &mut Vec<Gap>,
    mut complete: impl FnMut(&'a str, u64, &'a A),
) {
    let mut ordered: Vec<(&'a String, &'a BTreeMap<u64, A>)> = loads.iter().collect();
    ordered.sort_by_key(|(instance, events)| {
        let start = events.values().map(A::time_ns).min().unwrap_or(i64::MAX);
        (start, instance.as_str())
    });
    for (instance, events) in ordered {
        let mut expected = 1u64;
        let mut last_time = events.values().next().map_or(0, A::time_ns);
        for (&number, arrival) in events {
            if number > expected {
                gaps.push(Gap::MissingEvents {
                    script_instance: instance.clone(),
                    first: expected,
                    last: number - 1,
                    time_ns: last_time,
                });
            }
            expected = number + 1;
            last_time = arrival.time_ns();
            let missing = arrival.missing();
            if missing.is_empty() {
                complete(instance, number, arrival);
            } else {
                gaps.push(Gap::MissingChunks {
                    script_instance: instance.clone(),
                    event: number,
                    missing,
                    time_ns: arrival.time_ns(),
                });
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds a record of `instance`'s event `event`, timed by event and chunk number.
    pub(crate) fn record(
        instance: &str,
        event: u64,
        chunk: u32,
        total: u32,
        body: &str,
    ) -> ChunkRecord {
        ChunkRecord {
            script_instance: instance.into(),
            event,
            chunk,
            total,
            time_ns: (event as i64) * 1_000_000 + chunk as i64,
            body: body.into(),
        }
    }

    fn texts(result: &Reassembled) -> Vec<&str> {
        result.events.iter().map(|e| e.json.as_str()).collect()
    }

    #[test]
    fn chunks_out_of_order_are_put_back_in_order() {
        let result = reassemble([
            record("a", 2, 3, 3, "\"}"),
            record("a", 1, 1, 1, "{\"type\":4}"),
            record("a", 2, 1, 3, "{\"type\":2,\"t\":\""),
            record("a", 2, 2, 3, "abc"),
        ]);
        assert_eq!(
            texts(&result),
            vec!["{\"type\":4}", "{\"type\":2,\"t\":\"abc\"}"]
        );
        assert!(result.gaps.is_empty());
        assert_eq!(result.duplicates, 0);
    }

    #[test]
    fn duplicated_chunks_are_used_once() {
        let result = reassemble([
            record("a", 1, 1, 2, "{\"x\":"),
            record("a", 1, 1, 2, "{\"x\":"),
            record("a", 1, 2, 2, "1}"),
            record("a", 1, 2, 2, "1}"),
        ]);
        assert_eq!(texts(&result), vec!["{\"x\":1}"]);
        assert_eq!(result.duplicates, 2);
    }

    #[test]
    fn a_missing_chunk_leaves_a_marked_gap_and_playback_goes_on() {
        let result = reassemble([
            record("a", 1, 1, 1, "{\"n\":1}"),
            record("a", 2, 1, 3, "{\"n\":"),
            record("a", 2, 3, 3, "}"),
            record("a", 3, 1, 1, "{\"n\":3}"),
        ]);
        assert_eq!(texts(&result), vec!["{\"n\":1}", "{\"n\":3}"]);
        assert_eq!(
            result.gaps,
            vec![Gap::MissingChunks {
                script_instance: "a".into(),
                event: 2,
                missing: vec![2],
                time_ns: 2_000_001,
            }]
        );
    }

    #[test]
    fn skipped_event_numbers_are_a_gap() {
        let result = reassemble([record("a", 1, 1, 1, "{}"), record("a", 4, 1, 1, "{}")]);
        assert_eq!(result.events.len(), 2);
        assert_eq!(
            result.gaps,
            vec![Gap::MissingEvents {
                script_instance: "a".into(),
                first: 2,
                last: 3,
                time_ns: 1_000_001,
            }]
        );
    }

    #[test]
    fn a_character_split_across_chunks_keeps_the_text_valid() {
        // "é" is two bytes. The SDK's lenient decoding turns each half into U+FFFD.
        let result = reassemble([
            record("a", 1, 1, 2, "{\"name\":\"caf\u{FFFD}"),
            record("a", 1, 2, 2, "\u{FFFD} au lait\"}"),
        ]);
        let value: serde_json::Value =
            serde_json::from_str(&result.events[0].json).expect("still JSON");
        assert_eq!(value["name"], "caf\u{FFFD}\u{FFFD} au lait");
    }

    #[test]
    fn page_loads_play_in_the_order_they_started() {
        let mut late = record("second", 1, 1, 1, "{\"load\":2}");
        late.time_ns = 50_000_000;
        let mut early = record("first", 1, 1, 1, "{\"load\":1}");
        early.time_ns = 10_000_000;
        let result = reassemble([late, early]);
        assert_eq!(texts(&result), vec!["{\"load\":1}", "{\"load\":2}"]);
    }

    #[test]
    fn impossible_chunk_numbers_are_ignored() {
        let result = reassemble([record("a", 1, 5, 2, "junk"), record("a", 1, 1, 1, "{}")]);
        assert_eq!(texts(&result), vec!["{}"]);
    }
}
