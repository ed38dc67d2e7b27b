//! `exos bench replay --live`: does replay analysis keep up with N sessions
//! recording at once?
//!
//! Each round stands for one minute of N live sessions. It generates the
//! next minute of every session, and the first round also a page load with
//! its chunked full snapshot. It writes the records of 50 sessions at a
//! time, interleaved in one batch as the ingest path writes what many
//! browsers sent. Then it hands
//! the batch's feeds to the replay worker's [`Analyser`], which analyses every
//! session once. The worker analyses a live session at most once a minute,
//! so the worker keeps up while a round takes under 60 s. The bench reports
//! that time and does not stop at it. The first round reads every
//! session from the store; later rounds add only the new minute to the kept
//! states. The last round is also run the old way, every session read back
//! from the store, and a sample of sessions is checked against a fresh
//! analysis.

use std::time::Instant;

use exos_core::Batch;
use exos_replay::SignalSettings;
use exos_server::replay_worker::{feeds_of, Analyser};
use exos_store::ReplayAnalysis;
use rand::rngs::StdRng;
use rand::SeedableRng;

use crate::bench_cmd::{now_ns, Target};
use crate::bench_replay::{folder_bytes, records, session_id, Recording};

/// Memory the bench lets the analyser keep, as the server does.
const BUDGET_BYTES: usize = 256 * 1024 * 1024;
/// Sessions whose records go into one store write, as one ingest batch
/// contains the requests of many browsers.
const SESSIONS_PER_WRITE: usize = 50;
/// Sessions compared with a fresh analysis at the end.
const CHECKED: usize = 20;

/// One session being recorded.
struct Live {
    rng: StdRng,
    recording: Recording,
    /// Number of the next event of its page load.
    next_event: usize,
}

/// Runs the benchmark and prints Markdown.
pub fn run(sessions: usize, minutes: u64, seed: u64) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (store, _) = Target::DuckDb.open(dir.path())?;
    let start_ms = (now_ns() / 1_000_000) as i64 - minutes as i64 * 60_000;
    let mut live: Vec<Live> = (0..sessions)
        .map(|index| Live {
            rng: StdRng::seed_from_u64(seed.wrapping_mul(1_000_003).wrapping_add(index as u64)),
            recording: Recording::new(start_ms),
            next_event: 1,
        })
        .collect();
    let settings = SignalSettings::default();
    let mut analyser = Analyser::new(true, BUDGET_BYTES);
    let mut rounds: Vec<Round> = Vec::new();
    let mut last: Vec<ReplayAnalysis> = Vec::new();
    for minute in 1..=minutes {
        let end_ms = start_ms + minute as i64 * 60_000;
        let (mut written, mut write_s) = (0usize, 0.0f64);
        let mut feeds = Vec::with_capacity(sessions);
        for (group, chunk) in live.chunks_mut(SESSIONS_PER_WRITE).enumerate() {
            let mut batch = Batch::default();
            for (offset, session) in chunk.iter_mut().enumerate() {
                let events = session.recording.until(&mut session.rng, end_ms);
                let id = session_id(group * SESSIONS_PER_WRITE + offset);
                batch
                    .sessions
                    .extend(records(&id, &events, session.next_event));
                session.next_event += events.len();
            }
            let started = Instant::now();
            store.write(&batch)?;
            write_s += started.elapsed().as_secs_f64();
            written += batch.sessions.len();
            feeds.extend(feeds_of(&batch));
        }
        let started = Instant::now();
        last = analyser.analyse(store.as_ref(), feeds, &settings);
        let analyse_s = started.elapsed().as_secs_f64();
        anyhow::ensure!(
            last.len() == sessions,
            "round {minute}: {} of {sessions} sessions analysed",
            last.len()
        );
        eprintln!(
            "minute {minute}/{minutes}: wrote {written} records in {write_s:.1} s, analysed {sessions} sessions in {analyse_s:.2} s"
        );
        rounds.push(Round {
            records: written,
            write_s,
            analyse_s,
        });
    }
    store.checkpoint()?;

    // The last round again, the old way: every session read back from the store.
    let ids: Vec<String> = (0..sessions).map(session_id).collect();
    let started = Instant::now();
    let mut cold = Analyser::new(false, 0);
    let reread = cold.analyse(
        store.as_ref(),
        ids.iter()
            .map(|id| (id.clone(), Default::default()))
            .collect(),
        &settings,
    );
    let reread_s = started.elapsed().as_secs_f64();
    check(&last, &reread)?;
    let stored = folder_bytes(dir.path());
    print(sessions, minutes, &rounds, reread_s, stored, &analyser);
    Ok(())
}

/// Compares the kept states' analyses with fresh ones of a sample of sessions.
fn check(kept: &[ReplayAnalysis], fresh: &[ReplayAnalysis]) -> anyhow::Result<()> {
    let strip = |analysis: &ReplayAnalysis| ReplayAnalysis {
        analysed_ms: 0,
        ..analysis.clone()
    };
    for analysis in kept.iter().take(CHECKED) {
        let other = fresh
            .iter()
            .find(|other| other.session_id == analysis.session_id)
            .ok_or_else(|| {
                anyhow::anyhow!("{} missing from the fresh analysis", analysis.session_id)
            })?;
        anyhow::ensure!(
            strip(analysis) == strip(other),
            "session {}: the kept state's analysis differs from a fresh one",
            analysis.session_id
        );
    }
    Ok(())
}

struct Round {
    records: usize,
    write_s: f64,
    analyse_s: f64,
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

fn print(
    sessions: usize,
    minutes: u64,
    rounds: &[Round],
    reread_s: f64,
    stored: u64,
    analyser: &Analyser,
) {
    let later: Vec<f64> = rounds.iter().skip(1).map(|r| r.analyse_s).collect();
    let later_s = median(later);
    println!("\n## exos bench replay --live --sessions {sessions} --minutes {minutes}\n");
    println!("| measure | value |\n|---|---|");
    println!("| sessions recording at once × minutes | {sessions} × {minutes} |");
    println!(
        "| records per round (one minute of every session), median | {:.0} |",
        median(rounds.iter().map(|r| r.records as f64).collect())
    );
    println!(
        "| writing one round into DuckDB, median | {:.2} s |",
        median(rounds.iter().map(|r| r.write_s).collect())
    );
    println!(
        "| first round: every session read from the store | {:.2} s |",
        rounds.first().map_or(0.0, |r| r.analyse_s)
    );
    println!("| later rounds: the new minute added to kept states, median | {later_s:.3} s |");
    println!(
        "| sessions analysed per second, later rounds | {:.0} |",
        sessions as f64 / later_s.max(1e-9)
    );
    println!(
        "| last round the old way, every session read from the store | {reread_s:.2} s ({:.1} sessions/s) |",
        sessions as f64 / reread_s.max(1e-9)
    );
    println!(
        "| needed: every session once a minute | {:.1} sessions/s |",
        sessions as f64 / 60.0
    );
    println!(
        "| session states kept, and their memory | {} of {sessions}, {:.0} MiB (budget {} MiB) |",
        analyser.cached_sessions(),
        analyser.cached_bytes() as f64 / (1024.0 * 1024.0),
        BUDGET_BYTES / (1024 * 1024)
    );
    println!("| DuckDB folder | {:.0} MB |", stored as f64 / 1e6);
}
