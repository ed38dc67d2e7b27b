//! Replay analysis as data arrives: a thread that reassembles each browser
//! session's recording and stores its activity figures and frustration signals.
//!
//! The ingest path marks a session dirty when replay records or spans of it are
//! stored. A session is analysed once it has been quiet for `quiet` (so a burst
//! of requests costs one analysis), or every `max_delay` while it keeps sending,
//! so long sessions show signals before they end.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use exos_replay::queries::analyse;
use exos_replay::SignalSettings;
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

#[derive(Debug, Clone, Copy)]
struct Dirty {
    first: Instant,
    last: Instant,
}

/// Sessions with new data since their last analysis.
#[derive(Debug, Default, Clone)]
pub struct DirtySessions {
    inner: Arc<Mutex<HashMap<String, Dirty>>>,
}

impl DirtySessions {
    /// Marks sessions as having new data.
    pub fn mark<'a>(&self, sessions: impl IntoIterator<Item = &'a str>) {
        let now = Instant::now();
        let mut dirty = self.inner.lock().expect("dirty sessions poisoned");
        for session in sessions.into_iter().filter(|s| !s.is_empty()) {
            dirty
                .entry(session.to_string())
                .and_modify(|d| d.last = now)
                .or_insert(Dirty {
                    first: now,
                    last: now,
                });
        }
    }

    /// Takes the sessions due for analysis.
    fn due(&self, settings: &ReplaySettings) -> Vec<String> {
        let now = Instant::now();
        let mut dirty = self.inner.lock().expect("dirty sessions poisoned");
        let due: Vec<String> = dirty
            .iter()
            .filter(|(_, d)| {
                now.duration_since(d.last) >= settings.quiet
                    || now.duration_since(d.first) >= settings.max_delay
            })
            .map(|(session, _)| session.clone())
            .collect();
        for session in &due {
            dirty.remove(session);
        }
        due
    }

    /// Number of sessions waiting for analysis.
    pub fn len(&self) -> usize {
        self.inner.lock().expect("dirty sessions poisoned").len()
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
            let mut last_expiry: Option<Instant> = None;
            loop {
                let stopping = stop.load(std::sync::atomic::Ordering::Relaxed);
                if let Some(retention) = settings.retention {
                    if last_expiry.is_none_or(|t| t.elapsed() >= EXPIRY_EVERY) {
                        last_expiry = Some(Instant::now());
                        expire(store.as_ref(), retention);
                    }
                }
                for group in dirty.due(&settings).chunks(WRITE_BATCH) {
                    analyse_and_store(store.as_ref(), group, &dirty, &settings.signals);
                }
                if stopping {
                    break;
                }
                std::thread::sleep(Duration::from_millis(500));
            }
        })
        .expect("the replay thread starts")
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
    group: &[String],
    dirty: &DirtySessions,
    signals: &SignalSettings,
) {
    let started = Instant::now();
    let analyses = analyse_all(store, group, signals);
    match store.put_replay_analyses(&analyses) {
        Ok(()) => {
            tracing::debug!(sessions = analyses.len(), elapsed = ?started.elapsed(), "analysed replays")
        }
        Err(error) => {
            tracing::warn!(%error, sessions = analyses.len(), "storing replay analyses failed; they are retried");
            dirty.mark(group.iter().map(String::as_str));
        }
    }
}

/// Analyses sessions on up to one thread per core: each analysis is a store
/// read plus JSON parsing, independent of the others.
pub fn analyse_all(
    store: &dyn Store,
    sessions: &[String],
    signals: &SignalSettings,
) -> Vec<ReplayAnalysis> {
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
                    match analyse(store, session, signals) {
                        Ok(Some(analysis)) => results
                            .lock()
                            .unwrap_or_else(|poisoned| poisoned.into_inner())
                            .push(analysis),
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
