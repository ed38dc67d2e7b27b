//! The (step, event, next event) groups of `POST /api/paths` on DuckDB,
//! counted in Rust on every core.
//!
//! DuckDB renders and filters the labelled events (`paths::events_sql`: the
//! same rows the SQL statement of `paths::steps_sql` reads) and streams them
//! unsorted. Rust keeps each event as a small record in one of 256
//! partitions chosen by the actor's hash. The threads sort their partitions
//! by (actor, time, span id, label), collapse repeats, cut each path as
//! `steps_sql` does and count the groups. Measured on 10,000,000 spans of
//! 1,000,000 actors (docs/BENCHMARKS.md), the window-function statement took
//! 20 to 30 s under load, most of it in DuckDB's sorts.
//!
//! Actors are distinguished by 128 bits, as in `exos_funnels::partitioned`.
//! Ties in time are broken by the span id, compared in full when the first
//! eight bytes are equal, then by the label.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::mpsc;

use duckdb::arrow::array::{Array, PrimitiveArray, RecordBatch, StringArray};
use duckdb::arrow::datatypes::{ArrowPrimitiveType, Int64Type, UInt64Type};
use duckdb::Connection;
use exos_funnels::partitioned::{read_shares, text_hash, Share, ValueIds};

use crate::error::AnalyticsError;
use crate::paths::{Group, PathsQuery};

/// The label id of "no next event".
const NONE: u32 = u32::MAX;

/// One event as a partition stores it.
#[derive(Clone, Copy)]
struct Event {
    /// (DuckDB's hash, `text_hash`) of the actor.
    actor: (u64, u64),
    timestamp_ns: i64,
    /// The span id's first eight bytes, big-endian, so they order as the text does.
    span_prefix: u64,
    /// Row number, to compare span ids in full.
    row: u32,
    /// Label id; ids order as the labels' texts do.
    label: u32,
}

/// Span ids of every row, for ties of the first eight bytes: the streamed
/// columns themselves, so that no id is copied.
#[derive(Default)]
struct SpanIds {
    columns: Vec<StringArray>,
    /// Index b: the row number of batch b's first row.
    first_rows: Vec<u32>,
}

impl SpanIds {
    fn get(&self, row: u32) -> &[u8] {
        let batch = self.first_rows.partition_point(|&first| first <= row) - 1;
        let offset = (row - self.first_rows[batch]) as usize;
        self.columns[batch].value(offset).as_bytes()
    }
}

/// Renders the streamed rows over the events statement.
pub fn input_sql(events: &str) -> String {
    format!(
        "SELECT hash(actor) AS actor_hash, actor, label, epoch_ns(ts) AS timestamp_ns, sid \
         FROM ({events}) AS events"
    )
}

/// Counts the (position, label, next label) groups of the paths, ordered as
/// `paths::groups_sql` orders them, at most `limit`.
///
/// DuckDB converts its result to Arrow on this thread while one reader per
/// core keeps the events of its own partitions
/// (`exos_funnels::partitioned::read_shares`). The readers then number the
/// labels in text order, sort their partitions and count.
pub fn count_groups(
    connection: &Connection,
    query: &PathsQuery,
    input: &str,
    limit: usize,
) -> Result<Vec<Group>, AnalyticsError> {
    let mut statement = connection.prepare(input).map_err(query_error)?;
    drop(statement.query_arrow([]).map_err(query_error)?);
    u32::try_from(statement.row_count()).map_err(|_| too_many_events())?;
    let shares = read_shares(&statement, query_error, read_share)?;

    let mut all_labels = ValueIds::default();
    let global_ids: Vec<Vec<u32>> = shares
        .iter()
        .map(|share| {
            let names = &share.labels.names;
            names.iter().map(|name| all_labels.text_id(name)).collect()
        })
        .collect();
    let (labels, rank) = sorted_labels(all_labels.names);
    let label_count = labels.len();
    let anchors = Anchors {
        start: query.start.as_ref().map(|text| label_id(&labels, text)),
        end: query.end.as_ref().map(|text| label_id(&labels, text)),
    };
    let counts = std::thread::scope(|scope| {
        let workers: Vec<_> = shares
            .into_iter()
            .zip(global_ids)
            .map(|(share, global)| {
                let final_ids: Vec<u32> = global.iter().map(|&id| rank[id as usize]).collect();
                let anchors = &anchors;
                scope.spawn(move || count_share(share, &final_ids, label_count, query, anchors))
            })
            .collect();
        let mut counts: HashMap<(usize, u32, u32), u64> = HashMap::new();
        for worker in workers {
            for (key, actors) in worker.join().expect("paths worker panicked") {
                *counts.entry(key).or_default() += actors;
            }
        }
        counts
    });
    let name = |id: u32| match id {
        NONE => String::new(),
        id => labels[id as usize].clone(),
    };
    let mut groups: Vec<Group> = counts
        .into_iter()
        .map(|((position, label, next), actors)| Group {
            position,
            label: name(label),
            next: name(next),
            actors,
        })
        .collect();
    groups.sort_by(|a, b| {
        (b.actors, a.position, &a.label, &a.next).cmp(&(a.actors, b.position, &b.label, &b.next))
    });
    groups.truncate(limit);
    Ok(groups)
}

/// Label ids of the `start` and `end` events; `None` inside when no event has the label.
struct Anchors {
    start: Option<Option<u32>>,
    end: Option<Option<u32>>,
}

fn label_id(labels: &[String], text: &str) -> Option<u32> {
    labels
        .binary_search_by(|label| label.as_str().cmp(text))
        .ok()
        .map(|id| id as u32)
}

/// One reader's events: its partitions, with labels numbered in the order the
/// reader first saw them, and the span ids of every row.
struct ShareEvents {
    partitions: Vec<Vec<Event>>,
    labels: ValueIds,
    span_ids: SpanIds,
}

/// Keeps the events of this reader's partitions from every batch it
/// receives. Every reader receives all batches, in the same order, so rows are
/// numbered alike in each.
fn read_share(
    share: Share,
    batches: mpsc::Receiver<RecordBatch>,
    capacity: usize,
) -> Result<ShareEvents, AnalyticsError> {
    let mut partitions: Vec<Vec<Event>> = (0..share.partitions())
        .map(|_| Vec::with_capacity(capacity))
        .collect();
    let mut labels = ValueIds::default();
    let mut span_ids = SpanIds::default();
    // The caller checked that the rows fit in u32.
    let mut first_row: u32 = 0;
    for batch in batches {
        let hashes = primitive::<UInt64Type>(&batch, "actor_hash")?.values();
        let actors = text(&batch, "actor")?;
        let label_texts = text(&batch, "label")?;
        let timestamps = primitive::<Int64Type>(&batch, "timestamp_ns")?.values();
        let sids = text(&batch, "sid")?;
        for (row, &hash) in hashes.iter().enumerate() {
            let Some(slot) = share.slot(hash) else {
                continue;
            };
            let sid = sids.value(row).as_bytes();
            let mut prefix = [0u8; 8];
            let length = sid.len().min(8);
            prefix[..length].copy_from_slice(&sid[..length]);
            partitions[slot].push(Event {
                actor: (hash, text_hash(actors.value(row).as_bytes())),
                timestamp_ns: timestamps[row],
                span_prefix: u64::from_be_bytes(prefix),
                row: first_row + row as u32,
                label: labels.text_id(label_texts.value(row)),
            });
        }
        span_ids.columns.push(sids.clone());
        span_ids.first_rows.push(first_row);
        first_row += batch.num_rows() as u32;
    }
    Ok(ShareEvents {
        partitions,
        labels,
        span_ids,
    })
}

fn too_many_events() -> AnalyticsError {
    AnalyticsError::bad(
        "time_range",
        "more than 4,294,967,295 events; narrow the time range",
    )
}

/// Sorts the labels by text; returns them and, for each first-seen id, its new id.
fn sorted_labels(names: Vec<String>) -> (Vec<String>, Vec<u32>) {
    let mut order: Vec<usize> = (0..names.len()).collect();
    order.sort_by(|&a, &b| names[a].cmp(&names[b]));
    let mut rank = vec![0u32; names.len()];
    for (new, &old) in order.iter().enumerate() {
        rank[old] = new as u32;
    }
    let mut slots: Vec<Option<String>> = names.into_iter().map(Some).collect();
    let sorted = order
        .iter()
        .map(|&old| slots[old].take().expect("each label once"))
        .collect();
    (sorted, rank)
}

/// Counts the groups of a reader's partitions, once their labels carry the
/// ids in text order (`final_ids`, indexed by the reader's own ids).
fn count_share(
    share: ShareEvents,
    final_ids: &[u32],
    label_count: usize,
    query: &PathsQuery,
    anchors: &Anchors,
) -> HashMap<(usize, u32, u32), u64> {
    let ShareEvents {
        partitions,
        span_ids,
        ..
    } = share;
    let mut counts = GroupCounts::new(label_count, query.depth);
    let mut kept = Vec::new();
    for mut partition in partitions {
        for event in &mut partition {
            event.label = final_ids[event.label as usize];
        }
        // Sorting by the first hash, then each run of it in full, is faster than
        // sorting the partition in full: a run is about one actor's events.
        partition.sort_unstable_by_key(|event| event.actor.0);
        for run in partition.chunk_by_mut(|a, b| a.actor.0 == b.actor.0) {
            run.sort_unstable_by(|a, b| event_order(a, b, &span_ids));
            for actor in run.chunk_by(|a, b| a.actor == b.actor) {
                kept.clear();
                for event in actor {
                    if !query.collapse_repeats || kept.last() != Some(&event.label) {
                        kept.push(event.label);
                    }
                }
                if let Some((first_position, path)) = cut(&kept, query.depth, anchors) {
                    for (index, &label) in path.iter().enumerate() {
                        let next = path.get(index + 1).copied().unwrap_or(NONE);
                        counts.add(first_position + index, label, next);
                    }
                }
            }
        }
    }
    counts.into_map()
}

/// Actors per (position, label, next label): in an array when the labels are
/// few enough, else in a hash map.
enum GroupCounts {
    Dense {
        /// Label ids and "no next event" each take one of `width` places.
        width: usize,
        actors: Vec<u64>,
    },
    Sparse(HashMap<(usize, u32, u32), u64>),
}

/// Largest array of [`GroupCounts::Dense`], in entries.
const MAX_DENSE_GROUPS: usize = 1 << 20;

impl GroupCounts {
    fn new(labels: usize, depth: usize) -> Self {
        let width = labels + 1;
        match width
            .checked_mul(width)
            .and_then(|pairs| pairs.checked_mul(depth))
        {
            Some(size) if size <= MAX_DENSE_GROUPS => GroupCounts::Dense {
                width,
                actors: vec![0; size],
            },
            _ => GroupCounts::Sparse(HashMap::new()),
        }
    }

    fn add(&mut self, position: usize, label: u32, next: u32) {
        match self {
            GroupCounts::Dense { width, actors } => {
                let next = if next == NONE {
                    *width - 1
                } else {
                    next as usize
                };
                actors[(position * *width + label as usize) * *width + next] += 1;
            }
            GroupCounts::Sparse(map) => *map.entry((position, label, next)).or_default() += 1,
        }
    }

    fn into_map(self) -> HashMap<(usize, u32, u32), u64> {
        match self {
            GroupCounts::Sparse(map) => map,
            GroupCounts::Dense { width, actors } => actors
                .into_iter()
                .enumerate()
                .filter(|&(_, count)| count > 0)
                .map(|(index, count)| {
                    let (pair, position) = (index % (width * width), index / (width * width));
                    let (label, next) = (pair / width, pair % width);
                    let next = if next == width - 1 { NONE } else { next as u32 };
                    ((position, label as u32, next), count)
                })
                .collect(),
        }
    }
}

/// Orders events by actor, then time, span id and label.
fn event_order(a: &Event, b: &Event, span_ids: &SpanIds) -> Ordering {
    (a.actor, a.timestamp_ns, a.span_prefix)
        .cmp(&(b.actor, b.timestamp_ns, b.span_prefix))
        .then_with(|| span_ids.get(a.row).cmp(span_ids.get(b.row)))
        .then(a.label.cmp(&b.label))
}

/// Returns the column of the path's first step and its steps, as
/// `paths::positioned_sql` cuts them, or `None` when the actor has no path.
fn cut<'a>(kept: &'a [u32], depth: usize, anchors: &Anchors) -> Option<(usize, &'a [u32])> {
    let first = |label: Option<u32>, from: usize| {
        let label = label?;
        kept[from..]
            .iter()
            .position(|&kept| kept == label)
            .map(|index| from + index)
    };
    match (anchors.start, anchors.end) {
        (None, None) => (!kept.is_empty()).then(|| (0, &kept[..kept.len().min(depth)])),
        (Some(start), None) => {
            let at = first(start, 0)?;
            Some((0, &kept[at..kept.len().min(at + depth)]))
        }
        (None, Some(end)) => {
            let at = first(end, 0)?;
            let from = (at + 1).saturating_sub(depth);
            Some((depth - 1 - (at - from), &kept[from..=at]))
        }
        (Some(start), Some(end)) => {
            let from = first(start, 0)?;
            let to = first(end, from + 1)?;
            (to - from < depth).then(|| (0, &kept[from..=to]))
        }
    }
}

fn query_error(error: duckdb::Error) -> AnalyticsError {
    AnalyticsError::Store(exos_store::StoreError::Query(error.to_string()))
}

fn text<'a>(batch: &'a RecordBatch, column: &str) -> Result<&'a StringArray, AnalyticsError> {
    batch
        .column_by_name(column)
        .and_then(|array| array.as_any().downcast_ref::<StringArray>())
        .ok_or_else(|| AnalyticsError::Result(format!("paths column {column} is not text")))
}

fn primitive<'a, T: ArrowPrimitiveType>(
    batch: &'a RecordBatch,
    column: &str,
) -> Result<&'a PrimitiveArray<T>, AnalyticsError> {
    batch
        .column_by_name(column)
        .and_then(|array| array.as_any().downcast_ref::<PrimitiveArray<T>>())
        .ok_or_else(|| AnalyticsError::Result(format!("paths column {column} is not an integer")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn anchors(start: Option<u32>, end: Option<u32>) -> Anchors {
        Anchors {
            start: start.map(Some),
            end: end.map(Some),
        }
    }

    #[test]
    fn dense_and_sparse_counts_agree() {
        let groups = [(0, 0, 1), (0, 0, 1), (1, 1, NONE), (4, 2, 0), (0, 2, NONE)];
        let mut dense = GroupCounts::new(3, 5);
        assert!(matches!(dense, GroupCounts::Dense { .. }));
        let mut sparse = GroupCounts::Sparse(HashMap::new());
        for (position, label, next) in groups {
            dense.add(position, label, next);
            sparse.add(position, label, next);
        }
        let expected: HashMap<(usize, u32, u32), u64> = [
            ((0, 0, 1), 2),
            ((1, 1, NONE), 1),
            ((4, 2, 0), 1),
            ((0, 2, NONE), 1),
        ]
        .into_iter()
        .collect();
        assert_eq!(dense.into_map(), expected);
        assert_eq!(sparse.into_map(), expected);
        assert!(matches!(
            GroupCounts::new(1_000, 10),
            GroupCounts::Sparse(_)
        ));
    }

    #[test]
    fn cuts_follow_the_anchors() {
        let kept = [1, 2, 3, 4, 2, 5];
        assert_eq!(cut(&kept, 3, &anchors(None, None)), Some((0, &kept[..3])));
        assert_eq!(
            cut(&kept, 3, &anchors(Some(3), None)),
            Some((0, &kept[2..5]))
        );
        assert_eq!(
            cut(&kept, 3, &anchors(None, Some(2))),
            Some((1, &kept[..2]))
        );
        assert_eq!(
            cut(&kept, 3, &anchors(None, Some(4))),
            Some((0, &kept[1..4]))
        );
        assert_eq!(
            cut(&kept, 3, &anchors(Some(3), Some(2))),
            Some((0, &kept[2..5]))
        );
        assert_eq!(cut(&kept, 3, &anchors(Some(1), Some(5))), None);
        assert_eq!(cut(&kept, 3, &anchors(Some(9), None)), None);
    }
}
