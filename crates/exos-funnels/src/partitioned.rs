//! A funnel report and its breakdown in one unsorted DuckDB scan, grouped by
//! actor in Rust on every core.
//!
//! DuckDB only filters the spans and computes their step bitmasks
//! (`sql::duckdb::funnel_spans`); it does not sort. Rust keeps each span as a
//! small fixed-size record in one of [`PARTITIONS`] partitions chosen by the
//! actor's hash, then the threads sort their partitions by actor and run the
//! engine. An actor with one breakdown value is evaluated once and counted in
//! both the total and its value's series. Measured on 10,000,000 spans of
//! 1,000,000 actors (docs/BENCHMARKS.md), DuckDB's sort by actor took most of
//! the time of the earlier sorted stream (`actor_groups`).
//!
//! Actors are distinguished by 128 bits: DuckDB's 64-bit `hash` of the actor and
//! a second, different 64-bit hash computed here from the same text. Two
//! actors are merged only if both hashes collide, which for 10^9 actors has
//! a probability below 10^-20.

use std::collections::HashMap;

use duckdb::arrow::array::{RecordBatch, StringArray};
use duckdb::arrow::datatypes::{Int64Type, UInt32Type, UInt64Type};
use duckdb::Connection;

use crate::duck::{primitive_column, string_column, RunError};
use crate::funnel::{FunnelReport, FunnelResult};
use crate::query::FunnelQuery;
use crate::sql;

/// Number of partitions: many per core, so that threads finish together, and
/// small enough to sort in the CPU cache (about 1 MB each at 10M spans).
const PARTITIONS: usize = 256;

/// A funnel's total and, with a breakdown, its series per value.
#[derive(Clone, Debug, PartialEq)]
pub struct SplitResult {
    /// Every actor once, whatever its breakdown values (breakdown `''`).
    pub total: FunnelResult,
    /// One series per breakdown value; `None` without a breakdown.
    pub breakdown: Option<FunnelResult>,
}

/// One span as a partition stores it.
#[derive(Clone, Copy)]
struct Span {
    /// (DuckDB's hash, this module's hash) of the actor.
    actor: (u64, u64),
    /// Index into the breakdown values.
    breakdown: u32,
    timestamp_ns: i64,
    steps: u32,
    exclusions: u32,
}

/// Computes the funnel and its total from one scan of `otel_traces`.
pub fn run_funnel_split(
    connection: &Connection,
    query: &FunnelQuery,
) -> Result<SplitResult, RunError> {
    let total_query = FunnelQuery {
        breakdown: None,
        ..query.clone()
    };
    // Checks the definition before the scan.
    FunnelReport::new(&total_query)?;

    let threads = std::thread::available_parallelism()
        .map_or(1, |count| count.get())
        .clamp(1, PARTITIONS);
    let (partitions, values) = read_partitions(connection, query, threads)?;
    let mut shares: Vec<Vec<Pieces>> = (0..threads).map(|_| Vec::new()).collect();
    for (index, partition) in partitions.into_iter().enumerate() {
        shares[index % threads].push(partition);
    }

    let with_breakdown = query.breakdown.is_some();
    let reports = std::thread::scope(|scope| {
        let workers: Vec<_> = shares
            .into_iter()
            .map(|share| {
                let (total_query, values) = (&total_query, &values);
                scope.spawn(move || count_share(share, total_query, query, values, with_breakdown))
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| worker.join().expect("funnel worker panicked"))
            .collect::<Result<Vec<_>, RunError>>()
    })?;

    let mut reports = reports.into_iter();
    let (mut total, mut split) = reports.next().expect("at least one thread");
    for (other_total, other_split) in reports {
        total.merge(other_total);
        if let (Some(split), Some(other)) = (split.as_mut(), other_split) {
            split.merge(other);
        }
    }
    Ok(SplitResult {
        total: total.finish(),
        breakdown: split.map(FunnelReport::finish),
    })
}

/// The spans of one partition, in one piece per reading thread.
type Pieces = Vec<Vec<Span>>;

/// Reads the spans into partitions on `threads` threads, each taking a share
/// of the batches; returns the partitions and the breakdown values.
fn read_partitions(
    connection: &Connection,
    query: &FunnelQuery,
    threads: usize,
) -> Result<(Vec<Pieces>, Vec<String>), RunError> {
    let mut statement = connection.prepare(&sql::duckdb::funnel_spans(query))?;
    let batches: Vec<RecordBatch> = statement.query_arrow([])?.collect();
    let per_thread = batches.len().div_ceil(threads).max(1);
    let pieces = std::thread::scope(|scope| {
        let readers: Vec<_> = batches
            .chunks(per_thread)
            .map(|share| scope.spawn(move || read_batches(share)))
            .collect();
        readers
            .into_iter()
            .map(|reader| reader.join().expect("funnel reader panicked"))
            .collect::<Result<Vec<_>, RunError>>()
    })?;

    let mut values = ValueIds::default();
    let mut partitions: Vec<Pieces> = (0..PARTITIONS).map(|_| Vec::new()).collect();
    for (piece, local_values) in pieces {
        let global: Vec<u32> = local_values
            .names
            .iter()
            .map(|name| values.text_id(name))
            .collect();
        let same_ids = global
            .iter()
            .enumerate()
            .all(|(local, &id)| local as u32 == id);
        for (index, mut spans) in piece.into_iter().enumerate() {
            if !same_ids {
                for span in &mut spans {
                    span.breakdown = global[span.breakdown as usize];
                }
            }
            partitions[index].push(spans);
        }
    }
    Ok((partitions, values.names))
}

/// Reads batches into partitions, numbering breakdown values locally.
fn read_batches(batches: &[RecordBatch]) -> Result<(Pieces, ValueIds), RunError> {
    let mut partitions: Pieces = (0..PARTITIONS).map(|_| Vec::new()).collect();
    let mut values = ValueIds::default();
    for batch in batches {
        let hashes = primitive_column::<UInt64Type>(batch, "actor_hash", "UBIGINT")?.values();
        let actors = string_column(batch, "actor")?;
        let breakdowns = string_column(batch, "breakdown")?;
        let timestamps = primitive_column::<Int64Type>(batch, "timestamp_ns", "BIGINT")?.values();
        let steps = primitive_column::<UInt32Type>(batch, "steps", "UINTEGER")?.values();
        let exclusions = primitive_column::<UInt32Type>(batch, "exclusions", "UINTEGER")?.values();
        for row in 0..batch.num_rows() {
            let hash = hashes[row];
            let span = Span {
                actor: (hash, text_hash(actors.value(row).as_bytes())),
                breakdown: values.id(breakdowns, row),
                timestamp_ns: timestamps[row],
                steps: steps[row],
                exclusions: exclusions[row],
            };
            partitions[(hash >> 56) as usize % PARTITIONS].push(span);
        }
    }
    Ok((partitions, values))
}

/// Evaluates the actors of a thread's partitions into (total, breakdown) reports.
fn count_share(
    share: Vec<Pieces>,
    total_query: &FunnelQuery,
    query: &FunnelQuery,
    values: &[String],
    with_breakdown: bool,
) -> Result<(FunnelReport, Option<FunnelReport>), RunError> {
    let mut total = FunnelReport::new(total_query)?;
    let mut split = if with_breakdown {
        Some(FunnelReport::new(query)?)
    } else {
        None
    };
    let mut lists = Lists::default();
    for pieces in share {
        let mut partition = pieces.concat();
        drop(pieces);
        partition.sort_unstable_by_key(|span| (span.actor, span.breakdown));
        for actor in partition.chunk_by(|a, b| a.actor == b.actor) {
            lists.fill(actor);
            let outcome = total.evaluate(&lists.timestamps_ns, &lists.steps, &lists.exclusions);
            total.add_outcome("", &outcome);
            let Some(split) = split.as_mut() else {
                continue;
            };
            if actor[0].breakdown == actor[actor.len() - 1].breakdown {
                split.add_outcome(&values[actor[0].breakdown as usize], &outcome);
                continue;
            }
            for group in actor.chunk_by(|a, b| a.breakdown == b.breakdown) {
                lists.fill(group);
                let name = &values[group[0].breakdown as usize];
                split.add_actor(name, &lists.timestamps_ns, &lists.steps, &lists.exclusions);
            }
        }
    }
    Ok((total, split))
}

/// Parallel lists of one group's spans, reused from group to group.
#[derive(Default)]
struct Lists {
    timestamps_ns: Vec<i64>,
    steps: Vec<u32>,
    exclusions: Vec<u32>,
}

impl Lists {
    fn fill(&mut self, spans: &[Span]) {
        self.timestamps_ns.clear();
        self.steps.clear();
        self.exclusions.clear();
        for span in spans {
            self.timestamps_ns.push(span.timestamp_ns);
            self.steps.push(span.steps);
            self.exclusions.push(span.exclusions);
        }
    }
}

/// Numbers text values (breakdown values, path labels) in the order they first appear.
#[derive(Default)]
pub struct ValueIds {
    /// Index: id.
    pub names: Vec<String>,
    ids: HashMap<String, u32, BuildTextHasher>,
    /// The last value looked up and its id: consecutive rows often repeat it.
    last: Option<u32>,
}

impl ValueIds {
    fn id(&mut self, column: &StringArray, row: usize) -> u32 {
        self.text_id(column.value(row))
    }

    /// Returns the id of `value`, numbering it when it is new.
    pub fn text_id(&mut self, value: &str) -> u32 {
        if let Some(last) = self.last {
            if self.names[last as usize] == value {
                return last;
            }
        }
        let id = match self.ids.get(value) {
            Some(&id) => id,
            None => {
                let id = self.names.len() as u32;
                self.names.push(value.to_string());
                self.ids.insert(value.to_string(), id);
                id
            }
        };
        self.last = Some(id);
        id
    }
}

/// Hashes map keys with [`seeded_text_hash`], faster than the standard
/// SipHash on short texts. Keys are span values that clients sent, so each
/// map gets a random seed, which makes colliding values hard to craft.
#[derive(Clone, Copy)]
struct BuildTextHasher {
    seed: u64,
}

impl Default for BuildTextHasher {
    fn default() -> Self {
        use std::hash::BuildHasher;
        BuildTextHasher {
            seed: std::collections::hash_map::RandomState::new().hash_one(0u64),
        }
    }
}

impl std::hash::BuildHasher for BuildTextHasher {
    type Hasher = TextHasher;

    fn build_hasher(&self) -> TextHasher {
        TextHasher(self.seed)
    }
}

struct TextHasher(u64);

impl std::hash::Hasher for TextHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0 = seeded_text_hash(self.0, bytes);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Returns a 64-bit hash of `bytes`, unrelated to DuckDB's. It mixes 8-byte
/// words by multiplication and rotation, folds in the length, and ends with
/// the finalizer of SplitMix64.
pub fn text_hash(bytes: &[u8]) -> u64 {
    seeded_text_hash(0, bytes)
}

/// [`text_hash`] started from `seed` instead of 0.
fn seeded_text_hash(seed: u64, bytes: &[u8]) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut hash = (seed ^ bytes.len() as u64).wrapping_mul(K);
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        hash = (hash.rotate_left(23) ^ word).wrapping_mul(K);
    }
    let mut tail = [0u8; 8];
    tail[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
    hash = (hash.rotate_left(23) ^ u64::from_le_bytes(tail)).wrapping_mul(K);
    hash ^= hash >> 30;
    hash = hash.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    hash ^= hash >> 27;
    hash = hash.wrapping_mul(0x94d0_49bb_1331_11eb);
    hash ^ (hash >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_hash_tells_short_texts_apart() {
        let mut seen = std::collections::HashSet::new();
        for index in 0..100_000 {
            assert!(seen.insert(text_hash(format!("u{index}").as_bytes())));
        }
        assert_ne!(text_hash(b""), text_hash(b"\0"));
    }
}
