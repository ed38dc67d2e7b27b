//! Replay analysis as data arrives: a thread that reassembles each browser
//! session's recording and stores its activity figures and frustration signals.
//!
//! The ingest path marks a session dirty when replay records or spans of it are
//! stored. A session is analysed once it has been quiet for `quiet` (so a burst
//! of requests costs one analysis), or every `max_delay` while it keeps sending,
//! so long sessions show signals before they end.
//!
//! On the embedded store the ingest path also hands over what it stored (the
//! records without their snapshot texts, and the times of error spans), and
//! the worker keeps each live session's [`SessionState`] in memory. A pass
//! then reads nothing back from the store: it adds the new records and
//! analyses the state. The first pass over a session after a start, or after
//! the session left the cache, reads the session from the store. ClickHouse
//! serves several EXOS instances behind a load balancer, and one instance
//! receives only part of a session's requests, so there every pass reads
//! the store.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use exos_core::attributes::{lookup, RRWEB_EVENT};
use exos_core::{Batch, LogRow};
use exos_replay::queries::load_state;
use exos_replay::{ChunkRecord, SessionState, SignalSettings};
use exos_store::{ReplayAnalysis, Store};

/// When a dirty session is analysed.
#[derive(Debug, Clone)]
pub struct ReplaySettings {
    pub quiet: Duration,
    pub max_delay: Duration,
    pub signals: SignalSettings,
    /// Recordings older than this are deleted (stores without their own expiry).
    pub retention: Option<Duration>,
}

impl Default for ReplaySettings {
    fn default() -> Self {
        Self {
            quiet: Duration::from_secs(5),
            max_delay: Duration::from_secs(60),
            signals: SignalSettings::default(),
            retention: None,
        }
    }
}

/// The status of error spans as ingest writes it (the `errors` view reads both spellings).
const ERROR_STATUS: &str = "Error";

/// Memory the waiting feeds of all sessions may take together. A feed that
/// would go over is dropped, and its session read from the store instead, so
/// a worker that falls behind (a backfill) does not grow the server's memory.
const FEEDS_MAX_BYTES: usize = 64 * 1024 * 1024;

/// Bytes counted per fed record besides its texts.
const RECORD_OVERHEAD: usize = 64;

/// The records and error times the ingest path stored for one session since
/// its last analysis.
#[derive(Debug, Default)]
pub struct Feed {
    records: Vec<ChunkRecord>,
    errors_ms: Vec<i64>,
    /// Approximate bytes held.
    bytes: usize,
    /// Records were dropped: the feed is incomplete.
    overflowed: bool,
}

impl Feed {
    fn push_record(&mut self, record: ChunkRecord) {
        self.bytes += record.body.len() + record.script_instance.len() + RECORD_OVERHEAD;
        self.records.push(record);
    }

    fn push_error(&mut self, time_ms: i64) {
        self.bytes += 8;
        self.errors_ms.push(time_ms);
    }

    /// Drops what the feed holds; the session is then read from the store.
    fn overflow(&mut self) {
        *self = Feed {
            overflowed: true,
            ..Feed::default()
        };
    }

    fn append(&mut self, mut other: Feed) {
        if self.overflowed || other.overflowed {
            self.overflow();
            return;
        }
        self.records.append(&mut other.records);
        self.errors_ms.append(&mut other.errors_ms);
        self.bytes += other.bytes;
    }
}

/// Collects the feeds of a batch of rows, per session: replay records (texts
/// of chunked events left out) and the times of error spans.
pub fn feeds_of(batch: &Batch) -> HashMap<String, Feed> {
    let mut feeds: HashMap<String, Feed> = HashMap::new();
    for row in &batch.sessions {
        if !row.keys.rum_session_id.is_empty() {
            let feed = feeds.entry(row.keys.rum_session_id.clone()).or_default();
            feed.push_record(chunk_record(row));
        }
    }
    for span in &batch.spans {
        if !span.keys.rum_session_id.is_empty() && span.status_code == ERROR_STATUS {
            let feed = feeds.entry(span.keys.rum_session_id.clone()).or_default();
            feed.push_error(span.timestamp_ns.div_euclid(1_000_000));
        }
    }
    feeds
}

/// Converts a stored replay row into the record the analysis reads back from the store.
fn chunk_record(row: &LogRow) -> ChunkRecord {
    let number = |key: &str| {
        lookup(&row.log_attributes, key)
            .and_then(|value| value.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    let total = number("rr-web.total-chunks").max(1.0) as u32;
    ChunkRecord {
        script_instance: lookup(&row.resource_attributes, "rum.scriptInstance")
            .unwrap_or_default()
            .to_string(),
        event: number(RRWEB_EVENT) as u64,
        chunk: number("rr-web.chunk").max(1.0) as u32,
        total,
        time_ns: row.timestamp_ns,
        body: if total <= 1 {
            row.body.clone()
        } else {
            String::new()
        },
    }
}

#[derive(Debug)]
struct Dirty {
    first: Instant,
    last: Instant,
    feed: Feed,
}

/// Sessions with new data since their last analysis, with what the ingest
/// path handed over of that data when the worker keeps sessions in memory.
#[derive(Debug, Default, Clone)]
pub struct DirtySessions {
    inner: Arc<Mutex<Waiting>>,
    incremental: bool,
}

/// The dirty sessions and the bytes their feeds hold.
#[derive(Debug, Default)]
struct Waiting {
    sessions: HashMap<String, Dirty>,
    feed_bytes: usize,
}

impl DirtySessions {
    /// Dirty sessions whose worker keeps session states in memory and wants
    /// feeds (`incremental`), or reads every session from the store.
    pub fn new(incremental: bool) -> Self {
        Self {
            inner: Arc::default(),
            incremental,
        }
    }

    /// True when the worker keeps session states and the ingest path should
    /// hand over feeds.
    pub fn wants_feeds(&self) -> bool {
        self.incremental
    }

    /// Marks sessions as having new data.
    pub fn mark<'a>(&self, sessions: impl IntoIterator<Item = &'a str>) {
        let feeds = sessions
            .into_iter()
            .map(|session| (session.to_string(), Feed::default()));
        self.feed(feeds);
    }

    /// Marks sessions as having new data and keeps what was stored of it.
    pub fn feed(&self, feeds: impl IntoIterator<Item = (String, Feed)>) {
        let now = Instant::now();
        let mut waiting = self.inner.lock().expect("dirty sessions poisoned");
        let Waiting {
            sessions: dirty,
            feed_bytes,
        } = &mut *waiting;
        for (session, mut feed) in feeds.into_iter().filter(|(s, _)| !s.is_empty()) {
            if *feed_bytes + feed.bytes > FEEDS_MAX_BYTES {
                feed.overflow();
            }
            match dirty.get_mut(&session) {
                Some(entry) => {
                    entry.last = now;
                    let before = entry.feed.bytes;
                    entry.feed.append(feed);
                    *feed_bytes = *feed_bytes - before + entry.feed.bytes;
                }
                None => {
                    *feed_bytes += feed.bytes;
                    dirty.insert(
                        session,
                        Dirty {
                            first: now,
                            last: now,
                            feed,
                        },
                    );
                }
            }
        }
    }

    /// Takes the sessions due for analysis, with their feeds.
    fn due(&self, settings: &ReplaySettings) -> Vec<(String, Feed)> {
        let now = Instant::now();
        let mut waiting = self.inner.lock().expect("dirty sessions poisoned");
        let Waiting {
            sessions: dirty,
            feed_bytes,
        } = &mut *waiting;
        let due: Vec<String> = dirty
            .iter()
            .filter(|(_, d)| {
                now.duration_since(d.last) >= settings.quiet
                    || now.duration_since(d.first) >= settings.max_delay
            })
            .map(|(session, _)| session.clone())
            .collect();
        due.into_iter()
            .filter_map(|session| {
                let entry = dirty.remove(&session)?;
                *feed_bytes -= entry.feed.bytes;
                Some((session, entry.feed))
            })
            .collect()
    }

    /// Number of sessions waiting for analysis.
    pub fn len(&self) -> usize {
        self.inner
            .lock()
            .expect("dirty sessions poisoned")
            .sessions
            .len()
    }

    /// True when no session waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Sessions whose analyses are stored in one write.
const WRITE_BATCH: usize = 64;

/// How often old replay records are looked for.
const EXPIRY_EVERY: Duration = Duration::from_secs(3600);

/// Maximum time the last pass may take when the server stops, so that a
/// backlog (a backfill outruns analysis) does not delay the shutdown.
const STOP_DEADLINE: Duration = Duration::from_secs(10);

/// How far back a start looks for sessions left unanalysed, and how many it takes.
const RECOVER_WINDOW: Duration = Duration::from_secs(7 * 24 * 3600);
const RECOVER_MAX: usize = 100_000;

/// Memory the kept session states may take together.
const CACHE_BYTES: usize = 256 * 1024 * 1024;

/// A kept session not analysed for this long is dropped; it is read from the
/// store again if it comes back.
const CACHE_IDLE: Duration = Duration::from_secs(30 * 60);

/// Starts the analysis thread. It runs until `stop` is set and the dirty set is drained.
pub fn spawn(
    store: Arc<dyn Store>,
    dirty: DirtySessions,
    settings: ReplaySettings,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> std::thread::JoinHandle<()> {
    std::thread::Builder::new()
        .name("exos-replay".into())
        .spawn(move || {
            let mut analyser = Analyser::new(dirty.wants_feeds(), CACHE_BYTES);
            recover(store.as_ref(), &dirty);
            let mut last_expiry: Option<Instant> = None;
            loop {
                let stopping = stop.load(std::sync::atomic::Ordering::Relaxed);
                if let Some(retention) = settings.retention {
                    if last_expiry.is_none_or(|t| t.elapsed() >= EXPIRY_EVERY) {
                        last_expiry = Some(Instant::now());
                        expire(store.as_ref(), retention);
                    }
                }
                let mut due = dirty.due(&settings);
                let pass = Instant::now();
                while !due.is_empty() {
                    if stopping && pass.elapsed() >= STOP_DEADLINE {
                        tracing::warn!(
                            sessions = due.len() + dirty.len(),
                            "stopping with replay sessions not analysed; they are analysed when they send again"
                        );
                        break;
                    }
                    let rest = due.split_off(due.len().min(WRITE_BATCH));
                    let group = std::mem::replace(&mut due, rest);
                    analyse_and_store(store.as_ref(), &mut analyser, group, &dirty, &settings.signals);
                }
                if stopping {
                    break;
                }
                std::thread::sleep(Duration::from_millis(500));
            }
        })
        .expect("the replay thread starts")
}

/// Marks the recent sessions that have replay records and no analysis, such
/// as those an earlier run stopped before analysing.
fn recover(store: &dyn Store, dirty: &DirtySessions) {
    let since_ms = std::time::SystemTime::now()
        .checked_sub(RECOVER_WINDOW)
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_millis() as i64);
    match exos_replay::queries::unanalysed_sessions(store, since_ms, RECOVER_MAX) {
        Ok(sessions) if sessions.is_empty() => {}
        Ok(sessions) => {
            tracing::info!(
                sessions = sessions.len(),
                "analysing replay sessions left unanalysed by an earlier run"
            );
            dirty.mark(sessions.iter().map(String::as_str));
        }
        Err(error) => {
            tracing::warn!(%error, "looking for unanalysed replay sessions failed; they are analysed when they send again")
        }
    }
}

/// Deletes replay records older than the retention.
fn expire(store: &dyn Store, retention: Duration) {
    let before = std::time::SystemTime::now()
        .checked_sub(retention)
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_millis() as i64);
    match store.expire_replay(before) {
        Ok(0) => {}
        Ok(deleted) => tracing::info!(deleted, "expired replay records past their retention"),
        Err(error) => tracing::warn!(%error, "expiring old replay records failed"),
    }
}

/// Analyses a group of sessions and stores the results in one write; a failed
/// write marks the group dirty again so it is retried.
fn analyse_and_store(
    store: &dyn Store,
    analyser: &mut Analyser,
    group: Vec<(String, Feed)>,
    dirty: &DirtySessions,
    signals: &SignalSettings,
) {
    let started = Instant::now();
    let sessions: Vec<String> = group.iter().map(|(session, _)| session.clone()).collect();
    let analyses = analyser.analyse(store, group, signals);
    match store.put_replay_analyses(&analyses) {
        Ok(()) => {
            tracing::debug!(sessions = analyses.len(), elapsed = ?started.elapsed(), "analysed replays")
        }
        Err(error) => {
            tracing::warn!(%error, sessions = analyses.len(), "storing replay analyses failed; they are retried");
            dirty.mark(sessions.iter().map(String::as_str));
        }
    }
}

/// A session state kept between passes.
struct CachedSession {
    state: SessionState,
    bytes: usize,
    used: Instant,
}

/// Analyses due sessions, keeping their states between passes when incremental.
pub struct Analyser {
    incremental: bool,
    budget: usize,
    cache: HashMap<String, CachedSession>,
    cached_bytes: usize,
}

impl Analyser {
    /// Creates an analyser that keeps up to `budget` bytes of session states
    /// when `incremental`, and reads every session from the store otherwise.
    pub fn new(incremental: bool, budget: usize) -> Self {
        Self {
            incremental,
            budget,
            cache: HashMap::new(),
            cached_bytes: 0,
        }
    }

    /// Number of session states kept.
    pub fn cached_sessions(&self) -> usize {
        self.cache.len()
    }

    /// Approximate bytes the kept session states hold.
    pub fn cached_bytes(&self) -> usize {
        self.cached_bytes
    }

    /// Analyses the sessions: a kept session from its state plus its feed,
    /// the others from the store (on one thread per core).
    pub fn analyse(
        &mut self,
        store: &dyn Store,
        due: Vec<(String, Feed)>,
        signals: &SignalSettings,
    ) -> Vec<ReplayAnalysis> {
        let now = Instant::now();
        let mut analyses = Vec::with_capacity(due.len());
        let mut unknown = Vec::new();
        for (session, feed) in due {
            match self.cache.get_mut(&session) {
                Some(cached) if self.incremental && !feed.overflowed => {
                    cached.state.add_records(feed.records);
                    cached.state.add_errors(feed.errors_ms);
                    cached.used = now;
                    let bytes = cached.state.bytes();
                    self.cached_bytes = self.cached_bytes + bytes - cached.bytes;
                    cached.bytes = bytes;
                    analyses.push(cached.state.analysis(&session, signals));
                }
                _ => {
                    self.forget(&session);
                    unknown.push(session);
                }
            }
        }
        for (session, state) in load_all(store, &unknown) {
            analyses.push(state.analysis(&session, signals));
            if self.incremental {
                let bytes = state.bytes();
                self.cached_bytes += bytes;
                self.cache.insert(
                    session,
                    CachedSession {
                        state,
                        bytes,
                        used: now,
                    },
                );
            }
        }
        self.evict(now);
        analyses
    }

    fn forget(&mut self, session: &str) {
        if let Some(cached) = self.cache.remove(session) {
            self.cached_bytes -= cached.bytes;
        }
    }

    /// Drops idle sessions, then the least recently analysed ones over the budget.
    fn evict(&mut self, now: Instant) {
        let idle: Vec<String> = self
            .cache
            .iter()
            .filter(|(_, cached)| now.duration_since(cached.used) >= CACHE_IDLE)
            .map(|(session, _)| session.clone())
            .collect();
        for session in idle {
            self.forget(&session);
        }
        if self.cached_bytes <= self.budget {
            return;
        }
        let mut by_use: Vec<(Instant, String)> = self
            .cache
            .iter()
            .map(|(session, cached)| (cached.used, session.clone()))
            .collect();
        by_use.sort();
        for (_, session) in by_use {
            if self.cached_bytes <= self.budget {
                break;
            }
            self.forget(&session);
        }
    }
}

/// Reads sessions from the store on up to one thread per core: each is a
/// store read plus JSON parsing, independent of the others. Sessions without
/// replay records, and those whose read failed, are left out.
pub fn load_all(store: &dyn Store, sessions: &[String]) -> Vec<(String, SessionState)> {
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(sessions.len())
        .max(1);
    let next = AtomicUsize::new(0);
    let results = Mutex::new(Vec::with_capacity(sessions.len()));
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                while let Some(session) = sessions.get(next.fetch_add(1, Ordering::Relaxed)) {
                    match load_state(store, session) {
                        Ok(Some(state)) => results
                            .lock()
                            .unwrap_or_else(|poisoned| poisoned.into_inner())
                            .push((session.clone(), state)),
                        Ok(None) => {}
                        Err(error) => tracing::warn!(%session, %error, "replay analysis failed; it is retried with the next data"),
                    }
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use exos_core::BusinessKeys;
    use exos_store::{DuckOptions, DuckStore};

    /// Opens an empty DuckDB store in a temporary folder, which lives as long as the first value.
    fn empty_store() -> (tempfile::TempDir, DuckStore) {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let store = DuckStore::open(dir.path(), &DuckOptions::default()).expect("DuckDB opens");
        (dir, store)
    }

    fn row(session: &str, event: u64, chunk: u32, total: u32, body: &str) -> LogRow {
        LogRow {
            timestamp_ns: event as i64 * 1_000_000_000,
            body: body.to_string(),
            scope_name: "rum.rr-web".into(),
            resource_attributes: Arc::new(vec![
                ("rum.sessionId".into(), session.into()),
                ("rum.scriptInstance".into(), "load-1".into()),
            ]),
            log_attributes: vec![
                ("rr-web.event".into(), format!("{event}.0")),
                ("rr-web.chunk".into(), format!("{chunk}.0")),
                ("rr-web.total-chunks".into(), format!("{total}.0")),
            ],
            keys: BusinessKeys {
                rum_session_id: session.into(),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    fn click(session: &str, event: u64) -> LogRow {
        let t = event as i64 * 300;
        let body = format!(
            "{{\"type\":3,\"timestamp\":{t},\"data\":{{\"source\":2,\"type\":2,\"id\":9,\"x\":5,\"y\":5}}}}"
        );
        row(session, event, 1, 1, &body)
    }

    fn fresh(store: &dyn Store, session: &str) -> ReplayAnalysis {
        let mut analysis =
            exos_replay::queries::analyse(store, session, &SignalSettings::default())
                .expect("the store returns the analysis")
                .expect("the session has records");
        analysis.analysed_ms = 0;
        analysis
    }

    /// Writes the rows as ingest does and returns their feeds as due sessions.
    fn ingest(store: &dyn Store, rows: Vec<LogRow>) -> Vec<(String, Feed)> {
        let batch = Batch {
            sessions: rows,
            ..Default::default()
        };
        store.write(&batch).expect("the rows are stored");
        feeds_of(&batch).into_iter().collect()
    }

    #[test]
    fn analyser_kept_sessions_match_fresh_reads() {
        let (_dir, store) = empty_store();
        let settings = SignalSettings::default();
        let mut analyser = Analyser::new(true, CACHE_BYTES);

        // First pass: unknown sessions are read from the store and kept.
        let due = ingest(
            &store,
            vec![click("s1", 1), row("s1", 2, 1, 2, "{\"type\":2,")],
        );
        let first = analyser.analyse(&store, due, &settings);
        assert_eq!(analyser.cached_sessions(), 1);
        assert_eq!((first[0].gaps, first[0].clicks), (1, 1));

        // Later passes add only the feed: the missing chunk, a rage burst, a skipped number.
        let due = ingest(
            &store,
            vec![
                row("s1", 2, 2, 2, "\"data\":{}}"),
                click("s1", 3),
                click("s1", 3),
                click("s1", 4),
                click("s1", 5),
                click("s1", 7),
            ],
        );
        let mut later = analyser.analyse(&store, due, &settings);
        later[0].analysed_ms = 0;
        assert_eq!(later[0], fresh(&store, "s1"));
        assert_eq!((later[0].gaps, later[0].clicks), (1, 5));
        assert_eq!(later[0].signals[0].kind, "rage_click");
    }

    #[test]
    fn analyser_reads_store_without_usable_feed() {
        let (_dir, store) = empty_store();
        let settings = SignalSettings::default();
        let mut analyser = Analyser::new(true, CACHE_BYTES);
        analyser.analyse(&store, ingest(&store, vec![click("s2", 1)]), &settings);
        // Rows stored without a feed, then an overflowed feed: the pass must read them.
        ingest(&store, vec![click("s2", 2), click("s2", 3)]);
        let mut overflowed = Feed::default();
        overflowed.overflow();
        let result = analyser.analyse(&store, vec![("s2".into(), overflowed)], &settings);
        assert_eq!(result[0].clicks, 3);

        let mut reading = Analyser::new(false, CACHE_BYTES);
        let result = reading.analyse(&store, vec![("s2".into(), Feed::default())], &settings);
        assert_eq!((result[0].clicks, reading.cached_sessions()), (3, 0));
    }

    #[test]
    fn analyser_budget_drops_oldest_sessions() {
        let (_dir, store) = empty_store();
        let settings = SignalSettings::default();
        let mut analyser = Analyser::new(true, 1);
        for session in ["a", "b", "c"] {
            analyser.analyse(&store, ingest(&store, vec![click(session, 1)]), &settings);
        }
        // Over a one-byte budget nothing is kept, and every session is still analysed.
        assert_eq!(analyser.cached_sessions(), 0);
        let result = analyser.analyse(&store, ingest(&store, vec![click("a", 2)]), &settings);
        assert_eq!(result[0].clicks, 2);
    }

    #[test]
    fn feeds_over_budget_are_dropped() {
        let dirty = DirtySessions::new(true);
        let big = "x".repeat(FEEDS_MAX_BYTES / 2);
        let batch = |session: &str| Batch {
            sessions: vec![row(session, 1, 1, 1, &big)],
            ..Default::default()
        };
        dirty.feed(feeds_of(&batch("a")));
        dirty.feed(feeds_of(&batch("b")));
        dirty.feed(feeds_of(&batch("c")));
        let settings = ReplaySettings {
            quiet: Duration::ZERO,
            ..ReplaySettings::default()
        };
        let mut due = dirty.due(&settings);
        due.sort_by(|x, y| x.0.cmp(&y.0));
        let kept: Vec<(bool, usize)> = due
            .iter()
            .map(|(_, feed)| (feed.overflowed, feed.records.len()))
            .collect();
        // The first fits; the next two would go over 64 MiB, so they are read from the store.
        assert_eq!(kept, vec![(false, 1), (true, 0), (true, 0)]);
        assert_eq!(dirty.inner.lock().unwrap().feed_bytes, 0);
    }

    #[test]
    fn feeds_carry_records_and_error_times() {
        let mut span = exos_core::SpanRow {
            timestamp_ns: 5_250_000,
            status_code: ERROR_STATUS,
            ..Default::default()
        };
        span.keys.rum_session_id = "s".into();
        let batch = Batch {
            sessions: vec![row("s", 1, 2, 3, "snapshot text"), click("s", 2)],
            spans: vec![span],
            ..Default::default()
        };
        let feeds = feeds_of(&batch);
        let feed = &feeds["s"];
        assert_eq!(feed.errors_ms, vec![5]);
        assert_eq!(feed.records.len(), 2);
        // Texts of chunked events are left out; whole events keep theirs.
        assert_eq!(feed.records[0].body, "");
        assert_eq!((feed.records[0].chunk, feed.records[0].total), (2, 3));
        assert!(feed.records[1].body.contains("\"source\":2"));
    }
}
