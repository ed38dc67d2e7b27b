//! `exos bench pages`: latency of the API calls behind each page over N stored spans,
//! and, with `--paint`, each page's time to first meaningful paint in headless Chromium.
//!
//! The spans are written straight into a fresh store (the same generator as
//! `bench queries`), then a real `exos serve` process answers the calls, so the
//! figures include HTTP, auth, SQL building and JSON. Paint times come from
//! `tests/browser/paint.mjs`, which drives the system Chromium.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::bench_cmd::{load_spans, spawn_server, Target};

/// The calls each page makes when it opens, with the default range (the last 24 hours).
const CALLS: &[(&str, &str)] = &[
    ("Overview", "/api/stats"),
    (
        "Events (spans)",
        "/api/events?source=spans&limit=100&part=rows",
    ),
    (
        "Events (spans, histogram)",
        "/api/events?source=spans&limit=100&part=histogram",
    ),
    (
        "Events (search)",
        "/api/events?source=spans&q=timeout&limit=100&part=rows",
    ),
    (
        "Events (search, histogram)",
        "/api/events?source=spans&q=timeout&limit=100&part=histogram",
    ),
    ("Events (logs)", "/api/events?source=logs&limit=100"),
    ("Filter keys", "/api/filters?source=spans"),
    ("Filter values", "/api/filters?source=spans&key=Lob"),
    ("Errors", "/api/errors"),
    ("Engineering", "/api/services"),
    (
        "Engineering (one service)",
        "/api/services?service=order-api",
    ),
    ("Filtered overview", "/api/stats?filter=Lob%3DTitle"),
    ("Visitor", "/api/visitor?user=user7%40example.com"),
    ("Query studio schema", "/api/schema"),
];

/// Runs the benchmark and prints Markdown.
pub fn run(
    spans: usize,
    runs: usize,
    seed: u64,
    paint: bool,
    clickhouse_url: Option<String>,
    data: Option<PathBuf>,
) -> anyhow::Result<()> {
    println!("\n## exos bench pages --spans {spans} --runs {runs}\n");
    for target in Target::all(clickhouse_url) {
        let kept = match (&target, &data) {
            (Target::DuckDb, Some(folder)) => Some(folder.as_path()),
            _ => None,
        };
        println!("{}", run_on(&target, spans, runs, seed, paint, kept)?);
    }
    Ok(())
}

/// The file in a kept folder that records what was loaded and the admin password.
const KEPT_FILE: &str = "bench-pages.json";

/// Returns the admin password of a kept folder loaded with `spans` spans, `None` otherwise.
fn kept_password(folder: &Path, spans: usize) -> Option<String> {
    let text = std::fs::read_to_string(folder.join(KEPT_FILE)).ok()?;
    let kept: serde_json::Value = serde_json::from_str(&text).ok()?;
    (kept["spans"].as_u64() == Some(spans as u64))
        .then(|| kept["password"].as_str().map(str::to_string))
        .flatten()
}

fn load(target: &Target, dir: &Path, spans: usize, seed: u64) -> anyhow::Result<Vec<String>> {
    let (store, flags) = target.open(dir)?;
    load_spans(store.as_ref(), spans, seed)?;
    Ok(flags)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn run_on(
    target: &Target,
    spans: usize,
    runs: usize,
    seed: u64,
    paint: bool,
    kept: Option<&Path>,
) -> anyhow::Result<String> {
    let temporary = tempfile::tempdir()?;
    let dir = kept.unwrap_or(temporary.path());
    let reused = kept.and_then(|folder| kept_password(folder, spans));
    let flags = match reused {
        Some(_) => vec!["--data-dir".into(), dir.display().to_string()],
        None => {
            if kept.is_some() {
                // A folder from another size or an interrupted load starts again.
                let _ = std::fs::remove_dir_all(dir);
                std::fs::create_dir_all(dir)?;
            }
            load(target, dir, spans, seed)?
        }
    };
    let server = spawn_server(&flags)?;
    let (mut child, http) = (server.child, server.http);
    let password = reused.unwrap_or(server.password);
    if kept.is_some() {
        let record = serde_json::json!({"spans": spans, "password": password});
        std::fs::write(dir.join(KEPT_FILE), record.to_string())?;
    }
    let outcome = measure(&http, &password, runs, paint);
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    let rows = outcome?;
    let mut out = format!(
        "### {}\n\n| page call | p50 ms | p95 ms | max ms |\n|---|---|---|---|\n",
        target.name()
    );
    out.push_str(&rows);
    Ok(out)
}

fn measure(http: &str, password: &str, runs: usize, paint: bool) -> anyhow::Result<String> {
    let auth = crate::sql_cmd::basic_header("admin", password);
    let get = |path: &str| -> anyhow::Result<f64> {
        let started = Instant::now();
        let response = ureq::get(&format!("{http}{path}"))
            .set("authorization", &auth)
            .call()
            .map_err(|e| anyhow::anyhow!("{path}: {e}"))?;
        let _ = response.into_string()?;
        Ok(started.elapsed().as_secs_f64() * 1000.0)
    };
    // One trace id, so the waterfall call has something to load.
    let trace: serde_json::Value = ureq::post(&format!("{http}/api/sql"))
        .set("authorization", &auth)
        .send_json(serde_json::json!({"sql": "SELECT TraceId FROM otel_traces LIMIT 1"}))?
        .into_json()?;
    let trace_id = trace["rows"][0][0].as_str().unwrap_or_default().to_string();
    let trace_path = format!("/api/trace/{trace_id}");
    let mut calls: Vec<(&str, &str)> = CALLS.to_vec();
    calls.push(("Trace waterfall", &trace_path));
    let mut out = String::new();
    for (name, path) in calls {
        get(path)?; // warm-up
        let mut times = (0..runs.max(1))
            .map(|_| get(path))
            .collect::<anyhow::Result<Vec<f64>>>()?;
        times.sort_by(f64::total_cmp);
        out.push_str(&format!(
            "| {name} `{}` | {:.0} | {:.0} | {:.0} |\n",
            path.split('?').next().unwrap_or(path),
            percentile(&times, 0.5),
            percentile(&times, 0.95),
            times[times.len() - 1]
        ));
        eprintln!("measured {name}");
    }
    if paint {
        out.push_str(&paint_times(http, password)?);
    }
    Ok(out)
}

fn paint_times(http: &str, password: &str) -> anyhow::Result<String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/browser/paint.mjs");
    let output = Command::new("node")
        .arg(&script)
        .args([http, password])
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| anyhow::anyhow!("cannot run node {}: {e}", script.display()))?;
    if !output.status.success() {
        anyhow::bail!("{} failed", script.display());
    }
    Ok(format!(
        "\n| page | first meaningful paint, median ms |\n|---|---|\n{}",
        String::from_utf8_lossy(&output.stdout)
    ))
}
