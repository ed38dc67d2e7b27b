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
//! Ties in time are broken by the span id, then by the label. The span ids
//! of tied events come from a second statement, so the first one streams no
//! span id.

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
    /// Label id: the reader's own while reading, then ids that order as the
    /// labels' texts do.
    label: u32,
}

/// Events of one actor at one time: the events whose order the span ids decide.
type TieKey = ((u64, u64), i64);

/// Renders the streamed rows over the events statement. The span id is left
/// out: it is the widest column, and it only orders events of one actor at one
/// time. Without it, paths over 10M spans went from about 1.5 s to 1.0 s
/// (`exos bench analytics`).
pub fn input_sql(events: &str) -> String {
    format!(
        "SELECT hash(actor) AS actor_hash, actor, label, epoch_ns(ts) AS timestamp_ns \
         FROM ({events}) AS events"
    )
}

/// Counts the (position, label, next label) groups of the paths over the
/// events statement `events`, ordered as `paths::groups_sql` orders them, at
/// most `limit`.
///
/// DuckDB converts its result to Arrow on this thread while one reader per
/// core keeps the events of its own partitions
/// (`exos_funnels::partitioned::read_shares`). The readers then number the
/// labels in text order, sort their partitions by actor, time and label, and
/// note each actor's events of one time with different labels. Only for those
/// does a second statement read the span ids ([`tie_orders`]), which order
/// them as the SQL statement does. Then the readers count.
pub fn count_groups(
    connection: &Connection,
    query: &PathsQuery,
    events: &str,
    limit: usize,
) -> Result<Vec<Group>, AnalyticsError> {
    let mut statement = connection
        .prepare(&input_sql(events))
        .map_err(query_error)?;
    drop(statement.query_arrow([]).map_err(query_error)?);
    u32::try_from(statement.row_count()).map_err(|_| too_many_events())?;
    let shares = read_shares(&statement, query_error, read_share)?;
    drop(statement);

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
    let sorted: Vec<(Vec<Vec<Event>>, Vec<TieKey>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = shares
            .into_iter()
            .zip(global_ids)
            .map(|(share, global)| {
                let final_ids: Vec<u32> = global.iter().map(|&id| rank[id as usize]).collect();
                scope.spawn(move || sort_share(share.partitions, &final_ids))
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| worker.join().expect("paths worker panicked"))
            .collect()
    });
    let ties: Vec<TieKey> = sorted
        .iter()
        .flat_map(|(_, ties)| ties.iter().copied())
        .collect();
    let orders = if ties.is_empty() {
        HashMap::new()
    } else {
        tie_orders(connection, events, &ties, &labels)?
    };
    let counts = std::thread::scope(|scope| {
        let workers: Vec<_> = sorted
            .into_iter()
            .map(|(partitions, _)| {
                let (anchors, orders) = (&anchors, &orders);
                scope.spawn(move || count_share(partitions, orders, label_count, query, anchors))
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
/// reader first saw them.
struct ShareEvents {
    partitions: Vec<Vec<Event>>,
    labels: ValueIds,
}

/// Keeps the events of this reader's partitions from every batch it receives.
fn read_share(
    share: Share,
    batches: mpsc::Receiver<RecordBatch>,
    capacity: usize,
) -> Result<ShareEvents, AnalyticsError> {
    let mut partitions: Vec<Vec<Event>> = share.empty_partitions(capacity);
    let mut labels = ValueIds::default();
    for batch in batches {
        let hashes = primitive::<UInt64Type>(&batch, "actor_hash")?.values();
        let actors = text(&batch, "actor")?;
        let label_texts = text(&batch, "label")?;
        let timestamps = primitive::<Int64Type>(&batch, "timestamp_ns")?.values();
        for (row, &hash) in hashes.iter().enumerate() {
            let Some(slot) = share.slot(hash) else {
                continue;
            };
            partitions[slot].push(Event {
                actor: (hash, text_hash(actors.value(row).as_bytes())),
                timestamp_ns: timestamps[row],
                label: labels.text_id(label_texts.value(row)),
            });
        }
    }
    Ok(ShareEvents { partitions, labels })
}

fn too_many_events() -> AnalyticsError {
    AnalyticsError::bad(
        "time_range",
        "more than 4,294,967,295 events; narrow the time range",
    )
}

/// Gives a reader's partitions the final label ids (`final_ids`, indexed by
/// the reader's own ids) and sorts each by actor, time and label. Returns them
/// with the (actor, time) of each group of events that share a time but not a
/// label: their order depends on the span ids.
fn sort_share(
    mut partitions: Vec<Vec<Event>>,
    final_ids: &[u32],
) -> (Vec<Vec<Event>>, Vec<TieKey>) {
    let mut ties = Vec::new();
    for partition in &mut partitions {
        for event in partition.iter_mut() {
            event.label = final_ids[event.label as usize];
        }
        // Sorting by the first hash, then each run of it in full, is faster than
        // sorting the partition in full: a run is about one actor's events.
        partition.sort_unstable_by_key(|event| event.actor.0);
        for run in partition.chunk_by_mut(|a, b| a.actor.0 == b.actor.0) {
            run.sort_unstable_by_key(|event| (event.actor, event.timestamp_ns, event.label));
            for same_time in
                run.chunk_by(|a, b| (a.actor, a.timestamp_ns) == (b.actor, b.timestamp_ns))
            {
                if same_time[0].label != same_time[same_time.len() - 1].label {
                    ties.push((same_time[0].actor, same_time[0].timestamp_ns));
                }
            }
        }
    }
    (partitions, ties)
}

/// Maximum number of distinct tie times that the span id statement names in its
/// condition. With more, it reads the span ids of every event.
const MAX_TIE_TIMES: usize = 10_000;

/// Reads the span ids of the tied events and returns, per tie, its labels in
/// the order of (span id, label), as ids into `labels`.
fn tie_orders(
    connection: &Connection,
    events: &str,
    ties: &[TieKey],
    labels: &[String],
) -> Result<HashMap<TieKey, Vec<u32>>, AnalyticsError> {
    let tied_keys: std::collections::HashSet<TieKey> = ties.iter().copied().collect();
    let mut times: Vec<i64> = ties.iter().map(|tie| tie.1).collect();
    times.sort_unstable();
    times.dedup();
    let condition = if times.len() <= MAX_TIE_TIMES {
        let list: Vec<String> = times.iter().map(|time| time.to_string()).collect();
        format!(" WHERE epoch_ns(ts) IN ({})", list.join(", "))
    } else {
        String::new()
    };
    let sql = format!(
        "SELECT hash(actor) AS actor_hash, actor, label, epoch_ns(ts) AS timestamp_ns, sid \
         FROM ({events}) AS events{condition}"
    );
    let mut statement = connection.prepare(&sql).map_err(query_error)?;
    drop(statement.query_arrow([]).map_err(query_error)?);
    let mut tied: HashMap<TieKey, Vec<(String, u32)>> = HashMap::new();
    while let Some(array) = statement.step().map_err(query_error)? {
        let batch = RecordBatch::from(&array);
        let hashes = primitive::<UInt64Type>(&batch, "actor_hash")?.values();
        let actors = text(&batch, "actor")?;
        let label_texts = text(&batch, "label")?;
        let timestamps = primitive::<Int64Type>(&batch, "timestamp_ns")?.values();
        let sids = text(&batch, "sid")?;
        for (row, &hash) in hashes.iter().enumerate() {
            let key = (
                (hash, text_hash(actors.value(row).as_bytes())),
                timestamps[row],
            );
            if !tied_keys.contains(&key) {
                continue;
            }
            // A label first written after the events were read has no id; it is left out.
            if let Some(label) = label_id(labels, label_texts.value(row)) {
                tied.entry(key)
                    .or_default()
                    .push((sids.value(row).to_string(), label));
            }
        }
    }
    Ok(tied
        .into_iter()
        .map(|(key, mut events)| {
            events.sort_unstable();
            (key, events.into_iter().map(|(_, label)| label).collect())
        })
        .collect())
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

/// Counts the groups of a reader's sorted partitions. The events of a tie take
/// their labels in the order `orders` gives.
fn count_share(
    partitions: Vec<Vec<Event>>,
    orders: &HashMap<TieKey, Vec<u32>>,
    label_count: usize,
    query: &PathsQuery,
    anchors: &Anchors,
) -> HashMap<(usize, u32, u32), u64> {
    let mut counts = GroupCounts::new(label_count, query.depth);
    let mut labels = Vec::new();
    let mut kept = Vec::new();
    for partition in partitions {
        for actor in partition.chunk_by(|a, b| a.actor == b.actor) {
            labels.clear();
            for same_time in actor.chunk_by(|a, b| a.timestamp_ns == b.timestamp_ns) {
                let ordered = orders
                    .get(&(same_time[0].actor, same_time[0].timestamp_ns))
                    .filter(|ordered| ordered.len() == same_time.len());
                match ordered {
                    Some(ordered) => labels.extend_from_slice(ordered),
                    // Without ties, or when spans changed between the two reads, the
                    // label order is kept.
                    None => labels.extend(same_time.iter().map(|event| event.label)),
                }
            }
            kept.clear();
            for &label in &labels {
                if !query.collapse_repeats || kept.last() != Some(&label) {
                    kept.push(label);
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
