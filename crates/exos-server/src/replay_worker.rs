//! Replay analysis as data arrives: a thread that reassembles each browser
//! session's recording and stores its activity figures and frustration signals.
//!
//! The ingest path marks a session dirty when replay records or spans of it are
//! stored. A session is analysed once it has been quiet for `quiet` (so a burst
//! of requests costs one analysis), or every `max_delay` while it keeps sending,
//! so long sessions show signals before they end.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use exos_replay::queries::analyse;
use exos_replay::SignalSettings;
use exos_store::Store;

/// When a dirty session is analysed.
#[derive(Debug, Clone)]
pub struct ReplaySettings {
    pub quiet: Duration,
    pub max_delay: Duration,
    pub signals: SignalSettings,
}

impl Default for ReplaySettings {
    fn default() -> Self {
        Self {
            quiet: Duration::from_secs(5),
            max_delay: Duration::from_secs(60),
            signals: SignalSettings::default(),
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

/// Starts the analysis thread; it runs until `stop` is set and the dirty set is drained.
pub fn spawn(
    store: Arc<dyn Store>,
    dirty: DirtySessions,
    settings: ReplaySettings,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> std::thread::JoinHandle<()> {
    std::thread::Builder::new()
        .name("exos-replay".into())
        .spawn(move || loop {
            let stopping = stop.load(std::sync::atomic::Ordering::Relaxed);
            for session in dirty.due(&settings) {
                let started = Instant::now();
                match analyse(store.as_ref(), &session, &settings.signals) {
                    Ok(_) => tracing::debug!(%session, elapsed = ?started.elapsed(), "analysed replay"),
                    Err(error) => tracing::warn!(%session, %error, "replay analysis failed; it is retried with the next data"),
                }
            }
            if stopping {
                break;
            }
            std::thread::sleep(Duration::from_millis(500));
        })
        .expect("the replay thread starts")
}
