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
//! Each thread owns a share of the partitions and receives every Arrow batch
//! as DuckDB converts it ([`send_batches`]), so that the conversion, which
//! DuckDB runs on one thread, overlaps the filling of the partitions. On the
//! same data this took the funnel from about 1.3 s to about 0.9 s.
//!
//! Actors are distinguished by 128 bits: DuckDB's 64-bit `hash` of the actor and
//! a second, different 64-bit hash computed here from the same text. Two
//! actors are merged only if both hashes collide, which for 10^9 actors has
//! a probability below 10^-20.

use std::collections::HashMap;
use std::sync::mpsc;

use duckdb::arrow::array::{RecordBatch, StringArray};
use duckdb::Connection;

use crate::duck::{RunError, SpanColumns};
use crate::funnel::{FunnelReport, FunnelResult};
use crate::query::FunnelQuery;
use crate::sql;

/// Number of partitions: many per core, so that threads finish together, and
/// small enough to sort in the CPU cache (about 1 MB each at 10M spans).
pub const PARTITIONS: usize = 256;

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

    let with_breakdown = query.breakdown.is_some();
    let mut statement = connection.prepare(&sql::duckdb::funnel_spans(query))?;
    drop(statement.query_arrow([])?);
    let shares = read_shares(&statement, RunError::DuckDb, read_share)?;
    let reports = std::thread::scope(|scope| {
        let workers: Vec<_> = shares
            .into_iter()
            .map(|share| {
                let total_query = &total_query;
                scope.spawn(move || count_share(share, total_query, query, with_breakdown))
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

/// Maximum number of batches converted ahead of the slowest reader.
const BATCHES_IN_FLIGHT: usize = 64;

/// Reads the result of an executed statement on one thread per core: each
/// calls `read` with its [`Share`] of the partitions, a receiver of every
/// Arrow batch, and a capacity for each of its partitions. Returns what each
/// thread read, in thread order.
///
/// DuckDB converts the result to Arrow on the calling thread while the
/// threads read, so that both run at once instead of one after the other.
pub fn read_shares<T: Send, E: Send>(
    statement: &duckdb::Statement<'_>,
    query_error: impl Fn(duckdb::Error) -> E,
    read: impl Fn(Share, mpsc::Receiver<RecordBatch>, usize) -> Result<T, E> + Sync,
) -> Result<Vec<T>, E> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |count| count.get())
        .clamp(1, PARTITIONS);
    // Room for each partition's expected share and some more, so that few grow.
    let capacity = statement.row_count() / PARTITIONS * 9 / 8 + 16;
    std::thread::scope(|scope| {
        let mut senders = Vec::with_capacity(threads);
        let mut readers = Vec::with_capacity(threads);
        for thread in 0..threads {
            let (sender, batches) = mpsc::sync_channel::<RecordBatch>(BATCHES_IN_FLIGHT);
            senders.push(sender);
            let (share, read) = (Share { thread, threads }, &read);
            readers.push(scope.spawn(move || read(share, batches, capacity)));
        }
        let converted = send_batches(statement, &senders);
        drop(senders);
        let read = readers
            .into_iter()
            .map(|reader| reader.join().expect("Arrow batch reader panicked"))
            .collect::<Result<Vec<_>, E>>();
        converted.map_err(query_error)?;
        read
    })
}

/// Converts the executed statement's result to Arrow batch by batch and sends
/// each batch to every reader. A reader that stopped (on an error it returns
/// itself) stops the conversion.
fn send_batches(
    statement: &duckdb::Statement<'_>,
    readers: &[mpsc::SyncSender<RecordBatch>],
) -> Result<(), duckdb::Error> {
    while let Some(array) = statement.step()? {
        let batch = RecordBatch::from(&array);
        for reader in readers {
            if reader.send(batch.clone()).is_err() {
                return Ok(());
            }
        }
    }
    Ok(())
}

/// The partitions one of `threads` threads owns: those whose index modulo
/// `threads` is `thread`. An actor's partition comes from the top 8 bits of
/// its hash.
#[derive(Clone, Copy)]
pub struct Share {
    pub thread: usize,
    pub threads: usize,
}

impl Share {
    /// Returns the index, among this thread's partitions, of an actor hash's
    /// partition, or `None` when another thread owns it.
    pub fn slot(self, hash: u64) -> Option<usize> {
        let partition = (hash >> 56) as usize % PARTITIONS;
        (partition % self.threads == self.thread).then_some(partition / self.threads)
    }

    /// Returns the number of partitions this thread owns.
    pub fn partitions(self) -> usize {
        (PARTITIONS - self.thread).div_ceil(self.threads)
    }

    /// Returns this thread's partitions, empty, each with room for `capacity` records.
    pub fn empty_partitions<T>(self, capacity: usize) -> Vec<Vec<T>> {
        (0..self.partitions())
            .map(|_| Vec::with_capacity(capacity))
            .collect()
    }
}

/// A thread's partitions and the breakdown values they number.
struct SharePartitions {
    partitions: Vec<Vec<Span>>,
    values: ValueIds,
}

/// Reads the rows of this thread's partitions from every batch it receives.
///
/// Every thread receives all batches but keeps only the rows of its own
/// partitions, so that no partition is copied from thread to thread.
fn read_share(
    share: Share,
    batches: mpsc::Receiver<RecordBatch>,
    capacity: usize,
) -> Result<SharePartitions, RunError> {
    let mut partitions: Vec<Vec<Span>> = share.empty_partitions(capacity);
    let mut values = ValueIds::default();
    for batch in batches {
        let columns = SpanColumns::of(&batch)?;
        for (row, &hash) in columns.hashes.iter().enumerate() {
            let Some(slot) = share.slot(hash) else {
                continue;
            };
            partitions[slot].push(Span {
                actor: (hash, text_hash(columns.actors.value(row).as_bytes())),
                breakdown: values.id(columns.breakdowns, row),
                timestamp_ns: columns.timestamps[row],
                steps: columns.steps[row],
                exclusions: columns.exclusions[row],
            });
        }
    }
    Ok(SharePartitions { partitions, values })
}

/// Sorts each of a thread's partitions by actor and evaluates each actor
/// once, into (total, breakdown) reports.
fn count_share(
    share: SharePartitions,
    total_query: &FunnelQuery,
    query: &FunnelQuery,
    with_breakdown: bool,
) -> Result<(FunnelReport, Option<FunnelReport>), RunError> {
    let SharePartitions { partitions, values } = share;

    let mut total = FunnelReport::new(total_query)?;
    // The total's one series, made at the first actor: no actor, no series.
    let mut total_slot = None;
    let mut split = if with_breakdown {
        Some(FunnelReport::new(query)?)
    } else {
        None
    };
    // Index: breakdown value id; the value's slot in `split`.
    let split_slots: Vec<usize> = match split.as_mut() {
        Some(split) => values
            .names
            .iter()
            .map(|name| split.series_slot(name))
            .collect(),
        None => Vec::new(),
    };
    let mut lists = Lists::default();
    let mut outcome = crate::funnel::ActorOutcome {
        level: 0,
        step_times_ns: Vec::new(),
        excluded: false,
    };
    for mut partition in partitions {
        // Sorting by the first hash alone is faster than by the whole key. The
        // rare runs holding several actors or breakdown values are sorted again.
        partition.sort_unstable_by_key(|span| span.actor.0);
        for run in partition.chunk_by_mut(|a, b| a.actor.0 == b.actor.0) {
            let first = run[0];
            let mixed = run
                .iter()
                .any(|span| span.actor.1 != first.actor.1 || span.breakdown != first.breakdown);
            if mixed {
                run.sort_unstable_by_key(|span| (span.actor, span.breakdown));
            }
            for actor in run.chunk_by(|a, b| a.actor == b.actor) {
                lists.fill(actor);
                total.evaluate_into(
                    &lists.timestamps_ns,
                    &lists.steps,
                    &lists.exclusions,
                    &mut outcome,
                );
                let slot = *total_slot.get_or_insert_with(|| total.series_slot(""));
                total.add_outcome_at(slot, &outcome);
                let Some(split) = split.as_mut() else {
                    continue;
                };
                if actor[0].breakdown == actor[actor.len() - 1].breakdown {
                    split.add_outcome_at(split_slots[actor[0].breakdown as usize], &outcome);
                    continue;
                }
                for group in actor.chunk_by(|a, b| a.breakdown == b.breakdown) {
                    lists.fill(group);
                    split.evaluate_into(
                        &lists.timestamps_ns,
                        &lists.steps,
                        &lists.exclusions,
                        &mut outcome,
                    );
                    split.add_outcome_at(split_slots[group[0].breakdown as usize], &outcome);
                }
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
    /// Ids of the first [`MAX_SHORT_VALUES`] values of up to 15 bytes, by
    /// [`short_key`]: a few integer comparisons find the common case of a
    /// handful of short values (LOBs, step names) without hashing.
    short: Vec<(u128, u32)>,
}

/// Short values looked up by comparison before the hash map.
const MAX_SHORT_VALUES: usize = 16;

/// Packs a value of up to 15 bytes and its length into one integer that is
/// equal for two values only when they are equal.
fn short_key(bytes: &[u8]) -> Option<u128> {
    if bytes.len() > 15 {
        return None;
    }
    let mut packed = [0u8; 16];
    packed[..bytes.len()].copy_from_slice(bytes);
    packed[15] = bytes.len() as u8;
    Some(u128::from_le_bytes(packed))
}

impl ValueIds {
    fn id(&mut self, column: &StringArray, row: usize) -> u32 {
        self.text_id(column.value(row))
    }

    /// Returns the id of `value`, numbering it when it is new.
    pub fn text_id(&mut self, value: &str) -> u32 {
        let key = short_key(value.as_bytes());
        if let Some(key) = key {
            if let Some(&(_, id)) = self.short.iter().find(|(known, _)| *known == key) {
                return id;
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
        if let Some(key) = key {
            if self.short.len() < MAX_SHORT_VALUES {
                self.short.push((key, id));
            }
        }
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
    fn value_ids_number_short_and_long_values_alike() {
        let mut ids = ValueIds::default();
        let values: Vec<String> = (0..40)
            .map(|index| match index % 3 {
                0 => format!("v{index}"),
                1 => format!("a value longer than fifteen bytes {index}"),
                _ => "x".repeat(index % 16),
            })
            .collect();
        let first: Vec<u32> = values.iter().map(|value| ids.text_id(value)).collect();
        let again: Vec<u32> = values.iter().map(|value| ids.text_id(value)).collect();
        assert_eq!(first, again);
        for (value, &id) in values.iter().zip(&first) {
            assert_eq!(&ids.names[id as usize], value);
        }
        // "a" and "a\0" differ only in length.
        assert_ne!(ids.text_id("a"), ids.text_id("a\0"));
        assert_eq!(short_key(b""), short_key(b""));
        assert_eq!(short_key(&[b'x'; 16]), None);
    }

    #[test]
    fn text_hash_tells_short_texts_apart() {
        let mut seen = std::collections::HashSet::new();
        for index in 0..100_000 {
            assert!(seen.insert(text_hash(format!("u{index}").as_bytes())));
        }
        assert_ne!(text_hash(b""), text_hash(b"\0"));
    }
}
