//! `exos bench replay`: can replay analysis keep up, and what does a recording cost?
//!
//! Generates N browser sessions of M minutes each (a chunked full snapshot of a
//! large page, then mouse moves, scrolls, inputs, clicks with and without DOM
//! reactions), writes their records into a fresh store as the ingest path
//! would, then times what the server does with them: analysing each session
//! (reassembly, rage/dead/error clicks, activity) and building one session's
//! replay answer. It reports sessions analysed per second against what N
//! concurrent sessions need, and stored bytes per session-minute.

use std::sync::Arc;
use std::time::Instant;

use exos_core::{Attributes, Batch, BusinessKeys, LogRow};
use exos_replay::SignalSettings;
use exos_store::ReplayAnalysis;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

use crate::bench_cmd::{now_ns, Target};

/// The SDK's chunk size for large events, in bytes.
const CHUNK_BYTES: usize = 972_800;

pub fn session_id(index: usize) -> String {
    format!("{index:032x}")
}

/// Builds one session's rrweb events (JSON texts with their times in ms).
fn session_events(rng: &mut StdRng, start_ms: i64, minutes: u64) -> Vec<(i64, String)> {
    let mut recording = Recording::new(start_ms);
    recording.until(rng, start_ms + minutes as i64 * 60_000)
}

/// One session's recording, generated a stretch of time at a time.
pub struct Recording {
    start_ms: i64,
    /// Time of the next user event.
    next_ms: i64,
}

impl Recording {
    pub fn new(start_ms: i64) -> Self {
        Self {
            start_ms,
            next_ms: start_ms + 1_000,
        }
    }

    /// Generates the events before `end_ms` not generated yet. The first call
    /// starts with the page's meta event and full snapshot.
    pub fn until(&mut self, rng: &mut StdRng, end_ms: i64) -> Vec<(i64, String)> {
        let mut events = Vec::new();
        if self.next_ms == self.start_ms + 1_000 {
            events.extend(page_load(self.start_ms));
        }
        while self.next_ms < end_ms {
            let t = self.next_ms;
            events.push((t, user_event(rng, t)));
            self.next_ms += rng.gen_range(200..1_200);
        }
        events
    }
}

/// Builds the meta event and the full snapshot of a page load.
fn page_load(start_ms: i64) -> [(i64, String); 2] {
    let meta = json!({"type": 4, "timestamp": start_ms, "data": {"href": "https://ops.example/orders", "width": 1440, "height": 900}});
    // A full snapshot of a 400-row order table: about 1.5 MB of JSON, two chunks.
    let rows: Vec<_> = (0..400)
        .map(|i| {
            json!({"type": 2, "id": 100 + i, "tagName": "tr", "attributes": {"class": "order-row"}, "childNodes": [
                {"type": 3, "id": 10_000 + i, "textContent": format!("ORD-2026-{i:06} Appraisal waiting for documents from the client {}", "·".repeat(3_000))}
            ]})
        })
        .collect();
    let snapshot = json!({"type": 2, "timestamp": start_ms + 5, "data": {"node": {"type": 0, "id": 1, "childNodes": [
        {"type": 2, "id": 2, "tagName": "table", "attributes": {}, "childNodes": rows}]}, "initialOffset": {"top": 0, "left": 0}}});
    [
        (start_ms, meta.to_string()),
        (start_ms + 5, snapshot.to_string()),
    ]
}

/// Builds one user event at `t`: mouse moves, a scroll, an input, a click or a DOM change.
fn user_event(rng: &mut StdRng, t: i64) -> String {
    let roll: f64 = rng.gen();
    let event = if roll < 0.55 {
        let positions: Vec<_> = (0..10)
            .map(|k| json!({"x": rng.gen_range(0..1440), "y": rng.gen_range(0..900), "id": 2, "timeOffset": -50 * k}))
            .collect();
        json!({"type": 3, "timestamp": t, "data": {"source": 1, "positions": positions}})
    } else if roll < 0.7 {
        json!({"type": 3, "timestamp": t, "data": {"source": 3, "id": 1, "x": 0, "y": rng.gen_range(0..4000)}})
    } else if roll < 0.8 {
        json!({"type": 3, "timestamp": t, "data": {"source": 5, "id": 55, "text": "*****", "isChecked": false}})
    } else if roll < 0.9 {
        json!({"type": 3, "timestamp": t, "data": {"source": 2, "type": 2, "id": 100 + rng.gen_range(0..400), "x": rng.gen_range(0..1440), "y": rng.gen_range(0..900)}})
    } else {
        json!({"type": 3, "timestamp": t, "data": {"source": 0, "adds": [], "removes": [], "attributes": [{"id": 2, "attributes": {"class": "busy"}}], "texts": []}})
    };
    event.to_string()
}

/// Turns events into stored records, chunked as the SDK chunks them.
pub fn records(session: &str, events: &[(i64, String)], first_number: usize) -> Vec<LogRow> {
    let resource: Arc<Attributes> = Arc::new(vec![
        ("service.name".into(), "ops-web".into()),
        ("rum.sessionId".into(), session.into()),
        ("rum.scriptInstance".into(), "load-1".into()),
    ]);
    let keys = BusinessKeys {
        rum_session_id: session.to_string(),
        ..Default::default()
    };
    let mut out = Vec::new();
    for (number, (time_ms, text)) in events.iter().enumerate() {
        let bytes = text.as_bytes();
        let chunks: Vec<&[u8]> = bytes.chunks(CHUNK_BYTES).collect();
        for (index, chunk) in chunks.iter().enumerate() {
            out.push(LogRow {
                timestamp_ns: time_ms * 1_000_000,
                service_name: "ops-web".into(),
                body: String::from_utf8_lossy(chunk).into_owned(),
                resource_attributes: resource.clone(),
                scope_name: "rum.rr-web".into(),
                log_attributes: vec![
                    ("rr-web.event".into(), (first_number + number).to_string()),
                    ("rr-web.offset".into(), (first_number + number).to_string()),
                    ("rr-web.chunk".into(), (index + 1).to_string()),
                    ("rr-web.total-chunks".into(), chunks.len().to_string()),
                ],
                keys: keys.clone(),
                ..Default::default()
            });
        }
    }
    out
}

pub fn folder_bytes(path: &std::path::Path) -> u64 {
    std::fs::read_dir(path)
        .map(|entries| {
            entries
                .flatten()
                .map(|entry| match entry.metadata() {
                    Ok(meta) if meta.is_dir() => folder_bytes(&entry.path()),
                    Ok(meta) => meta.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

/// Runs the benchmark and prints Markdown.
pub fn run(sessions: usize, minutes: u64, seed: u64) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (store, _) = Target::DuckDb.open(dir.path())?;
    let mut rng = StdRng::seed_from_u64(seed);
    let start_ms = (now_ns() / 1_000_000) as i64 - minutes as i64 * 60_000;
    let before = folder_bytes(dir.path());
    let mut events_total = 0usize;
    let mut json_bytes = 0usize;
    let started = Instant::now();
    for index in 0..sessions {
        let events = session_events(&mut rng, start_ms, minutes);
        events_total += events.len();
        json_bytes += events.iter().map(|(_, e)| e.len()).sum::<usize>();
        let batch = Batch {
            sessions: records(&session_id(index), &events, 1),
            ..Default::default()
        };
        store.write(&batch)?;
        eprint!("\rwriting sessions: {}/{sessions}   ", index + 1);
    }
    store.checkpoint()?;
    let write_s = started.elapsed().as_secs_f64();
    let stored = folder_bytes(dir.path()).saturating_sub(before);
    eprintln!();

    let settings = SignalSettings::default();
    let mut times = Vec::new();
    let mut reading = Vec::new();
    let mut analyses = Vec::new();
    for index in 0..sessions {
        let started = Instant::now();
        exos_replay::queries::replay(store.as_ref(), &session_id(index), &settings)?;
        reading.push(started.elapsed().as_secs_f64());
        let started = Instant::now();
        let analysis =
            exos_replay::queries::analyse(store.as_ref(), &session_id(index), &settings)?;
        times.push(started.elapsed().as_secs_f64());
        analyses.extend(analysis);
        eprint!("\ranalysing sessions: {}/{sessions}   ", index + 1);
    }
    reading.sort_by(f64::total_cmp);
    eprintln!();
    // The worker stores analyses in groups of 64, one write each.
    let started = Instant::now();
    for group in analyses.chunks(64) {
        store.put_replay_analyses(group)?;
    }
    let store_s = started.elapsed().as_secs_f64();
    // The worker's own path: every session at once, on one thread per core.
    let ids: Vec<String> = (0..sessions).map(session_id).collect();
    let started = Instant::now();
    let threaded: Vec<ReplayAnalysis> = exos_server::replay_worker::load_all(store.as_ref(), &ids)
        .into_iter()
        .map(|(session, state)| state.analysis(&session, &settings))
        .collect();
    let threaded_s = started.elapsed().as_secs_f64() + store_s;
    anyhow::ensure!(
        threaded.len() == analyses.len(),
        "the worker analysed {} sessions, one by one gave {}",
        threaded.len(),
        analyses.len()
    );
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    times.sort_by(f64::total_cmp);
    let total: f64 = times.iter().sum::<f64>() + store_s;
    let median = times[times.len() / 2];
    let started = Instant::now();
    let replay = exos_replay::queries::replay(store.as_ref(), &session_id(0), &settings)?;
    let replay_ms = started.elapsed().as_secs_f64() * 1000.0;
    let body = serde_json::to_vec(&replay)?.len();

    // Each live session is analysed at most once a minute (the worker's longest delay).
    let needed_per_s = 1000.0 / 60.0;
    let analysed_per_s = sessions as f64 / total;
    println!("\n## exos bench replay --sessions {sessions} --minutes {minutes}\n");
    println!("| measure | value |\n|---|---|");
    println!("| sessions × minutes | {sessions} × {minutes} |");
    println!(
        "| rrweb events per session | {} |",
        events_total / sessions.max(1)
    );
    println!(
        "| JSON per session-minute | {:.0} KB |",
        json_bytes as f64 / (sessions as f64 * minutes as f64) / 1024.0
    );
    println!(
        "| stored (DuckDB file) per session-minute | {:.0} KB |",
        stored as f64 / (sessions as f64 * minutes as f64) / 1024.0
    );
    println!("| writing the records | {write_s:.1} s |");
    println!(
        "| analysis of one session, median | {:.0} ms |",
        median * 1000.0
    );
    println!("| sessions analysed per second (one thread) | {analysed_per_s:.1} |");
    println!(
        "| sessions analysed per second (worker, {threads} threads) | {:.1} |",
        sessions as f64 / threaded_s
    );
    println!("| needed for 1,000 live sessions, each once a minute | {needed_per_s:.1} |");
    println!(
        "| replay answer of one {minutes}-minute session | {replay_ms:.0} ms, {:.1} MB of JSON |",
        body as f64 / 1e6
    );
    drop(store);
    Ok(())
}
